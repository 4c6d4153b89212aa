using System.CommandLine;
using System.Globalization;
using PagesAnalytics.Export;
using PagesAnalytics.Query;
using PagesAnalytics.Store;
using Spectre.Console;

namespace PagesAnalytics.Cli;

/// <summary><c>pages export</c>: the rows of a request as Parquet, Arrow IPC, CSV or NDJSON, in one file or a Hive-style tree.</summary>
internal static class ExportCommand
{
    public static readonly string[] Formats = ["parquet", "arrow", "csv", "ndjson"];

    public static Command Create(CliContext context, Option<string?> storeOption)
    {
        var output = new Option<string>("--out")
        {
            Description = "File to write, or the root directory of the tree with --partition-by",
            Required = true,
        };
        var format = new Option<string?>("--format")
        {
            Description = "parquet (default; or as the --out extension says), arrow (Arrow IPC file, Feather v2), csv, ndjson",
        }.AcceptOnlyFromAmong(Formats);
        var select = new Option<string?>("--select")
        {
            Description = "Columns (default: the 21 stored columns, host and snapshot); * is the 19 API columns; "
                + "also the ratios, snapshot and http_class",
        };
        var where = new Option<string?>("--where") { Description = "Row filter before one row per url is kept (v2 or v3 syntax)" };
        var having = new Option<string?>("--having") { Description = "Filter on the per-url result" };
        var target = new Option<string?>("--target") { Description = "Target without protocol" };
        var mode = new Option<string?>("--mode") { Description = "exact, domain (default with --target), subdomains, prefix" };
        var allSnapshots = new Option<bool>("--all-snapshots") { Description = "Every stored row, not one row per url from its newest snapshot" };
        var partitionBy = new Option<string?>("--partition-by")
        {
            Description = "COL[,COL]: write a Hive-style tree (http_class=2xx/part-00000.parquet); "
                + string.Join(", ", ExportColumns.Partitionable),
        };
        var rowGroupRows = new Option<int>("--row-group-rows")
        {
            Description = "Rows per Parquet row group (memory grows with it: ~0.9 GB at the default)",
            DefaultValueFactory = _ => ParquetExportOptions.DefaultRowGroupRows,
        };
        var memoryLimit = new Option<int>("--memory-limit")
        {
            Description = "DuckDB working memory in MB; it spills to a temp directory beside --out beyond it",
            DefaultValueFactory = _ => ExportOptions.DefaultMemoryLimitMegabytes,
        };
        var command = new Command("export", "Write the rows of a request for notebooks and other engines: Parquet (Zstd), Arrow IPC, CSV or NDJSON")
        {
            output, format, select, where, having, target, mode, allSnapshots, partitionBy, rowGroupRows, memoryLimit,
        };
        command.SetAction(async (parse, ct) =>
        {
            string path = parse.GetValue(output)!;
            var options = new ExportOptions
            {
                Format = parse.GetValue(format) is { } name ? ExportOptions.ParseFormat(name) : ExportOptions.FormatFromPath(path) ?? ExportFormat.Parquet,
                Select = parse.GetValue(select),
                Where = parse.GetValue(where),
                Having = parse.GetValue(having),
                Target = parse.GetValue(target),
                Mode = parse.GetValue(mode),
                AllSnapshots = parse.GetValue(allSnapshots),
                PartitionBy = ParseList(parse.GetValue(partitionBy)),
                RowGroupRows = parse.GetValue(rowGroupRows),
                MemoryLimitMegabytes = parse.GetValue(memoryLimit),
            };
            PagesExport.Compile(options); // filter and option errors before the store is opened
            var store = PagesStore.Open(parse.GetValue(storeOption));
            var summary = context.StderrIsTerminal
                ? await RunWithProgressAsync(context, store, options, path, ct)
                : await PagesExport.RunAsync(store, options, path, null, ct);
            var inv = CultureInfo.InvariantCulture;
            double seconds = Math.Max(summary.Elapsed.TotalSeconds, 1e-6);
            string files = summary.Files == 1 ? "1 file" : string.Create(inv, $"{summary.Files} files");
            string partitions = summary.Partitions == 0 ? "" : string.Create(inv, $" in {summary.Partitions} partition{(summary.Partitions == 1 ? "" : "s")}");
            context.Stderr.WriteLine(string.Create(inv,
                $"exported {summary.Rows:N0} rows to {summary.Path} ({summary.Format.ToString().ToLowerInvariant()}, {files}{partitions}) in {summary.Elapsed.TotalSeconds:F2} s ({summary.Rows / seconds:N0} rows/s)"));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static List<string> ParseList(string? text)
    {
        var items = new List<string>();
        if (string.IsNullOrWhiteSpace(text))
        {
            return items;
        }
        foreach (var item in text.Split(','))
        {
            if (item.Trim().Length == 0)
            {
                throw new PagesUsageException($"--partition-by '{text}' has an empty item");
            }
            items.Add(item.Trim());
        }
        return items;
    }

    private static async Task<ExportSummary> RunWithProgressAsync(CliContext context, PagesStore store, ExportOptions options,
        string path, CancellationToken ct)
    {
        long estimate = 0;
        foreach (var record in store.ReadRecords())
        {
            estimate += record.IsVisible ? record.Rows : 0;
        }
        ExportSummary? summary = null;
        await context.ErrorConsole().Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async progressContext =>
            {
                // The store's row count bounds the export's; a filtered export ends early.
                var rows = progressContext.AddTask("rows", maxValue: Math.Max(1, estimate));
                var progress = new InlineProgress(p =>
                {
                    rows.Value = Math.Min(p.Rows, rows.MaxValue);
                    rows.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{p.Rows:N0} rows, {p.Current}"));
                });
                summary = await PagesExport.RunAsync(store, options, path, progress, ct);
                rows.Value = rows.MaxValue;
            });
        return summary!;
    }

    private sealed class InlineProgress(Action<ExportProgress> report) : IProgress<ExportProgress>
    {
        public void Report(ExportProgress value) => report(value);
    }
}

/// <summary>The <c>--emit-sql</c>, <c>--dialect</c> and <c>--from</c> options of <c>query</c> and <c>report</c>.</summary>
internal sealed class EmitSql
{
    private EmitSql(Option<bool> enabled, Option<string?> dialect, Option<string?> from)
    {
        Enabled = enabled;
        Dialect = dialect;
        From = from;
    }

    public Option<bool> Enabled { get; }

    public Option<string?> Dialect { get; }

    public Option<string?> From { get; }

    public static EmitSql CreateOptions() => new(
        new Option<bool>("--emit-sql")
        {
            Description = "Print the SQL of this request over the Parquet files of `pages export` instead of running it",
        },
        new Option<string?>("--dialect") { Description = "SQL dialect for --emit-sql: duckdb (default), spark, trino" }
            .AcceptOnlyFromAmong("duckdb", "spark", "trino"),
        new Option<string?>("--from")
        {
            Description = "For --emit-sql: the export's path (duckdb, spark; default pages-export) or table (trino; default pages_export)",
        });

    /// <summary>The emit options when <c>--emit-sql</c> is given, else null (and then --dialect/--from are errors).</summary>
    public EmitSqlOptions? Read(ParseResult parse)
    {
        string? dialect = parse.GetValue(Dialect);
        string? from = parse.GetValue(From);
        if (!parse.GetValue(Enabled))
        {
            if (dialect is not null || from is not null)
            {
                throw new PagesUsageException($"{(dialect is not null ? "--dialect" : "--from")} needs --emit-sql");
            }
            return null;
        }
        return new EmitSqlOptions { Dialect = EmitSqlOptions.ParseDialect(dialect ?? "duckdb"), From = from };
    }

    /// <summary>Writes the statement to stdout.</summary>
    public static void Write(CliContext context, string sql)
    {
        var bytes = new System.Text.UTF8Encoding(false).GetBytes(sql);
        context.Stdout.Write(bytes);
        context.Stdout.Flush();
    }
}
