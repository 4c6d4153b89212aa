using System.Globalization;
using System.Text;
using PagesAnalytics.Bench;
using PagesAnalytics.Cli;
using PagesAnalytics.Tests.Support;

namespace PagesAnalytics.Tests.Bench;

public class BenchCommandTests
{
    [Fact]
    public void Cases_are_chosen_by_letter_in_the_standard_order()
    {
        Assert.Equal(BenchCase.All, BenchCommand.SelectCases(null));
        Assert.Equal(["A", "C", "F"], BenchCommand.SelectCases("f, a,C").Select(c => c.Key));
        var error = Assert.Throws<PagesUsageException>(() => BenchCommand.SelectCases("A,X"));
        Assert.Contains("unknown case X", error.Message);
    }

    [Fact]
    public async Task Bench_runs_every_case_in_a_child_and_reports_the_same_table_to_stdout_and_a_file()
    {
        using var dir = new TempDir();
        var stdout = new MemoryStream();
        var stderr = new StringWriter();
        var context = new CliContext(stdout, stderr, () => new MemoryStream());

        int exit = await PagesCli.RunAsync(
            ["bench", "--rows", "2000", "--reps", "1", "--out", dir.File("data"), "--results", dir.File("results"), "--note", "test run"], context);

        string report = Encoding.UTF8.GetString(stdout.ToArray());
        Assert.True(exit == 0, stderr.ToString());
        Assert.Contains("| command | `pages bench --rows 2000 --reps 1 --out ", report);
        Assert.Contains("| note | test run |", report);
        Assert.Contains("| machine | " + Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture) + " cores", report);

        var rows = report.Split('\n').Where(l => l.Length > 3 && l.StartsWith("| ", StringComparison.Ordinal) && l[3] == ' ' && "ABCDE".Contains(l[2]))
            .Select(l => l.Split('|').Select(c => c.Trim()).ToArray())
            .Where(cells => cells.Length == 12) // the main table; the ratio table has fewer columns
            .ToDictionary(cells => cells[1][0]);
        Assert.Equal("ABCDE", string.Concat(rows.Keys.Order()));
        foreach (var (key, cells) in rows)
        {
            double wall = Number(cells[3]), work = Number(cells[4]), rowsPerSecond = Number(cells[5]), megabytesPerSecond = Number(cells[6]);
            double peakMiB = Number(cells[7]);
            Assert.True(wall > 0 && work > 0 && work <= wall, $"{key}: wall {wall}, work {work}");
            Assert.True(rowsPerSecond > 0 && megabytesPerSecond > 0, $"{key}: {rowsPerSecond} rows/s, {megabytesPerSecond} MB/s");
            Assert.InRange(peakMiB, 5, 8192);
        }
        Assert.True(Number(rows['A'][9]) > 0, "our store holds parts");
        Assert.True(Number(rows['A'][8]) > 0, "managed bytes per row are reported for ours");
        Assert.Equal("n/a", rows['B'][8]);

        Assert.Contains("## Ours (A) against each baseline", report);
        foreach (var baseline in new[] { "| B DuckDB read_json, raw response | ", "| C DuckDB read_json, NDJSON | ", "| D Utf8JsonReader token scan | " })
        {
            Assert.Matches(@"\| [0-9.]+x \| [0-9.]+x \| [0-9.]+x \|", report[report.IndexOf(baseline, report.IndexOf("## Ours", StringComparison.Ordinal), StringComparison.Ordinal)..].Split('\n')[0]);
        }

        var written = Assert.Single(Directory.GetFiles(dir.File("results"), "ingest-2000-*.md"));
        Assert.Equal(report, File.ReadAllText(written));
        Assert.Contains("bench: rep 1/1 A ours: pages ingest: ", stderr.ToString());
        Assert.False(Directory.Exists(Path.Combine(dir.File("data"), "runs")), "per-run stores and Parquet files are removed");
    }

    [Fact]
    public async Task Bench_rejects_bad_settings_with_a_usage_error()
    {
        using var dir = new TempDir();
        foreach (var args in new[] { new[] { "--reps", "0" }, ["--rows", "0"], ["--rows", "3", "--files", "4"] })
        {
            var stderr = new StringWriter();
            var context = new CliContext(new MemoryStream(), stderr, () => new MemoryStream());
            int exit = await PagesCli.RunAsync(["bench", "--out", dir.File("data"), .. args], context);
            Assert.Equal(ExitCodes.Usage, exit);
            Assert.StartsWith("pages: --", stderr.ToString());
        }
    }

    private static double Number(string cell) => double.Parse(cell.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);
}
