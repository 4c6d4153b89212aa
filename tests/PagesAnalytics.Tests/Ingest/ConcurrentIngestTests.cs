using System.IO.Compression;
using PagesAnalytics.Ingest;
using PagesAnalytics.Store;
using PagesAnalytics.Tests.Support;
using Xunit;

namespace PagesAnalytics.Tests.Ingest;

/// <summary>
/// With two threads, two inputs are parsed at once and committed in input order. The outcomes, the records and the
/// stored rows must be those of a one-at-a-time run; --strict must leave nothing of the inputs parsed ahead.
/// </summary>
public sealed class ConcurrentIngestTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pages-concurrent-" + Guid.NewGuid().ToString("N"));

    public ConcurrentIngestTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<List<string>> MakeArchiveAsync()
    {
        string archive = Path.Combine(_dir, "archive");
        Directory.CreateDirectory(archive);
        var paths = new List<string>();
        for (int i = 0; i < 10; i++)
        {
            string path = Path.Combine(archive, $"r{i:D2}.json" + (i % 3 == 1 ? ".gz" : ""));
            await using (var file = File.Create(path))
            {
                Stream output = i % 3 == 1 ? new GZipStream(file, CompressionLevel.Fastest) : file;
                await ResponseGenerator.WriteAsync(output, new GeneratorOptions { Rows = 300 + (i * 170), Seed = 100 + i });
                await output.DisposeAsync();
            }
            paths.Add(path);
        }
        // A copy of an earlier file (a duplicate within the run), a truncated one and an error response.
        string copy = Path.Combine(archive, "r10-copy.json");
        File.Copy(paths[3], copy);
        paths.Add(copy);
        string truncated = Path.Combine(archive, "r11-truncated.json");
        var bytes = await File.ReadAllBytesAsync(paths[0]);
        await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length / 2)]);
        paths.Add(truncated);
        string error = Path.Combine(archive, "r12-error.json");
        await File.WriteAllTextAsync(error, """{"error":"quota exceeded"}""");
        paths.Add(error);
        string last = Path.Combine(archive, "r13.json");
        await File.WriteAllBytesAsync(last, await File.ReadAllBytesAsync(TestData.SamplePath("pages_extended-example.json")));
        paths.Add(last);
        return paths;
    }

    private static string Describe(PagesStore store, IngestSummary summary)
    {
        var lines = summary.Outcomes.Select(o => $"{Path.GetFileName(o.Input.Path)} {o.Status} {o.Rows} {o.Message}").ToList();
        using var session = store.OpenQuery();
        using var reader = session.ExecuteReadOnly("""
            SELECT s.path, count(*), sum(hash(p.url, p.title, p.backlinks, p.first_seen, p.row_ordinal) % 1000003)
            FROM pages p JOIN sources s USING (source_id) GROUP BY s.path ORDER BY s.path
            """);
        while (reader.Read())
        {
            lines.Add($"{Path.GetFileName(reader.GetString(0))} rows {reader.GetInt64(1)} hash {reader.GetValue(2)}");
        }
        return string.Join("\n", lines);
    }

    [Fact]
    public async Task Two_at_a_time_gives_the_outcomes_records_and_rows_of_one_at_a_time()
    {
        var paths = await MakeArchiveAsync();
        var inputs = paths.Select(p => InputSource.FromFile(p)).ToList();
        var described = new List<string>();
        foreach (int threads in new[] { 1, 2 })
        {
            var store = PagesStore.Open(Path.Combine(_dir, $"store-{threads}"));
            var summary = await Ingestor.RunAsync(store, inputs, new IngestOptions { Threads = threads, BatchRows = 256 });
            Assert.Equal(paths, summary.Outcomes.Select(o => o.Input.Path));
            Assert.Equal(2, summary.Rejected);
            described.Add(Describe(store, summary));
            Assert.Empty(Directory.EnumerateFileSystemEntries(store.TempDirectory));
            var ids = store.ReadRecords().Select(r => r.SourceId).ToList();
            Assert.Equal(ids.Count, ids.Distinct().Count());
        }
        Assert.Equal(described[0], described[1]);
    }

    [Fact]
    public async Task Strict_stops_at_the_rejected_input_and_drops_the_one_parsed_ahead()
    {
        var paths = await MakeArchiveAsync();
        var inputs = paths.Select(p => InputSource.FromFile(p)).ToList();
        var store = PagesStore.Open(Path.Combine(_dir, "store-strict"));
        var summary = await Ingestor.RunAsync(store, inputs, new IngestOptions { Threads = 2, Strict = true, BatchRows = 256 });
        Assert.NotNull(summary.StoppedBy);
        // Everything before the truncated input is committed (the copy as skipped); nothing from it on.
        Assert.Equal(paths[..11], summary.Outcomes.Select(o => o.Input.Path));
        var recorded = store.ReadRecords().Select(r => Path.GetFileName(r.Path)).ToHashSet();
        Assert.DoesNotContain("r11-truncated.json", recorded);
        Assert.DoesNotContain("r12-error.json", recorded);
        Assert.DoesNotContain("r13.json", recorded);
        Assert.Empty(Directory.EnumerateFileSystemEntries(store.TempDirectory));
        var committed = store.ReadRecords().Select(r => r.SourceId.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        Assert.All(Directory.EnumerateDirectories(store.PartsDirectory), d => Assert.Contains(Path.GetFileName(d), committed));
    }
}
