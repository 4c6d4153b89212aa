using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace PagesAnalytics.Benchmarks;

/// <summary>
/// Entry point. With a plain subcommand (<c>duckdb-baseline</c>, <c>to-ndjson</c>, <c>checksums</c>, <c>stages</c>, ...) it runs that
/// end-to-end tool once; otherwise it hands the arguments to BenchmarkDotNet (<c>--filter '*Reader*'</c>, <c>--list flat</c>, ...).
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && BaselineTools.IsCommand(args[0]))
        {
            return await BaselineTools.RunAsync(args);
        }
        if (args.Length > 0 && QueryBench.IsCommand(args[0]))
        {
            return QueryBench.Run(args);
        }
        if (args.Length > 0 && StageProfile.IsCommand(args[0]))
        {
            return await StageProfile.RunAsync(args);
        }
        if (args.Length > 0 && ServeBench.IsCommand(args[0]))
        {
            return await ServeBench.RunAsync(args);
        }
        // Every class with a Rows parameter also gets an Alloc/row column (Allocated / Rows).
        var config = DefaultConfig.Instance.AddColumn(AllocatedPerRowColumn.Instance);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return 0;
    }
}
