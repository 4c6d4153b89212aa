using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using PagesAnalytics.Ingest;
using PagesAnalytics.Schema;
using PagesAnalytics.Store;
using PagesAnalytics.Tests.Support;
using Xunit.Abstractions;

namespace PagesAnalytics.Tests.Store;

/// <summary>
/// Issue 3, item 4: a child <c>pages ingest</c> over a multi-file archive is killed with SIGKILL at the steps of the
/// commit protocol (through the <c>PAGES_TEST_PAUSE_AT</c> seam) and at random moments. After each kill the store must
/// open and query with no row of the interrupted input visible, and re-running the same ingest must end with exactly
/// the rows and checksums of a clean run: no duplicates, no loss, no debris.
/// </summary>
public sealed class CrashSafetyTests(CrashArchiveFixture archive, ITestOutputHelper output) : IClassFixture<CrashArchiveFixture>
{
    private const string PauseVariable = "PAGES_TEST_PAUSE_AT";
    private static readonly TimeSpan PauseTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Kill points. Inputs in ingest order (source ids of a clean run): 0 = 01 (3500 rows: batches 1-4),
    /// 1 = 02 .gz (2500: batches 5-7), 2 = 03 truncated (one 1000-row batch written, then rejected), 3 = 04, 4 = 05,
    /// 5 = 06, 6 = 07. "random:N" kills without the seam after a random 50-400 ms, "random-late:N" a random 0-40 ms
    /// after the k-th record (k random in 1..5) appears.
    /// </summary>
    public static TheoryData<string> KillPoints =>
    [
        "source-start:2",  // tmp/1 created, nothing read yet
        "batch-written:3", // mid-Parquet-write of input 0: part .tmp exists, incomplete
        "batch-written:8", // mid-Parquet-write of the truncated input, before it is rejected
        "part-complete:2", // input 1's part renamed inside tmp/1, folder not moved
        "parts-moved:2",   // parts/1 in place, sources/1.json not written: between moving the parts and the record
        "record-temp:3",   // the rejected input's record written as sources/2.json.tmp, not renamed
        "record-temp:6",   // input 5: parts/5 moved and its record only under the .tmp name
        "committed:4",     // right after input 3 committed
        "random:1",
        "random:2",
        "random:3",
        "random-late:1",   // random moment shortly after the k-th record (k random in 1..5): reaches later inputs
        "random-late:2",
    ];

    [Theory]
    [MemberData(nameof(KillPoints))]
    public async Task Kill_9_leaves_a_queryable_store_and_a_rerun_equals_the_clean_run(string killPoint)
    {
        var clock = Stopwatch.StartNew();
        output.WriteLine($"[{killPoint}] archive + clean run (once per class): {archive.CleanSeconds:F1} s (child {archive.CleanChildMilliseconds:F0} ms), {archive.Clean.TotalRows} rows; totals {archive.Clean.Totals}");
        string store = Path.Combine(archive.Root, "store-" + killPoint.Replace(':', '-'));
        bool random = killPoint.StartsWith("random", StringComparison.Ordinal);
        // The named points count seams in input order, so they run one input at a time (--threads 1); the random
        // kills run as users do, two inputs parsed at once.
        string[] ingestArgs = random
            ? ["ingest", archive.ArchiveDir, "--store", store, "--batch-rows", "1000"]
            : ["ingest", archive.ArchiveDir, "--store", store, "--batch-rows", "1000", "--threads", "1"];

        // 1. Run the ingest and kill it with SIGKILL at the chosen moment.
        int killedExit;
        string killedStderr;
        if (random)
        {
            int seed = Environment.TickCount ^ killPoint.GetHashCode(StringComparison.Ordinal);
            var rng = new Random(seed);
            bool late = killPoint.StartsWith("random-late:", StringComparison.Ordinal);
            // random: a random 50-400 ms after the start. random-late: a random 0-40 ms after the k-th record
            // (k in 1..5) appears, so the kill lands inside a later input whatever the machine's load.
            int afterRecords = late ? rng.Next(1, 6) : 0;
            int delay = late ? rng.Next(0, 41) : rng.Next(50, 401);
            output.WriteLine(late
                ? $"[{killPoint}] seed {seed}: SIGKILL {delay} ms after record #{afterRecords} appears"
                : $"[{killPoint}] seed {seed}: SIGKILL after {delay} ms");
            var sinceStart = Stopwatch.StartNew();
            await using var child = Child.Start(ingestArgs, pauseAt: null);
            if (late)
            {
                string sources = Path.Combine(store, "sources");
                var limit = Stopwatch.StartNew();
                while (!child.HasExited && limit.Elapsed < PauseTimeout
                    && (!Directory.Exists(sources) || Directory.EnumerateFiles(sources, "*.json").Count() < afterRecords))
                {
                    Thread.Sleep(1);
                }
            }
            Thread.Sleep(delay); // not Task.Delay: its continuation was seen to run 500 ms late
            bool exitedFirst = child.HasExited;
            double killedAt = sinceStart.Elapsed.TotalMilliseconds;
            killedExit = await child.KillAsync();
            killedStderr = child.Stderr;
            output.WriteLine(exitedFirst
                ? $"[{killPoint}] the child had already exited ({killedExit}) at {killedAt:F0} ms"
                : $"[{killPoint}] SIGKILL sent {killedAt:F0} ms after the start, exit {killedExit}");
        }
        else
        {
            await using var child = Child.Start(ingestArgs, pauseAt: killPoint);
            string line = await child.WaitForPauseAsync(PauseTimeout);
            Assert.Equal($"{PauseVariable}: paused at {killPoint}", line);
            // What the seam promises must be on disk while the process sleeps there.
            AssertStateAtPause(killPoint, store);
            killedExit = await child.KillAsync();
            killedStderr = child.Stderr;
            Assert.Equal(137, killedExit); // 128 + SIGKILL
            if (killPoint.StartsWith("batch-written:", StringComparison.Ordinal))
            {
                string id = killPoint == "batch-written:3" ? "0" : "2";
                string partTemp = Path.Combine(store, "tmp", id, "part-00000.parquet" + PartWriter.TempSuffix);
                Assert.False(EndsWithParquetFooter(partTemp), "the part is not mid-write: it has its footer");
            }
        }
        var atKill = DiskState.Read(store);
        output.WriteLine($"[{killPoint}] on disk at the kill:\n{atKill}");

        // 2. The killed store opens and queries fine; only committed inputs are visible, each complete.
        var visible = Checksums.Read(store);
        Assert.Equal(visible.RecordedVisibleRows, visible.TotalRows);
        Assert.Equal(0, visible.OrphanRows);
        foreach (var part in visible.VisibleParts)
        {
            Assert.True(File.Exists(Path.Combine(store, part)), $"a visible record lists the missing part {part}");
        }
        foreach (var (path, entry) in visible.PerPath)
        {
            Assert.True(archive.Clean.PerPath.TryGetValue(path, out var clean), $"unknown path {path}");
            Assert.Equal(clean, entry); // a committed input is there whole, with the clean run's content
        }
        Assert.Equal(atKill.Records.Count, visible.PerPath.Count);
        output.WriteLine($"[{killPoint}] visible after the kill: {visible.PerPath.Count} records, {visible.TotalRows} rows");
        if (!random)
        {
            var (records, interrupted) = ExpectedAtKill(killPoint);
            Assert.Equal(records, visible.PerPath.Count);
            if (interrupted is { } id)
            {
                Assert.DoesNotContain(archive.InputPaths[id], visible.PerPath.Keys);
                Assert.DoesNotContain(id + ".json", atKill.Records);
            }
        }

        // 3. The next writer removes the debris (checked on a copy, so the re-run below meets the debris itself).
        string copy = store + "-writer-open";
        if (Directory.Exists(store))
        {
            CopyDirectory(store, copy);
            using (PagesStore.Open(copy).OpenWriter())
            {
            }
            var cleaned = DiskState.Read(copy);
            AssertNoDebris(cleaned);
            Assert.Equal(visible.TotalRows, Checksums.Read(copy).TotalRows);
        }

        // 4. Re-run the same ingest to completion: the malformed input makes it exit 3 unless its rejection was
        //    already committed before the kill (then it is skipped as already ingested, and the run exits 0).
        bool brokenRecorded = visible.PerPath.ContainsKey(archive.InputPaths[CrashArchiveFixture.BrokenIndex]);
        var (exit, stderr) = await Child.RunAsync(ingestArgs, PauseTimeout);
        output.WriteLine($"[{killPoint}] re-run exit {exit}: {LastLine(stderr)}");
        Assert.True(exit == (brokenRecorded ? 0 : 3), $"re-run exit {exit}, expected {(brokenRecorded ? 0 : 3)}\n{stderr}\nkilled run's stderr:\n{killedStderr}");

        var final = Checksums.Read(store);
        var finalDisk = DiskState.Read(store);
        output.WriteLine($"[{killPoint}] after the re-run: {finalDisk.Records.Count} records, {final.TotalRows} rows " +
            $"(clean {archive.Clean.TotalRows}); lost {Math.Max(0, archive.Clean.TotalRows - final.TotalRows)}, " +
            $"duplicated {final.TotalRows - final.DistinctRows}; {clock.Elapsed.TotalSeconds:F1} s");
        AssertNoDebris(finalDisk);
        Assert.Equal(archive.Clean.Totals, final.Totals);
        Assert.Equal(final.TotalRows, final.DistinctRows);
        Assert.Equal(archive.Clean.Records, final.Records);
        Assert.Equal(archive.Clean.PerPath, final.PerPath);
        foreach (var part in final.VisibleParts)
        {
            Assert.True(File.Exists(Path.Combine(store, part)), $"missing part {part}");
        }
    }

    /// <summary>Records expected at the kill, and the source id of the input in flight (none after a commit).</summary>
    private static (int Records, int? Interrupted) ExpectedAtKill(string killPoint) => killPoint switch
    {
        "source-start:2" => (1, 1),
        "batch-written:3" => (0, 0),
        "batch-written:8" => (2, 2),
        "part-complete:2" => (1, 1),
        "parts-moved:2" => (1, 1),
        "record-temp:3" => (2, 2),
        "record-temp:6" => (5, 5),
        "committed:4" => (4, null),
        _ => throw new ArgumentException(killPoint),
    };

    private void AssertStateAtPause(string killPoint, string store)
    {
        string tmp = Path.Combine(store, "tmp");
        string parts = Path.Combine(store, "parts");
        string sources = Path.Combine(store, "sources");
        switch (killPoint)
        {
            case "source-start:2":
                Assert.True(Directory.Exists(Path.Combine(tmp, "1")));
                Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(tmp, "1")));
                break;
            case "batch-written:3":
            case "batch-written:8":
            {
                // The child holds the file open with FileShare.None (a flock on Linux): only stat it here; its
                // content (no footer) is checked after the kill. Row groups are written once 2 x 1000 rows are
                // buffered, so at the 3rd batch of input 0 two groups are on disk, while at the 1st batch of the
                // truncated input nothing has been flushed yet.
                string id = killPoint == "batch-written:3" ? "0" : "2";
                var partTemp = new FileInfo(Path.Combine(tmp, id, "part-00000.parquet" + PartWriter.TempSuffix));
                Assert.True(partTemp.Exists, $"{partTemp.FullName} does not exist");
                if (killPoint == "batch-written:3")
                {
                    Assert.True(partTemp.Length > 0, $"{partTemp.FullName} is empty");
                }
                Assert.False(File.Exists(Path.Combine(tmp, id, "part-00000.parquet")));
                Assert.False(Directory.Exists(Path.Combine(parts, id)));
                output.WriteLine($"[{killPoint}] mid-Parquet-write: {Path.GetRelativePath(store, partTemp.FullName)} is {partTemp.Length} B");
                break;
            }
            case "part-complete:2":
                Assert.True(EndsWithParquetFooter(Path.Combine(tmp, "1", "part-00000.parquet")));
                Assert.False(Directory.Exists(Path.Combine(parts, "1")));
                break;
            case "parts-moved:2":
                Assert.True(File.Exists(Path.Combine(parts, "1", "part-00000.parquet")));
                Assert.False(Directory.Exists(Path.Combine(tmp, "1")));
                Assert.False(File.Exists(Path.Combine(sources, "1.json")));
                Assert.False(File.Exists(Path.Combine(sources, "1.json.tmp")));
                break;
            case "record-temp:3":
                Assert.True(File.Exists(Path.Combine(sources, "2.json.tmp")));
                Assert.False(File.Exists(Path.Combine(sources, "2.json")));
                Assert.False(Directory.Exists(Path.Combine(parts, "2"))); // rejected: no parts
                break;
            case "record-temp:6":
                Assert.True(File.Exists(Path.Combine(sources, "5.json.tmp")));
                Assert.False(File.Exists(Path.Combine(sources, "5.json")));
                Assert.True(File.Exists(Path.Combine(parts, "5", "part-00000.parquet")));
                break;
            case "committed:4":
                Assert.True(File.Exists(Path.Combine(sources, "3.json")));
                Assert.Empty(Directory.EnumerateFileSystemEntries(tmp));
                break;
            default:
                throw new ArgumentException(killPoint);
        }
    }

    private static bool EndsWithParquetFooter(string path)
    {
        var bytes = File.ReadAllBytes(path);
        return bytes.Length >= 8 && bytes.AsSpan(bytes.Length - 4).SequenceEqual("PAR1"u8);
    }

    private static void AssertNoDebris(DiskState state)
    {
        Assert.True(state.Temp.Count == 0, "tmp/ is not empty:\n" + state);
        Assert.True(state.RecordTemps.Count == 0, "record temp files left:\n" + state);
        foreach (var folder in state.PartFolders)
        {
            Assert.True(state.Records.Contains(folder + ".json"), $"parts/{folder} has no record:\n{state}");
        }
        Assert.True(state.PartTemps.Count == 0, "part temp files under parts/:\n" + state);
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        }
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }

    private static string LastLine(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return string.Join(" / ", lines.Where(l => l.StartsWith("store ", StringComparison.Ordinal) || l.StartsWith("rejected", StringComparison.Ordinal)));
    }
}

/// <summary>The archive (6 valid inputs, one gzip'd, and one truncated) and the checksums of a clean run over it.</summary>
public sealed class CrashArchiveFixture : IAsyncLifetime
{
    /// <summary>Position of the truncated input in ingest order.</summary>
    public const int BrokenIndex = 2;

    private readonly TempDir _dir = new();

    public string Root => _dir.Path;

    public string ArchiveDir => Path.Combine(_dir.Path, "archive");

    /// <summary>Full paths of the inputs in ingest order.</summary>
    public List<string> InputPaths { get; } = [];

    public Checksums Clean { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(ArchiveDir);
        (string Name, int Rows)[] files =
        [
            ("01-a.json", 3500), ("02-b.json.gz", 2500), ("03-c-truncated.json", 3000), ("04-d.json", 4000),
            ("05-e.json", 3000), ("06-f.json", 2700), ("07-g.json", 3300),
        ];
        long expectedRows = 0, expectedBacklinks = 0;
        for (int i = 0; i < files.Length; i++)
        {
            var (name, rows) = files[i];
            string path = Path.Combine(ArchiveDir, name);
            InputPaths.Add(Path.GetFullPath(path));
            var options = new GeneratorOptions { Rows = rows, Seed = 100 + i, Host = $"site{i}.example" };
            if (i == BrokenIndex)
            {
                using var buffer = new MemoryStream();
                await ResponseGenerator.WriteAsync(buffer, options);
                await File.WriteAllBytesAsync(path, buffer.ToArray().AsSpan(0, (int)(buffer.Length * 55 / 100)).ToArray());
                continue;
            }
            GeneratorSummary summary;
            await using (var file = File.Create(path))
            {
                if (name.EndsWith(".gz", StringComparison.Ordinal))
                {
                    await using var gzip = new GZipStream(file, CompressionLevel.Fastest);
                    summary = await ResponseGenerator.WriteAsync(gzip, options);
                }
                else
                {
                    summary = await ResponseGenerator.WriteAsync(file, options);
                }
            }
            expectedRows += summary.Rows;
            expectedBacklinks += summary.SumBacklinks;
        }

        string store = Path.Combine(Root, "store-clean");
        var child = Stopwatch.StartNew();
        var (exit, stderr) = await Child.RunAsync(["ingest", ArchiveDir, "--store", store, "--batch-rows", "1000"], TimeSpan.FromSeconds(60));
        CleanChildMilliseconds = child.Elapsed.TotalMilliseconds;
        if (exit != 3)
        {
            throw new InvalidOperationException($"clean run exited {exit}, expected 3 (one truncated input)\n{stderr}");
        }
        Clean = Checksums.Read(store);
        // Tie the clean run to the generator's ground truth.
        if (Clean.TotalRows != expectedRows || Clean.SumBacklinks != expectedBacklinks || Clean.Records.Count != files.Length
            || Clean.PerPath.Count != files.Length)
        {
            throw new InvalidOperationException($"clean run: {Clean.TotalRows} rows, backlinks {Clean.SumBacklinks}, {Clean.Records.Count} records; " +
                $"generated {expectedRows} rows, backlinks {expectedBacklinks}, {files.Length} files\n{stderr}");
        }
        CleanSeconds = clock.Elapsed.TotalSeconds;
    }

    /// <summary>Wall time of the clean child process, start to exit.</summary>
    public double CleanChildMilliseconds { get; private set; }

    /// <summary>Seconds to build the archive and run the clean ingest.</summary>
    public double CleanSeconds { get; private set; }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>What a reader sees in a store: totals, per-path content checksums, and the records.</summary>
public sealed record Checksums(
    long TotalRows,
    long DistinctRows,
    long SumBacklinks,
    string Totals,
    long RecordedVisibleRows,
    long OrphanRows,
    IReadOnlyList<string> VisibleParts,
    SortedDictionary<string, string> PerPath,
    List<string> Records)
{
    private static readonly string RowHash = "hash(" + string.Join(", ",
        PagesSchema.Columns.Where(c => c.Index != PagesSchema.SourceIdIndex).Select(c => c.Name)) + ")";

    public static Checksums Read(string store)
    {
        using var session = PagesStore.Open(store).OpenQuery();
        var totals = Single(session, $"""
            SELECT count(*), count(DISTINCT (source_id, row_ordinal)), coalesce(sum(backlinks), 0)::BIGINT,
                   count(DISTINCT url), coalesce(sum(hash(url, row_ordinal)), 0)::VARCHAR, coalesce(sum({RowHash}), 0)::VARCHAR
            FROM pages
            """);
        long recordedVisible = Convert.ToInt64(Single(session,
            "SELECT coalesce(sum(\"rows\"), 0)::BIGINT FROM sources WHERE status IN ('ok', 'partial')")[0], CultureInfo.InvariantCulture);
        long orphans = Convert.ToInt64(Single(session,
            "SELECT count(*) FROM pages WHERE source_id NOT IN (SELECT source_id FROM sources WHERE status IN ('ok', 'partial'))")[0],
            CultureInfo.InvariantCulture);

        // Per input path: its record(s) and the content of its rows. A duplicate record or row changes the line.
        var perPath = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var row in Rows(session, $"""
            SELECT s.path, string_agg(s.status || ':' || s."rows", ',' ORDER BY s.source_id), count(*),
                   (SELECT count(*) FROM pages p JOIN sources t USING (source_id) WHERE t.path = s.path),
                   (SELECT count(DISTINCT p.row_ordinal) FROM pages p JOIN sources t USING (source_id) WHERE t.path = s.path),
                   (SELECT coalesce(sum(hash(p.url || '#' || p.row_ordinal)), 0)::VARCHAR FROM pages p JOIN sources t USING (source_id) WHERE t.path = s.path),
                   (SELECT coalesce(sum({RowHash.Replace("hash(", "hash(p.", StringComparison.Ordinal).Replace(", ", ", p.", StringComparison.Ordinal)}), 0)::VARCHAR
                      FROM pages p JOIN sources t USING (source_id) WHERE t.path = s.path)
            FROM sources s GROUP BY s.path
            """))
        {
            perPath[(string)row[0]!] = $"records {row[1]} (x{row[2]}); rows {row[3]}, distinct ordinals {row[4]}, " +
                $"hash(url||ordinal) {row[5]}, hash(row) {row[6]}";
        }
        var records = Rows(session, "SELECT path, status, \"rows\", sha256, bytes, compression, responses, stats_pages FROM sources ORDER BY path, source_id")
            .Select(r => string.Join('|', r.Select(v => v?.ToString() ?? "NULL"))).ToList();
        var parts = session.Records.Where(r => r.IsVisible).SelectMany(r => r.Parts).ToList();
        long total = Convert.ToInt64(totals[0], CultureInfo.InvariantCulture);
        return new Checksums(total, Convert.ToInt64(totals[1], CultureInfo.InvariantCulture),
            Convert.ToInt64(totals[2], CultureInfo.InvariantCulture),
            string.Join(" | ", totals.Select(v => v?.ToString() ?? "NULL")),
            recordedVisible, orphans, parts, perPath, records);
    }

    private static object?[] Single(QuerySession session, string sql) => Rows(session, sql).Single();

    private static List<object?[]> Rows(QuerySession session, string sql)
    {
        using var reader = session.ExecuteReadOnly(sql);
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (int i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }
            rows.Add(row);
        }
        return rows;
    }
}

/// <summary>The store's files: tmp/ entries, part folders, records, and temp files.</summary>
public sealed record DiskState(List<string> Temp, List<string> PartFolders, List<string> PartTemps, List<string> Records,
    List<string> RecordTemps, string Listing)
{
    public static DiskState Read(string store)
    {
        var temp = Entries(Path.Combine(store, "tmp"), store);
        var partFolders = Directory.Exists(Path.Combine(store, "parts"))
            ? Directory.EnumerateDirectories(Path.Combine(store, "parts")).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList()
            : [];
        var partTemps = Entries(Path.Combine(store, "parts"), store).Where(e => e.Contains(".tmp", StringComparison.Ordinal)).ToList();
        var sources = Directory.Exists(Path.Combine(store, "sources"))
            ? Directory.EnumerateFiles(Path.Combine(store, "sources")).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList()
            : [];
        var records = sources.Where(f => f.EndsWith(".json", StringComparison.Ordinal)).ToList();
        var recordTemps = sources.Where(f => !f.EndsWith(".json", StringComparison.Ordinal)).ToList();
        var listing = new StringBuilder();
        listing.Append("  store exists: ").Append(Directory.Exists(store)).Append('\n');
        listing.Append("  tmp/: ").AppendJoin(", ", temp.Count == 0 ? ["(empty)"] : temp).Append('\n');
        listing.Append("  parts/: ").AppendJoin(", ", Entries(Path.Combine(store, "parts"), store) is { Count: > 0 } p ? p : ["(empty)"]).Append('\n');
        listing.Append("  sources/: ").AppendJoin(", ", sources.Count == 0 ? ["(empty)"] : sources);
        return new DiskState(temp, partFolders, partTemps, records, recordTemps, listing.ToString());
    }

    public override string ToString() => Listing;

    /// <summary>Files (with sizes) and folders under <paramref name="dir"/>, relative to the store.</summary>
    private static List<string> Entries(string dir, string store)
    {
        if (!Directory.Exists(dir))
        {
            return [];
        }
        var entries = new List<string>();
        foreach (var entry in Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(store, entry);
            entries.Add(Directory.Exists(entry) ? relative + "/" : $"{relative} ({new FileInfo(entry).Length} B)");
        }
        entries.Sort(StringComparer.Ordinal);
        return entries;
    }
}

/// <summary>A child <c>dotnet pages.dll</c> whose stderr is read line by line, so a test can wait for a line and kill it.</summary>
internal sealed class Child : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource<string> _paused = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _readErr;
    private readonly Task<string> _readOut;

    private Child(Process process)
    {
        _process = process;
        _readOut = process.StandardOutput.ReadToEndAsync();
        _readErr = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is { } line)
            {
                lock (_stderr)
                {
                    _stderr.Append(line).Append('\n');
                }
                if (line.StartsWith("PAGES_TEST_PAUSE_AT: paused at", StringComparison.Ordinal))
                {
                    _paused.TrySetResult(line);
                }
            }
            _paused.TrySetException(new InvalidOperationException("the child closed stderr without pausing:\n" + Stderr));
        });
    }

    public bool HasExited => _process.HasExited;

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public static Child Start(IReadOnlyList<string> args, string? pauseAt)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.Environment.Remove("PAGES_TEST_PAUSE_AT");
        if (pauseAt is not null)
        {
            start.Environment["PAGES_TEST_PAUSE_AT"] = pauseAt;
        }
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "pages.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        process.StandardInput.Close();
        return new Child(process);
    }

    /// <summary>Runs to completion; returns the exit code and stderr.</summary>
    public static async Task<(int Exit, string Stderr)> RunAsync(IReadOnlyList<string> args, TimeSpan timeout)
    {
        await using var child = Start(args, pauseAt: null);
        using var cts = new CancellationTokenSource(timeout);
        await child._process.WaitForExitAsync(cts.Token);
        await child._readErr;
        await child._readOut;
        return (child._process.ExitCode, child.Stderr);
    }

    /// <summary>The pause line on stderr; fails when the child exits first or the time runs out.</summary>
    public async Task<string> WaitForPauseAsync(TimeSpan timeout)
    {
        var done = await Task.WhenAny(_paused.Task, Task.Delay(timeout));
        if (done != _paused.Task)
        {
            throw new TimeoutException($"no pause line within {timeout.TotalSeconds} s:\n{Stderr}");
        }
        return await _paused.Task;
    }

    /// <summary>SIGKILL (on Linux) unless it already exited; returns the exit code.</summary>
    public async Task<int> KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(cts.Token);
        await _readErr;
        await _readOut;
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _process.Dispose();
    }
}
