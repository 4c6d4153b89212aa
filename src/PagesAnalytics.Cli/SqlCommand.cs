using System.CommandLine;
using PagesAnalytics.Store;

namespace PagesAnalytics.Cli;

/// <summary><c>pages sql "SELECT ..."</c>: one read-only statement over the views.</summary>
internal static class SqlCommand
{
    public static Command Create(CliContext context, Option<string?> storeOption)
    {
        var sql = new Argument<string>("query") { Description = "One read-only SQL statement over the views pages and sources" };
        var format = OutputFormat.CreateOption();
        var command = new Command("sql", "Run read-only SQL over the store's views (pages, sources)") { sql, format };
        command.SetAction(parse =>
        {
            var store = PagesStore.Open(parse.GetValue(storeOption));
            using var session = store.OpenQuery();
            using var reader = session.ExecuteReadOnly(parse.GetValue(sql) ?? "");
            OutputFormat.Render(context, reader, parse.GetValue(format) ?? "table");
            return ExitCodes.Ok;
        });
        return command;
    }
}
