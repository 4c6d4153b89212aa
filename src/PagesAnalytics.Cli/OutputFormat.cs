using System.CommandLine;
using System.Data.Common;
using PagesAnalytics.Export;
using Spectre.Console;

namespace PagesAnalytics.Cli;

/// <summary>The <c>--format table|csv|json|ndjson</c> option and rendering of query results to stdout.</summary>
internal static class OutputFormat
{
    public static readonly string[] Names = ["table", "csv", "json", "ndjson"];

    public static Option<string> CreateOption() => new Option<string>("--format")
    {
        Description = "Output format: table, csv, json (one array), ndjson (one object per line)",
        DefaultValueFactory = _ => "table",
    }.AcceptOnlyFromAmong(Names);

    /// <summary>Writes all rows to stdout in the format; returns the row count.</summary>
    public static long Render(CliContext context, DbDataReader reader, string format)
    {
        using var buffered = new BufferedStream(context.Stdout, 1 << 16);
        long rows = Render(context, reader, format, buffered);
        buffered.Flush();
        return rows;
    }

    /// <summary>Writes all rows to <paramref name="output"/> in the format; returns the row count.</summary>
    public static long Render(CliContext context, DbDataReader reader, string format, Stream output)
    {
        if (format == "table")
        {
            return RenderTable(context, reader, output);
        }
        var textFormat = format switch
        {
            "csv" => TextFormat.Csv,
            "json" => TextFormat.Json,
            _ => TextFormat.Ndjson,
        };
        return TabularWriter.Write(reader, output, textFormat);
    }

    private const int MaxTableRows = 10_000;

    private static long RenderTable(CliContext context, DbDataReader reader, Stream output)
    {
        var table = new Table().Border(TableBorder.Rounded);
        for (int i = 0; i < reader.FieldCount; i++)
        {
            var column = new TableColumn(Markup.Escape(reader.GetName(i)));
            if (IsNumeric(reader.GetFieldType(i)))
            {
                column.RightAligned();
            }
            table.AddColumn(column);
        }
        long rows = 0;
        bool truncated = false;
        while (reader.Read())
        {
            if (rows == MaxTableRows)
            {
                truncated = true;
                break;
            }
            var cells = new string[reader.FieldCount];
            for (int i = 0; i < cells.Length; i++)
            {
                cells[i] = reader.IsDBNull(i) ? "NULL" : Markup.Escape(TabularWriter.FormatValue(reader.GetValue(i)) ?? "");
            }
            table.AddRow(cells);
            rows++;
        }
        using (var writer = new StreamWriter(output, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true))
        {
            context.OutputConsole(writer).Write(table);
        }
        context.Stderr.WriteLine(truncated
            ? $"(first {MaxTableRows:N0} rows shown; use --format csv or ndjson for all)"
            : $"({rows:N0} row{(rows == 1 ? "" : "s")})");
        return rows;
    }

    private static bool IsNumeric(Type type) =>
        type == typeof(int) || type == typeof(long) || type == typeof(double) || type == typeof(float)
        || type == typeof(decimal) || type == typeof(short) || type == typeof(byte) || type == typeof(System.Numerics.BigInteger);
}
