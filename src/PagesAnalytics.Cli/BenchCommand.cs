using System.CommandLine;
using System.Globalization;
using System.Text;
using PagesAnalytics.Bench;

namespace PagesAnalytics.Cli;

/// <summary>
/// <c>pages bench [--rows N] [--files K] [--pretty] [--out DIR] [--reps R]</c>: generates (or reuses) the input, then runs
/// our ingest, DuckDB <c>read_json</c> on the raw responses and on NDJSON, a bare token scan and our parser alone, each in
/// its own child process, interleaved over R repetitions; prints a Markdown report to stdout and writes it under
/// <c>benchmarks/results/</c>.
/// </summary>
internal static class BenchCommand
{
    public const int DefaultRepetitions = 3;
    public const string DefaultDataDirectory = "bench-data";

    public static Command Create(CliContext context)
    {
        var rows = new Option<long>("--rows") { Description = "Page rows in total", DefaultValueFactory = _ => BenchDataOptions.DefaultRows };
        var files = new Option<int>("--files") { Description = "Split the rows over this many response files", DefaultValueFactory = _ => 1 };
        var pretty = new Option<bool>("--pretty") { Description = "Pretty-printed responses instead of compact ones" };
        var seed = new Option<int>("--seed") { Description = "Seed of the generator (file i uses seed + i)", DefaultValueFactory = _ => PagesAnalytics.Ingest.GeneratorOptions.DefaultSeed };
        var output = new Option<string>("--out")
        {
            Description = "Directory of the generated input, reused when it holds the same rows/files/pretty/seed",
            DefaultValueFactory = _ => DefaultDataDirectory,
        };
        var reps = new Option<int>("--reps") { Description = "Repetitions of every case (the report shows medians)", DefaultValueFactory = _ => DefaultRepetitions };
        var results = new Option<string?>("--results")
        {
            Description = "Directory for the Markdown report (default: benchmarks/results of the repository around the current directory, else DIR/results)",
        };
        var note = new Option<string?>("--note") { Description = "A line for the report's header, e.g. about other load on the machine" };
        var cases = new Option<string?>("--cases")
        {
            Description = "Cases to run, by letter (default all: A,B,C,D,E,F); e.g. A,C,D,F where DuckDB on the raw response (B) would not fit in memory",
        };
        var command = new Command("bench", "Benchmark ingest against DuckDB read_json and a bare JSON token scan, each run in its own process")
        {
            rows, files, pretty, seed, output, reps, results, note, cases,
        };
        command.Subcommands.Add(BenchWorkerCommand.Create(context));
        command.SetAction(async (parse, ct) =>
        {
            int repetitions = parse.GetValue(reps);
            if (repetitions < 1)
            {
                throw new PagesUsageException("--reps must be at least 1");
            }
            var options = new BenchDataOptions
            {
                Rows = parse.GetValue(rows),
                Files = parse.GetValue(files),
                Pretty = parse.GetValue(pretty),
                Seed = parse.GetValue(seed),
            };
            string dataDirectory = parse.GetValue(output) ?? DefaultDataDirectory;
            string commandLine = "pages " + string.Join(" ", parse.Tokens.Select(t => Quote(t.Value)));
            var selected = SelectCases(parse.GetValue(cases));
            return await RunAsync(context, options, dataDirectory, repetitions, parse.GetValue(results), parse.GetValue(note), commandLine,
                selected, ct);
        });
        return command;
    }

    /// <summary>The cases named by letter, in the standard order; all of them when none are named.</summary>
    internal static IReadOnlyList<BenchCase> SelectCases(string? letters)
    {
        if (string.IsNullOrWhiteSpace(letters))
        {
            return BenchCase.All;
        }
        var wanted = letters.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.ToUpperInvariant()).ToHashSet();
        var unknown = wanted.Where(l => BenchCase.All.All(c => c.Key != l)).ToList();
        if (unknown.Count > 0)
        {
            throw new PagesUsageException($"--cases: unknown case {string.Join(", ", unknown)}; the cases are {string.Join(",", BenchCase.All.Select(c => c.Key))}");
        }
        return BenchCase.All.Where(c => wanted.Contains(c.Key)).ToList();
    }

    private static async Task<int> RunAsync(CliContext context, BenchDataOptions options, string dataDirectory, int repetitions,
        string? resultsDirectory, string? note, string commandLine, IReadOnlyList<BenchCase> selected, CancellationToken ct)
    {
        var err = context.Stderr;
        var inv = CultureInfo.InvariantCulture;
        var log = new LineProgress(err);
        var data = await BenchDataSet.PrepareAsync(dataDirectory, options, log, ct);
        err.WriteLine(string.Create(inv,
            $"bench: {options.Rows:N0} rows in {data.RawFiles.Count} file(s): {data.RawBytes / 1e6:F1} MB raw, {data.NdjsonBytes / 1e6:F1} MB NDJSON"));
        WarmPageCache(data);

        string work = Path.Combine(data.Directory, "runs");
        DeleteDirectory(work);
        Directory.CreateDirectory(work);
        var runs = selected.ToDictionary(c => c, _ => new List<BenchRun>());
        var startedAt = DateTimeOffset.UtcNow;
        string? loadBefore = BenchEnvironment.ReadLoadAverage();
        try
        {
            for (int rep = 1; rep <= repetitions; rep++)
            {
                foreach (var benchCase in selected)
                {
                    ct.ThrowIfCancellationRequested();
                    var run = await RunCaseAsync(benchCase, data, work, rep, ct);
                    runs[benchCase].Add(run);
                    err.WriteLine(string.Create(inv,
                        $"bench: rep {rep}/{repetitions} {benchCase.Key} {benchCase.Name}: {run.WallSeconds:F2} s wall, {run.Measurement.WorkSeconds:F2} s work, peak RSS {run.Measurement.PeakRssKb / 1024.0:F0} MiB"));
                }
            }
        }
        finally
        {
            DeleteDirectory(work);
        }
        string? loadAfter = BenchEnvironment.ReadLoadAverage();

        var caseResults = selected
            .Select(c => new BenchCaseResult(c, options.Rows, c.Input == BenchInputKind.Ndjson ? data.NdjsonBytes : data.RawBytes, runs[c]))
            .ToList();
        var environment = new BenchEnvironment(commandLine, startedAt, repetitions, loadBefore, loadAfter, note);
        string report = BenchReport.ToMarkdown(data, caseResults, environment);

        await using (var stdout = new StreamWriter(context.Stdout, new UTF8Encoding(false), 1 << 16, leaveOpen: true))
        {
            await stdout.WriteAsync(report);
        }
        await context.Stdout.FlushAsync(ct);

        string folder = resultsDirectory ?? DefaultResultsDirectory(data.Directory);
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, BenchReport.FileName(options, startedAt));
        await File.WriteAllTextAsync(path, report, new UTF8Encoding(false), ct);
        err.WriteLine($"bench: report written to {path}");
        return ExitCodes.Ok;
    }

    private static async Task<BenchRun> RunCaseAsync(BenchCase benchCase, BenchDataSet data, string work, int rep, CancellationToken ct)
    {
        var inputs = benchCase.Input == BenchInputKind.Ndjson ? data.NdjsonFiles : data.RawFiles;
        var arguments = new List<string> { benchCase.Worker };
        string? target = benchCase.Worker switch
        {
            "ingest" => Path.Combine(work, "store"),
            "duckdb" or "duckdb-ndjson" => Path.Combine(work, benchCase.Worker + ".parquet"),
            _ => null,
        };
        if (target is not null)
        {
            DeleteDirectory(target);
            File.Delete(target);
            arguments.Add("--output");
            arguments.Add(target);
        }
        // Ours gets the folder, as a user would give it; the others get the file list.
        if (benchCase == BenchCase.Ingest)
        {
            arguments.Add(data.RawDirectory);
        }
        else
        {
            arguments.AddRange(inputs.Select(f => f.Path));
        }

        BenchWorkerProcess.Outcome outcome;
        try
        {
            outcome = await BenchWorkerProcess.RunAsync(arguments, ct);
        }
        finally
        {
            if (target is not null)
            {
                // A fresh store / output file for every run.
                DeleteDirectory(target);
                File.Delete(target);
            }
        }
        var measurement = outcome.Measurement;
        if (outcome.ExitCode != ExitCodes.Ok || measurement is null)
        {
            throw new PagesException($"bench: {benchCase.Key} ({benchCase.Name}) failed with exit code {outcome.ExitCode}:\n{Tail(outcome.Stderr)}");
        }
        bool rowsOk = benchCase.CountsTokens ? measurement.Rows > data.Options.Rows : measurement.Rows == data.Options.Rows;
        if (!rowsOk)
        {
            throw new PagesException(string.Create(CultureInfo.InvariantCulture,
                $"bench: {benchCase.Key} ({benchCase.Name}) reported {measurement.Rows} {(benchCase.CountsTokens ? "tokens" : "rows")} for {data.Options.Rows} rows of input"));
        }
        return new BenchRun(rep, outcome.WallSeconds, measurement);
    }

    /// <summary>Reads every input once so that the first run does not pay for a cold page cache the others do not.</summary>
    private static void WarmPageCache(BenchDataSet data)
    {
        byte[] buffer = new byte[1 << 20];
        foreach (var file in data.RawFiles.Concat(data.NdjsonFiles))
        {
            using var stream = new FileStream(file.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            while (stream.Read(buffer, 0, buffer.Length) > 0)
            {
            }
        }
    }

    /// <summary><c>benchmarks/results</c> of the repository the current directory is in, else <c>DATA/results</c>.</summary>
    private static string DefaultResultsDirectory(string dataDirectory)
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PagesAnalytics.sln")) && Directory.Exists(Path.Combine(dir.FullName, "benchmarks")))
            {
                return Path.Combine(dir.FullName, "benchmarks", "results");
            }
        }
        return Path.Combine(dataDirectory, "results");
    }

    private static void DeleteDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }

    private static string Tail(string text, int lines = 20)
    {
        var all = text.TrimEnd().Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }

    private static string Quote(string token) =>
        token.Length > 0 && token.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/' or '=' or ':' or ',')
            ? token
            : "'" + token.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private sealed class LineProgress(TextWriter err) : IProgress<string>
    {
        public void Report(string value) => err.WriteLine("bench: " + value);
    }
}
