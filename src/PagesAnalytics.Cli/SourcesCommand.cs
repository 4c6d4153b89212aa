using System.CommandLine;
using PagesAnalytics.Store;

namespace PagesAnalytics.Cli;

/// <summary><c>pages sources</c>: the ingested inputs with rows, stats.pages, status and error.</summary>
internal static class SourcesCommand
{
    public static Command Create(CliContext context, Option<string?> storeOption)
    {
        var format = OutputFormat.CreateOption();
        var command = new Command("sources", "List ingested inputs: rows, stats.pages, status, error") { format };
        command.SetAction(parse =>
        {
            var store = PagesStore.Open(parse.GetValue(storeOption));
            using var session = store.OpenQuery();
            using var reader = session.ExecuteReadOnly(
                "SELECT source_id, path, status, rows, stats_pages, bytes, unknown_keys, error, ingested_at, sha256 FROM sources ORDER BY source_id");
            OutputFormat.Render(context, reader, parse.GetValue(format) ?? "table");
            return ExitCodes.Ok;
        });
        return command;
    }
}
