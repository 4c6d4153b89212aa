using System.CommandLine;
using System.Diagnostics;
using PagesAnalytics.Bench;
using PagesAnalytics.Store;

namespace PagesAnalytics.Cli;

/// <summary>
/// <c>pages bench worker KIND [--output PATH] INPUT...</c> (hidden): one measured run of <c>pages bench</c>, in a process
/// of its own. Runs the workload, then writes a <see cref="BenchMeasurement"/> line (rows, work seconds, VmHWM, managed
/// bytes allocated) as the last line of stderr.
/// </summary>
internal static class BenchWorkerCommand
{
    public const string Name = "worker";

    public static Command Create(CliContext context)
    {
        var kind = new Argument<string>("kind") { Description = "What to run" }
            .AcceptOnlyFromAmong([.. BenchCase.All.Select(c => c.Worker).Distinct()]);
        var inputs = new Argument<string[]>("inputs") { Description = "Input files (ingest: anything pages ingest takes)", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string?>("--output") { Description = "Store directory (ingest) or Parquet file (duckdb)" };
        var command = new Command(Name, "One measured run of pages bench (internal)") { kind, inputs, output };
        command.Hidden = true;
        command.SetAction(async (parse, ct) =>
        {
            string what = parse.GetValue(kind)!;
            string[] files = parse.GetValue(inputs) ?? [];
            string? target = parse.GetValue(output);
            if (what is "ingest" or "duckdb" or "duckdb-ndjson" && target is null)
            {
                throw new PagesUsageException($"bench worker {what} needs --output");
            }

            long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            var clock = Stopwatch.StartNew();
            BenchWorkResult result;
            switch (what)
            {
                case "ingest":
                    // The same parsing, defaults and code path as a user's `pages ingest INPUT... --store DIR`.
                    int exit = await PagesCli.RunAsync(["ingest", .. files, "--store", target!], context, ct);
                    if (exit != ExitCodes.Ok)
                    {
                        return exit;
                    }
                    result = new BenchWorkResult(0, null, null);
                    break;
                case "duckdb":
                    result = BenchWorkloads.DuckDbToParquet(files, target!, ndjson: false);
                    break;
                case "duckdb-ndjson":
                    result = BenchWorkloads.DuckDbToParquet(files, target!, ndjson: true);
                    break;
                case "scan":
                    result = BenchWorkloads.TokenScan(files);
                    break;
                case "parse-parallel":
                    result = await BenchWorkloads.ParseOnlyAsync(files, parallel: true, ct);
                    break;
                default:
                    result = await BenchWorkloads.ParseOnlyAsync(files, parallel: false, ct);
                    break;
            }
            clock.Stop();
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            if (what == "ingest")
            {
                // Counted from the store after the clock stopped: rows the committed source records hold, bytes of the parts.
                result = CountStore(target!);
            }
            var measurement = new BenchMeasurement(result.Rows, clock.Elapsed.TotalSeconds, ProcessMemory.PeakResidentKb(),
                allocated, result.OutputBytes, result.Detail);
            await context.Stderr.WriteLineAsync(measurement.Format());
            return ExitCodes.Ok;
        });
        return command;
    }

    private static BenchWorkResult CountStore(string directory)
    {
        var store = PagesStore.Open(directory);
        long rows = 0;
        foreach (var record in store.ReadRecords())
        {
            if (record.IsVisible)
            {
                rows += record.Rows;
            }
        }
        string parts = Path.Combine(store.Directory, "parts");
        long bytes = Directory.Exists(parts)
            ? Directory.EnumerateFiles(parts, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length)
            : 0;
        return new BenchWorkResult(rows, bytes, null);
    }
}
