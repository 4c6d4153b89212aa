using System.Text.Json;

namespace PagesAnalytics.Store;

/// <summary>
/// A store directory: Parquet parts per ingested input, one JSON record per input as the commit point, a writer
/// lock, and a <c>tmp/</c> folder for work in flight. See DESIGN.md, "Store layout".
/// </summary>
public sealed class PagesStore
{
    /// <summary>Store directory used when neither <c>--store</c> nor <see cref="EnvironmentVariable"/> says otherwise.</summary>
    public const string DefaultDirectory = "pages-store";

    /// <summary>Environment variable naming the store directory.</summary>
    public const string EnvironmentVariable = "PAGES_STORE";

    private PagesStore(string directory)
    {
        Directory = Path.GetFullPath(directory);
    }

    /// <summary>Full path of the store directory.</summary>
    public string Directory { get; }

    internal string PartsDirectory => Path.Combine(Directory, "parts");

    internal string SourcesDirectory => Path.Combine(Directory, "sources");

    internal string TempDirectory => Path.Combine(Directory, "tmp");

    /// <summary>
    /// The store at <paramref name="directory"/>, else at <c>$PAGES_STORE</c>, else <c>./pages-store</c>. Nothing is
    /// created until something is written.
    /// </summary>
    public static PagesStore Open(string? directory = null)
    {
        string? chosen = directory;
        if (string.IsNullOrWhiteSpace(chosen))
        {
            chosen = Environment.GetEnvironmentVariable(EnvironmentVariable);
        }
        if (string.IsNullOrWhiteSpace(chosen))
        {
            chosen = DefaultDirectory;
        }
        if (File.Exists(chosen))
        {
            throw new PagesUsageException($"store '{chosen}' is a file, not a directory");
        }
        return new PagesStore(chosen);
    }

    /// <summary>All committed source records, by <c>source_id</c>.</summary>
    public IReadOnlyList<SourceRecord> ReadRecords()
    {
        var records = new List<SourceRecord>();
        if (!System.IO.Directory.Exists(SourcesDirectory))
        {
            return records;
        }
        foreach (var file in System.IO.Directory.EnumerateFiles(SourcesDirectory, "*.json"))
        {
            SourceRecord? record;
            try
            {
                using var stream = File.OpenRead(file);
                record = JsonSerializer.Deserialize<SourceRecord>(stream, SourceRecord.Json);
            }
            catch (JsonException ex)
            {
                throw new PagesException($"store record {file} is unreadable: {ex.Message}", ex);
            }
            if (record is null)
            {
                throw new PagesException($"store record {file} is empty");
            }
            records.Add(record);
        }
        records.Sort((a, b) => a.SourceId.CompareTo(b.SourceId));
        return records;
    }

    /// <summary>
    /// Takes the writer lock (failing at once with <see cref="StoreLockedException"/> if another writer holds it)
    /// and removes the debris of interrupted writers.
    /// </summary>
    public StoreWriter OpenWriter()
    {
        System.IO.Directory.CreateDirectory(Directory);
        var storeLock = StoreLock.Acquire(Directory);
        try
        {
            System.IO.Directory.CreateDirectory(PartsDirectory);
            System.IO.Directory.CreateDirectory(SourcesDirectory);
            System.IO.Directory.CreateDirectory(TempDirectory);
            return new StoreWriter(this, storeLock);
        }
        catch
        {
            storeLock.Dispose();
            throw;
        }
    }

    /// <summary>Opens an in-memory DuckDB with the views <c>sources</c> and <c>pages</c> over the committed state.</summary>
    public QuerySession OpenQuery() => QuerySession.Create(this, ReadRecords());
}
