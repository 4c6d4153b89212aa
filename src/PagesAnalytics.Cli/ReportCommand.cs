using System.CommandLine;
using System.Data.Common;
using System.Globalization;
using PagesAnalytics.Export;
using PagesAnalytics.Query;
using PagesAnalytics.Store;
using Spectre.Console;

namespace PagesAnalytics.Cli;

/// <summary><c>pages report NAME</c>: named analyses, as a table and bar chart on a terminal, or as data with --format.</summary>
internal static class ReportCommand
{
    public static Command Create(CliContext context, Option<string?> storeOption)
    {
        var name = new Argument<string>("name")
        {
            Description = "Report: " + string.Join(", ", Reports.All.Select(r => r.Name)),
        };
        var where = new Option<string?>("--where") { Description = "Row filter before grouping (v2 or v3 syntax)" };
        var having = new Option<string?>("--having") { Description = "Filter on the report's own columns" };
        var target = new Option<string?>("--target") { Description = "Target without protocol" };
        var mode = new Option<string?>("--mode") { Description = "exact, domain (default), subdomains, prefix" };
        var allSnapshots = new Option<bool>("--all-snapshots") { Description = "Every stored row, not one row per url from its newest snapshot" };
        var format = new Option<string?>("--format") { Description = "table, csv, json, ndjson (default: table + chart on a terminal)" }
            .AcceptOnlyFromAmong(OutputFormat.Names);
        var emit = EmitSql.CreateOptions();
        var command = new Command("report", "Named reports: " + string.Join("; ", Reports.All.Select(r => $"{r.Name}: {r.Description}")))
        {
            name, where, having, target, mode, allSnapshots, format, emit.Enabled, emit.Dialect, emit.From,
        };
        command.SetAction(parse =>
        {
            var report = Reports.Find(parse.GetValue(name) ?? "");
            if (emit.Read(parse) is { } emitOptions)
            {
                EmitSql.Write(context, DialectSql.Report(report, parse.GetValue(where), parse.GetValue(having), parse.GetValue(target),
                    parse.GetValue(mode), parse.GetValue(allSnapshots), emitOptions));
                return ExitCodes.Ok;
            }
            var compiled = Reports.Compile(report, parse.GetValue(where), parse.GetValue(having), parse.GetValue(target),
                parse.GetValue(mode), parse.GetValue(allSnapshots));
            var store = PagesStore.Open(parse.GetValue(storeOption));
            using var session = store.OpenQuery();
            using var command = compiled.CreateCommand(session.Connection);
            using var reader = command.ExecuteReader();
            string? chosen = parse.GetValue(format);
            if (chosen is not null || !context.StdoutIsTerminal)
            {
                OutputFormat.Render(context, reader, chosen ?? "table");
                return ExitCodes.Ok;
            }
            RenderWithChart(context, report, reader);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void RenderWithChart(CliContext context, ReportDefinition report, DbDataReader reader)
    {
        var table = new Table().Border(TableBorder.Rounded).Title(report.Name);
        for (int i = 0; i < reader.FieldCount; i++)
        {
            table.AddColumn(new TableColumn(Markup.Escape(reader.GetName(i))));
        }
        var chart = new BarChart().Width(72).Label($"{report.ChartValue} by {report.ChartLabel}");
        int label = reader.GetOrdinal(report.ChartLabel);
        int value = reader.GetOrdinal(report.ChartValue);
        int section = report.ChartSection is null ? -1 : reader.GetOrdinal(report.Columns.Columns[0].Name);
        var colors = new[] { Color.Green, Color.Blue, Color.Yellow, Color.Red, Color.Aqua, Color.Fuchsia, Color.Orange1 };
        int bars = 0;
        while (reader.Read())
        {
            var cells = new string[reader.FieldCount];
            for (int i = 0; i < cells.Length; i++)
            {
                cells[i] = reader.IsDBNull(i) ? "NULL" : Markup.Escape(TabularWriter.FormatValue(reader.GetValue(i)) ?? "");
            }
            table.AddRow(cells);
            bool charted = section < 0 || (!reader.IsDBNull(section) && reader.GetValue(section) is string s && s == report.ChartSection);
            if (charted && bars < 30 && !reader.IsDBNull(value))
            {
                string text = reader.IsDBNull(label) ? "NULL" : TabularWriter.FormatValue(reader.GetValue(label)) ?? "";
                chart.AddItem(Markup.Escape(text.Length > 40 ? text[..37] + "..." : text),
                    Convert.ToDouble(reader.GetValue(value), CultureInfo.InvariantCulture), colors[bars % colors.Length]);
                bars++;
            }
        }
        using var writer = new StreamWriter(context.Stdout, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true);
        var console = context.OutputConsole(writer);
        console.Write(table);
        if (bars > 0)
        {
            console.Write(chart);
        }
    }
}
