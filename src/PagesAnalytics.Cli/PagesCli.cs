using System.CommandLine;
using PagesAnalytics.Store;

namespace PagesAnalytics.Cli;

/// <summary>Exit codes of <c>pages</c>.</summary>
public static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Ok = 0;

    /// <summary>A runtime failure (I/O, a locked store, a store error).</summary>
    public const int Failure = 1;

    /// <summary>A usage, argument or filter error.</summary>
    public const int Usage = 2;

    /// <summary>Some inputs were rejected; the rest were ingested.</summary>
    public const int SomeRejected = 3;
}

/// <summary>The <c>pages</c> command line: parses arguments, calls the library, renders; maps errors to exit codes.</summary>
public static class PagesCli
{
    /// <summary>Runs one invocation; never throws for user errors.</summary>
    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken ct = default)
    {
        var storeOption = new Option<string?>("--store")
        {
            Description = $"Store directory (default: ${PagesStore.EnvironmentVariable}, else ./{PagesStore.DefaultDirectory})",
            Recursive = true,
        };
        var root = new RootCommand("PagesAnalytics: archived Ahrefs API v2 pages_extended responses -> Parquet + DuckDB store, queries and reports.");
        root.Options.Add(storeOption);
        root.Subcommands.Add(IngestCommand.Create(context, storeOption));
        root.Subcommands.Add(QueryCommand.Create(context, storeOption));
        root.Subcommands.Add(ReportCommand.Create(context, storeOption));
        root.Subcommands.Add(ExportCommand.Create(context, storeOption));
        root.Subcommands.Add(SqlCommand.Create(context, storeOption));
        root.Subcommands.Add(SourcesCommand.Create(context, storeOption));
        root.Subcommands.Add(GenerateCommand.Create(context));
        root.Subcommands.Add(Serve.ServeCommand.Create(context, storeOption));
        root.Subcommands.Add(BenchCommand.Create(context));

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await context.Stderr.WriteLineAsync("pages: " + error.Message).ConfigureAwait(false);
            }
            await context.Stderr.WriteLineAsync("Run 'pages --help' for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        var invocation = new InvocationConfiguration
        {
            Output = context.Stderr, // help text and the like are not data
            Error = context.Stderr,
            EnableDefaultExceptionHandler = false,
        };
        try
        {
            return await parse.InvokeAsync(invocation, ct).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            return await ReportAsync(context, ex).ConfigureAwait(false);
        }
    }

    /// <summary>One clear line on stderr per failure, and its exit code; a stack trace only for a bug.</summary>
    internal static async Task<int> ReportAsync(CliContext context, Exception ex)
    {
        switch (ex)
        {
            case OperationCanceledException:
                await context.Stderr.WriteLineAsync("pages: cancelled").ConfigureAwait(false);
                return ExitCodes.Failure;
            case PagesUsageException or ReadOnlyViolationException or Query.FilterException:
                await context.Stderr.WriteLineAsync("pages: " + ex.Message).ConfigureAwait(false);
                return ExitCodes.Usage;
            case PagesException:
                await context.Stderr.WriteLineAsync("pages: " + ex.Message).ConfigureAwait(false);
                return ExitCodes.Failure;
            case DuckDB.NET.Data.DuckDBException duck:
                await context.Stderr.WriteLineAsync("pages: SQL error: " + duck.Message).ConfigureAwait(false);
                return ExitCodes.Usage;
            case IOException or UnauthorizedAccessException:
                await context.Stderr.WriteLineAsync("pages: " + ex.Message).ConfigureAwait(false);
                return ExitCodes.Failure;
            default:
                await context.Stderr.WriteLineAsync("pages: internal error (please report): " + ex).ConfigureAwait(false);
                return ExitCodes.Failure;
        }
    }
}
