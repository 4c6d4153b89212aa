using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace PagesAnalytics.Bench;

/// <summary>Which generated files a case reads.</summary>
public enum BenchInputKind
{
    /// <summary>The generated responses.</summary>
    Raw,
    /// <summary>The same rows as NDJSON.</summary>
    Ndjson,
}

/// <summary>One thing <c>pages bench</c> measures.</summary>
/// <param name="Key">Letter in the report: A is ours, the rest are compared with it.</param>
/// <param name="Name">Short name.</param>
/// <param name="What">One line: what runs.</param>
/// <param name="Worker">Name of the hidden worker that runs it (<c>pages bench worker NAME</c>).</param>
/// <param name="Input">Which files it reads.</param>
/// <param name="ManagedWork">True when its work is .NET code, so managed allocations per row mean something.</param>
/// <param name="CountsTokens">True when the child reports JSON tokens instead of rows.</param>
public sealed record BenchCase(string Key, string Name, string What, string Worker, BenchInputKind Input, bool ManagedWork, bool CountsTokens = false)
{
    /// <summary>Our ingest: what every other case is compared with.</summary>
    public static readonly BenchCase Ingest = new("A", "ours: pages ingest",
        "`pages ingest` of the responses into a fresh store (Parquet parts + source records)", "ingest", BenchInputKind.Raw, true);

    /// <summary>DuckDB on the raw responses.</summary>
    public static readonly BenchCase DuckDbRaw = new("B", "DuckDB read_json, raw response",
        "`COPY (SELECT unnest(pages, recursive := true) FROM read_json(...)) TO ... (FORMAT parquet)`", "duckdb", BenchInputKind.Raw, false);

    /// <summary>DuckDB on the same rows as NDJSON: DuckDB's favourite format.</summary>
    public static readonly BenchCase DuckDbNdjson = new("C", "DuckDB read_json, NDJSON",
        "`COPY (SELECT * FROM read_json(..., format = 'newline_delimited')) TO ... (FORMAT parquet)`", "duckdb-ndjson", BenchInputKind.Ndjson, false);

    /// <summary>The floor of a token-by-token parse (ours reads plain records without the token reader).</summary>
    public static readonly BenchCase TokenScan = new("D", "Utf8JsonReader token scan",
        "bare `Utf8JsonReader` over the responses, one thread, streamed: the floor of a token-by-token parse", "scan", BenchInputKind.Raw, true, CountsTokens: true);

    /// <summary>Our parser alone, for where the time goes.</summary>
    public static readonly BenchCase ParseOnly = new("E", "ours: parse only",
        "`ResponseReader` into Arrow batches, dropped: no Parquet, no store", "parse", BenchInputKind.Raw, true);

    /// <summary>Our parser alone on all cores, as the ingest parses a large plain file.</summary>
    public static readonly BenchCase ParseParallel = new("F", "ours: parse only, all cores",
        "`ParallelResponseReader` (segments of the pages array on every core) into Arrow batches, dropped", "parse-parallel", BenchInputKind.Raw, true);

    /// <summary>All cases, in the order each repetition runs them.</summary>
    public static readonly IReadOnlyList<BenchCase> All = [Ingest, DuckDbRaw, DuckDbNdjson, TokenScan, ParseOnly, ParseParallel];
}

/// <summary>One run of a case in its own process.</summary>
/// <param name="Repetition">1-based repetition.</param>
/// <param name="WallSeconds">From starting the child process to its exit, measured by the parent.</param>
/// <param name="Measurement">What the child reported about itself.</param>
public sealed record BenchRun(int Repetition, double WallSeconds, BenchMeasurement Measurement);

/// <summary>All runs of one case, with medians.</summary>
public sealed class BenchCaseResult
{
    /// <summary>Creates the result of <paramref name="benchCase"/> over <paramref name="rows"/> rows in <paramref name="inputBytes"/> bytes.</summary>
    public BenchCaseResult(BenchCase benchCase, long rows, long inputBytes, IReadOnlyList<BenchRun> runs)
    {
        ArgumentNullException.ThrowIfNull(benchCase);
        ArgumentNullException.ThrowIfNull(runs);
        if (runs.Count == 0)
        {
            throw new ArgumentException("a case needs at least one run", nameof(runs));
        }
        Case = benchCase;
        Rows = rows;
        InputBytes = inputBytes;
        Runs = runs;
    }

    /// <summary>The case.</summary>
    public BenchCase Case { get; }

    /// <summary>Page rows in the input.</summary>
    public long Rows { get; }

    /// <summary>Size of the files the case reads.</summary>
    public long InputBytes { get; }

    /// <summary>Every run, in order.</summary>
    public IReadOnlyList<BenchRun> Runs { get; }

    /// <summary>Median process wall time.</summary>
    public double WallSeconds => Median(Runs.Select(r => r.WallSeconds));

    /// <summary>Median time of the workload inside the child.</summary>
    public double WorkSeconds => Median(Runs.Select(r => r.Measurement.WorkSeconds));

    /// <summary>Median peak resident set, KiB.</summary>
    public double PeakRssKb => Median(Runs.Select(r => (double)r.Measurement.PeakRssKb));

    /// <summary>Median managed bytes allocated per row.</summary>
    public double AllocatedBytesPerRow => Median(Runs.Select(r => (double)r.Measurement.AllocatedBytes)) / Math.Max(1, Rows);

    /// <summary>Median bytes written, or null when the case writes nothing.</summary>
    public double? OutputBytes => Runs[0].Measurement.OutputBytes is null ? null : Median(Runs.Select(r => (double)(r.Measurement.OutputBytes ?? 0)));

    /// <summary>Rows per second of wall time.</summary>
    public double RowsPerSecond => Rows / WallSeconds;

    /// <summary>Input megabytes (10^6 bytes) per second of wall time.</summary>
    public double MegabytesPerSecond => InputBytes / 1e6 / WallSeconds;

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}

/// <summary>Where and how a bench ran, for the report's header.</summary>
/// <param name="Command">The exact command line.</param>
/// <param name="StartedAt">When the measurements started.</param>
/// <param name="Repetitions">Runs per case.</param>
/// <param name="LoadBefore">1/5/15-minute load average before the first run, or null where unknown.</param>
/// <param name="LoadAfter">The same after the last run.</param>
/// <param name="Note">Free text for the header (e.g. "shared machine"), or null.</param>
public sealed record BenchEnvironment(string Command, DateTimeOffset StartedAt, int Repetitions, string? LoadBefore, string? LoadAfter, string? Note)
{
    /// <summary>The 1/5/15-minute load average from <c>/proc/loadavg</c>, or null where there is none.</summary>
    public static string? ReadLoadAverage()
    {
        const string Path = "/proc/loadavg";
        if (!File.Exists(Path))
        {
            return null;
        }
        var parts = File.ReadAllText(Path).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length >= 3 ? $"{parts[0]} {parts[1]} {parts[2]}" : null;
    }

    /// <summary>Cores, CPU model, memory, OS and .NET version of this machine.</summary>
    public static string DescribeMachine()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{Environment.ProcessorCount} cores");
        if (ReadProcValue("/proc/cpuinfo", "model name") is { } model)
        {
            text.Append(" (").Append(model).Append(')');
        }
        if (ReadProcValue("/proc/meminfo", "MemTotal") is { } memory
            && long.TryParse(memory.Replace("kB", "", StringComparison.Ordinal).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long kb))
        {
            text.Append(CultureInfo.InvariantCulture, $", {kb / (1024.0 * 1024.0):F1} GiB RAM");
        }
        text.Append(", ").Append(RuntimeInformation.OSDescription).Append(' ').Append(RuntimeInformation.OSArchitecture);
        text.Append(", ").Append(RuntimeInformation.FrameworkDescription);
        return text.ToString();
    }

    private static string? ReadProcValue(string path, string key)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        foreach (string line in File.ReadLines(path))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line.AsSpan(0, colon).Trim().SequenceEqual(key))
            {
                return line[(colon + 1)..].Trim();
            }
        }
        return null;
    }
}

/// <summary>Renders the results of <c>pages bench</c> as Markdown (the same text goes to stdout and to the results file).</summary>
public static class BenchReport
{
    /// <summary>A file name for the report, e.g. <c>ingest-1000000-2025-11-02-1530.md</c>.</summary>
    public static string FileName(BenchDataOptions options, DateTimeOffset startedAt)
    {
        ArgumentNullException.ThrowIfNull(options);
        var name = new StringBuilder("ingest-").Append(options.Rows.ToString(CultureInfo.InvariantCulture));
        if (options.Files > 1)
        {
            name.Append('x').Append(options.Files.ToString(CultureInfo.InvariantCulture)).Append("files");
        }
        if (options.Pretty)
        {
            name.Append("-pretty");
        }
        name.Append('-').Append(startedAt.UtcDateTime.ToString("yyyy-MM-dd-HHmm", CultureInfo.InvariantCulture)).Append(".md");
        return name.ToString();
    }

    /// <summary>The whole report: header, results table, ratios, where our time goes, every run.</summary>
    public static string ToMarkdown(BenchDataSet data, IReadOnlyList<BenchCaseResult> results, BenchEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(environment);
        var inv = CultureInfo.InvariantCulture;
        var options = data.Options;
        var md = new StringBuilder();
        md.Append(inv, $"# pages bench: {options.Rows:N0} rows in {options.Files} {(options.Pretty ? "pretty-printed" : "compact")} response file{(options.Files == 1 ? "" : "s")}\n\n");
        md.Append("| | |\n|---|---|\n");
        md.Append(inv, $"| command | `{environment.Command}` |\n");
        md.Append(inv, $"| started | {environment.StartedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC |\n");
        md.Append(inv, $"| machine | {Escape(BenchEnvironment.DescribeMachine())} |\n");
        string? duck = results.Select(r => r.Runs[0].Measurement.Detail).FirstOrDefault(d => d?.StartsWith("duckdb", StringComparison.Ordinal) == true);
        if (duck is not null)
        {
            md.Append(inv, $"| baseline engine | {Escape(duck)} (DuckDB.NET, in-memory database, default threads and memory limit) |\n");
        }
        md.Append(inv, $"| input | {data.RawFiles.Count} response file(s), {data.RawBytes / 1e6:F1} MB; as NDJSON {data.NdjsonBytes / 1e6:F1} MB; seed {options.Seed} |\n");
        md.Append(inv, $"| method | {environment.Repetitions} repetition(s), interleaved ({string.Join(" ", results.Select(r => r.Case.Key))}, then again); every run is its own child process; medians |\n");
        if (environment.LoadBefore is not null || environment.LoadAfter is not null)
        {
            md.Append(inv, $"| load average (1/5/15 min) | before {environment.LoadBefore ?? "?"}, after {environment.LoadAfter ?? "?"} |\n");
        }
        if (!string.IsNullOrWhiteSpace(environment.Note))
        {
            md.Append(inv, $"| note | {Escape(environment.Note)} |\n");
        }

        md.Append("\n| case | what | wall (s) | work (s) | rows/s | MB/s | peak RSS (MiB) | managed alloc (B/row) | output (MB) | wall per run (s) |\n");
        md.Append("|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
        foreach (var result in results)
        {
            var c = result.Case;
            string alloc = c.ManagedWork ? result.AllocatedBytesPerRow.ToString("F1", inv) : "n/a";
            string output = result.OutputBytes is { } bytes ? (bytes / 1e6).ToString("F1", inv) : "-";
            string perRun = string.Join(", ", result.Runs.Select(r => r.WallSeconds.ToString("F2", inv)));
            md.Append(inv, $"| {c.Key} {Escape(c.Name)} | {Escape(c.What)} | {result.WallSeconds:F2} | {result.WorkSeconds:F2} | {result.RowsPerSecond:N0} | {result.MegabytesPerSecond:F1} | {result.PeakRssKb / 1024:F0} | {alloc} | {output} | {perRun} |\n");
        }

        var ours = results.FirstOrDefault(r => r.Case == BenchCase.Ingest);
        if (ours is not null)
        {
            md.Append("\n## Ours (A) against each baseline\n\n");
            md.Append("Ratio of medians, ours / baseline: below 1.00x ours is faster or smaller.\n\n");
            md.Append("| baseline | wall time | work time | peak RSS |\n|---|---:|---:|---:|\n");
            foreach (var result in results)
            {
                if (result.Case == BenchCase.Ingest || result.Case == BenchCase.ParseOnly || result.Case == BenchCase.ParseParallel)
                {
                    continue;
                }
                md.Append(inv, $"| {result.Case.Key} {Escape(result.Case.Name)} | {Ratio(ours.WallSeconds / result.WallSeconds)} | {Ratio(ours.WorkSeconds / result.WorkSeconds)} | {Ratio(ours.PeakRssKb / result.PeakRssKb)} |\n");
            }
        }

        var scan = results.FirstOrDefault(r => r.Case == BenchCase.TokenScan);
        var parse = results.FirstOrDefault(r => r.Case == BenchCase.ParseOnly);
        if (ours is not null && scan is not null && parse is not null)
        {
            md.Append("\n## Where our time goes (medians of work time)\n\n");
            md.Append(inv, $"- tokenizing the JSON with `Utf8JsonReader` (D, the floor of a token-by-token parse): {scan.WorkSeconds:F2} s\n");
            double overScan = parse.WorkSeconds - scan.WorkSeconds;
            string versusScan = overScan >= 0
                ? string.Create(inv, $"{overScan:F2} s more than the token scan, for reading values and building batches")
                : string.Create(inv, $"{-overScan:F2} s less than the token scan alone (plain records are read by `SegmentScanner`, not token by token)");
            md.Append(inv, $"- parsing into Arrow batches (E): {parse.WorkSeconds:F2} s, i.e. {versusScan}; {parse.AllocatedBytesPerRow:F1} managed bytes allocated per row\n");
            var parallelParse = results.FirstOrDefault(r => r.Case == BenchCase.ParseParallel);
            var parsedBy = parallelParse ?? parse;
            if (parallelParse is not null)
            {
                md.Append(inv, $"- parsing on all cores (F): {parallelParse.WorkSeconds:F2} s ({parse.WorkSeconds / parallelParse.WorkSeconds:F2}x faster than one thread); {parallelParse.AllocatedBytesPerRow:F1} managed bytes allocated per row\n");
            }
            md.Append(inv, $"- whole ingest (A): {ours.WorkSeconds:F2} s, i.e. {ours.WorkSeconds - parsedBy.WorkSeconds:F2} s more than parsing alone ({parsedBy.Case.Key}) for hashing, Parquet encoding, writing and committing (not hidden by overlapping them with parsing); {ours.AllocatedBytesPerRow:F1} managed bytes allocated per row\n");
        }

        md.Append("\n## How to read this\n\n");
        md.Append("- **wall**: from starting the child process to its exit, measured by the parent (includes .NET start-up, about 0.1 s). ");
        md.Append("**work**: the workload timed inside the child (no start-up).\n");
        md.Append("- **rows/s** and **MB/s**: rows in the input and bytes of the files the case reads (raw responses, or NDJSON for C), per second of wall time; MB = 10^6 bytes.\n");
        md.Append("- **peak RSS**: the child reads its own `VmHWM` (the kernel's high-water mark of resident memory) from `/proc/self/status` just before it exits and reports it on stderr.\n");
        md.Append("- **managed alloc**: `GC.GetTotalAllocatedBytes(precise: true)` over the workload divided by the rows: .NET heap allocations only (the Arrow buffers of batches are pooled arrays, counted when the pool first creates them); n/a where the work is DuckDB's native code.\n");
        md.Append("- **D** counts tokens, not rows; its rows/s uses the rows of the input. **E** is not a baseline: with A and D it shows where our time goes.\n");
        return md.ToString();
    }

    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");

    /// <summary>A ratio with two decimals, or three below 0.1 (so 0.055x and 0.064x are told apart).</summary>
    internal static string Ratio(double ratio)
        => ratio.ToString(ratio < 0.1 ? "F3" : "F2", System.Globalization.CultureInfo.InvariantCulture) + "x";
}
