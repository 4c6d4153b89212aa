using System.CommandLine;
using System.Data.Common;
using System.Globalization;
using DuckDB.NET.Data;
using PagesAnalytics.Export;
using PagesAnalytics.Query;
using PagesAnalytics.Store;

namespace PagesAnalytics.Cli;

/// <summary><c>pages query</c>: the API's request vocabulary over the store.</summary>
internal static class QueryCommand
{
    // Smaller row groups than `pages export`: a query result streams with about 0.2 GB in flight instead of ~1 GB.
    private static readonly ParquetExportOptions QueryParquetOptions = new() { RowGroupRows = 131_072 };

    public static readonly string[] Formats = ["table", "csv", "json", "ndjson", "v2json", "xml", "php", "parquet", "arrow"];

    public static Command Create(CliContext context, Option<string?> storeOption)
    {
        var select = new Option<string?>("--select") { Description = "* (the 19 API columns) or col,col,... (derived: host and the ratios)" };
        var where = new Option<string?>("--where") { Description = "Row filter, v2 syntax (http_code=200,substring(title,\"seo\")) or v3 JSON" };
        var having = new Option<string?>("--having") { Description = "Filter on the per-url result (after one row per url is kept)" };
        var orderBy = new Option<string?>("--order-by") { Description = "col[:asc|:desc],..." };
        var limit = new Option<string>("--limit") { Description = "Rows to return, or all", DefaultValueFactory = _ => "1000" };
        var offset = new Option<long>("--offset") { Description = "Rows to skip" };
        var target = new Option<string?>("--target") { Description = "Target without protocol, e.g. ahrefs.com or ahrefs.com/blog/" };
        var mode = new Option<string?>("--mode") { Description = "exact, domain (default with --target), subdomains, prefix" };
        var allSnapshots = new Option<bool>("--all-snapshots") { Description = "Every stored row, not one row per url from its newest snapshot" };
        var format = new Option<string>("--format") { Description = "table, csv, json, ndjson, v2json, xml, php, parquet, arrow", DefaultValueFactory = _ => "table" }
            .AcceptOnlyFromAmong(Formats);
        var output = new Option<string?>("--out") { Description = "Write to this file instead of stdout" };
        var cost = new Option<bool>("--cost") { Description = "Print (stderr) the API rows the same request would have cost" };
        var emit = EmitSql.CreateOptions();
        var command = new Command("query", "Ask the store what you used to ask the API: select/where/having/order_by/limit/offset/target/mode")
        {
            select, where, having, orderBy, limit, offset, target, mode, allSnapshots, format, output, cost,
            emit.Enabled, emit.Dialect, emit.From,
        };
        command.SetAction(async (parse, ct) =>
        {
            var options = new PagesQueryOptions
            {
                Select = parse.GetValue(select),
                Where = parse.GetValue(where),
                Having = parse.GetValue(having),
                OrderBy = parse.GetValue(orderBy),
                Limit = ParseLimit(parse.GetValue(limit) ?? "1000"),
                Offset = parse.GetValue(offset),
                Target = parse.GetValue(target),
                Mode = parse.GetValue(mode),
                AllSnapshots = parse.GetValue(allSnapshots),
            };
            if (emit.Read(parse) is { } emitOptions)
            {
                // The SQL of the same request over a `pages export`; the store is not needed.
                EmitSql.Write(context, DialectSql.Query(options, emitOptions));
                return ExitCodes.Ok;
            }
            var compiled = PagesQueryCompiler.Compile(options);
            var store = PagesStore.Open(parse.GetValue(storeOption));
            using var session = store.OpenQuery();
            long rows = await RenderAsync(context, session, compiled, parse.GetValue(format) ?? "table", parse.GetValue(output), ct);
            if (parse.GetValue(cost))
            {
                context.Stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"cost: {compiled.Cost(rows)} rows (1 request + {rows} results{(compiled.HasWhere ? " + 5 where" : "")}{(compiled.HasHaving ? " + 5 having" : "")}{(compiled.HasOffset ? " + 5 offset" : "")})"));
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static long? ParseLimit(string text)
    {
        if (string.Equals(text, "all", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long limit))
        {
            return limit;
        }
        throw new PagesUsageException($"--limit '{text}' is neither a number nor 'all'");
    }

    internal static async Task<long> RenderAsync(CliContext context, QuerySession session, CompiledPagesQuery compiled, string format,
        string? outputPath, CancellationToken ct)
    {
        bool binary = format is "parquet" or "arrow";
        if (binary && outputPath is null && context.StdoutIsTerminal)
        {
            throw new PagesUsageException($"--format {format} writes binary data: give --out FILE or redirect stdout");
        }
        await using var sink = OutputSink.Open(context, outputPath);
        long rows;
        if (binary)
        {
            using var command = (DuckDBCommand)compiled.CreateCommand(session.Connection, compiled.Sql);
            command.UseStreamingMode = true; // without it DuckDB materialises the whole result before the first batch
            var batches = command.ExecuteArrowBatchesAsync(ct);
            rows = format == "parquet"
                ? await ArrowExport.WriteParquetAsync(batches, sink.Stream, null, QueryParquetOptions, ct)
                : await ArrowExport.WriteArrowFileAsync(batches, sink.Stream, null, ct);
        }
        else if (format == "php")
        {
            // serialize() writes an array's length before its elements: count the matching rows and the rows returned first.
            using var count = compiled.CreateCommand(session.Connection, compiled.CountSql);
            long stats = Convert.ToInt64(count.ExecuteScalar(), CultureInfo.InvariantCulture);
            count.CommandText = $"SELECT count(*) FROM ({compiled.Sql})";
            long returned = Convert.ToInt64(count.ExecuteScalar(), CultureInfo.InvariantCulture);
            using var command = compiled.CreateCommand(session.Connection, compiled.Sql);
            ((DuckDBCommand)command).UseStreamingMode = true;
            using var reader = command.ExecuteReader();
            rows = PhpResponseWriter.Write(reader, returned, stats, sink.Stream);
        }
        else if (format is "v2json" or "xml")
        {
            long stats;
            using (var count = compiled.CreateCommand(session.Connection, compiled.CountSql))
            {
                stats = Convert.ToInt64(count.ExecuteScalar(), CultureInfo.InvariantCulture);
            }
            using var command = compiled.CreateCommand(session.Connection, compiled.Sql);
            using var reader = command.ExecuteReader();
            rows = format == "v2json"
                ? V2ResponseWriter.WriteJson(reader, stats, sink.Stream)
                : V2ResponseWriter.WriteXml(reader, stats, sink.Stream);
        }
        else
        {
            using var command = compiled.CreateCommand(session.Connection, compiled.Sql);
            ((DuckDBCommand)command).UseStreamingMode = true;
            using var reader = command.ExecuteReader();
            rows = OutputFormat.Render(context, reader, format, sink.Stream);
        }
        await sink.CommitAsync();
        return rows;
    }
}

/// <summary>stdout, or a file written under a temp name and renamed into place only when complete.</summary>
internal sealed class OutputSink : IAsyncDisposable
{
    private readonly string? _path;
    private readonly string? _temp;
    private bool _committed;

    private OutputSink(Stream stream, string? path, string? temp)
    {
        Stream = stream;
        _path = path;
        _temp = temp;
    }

    public Stream Stream { get; }

    public static OutputSink Open(CliContext context, string? path)
    {
        if (path is null || path == "-")
        {
            return new OutputSink(new BufferedStream(context.Stdout, 1 << 16), null, null);
        }
        string temp = path + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        return new OutputSink(new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16), path, temp);
    }

    public async Task CommitAsync()
    {
        await Stream.FlushAsync();
        if (_temp is not null)
        {
            ((FileStream)Stream).Flush(flushToDisk: true);
            await Stream.DisposeAsync();
            File.Move(_temp, _path!, overwrite: true);
        }
        _committed = true;
    }

    public async ValueTask DisposeAsync()
    {
        if (_temp is null)
        {
            await Stream.FlushAsync();
            return;
        }
        await Stream.DisposeAsync();
        if (!_committed && File.Exists(_temp))
        {
            File.Delete(_temp);
        }
    }
}
