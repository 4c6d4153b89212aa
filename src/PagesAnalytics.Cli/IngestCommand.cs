using System.CommandLine;
using System.Globalization;
using PagesAnalytics;
using PagesAnalytics.Ingest;
using PagesAnalytics.Store;
using Spectre.Console;

namespace PagesAnalytics.Cli;

/// <summary><c>pages ingest PATH...</c></summary>
internal static class IngestCommand
{
    public static Command Create(CliContext context, Option<string?> storeOption)
    {
        var paths = new Argument<string[]>("paths")
        {
            Description = "Response files (any compression), directories (recursively: *.json, *.jsonl, *.ndjson, each optionally .gz/.zst/.br), glob patterns, or - for standard input",
            Arity = ArgumentArity.OneOrMore,
        };
        var batchRows = new Option<int>("--batch-rows")
        {
            Description = "Rows per Arrow batch and Parquet row group",
            DefaultValueFactory = _ => ResponseReaderOptions.DefaultBatchRows,
        };
        var target = new Option<string?>("--target") { Description = "Target of the API requests, recorded per source" };
        var mode = new Option<string?>("--mode") { Description = "Mode of the API requests: exact, domain, subdomains, prefix" };
        mode.AcceptOnlyFromAmong([.. IngestOptions.Modes]);
        var snapshot = new Option<string?>("--snapshot")
        {
            Description = "Date the responses were fetched, YYYY-MM-DD (default: a date in the path, else the file's mtime)",
        };
        var strict = new Option<bool>("--strict") { Description = "Stop at the first rejected input (exit 1)" };
        var salvage = new Option<bool>("--salvage")
        {
            Description = "Keep the complete records before the break point of a malformed input (status partial)",
        };
        var threads = new Option<int>("--threads")
        {
            Description = "Threads that parse one large uncompressed file at once (default: all cores; 1 reads sequentially)",
            DefaultValueFactory = _ => Math.Max(1, Environment.ProcessorCount),
        };
        var compression = new Option<string>("--compression")
        {
            Description = "Codec of the store's Parquet parts: snappy (fastest) or zstd (smaller files)",
            DefaultValueFactory = _ => IngestOptions.DefaultCompression.ToString().ToLowerInvariant(),
        };
        compression.AcceptOnlyFromAmong("snappy", "zstd");
        var command = new Command("ingest", "Stream responses into the store; prints a summary to stderr")
        {
            threads,
            compression,
            paths,
            batchRows,
            target,
            mode,
            snapshot,
            strict,
            salvage,
        };
        command.SetAction(async (parse, ct) =>
        {
            int rowsPerBatch = parse.GetValue(batchRows);
            if (rowsPerBatch < 1)
            {
                throw new PagesUsageException("--batch-rows must be at least 1");
            }
            var store = PagesStore.Open(parse.GetValue(storeOption));
            var inputs = InputSource.Expand(parse.GetValue(paths) ?? [], context.Stdin);
            DateOnly? snapshotDate = null;
            if (parse.GetValue(snapshot) is { } text)
            {
                if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
                {
                    throw new PagesUsageException($"--snapshot '{text}' is not a date of the form YYYY-MM-DD");
                }
                snapshotDate = date;
            }
            var options = new IngestOptions
            {
                BatchRows = rowsPerBatch,
                Target = parse.GetValue(target),
                Mode = parse.GetValue(mode),
                Snapshot = snapshotDate,
                Strict = parse.GetValue(strict),
                Salvage = parse.GetValue(salvage),
                Threads = parse.GetValue(threads),
                Compression = parse.GetValue(compression) == "zstd" ? PartCompression.Zstd : PartCompression.Snappy,
            };
            var summary = context.StderrIsTerminal
                ? await RunWithProgressAsync(context, store, inputs, options, ct)
                : await Ingestor.RunAsync(store, inputs, options, null, ct);
            WriteSummary(context, store, summary);
            if (summary.StoppedBy is { } stopped)
            {
                context.Stderr.WriteLine("pages: " + stopped.Message);
                return ExitCodes.Failure;
            }
            return summary.Rejected > 0 ? ExitCodes.SomeRejected : ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<IngestSummary> RunWithProgressAsync(CliContext context, PagesStore store,
        IReadOnlyList<InputSource> inputs, IngestOptions options, CancellationToken ct)
    {
        IngestSummary? summary = null;
        await context.ErrorConsole().Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async progressContext =>
            {
                var files = progressContext.AddTask($"files (0/{inputs.Count})", maxValue: Math.Max(1, inputs.Count));
                var bytes = progressContext.AddTask("bytes", maxValue: 1);
                var progress = new InlineProgress(p =>
                {
                    files.Value = p.InputIndex;
                    files.Description = $"files ({p.InputIndex}/{p.InputCount})";
                    bytes.Description = Markup.Escape(Truncate(p.Current, 40));
                    bytes.MaxValue = Math.Max(1, p.CurrentLength ?? Math.Max(p.CurrentBytes, 1));
                    bytes.Value = p.CurrentBytes;
                });
                summary = await Ingestor.RunAsync(store, inputs, options, progress, ct);
                files.Value = files.MaxValue;
            });
        return summary!;
    }

    internal static void WriteSummary(CliContext context, PagesStore store, IngestSummary summary)
    {
        var err = context.Stderr;
        foreach (var outcome in summary.Outcomes)
        {
            if (outcome.Status == SourceStatus.Rejected)
            {
                err.WriteLine($"rejected: {outcome.Message}");
            }
            else if (outcome.Status == SourceStatus.Partial)
            {
                err.WriteLine($"partial: kept {outcome.Rows:N0} rows before the break point: {outcome.Message}");
            }
            else if (outcome.Status == SourceStatus.Skipped)
            {
                err.WriteLine($"skipped: {outcome.Input.DisplayName}: {outcome.Message}");
            }
        }
        var inv = CultureInfo.InvariantCulture;
        err.WriteLine(string.Create(inv,
            $"store {store.Directory}: {summary.Ingested} ingested{Partial(summary)}, {summary.Skipped} skipped, {summary.Rejected} rejected; " +
            $"{summary.Rows:N0} rows in {summary.Elapsed.TotalSeconds:F2} s ({summary.RowsPerSecond:N0} rows/s)"));
        var codes = summary.HttpCodes;
        if (codes.Count == 0)
        {
            return;
        }
        // Plain text, not a Spectre table: this runs after every ingest, and loading and compiling Spectre's
        // layout code cost a tenth of a second, a tenth of a 1M-row ingest.
        var cells = new List<string[]> { new[] { "http_code", "rows", "share" } };
        foreach (var (code, rows) in codes)
        {
            cells.Add([code < 0 ? "NULL" : code.ToString(inv), rows.ToString("N0", inv),
                (summary.Rows == 0 ? 0 : 100.0 * rows / summary.Rows).ToString("F1", inv) + "%"]);
        }
        var widths = new int[3];
        foreach (var row in cells)
        {
            for (int c = 0; c < 3; c++)
            {
                widths[c] = Math.Max(widths[c], row[c].Length);
            }
        }
        int total = widths.Sum() + 6;
        err.WriteLine("rows ingested by http_code");
        for (int r = 0; r < cells.Count; r++)
        {
            var row = cells[r];
            err.WriteLine($"  {row[0].PadRight(widths[0])}  {row[1].PadLeft(widths[1])}  {row[2].PadLeft(widths[2])}");
            if (r == 0)
            {
                err.WriteLine("  " + new string('-', total - 2));
            }
        }
    }

    private static string Partial(IngestSummary summary)
    {
        int partial = summary.Outcomes.Count(o => o.Status == SourceStatus.Partial);
        return partial == 0 ? "" : $" ({partial} partial)";
    }

    private static string Truncate(string text, int max) => text.Length <= max ? text : "..." + text[^(max - 3)..];

    private sealed class InlineProgress(Action<IngestProgress> report) : IProgress<IngestProgress>
    {
        public void Report(IngestProgress value) => report(value);
    }
}
