using System.CommandLine;
using PagesAnalytics.Store;

namespace PagesAnalytics.Cli;

/// <summary><c>pages sources</c>: the ingested inputs with rows, stats.pages, status and error.</summary>
internal static class SourcesCommand
{
    public static Command Create(CliContext context, Option<string?> storeOption)
    {
        var format = OutputFormat.CreateOption();
        var rejected = new Option<bool>("--rejected") { Description = "Only rejected inputs, with the reasons" };
        var command = new Command("sources", "List ingested inputs: rows, stats.pages, coverage, snapshot, status, error") { format, rejected };
        command.SetAction(parse =>
        {
            var store = PagesStore.Open(parse.GetValue(storeOption));
            using var session = store.OpenQuery();
            using var reader = session.ExecuteReadOnly(parse.GetValue(rejected)
                ? "SELECT source_id, path, bytes, compression, error, ingested_at FROM sources WHERE status = 'rejected' ORDER BY source_id"
                : """
                  SELECT source_id, path, status, rows, stats_pages, round(coverage, 4) AS coverage, snapshot, snapshot_from,
                         target, mode, responses, compression, bytes, unknown_keys, salvaged_to_byte, error, ingested_at, sha256
                  FROM sources ORDER BY source_id
                  """);
            OutputFormat.Render(context, reader, parse.GetValue(format) ?? "table");
            return ExitCodes.Ok;
        });
        return command;
    }
}
