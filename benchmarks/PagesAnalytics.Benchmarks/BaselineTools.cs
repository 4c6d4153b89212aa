using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DuckDB.NET.Data;

namespace PagesAnalytics.Benchmarks;

/// <summary>
/// End-to-end baselines a user would pick instead of this project, run as plain subcommands (not BenchmarkDotNet):
/// <list type="bullet">
/// <item><c>duckdb-baseline --input FILE --out OUT.parquet [--ndjson]</c>: DuckDB <c>read_json</c> -> Parquet, in-memory connection.</item>
/// <item><c>to-ndjson --input FILE --out FILE.ndjson</c>: one page object per line, streamed (constant memory).</item>
/// <item><c>checksums --input FILE [--ndjson]</c>: row count and sums computed by DuckDB, as an independent check.</item>
/// </list>
/// Results go to stdout, timings and peak memory to stderr.
/// </summary>
internal static class BaselineTools
{
    private const int ExitOk = 0;
    private const int ExitFailed = 1;
    private const int ExitUsage = 2;

    private const string Usage = """
        usage:
          duckdb-baseline --input FILE.json --out OUT.parquet [--ndjson]
          to-ndjson       --input FILE.json --out FILE.ndjson
          checksums       --input FILE.json [--ndjson]
        """;

    public static bool IsCommand(string name) => name is "duckdb-baseline" or "to-ndjson" or "checksums";

    public static async Task<int> RunAsync(string[] args)
    {
        string? input = null, output = null;
        bool ndjson = false;
        for (int i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--input" when i + 1 < args.Length: input = args[++i]; break;
                case "--out" when i + 1 < args.Length: output = args[++i]; break;
                case "--ndjson": ndjson = true; break;
                default:
                    Console.Error.WriteLine($"{args[0]}: unexpected argument '{args[i]}'");
                    Console.Error.WriteLine(Usage);
                    return ExitUsage;
            }
        }
        bool needsOutput = args[0] != "checksums";
        if (input is null || (needsOutput && output is null) || (!needsOutput && output is not null))
        {
            Console.Error.WriteLine(Usage);
            return ExitUsage;
        }
        if (!File.Exists(input))
        {
            Console.Error.WriteLine($"{args[0]}: {input}: no such file");
            return ExitUsage;
        }

        try
        {
            switch (args[0])
            {
                case "duckdb-baseline": DuckDbBaseline(input, output!, ndjson); break;
                case "to-ndjson": await ToNdjsonAsync(input, output!); break;
                default: Checksums(input, ndjson); break;
            }
            return ExitOk;
        }
        catch (Exception e) when (e is DuckDBException or IOException or JsonException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"{args[0]}: {e.GetType().Name}: {e.Message}");
            return ExitFailed;
        }
    }

    /// <summary>What a user would write in DuckDB to turn the input into Parquet.</summary>
    private static void DuckDbBaseline(string input, string output, bool ndjson)
    {
        string source = ndjson
            ? $"SELECT * FROM {ReadNdjson(input)}"
            : $"SELECT unnest(pages, recursive := true) FROM {ReadResponse(input)}";
        string sql = $"COPY ({source}) TO {Literal(output)} (FORMAT parquet)";
        Console.Error.WriteLine($"duckdb-baseline: {sql}");

        using var connection = OpenInMemory();
        var clock = Stopwatch.StartNew();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        int rows = command.ExecuteNonQuery(); // COPY reports the rows it wrote
        clock.Stop();
        ReportTime("duckdb-baseline", clock.Elapsed);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rows={rows} parquet_bytes={new FileInfo(output).Length} seconds={clock.Elapsed.TotalSeconds:F2}"));
    }

    /// <summary>Row count, sums and non-sentinel <c>last_visited</c> count, all computed by DuckDB.</summary>
    private static void Checksums(string input, bool ndjson)
    {
        string rows = ndjson
            ? $"SELECT * FROM {ReadNdjson(input)}"
            : $"SELECT unnest(pages, recursive := true) FROM {ReadResponse(input)}";
        // The cast makes the sentinel test independent of what type read_json inferred (VARCHAR, TIMESTAMP or
        // TIMESTAMPTZ); the session time zone is UTC so a zone-less TIMESTAMP means UTC, as the API's 'Z' does.
        string sql = $"""
            SELECT count(*), sum(backlinks), sum(refdomains),
                   count(*) FILTER (WHERE last_visited IS NOT NULL
                                    AND CAST(last_visited AS TIMESTAMPTZ) <> TIMESTAMPTZ '1970-01-01 00:00:00+00')
            FROM ({rows})
            """;

        using var connection = OpenInMemory();
        var clock = Stopwatch.StartNew();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            throw new IOException("the checksum query returned no row");
        }
        string line = string.Create(CultureInfo.InvariantCulture,
            $"rows={reader.GetValue(0)} sum_backlinks={reader.GetValue(1)} sum_refdomains={reader.GetValue(2)} count_last_visited={reader.GetValue(3)}");
        clock.Stop();
        Console.WriteLine(line);
        ReportTime("checksums", clock.Elapsed);
    }

    private static DuckDBConnection OpenInMemory()
    {
        var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SET TimeZone = 'UTC'";
        command.ExecuteNonQuery();
        return connection;
    }

    // The raw response is one JSON object as big as the file; read_json refuses objects above
    // maximum_object_size (16 MB by default), a UINTEGER, so responses of 4 GiB or more cannot be read this way.
    private static string ReadResponse(string input)
    {
        long size = new FileInfo(input).Length;
        if (size >= uint.MaxValue)
        {
            throw new IOException($"{input}: {size} bytes; DuckDB read_json cannot read one object of 4 GiB or more");
        }
        return string.Create(CultureInfo.InvariantCulture,
            $"read_json({Literal(input)}, maximum_object_size = {size + 1})");
    }

    private static string ReadNdjson(string input) => $"read_json({Literal(input)}, format = 'newline_delimited')";

    // COPY takes no bound parameters, so the two paths are quoted as SQL string literals.
    private static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>Flattens a response into NDJSON (one page object per line) with the library's streaming converter.</summary>
    private static async Task ToNdjsonAsync(string input, string output)
    {
        var clock = Stopwatch.StartNew();
        long rows = await PagesAnalytics.Bench.NdjsonConverter.ConvertFileAsync(input, output);
        clock.Stop();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rows={rows} ndjson_bytes={new FileInfo(output).Length} seconds={clock.Elapsed.TotalSeconds:F2}"));
        ReportTime("to-ndjson", clock.Elapsed);
    }

    private static void ReportTime(string what, TimeSpan elapsed)
    {
        using var self = Process.GetCurrentProcess();
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{what}: {elapsed.TotalSeconds:F2} s, peak RSS {self.PeakWorkingSet64 / (1024.0 * 1024.0):F0} MiB"));
    }
}
