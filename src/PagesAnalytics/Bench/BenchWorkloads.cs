using System.Buffers;
using System.Globalization;
using System.Text.Json;
using DuckDB.NET.Data;
using PagesAnalytics.Ingest;

namespace PagesAnalytics.Bench;

/// <summary>What one workload did: rows it saw (or tokens, for the scan), and what it wrote.</summary>
/// <param name="Rows">Page rows read or written; for <see cref="BenchWorkloads.TokenScan"/> the JSON tokens.</param>
/// <param name="OutputBytes">Bytes written, when the workload writes.</param>
/// <param name="Detail">Free text for the report (e.g. the DuckDB version), or null.</param>
public sealed record BenchWorkResult(long Rows, long? OutputBytes, string? Detail);

/// <summary>
/// The baselines <c>pages bench</c> measures our ingest against, and our parser alone. Each is meant to run in a
/// process of its own so that its peak memory is its own.
/// </summary>
public static class BenchWorkloads
{
    private const int ScanBufferBytes = 1 << 20;

    /// <summary>
    /// What a DuckDB user would run to turn the inputs into one Parquet file: <c>read_json</c> on the raw responses
    /// with <c>unnest(pages, recursive := true)</c>, or on NDJSON as it is. An in-memory database with default
    /// threads and memory limit.
    /// </summary>
    public static BenchWorkResult DuckDbToParquet(IReadOnlyList<string> inputs, string output, bool ndjson)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentException.ThrowIfNullOrEmpty(output);
        string sql = DuckDbSql(inputs, output, ndjson);
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SET TimeZone = 'UTC'";
        command.ExecuteNonQuery();
        command.CommandText = "SELECT version()";
        string version = Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture) ?? "";
        command.CommandText = sql;
        long rows = command.ExecuteNonQuery(); // COPY reports the rows it wrote
        return new BenchWorkResult(rows, new FileInfo(output).Length, "duckdb " + version);
    }

    /// <summary>
    /// The statement <see cref="DuckDbToParquet"/> runs. A raw response is one JSON object as big as the file, and
    /// <c>read_json</c> refuses objects above <c>maximum_object_size</c> (16 MB by default, a UINTEGER), so the largest
    /// file size + 1 is passed: responses of 4 GiB or more cannot be read this way at all.
    /// </summary>
    public static string DuckDbSql(IReadOnlyList<string> inputs, string output, bool ndjson)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0)
        {
            throw new ArgumentException("no inputs", nameof(inputs));
        }
        // COPY takes no bound parameters; the paths are ours, quoted as SQL string literals.
        string files = inputs.Count == 1 ? Literal(inputs[0]) : "[" + string.Join(", ", inputs.Select(Literal)) + "]";
        if (ndjson)
        {
            return $"COPY (SELECT * FROM read_json({files}, format = 'newline_delimited')) TO {Literal(output)} (FORMAT parquet)";
        }
        long largest = inputs.Max(f => new FileInfo(f).Length);
        if (largest >= uint.MaxValue)
        {
            throw new PagesException($"a response of {largest} bytes: DuckDB read_json cannot read one object of 4 GiB or more");
        }
        return string.Create(CultureInfo.InvariantCulture,
            $"COPY (SELECT unnest(pages, recursive := true) FROM read_json({files}, maximum_object_size = {largest + 1})) TO {Literal(output)} (FORMAT parquet)");
    }

    /// <summary>
    /// The floor of a token-by-token parse: a bare <see cref="Utf8JsonReader"/> over each file in turn, one thread, streamed through one
    /// buffer (state carried across refills), counting tokens and building nothing.
    /// </summary>
    public static BenchWorkResult TokenScan(IReadOnlyList<string> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        long tokens = 0;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ScanBufferBytes);
        try
        {
            foreach (string input in inputs)
            {
                using var file = new FileStream(input, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
                var state = new JsonReaderState();
                int filled = 0;
                bool final = false;
                while (!final)
                {
                    int read = file.Read(buffer, filled, buffer.Length - filled);
                    filled += read;
                    final = read == 0;
                    var reader = new Utf8JsonReader(buffer.AsSpan(0, filled), final, state);
                    while (reader.Read())
                    {
                        tokens++;
                    }
                    state = reader.CurrentState;
                    int consumed = (int)reader.BytesConsumed;
                    buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
                    filled -= consumed;
                    if (filled == buffer.Length)
                    {
                        // One token larger than the buffer.
                        byte[] larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, filled).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }
                }
            }
        }
        catch (JsonException e)
        {
            throw new PagesException("token scan: not valid JSON: " + e.Message, e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return new BenchWorkResult(tokens, null, null);
    }

    /// <summary>
    /// Our parser alone: <see cref="ResponseReader"/> over each file in turn, every batch built and dropped, nothing
    /// written. Against our ingest it shows what encoding and writing Parquet cost; against the token scan, what
    /// building Arrow batches costs. With <paramref name="parallel"/>, large plain files are parsed on all cores by
    /// <see cref="ParallelResponseReader"/>, as <c>pages ingest</c> does.
    /// </summary>
    public static async Task<BenchWorkResult> ParseOnlyAsync(IReadOnlyList<string> inputs, bool parallel = false, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        long rows = 0;
        foreach (string input in inputs)
        {
            var options = new ResponseReaderOptions { SourceName = Path.GetFileName(input) };
            var parallelOptions = new ParallelReadOptions();
            if (parallel && ParallelResponseReader.ShouldUse(InputSource.FromFile(input), parallelOptions, ParallelReadOptions.DefaultMinFileBytes))
            {
                var reader = new ParallelResponseReader(input, options, parallelOptions);
                await foreach (var batch in reader.ReadBatchesAsync(ct).ConfigureAwait(false))
                {
                    rows += batch.Length;
                    batch.Dispose();
                }
                continue;
            }
            await using var file = new FileStream(input, FileMode.Open, FileAccess.Read, FileShare.Read, 1,
                FileOptions.Asynchronous | FileOptions.SequentialScan);
            var sequential = new ResponseReader(file, options);
            await foreach (var batch in sequential.ReadBatchesAsync(ct).ConfigureAwait(false))
            {
                rows += batch.Length;
                batch.Dispose();
            }
        }
        return new BenchWorkResult(rows, null, null);
    }

    private static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";
}
