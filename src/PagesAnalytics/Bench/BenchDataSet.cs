using System.Globalization;
using System.Text.Json;
using PagesAnalytics.Ingest;

namespace PagesAnalytics.Bench;

/// <summary>What <see cref="BenchDataSet.PrepareAsync"/> generates: N rows split over K response files.</summary>
public sealed record BenchDataOptions
{
    /// <summary>Rows when none are given: the size the project's performance bars are stated for.</summary>
    public const long DefaultRows = 1_000_000;

    /// <summary>Total page rows over all files.</summary>
    public long Rows { get; init; } = DefaultRows;

    /// <summary>Number of response files; file i holds Rows / Files rows (the first Rows % Files files one more).</summary>
    public int Files { get; init; } = 1;

    /// <summary>Indented responses (one field per line) instead of compact ones.</summary>
    public bool Pretty { get; init; }

    /// <summary>Seed of the first file; file i uses Seed + i so no two files hold the same bytes.</summary>
    public int Seed { get; init; } = GeneratorOptions.DefaultSeed;

    internal void Validate()
    {
        if (Rows < 1)
        {
            throw new PagesUsageException("--rows must be at least 1");
        }
        if (Files < 1)
        {
            throw new PagesUsageException("--files must be at least 1");
        }
        if (Files > Rows)
        {
            throw new PagesUsageException($"--files {Files} is more than --rows {Rows}: every file needs a row");
        }
    }
}

/// <summary>One generated file of a <see cref="BenchDataSet"/>.</summary>
/// <param name="Path">Full path.</param>
/// <param name="Rows">Page rows it holds.</param>
/// <param name="Bytes">Its size.</param>
public sealed record BenchFile(string Path, long Rows, long Bytes);

/// <summary>
/// The inputs of <c>pages bench</c> in one directory: <c>raw/response-NNN.json</c> (generated responses) and
/// <c>ndjson/response-NNN.ndjson</c> (the same rows, one page object per line), described by <c>manifest.json</c>.
/// A directory whose manifest matches the options and whose files still have their recorded sizes is reused.
/// </summary>
public sealed class BenchDataSet
{
    /// <summary>Name of the manifest file in the data directory.</summary>
    public const string ManifestName = "manifest.json";

    private const string GitIgnore = "# pages bench: generated input, safe to delete\n*\n";

    // Bumped when the layout or the way files are generated changes, so older directories are regenerated.
    private const int FormatVersion = 1;

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    private BenchDataSet(string directory, BenchDataOptions options, IReadOnlyList<BenchFile> raw, IReadOnlyList<BenchFile> ndjson, bool reused)
    {
        Directory = directory;
        Options = options;
        RawFiles = raw;
        NdjsonFiles = ndjson;
        Reused = reused;
    }

    /// <summary>The data directory (full path).</summary>
    public string Directory { get; }

    /// <summary>What the files hold.</summary>
    public BenchDataOptions Options { get; }

    /// <summary>The generated responses, in order.</summary>
    public IReadOnlyList<BenchFile> RawFiles { get; }

    /// <summary>The same rows as NDJSON, one file per response.</summary>
    public IReadOnlyList<BenchFile> NdjsonFiles { get; }

    /// <summary>True when the files were already there.</summary>
    public bool Reused { get; }

    /// <summary>Folder of the responses.</summary>
    public string RawDirectory => System.IO.Path.Combine(Directory, "raw");

    /// <summary>Folder of the NDJSON files.</summary>
    public string NdjsonDirectory => System.IO.Path.Combine(Directory, "ndjson");

    /// <summary>Total size of the responses.</summary>
    public long RawBytes => RawFiles.Sum(f => f.Bytes);

    /// <summary>Total size of the NDJSON files.</summary>
    public long NdjsonBytes => NdjsonFiles.Sum(f => f.Bytes);

    /// <summary>
    /// Reuses the data in <paramref name="directory"/> when its manifest matches <paramref name="options"/>, otherwise
    /// (re)generates it there. <paramref name="log"/> gets one line per step.
    /// </summary>
    public static async Task<BenchDataSet> PrepareAsync(string directory, BenchDataOptions options, IProgress<string>? log = null,
        CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        directory = System.IO.Path.GetFullPath(directory);
        if (TryReuse(directory, options) is { } existing)
        {
            log?.Report($"reusing {existing.RawFiles.Count} response file(s) and NDJSON in {directory}");
            return existing;
        }

        EnsureOurs(directory);
        System.IO.Directory.CreateDirectory(directory);
        // The data is large and regenerated at will: keep it out of git wherever it is put. The file also marks the
        // directory as ours, so that a later run may replace what is in it.
        await File.WriteAllTextAsync(System.IO.Path.Combine(directory, ".gitignore"), GitIgnore, ct).ConfigureAwait(false);
        string manifestPath = System.IO.Path.Combine(directory, ManifestName);
        File.Delete(manifestPath); // no manifest while the files are being replaced
        var placeholder = new BenchDataSet(directory, options, [], [], reused: false);
        foreach (var folder in new[] { placeholder.RawDirectory, placeholder.NdjsonDirectory })
        {
            if (System.IO.Directory.Exists(folder))
            {
                System.IO.Directory.Delete(folder, recursive: true);
            }
            System.IO.Directory.CreateDirectory(folder);
        }

        var raw = new List<BenchFile>(options.Files);
        var ndjson = new List<BenchFile>(options.Files);
        for (int i = 0; i < options.Files; i++)
        {
            long rows = options.Rows / options.Files + (i < options.Rows % options.Files ? 1 : 0);
            string name = "response-" + i.ToString("D3", CultureInfo.InvariantCulture);
            string rawPath = System.IO.Path.Combine(placeholder.RawDirectory, name + ".json");
            string ndjsonPath = System.IO.Path.Combine(placeholder.NdjsonDirectory, name + ".ndjson");
            log?.Report(string.Create(CultureInfo.InvariantCulture, $"generating {rawPath} ({rows:N0} rows)"));
            var summary = await ResponseGenerator.WriteFileAsync(rawPath,
                new GeneratorOptions { Rows = rows, Seed = options.Seed + i, Pretty = options.Pretty }, null, ct).ConfigureAwait(false);
            raw.Add(new BenchFile(rawPath, rows, new FileInfo(rawPath).Length));
            log?.Report($"converting to {ndjsonPath}");
            long lines = await NdjsonConverter.ConvertFileAsync(rawPath, ndjsonPath, ct).ConfigureAwait(false);
            if (lines != summary.Rows)
            {
                throw new PagesException($"{ndjsonPath}: {lines} lines written for {summary.Rows} generated rows");
            }
            ndjson.Add(new BenchFile(ndjsonPath, rows, new FileInfo(ndjsonPath).Length));
        }

        var manifest = new Manifest(FormatVersion, options.Rows, options.Files, options.Pretty, options.Seed,
            [.. raw.Select(f => new ManifestFile(System.IO.Path.GetRelativePath(directory, f.Path), f.Rows, f.Bytes))],
            [.. ndjson.Select(f => new ManifestFile(System.IO.Path.GetRelativePath(directory, f.Path), f.Rows, f.Bytes))]);
        string temp = manifestPath + ".tmp";
        await File.WriteAllTextAsync(temp, JsonSerializer.Serialize(manifest, Json), ct).ConfigureAwait(false);
        File.Move(temp, manifestPath, overwrite: true);
        return new BenchDataSet(directory, options, raw, ndjson, reused: false);
    }

    /// <summary>Refuses to replace files in a directory that holds something other than bench data.</summary>
    private static void EnsureOurs(string directory)
    {
        if (!System.IO.Directory.Exists(directory) || !System.IO.Directory.EnumerateFileSystemEntries(directory).Any())
        {
            return;
        }
        string marker = System.IO.Path.Combine(directory, ".gitignore");
        bool ours = File.Exists(System.IO.Path.Combine(directory, ManifestName))
            || (File.Exists(marker) && File.ReadAllText(marker) == GitIgnore);
        if (!ours)
        {
            throw new PagesUsageException($"{directory} is not empty and holds no bench data: give --out a new or empty directory");
        }
    }

    private static BenchDataSet? TryReuse(string directory, BenchDataOptions options)
    {
        string manifestPath = System.IO.Path.Combine(directory, ManifestName);
        if (!File.Exists(manifestPath))
        {
            return null;
        }
        Manifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(manifestPath), Json);
        }
        catch (JsonException)
        {
            return null;
        }
        if (manifest is null || manifest.Version != FormatVersion || manifest.Rows != options.Rows || manifest.Files != options.Files
            || manifest.Pretty != options.Pretty || manifest.Seed != options.Seed
            || manifest.Raw is null || manifest.Ndjson is null || manifest.Raw.Count != options.Files || manifest.Ndjson.Count != options.Files)
        {
            return null;
        }
        var raw = Resolve(directory, manifest.Raw);
        var ndjson = Resolve(directory, manifest.Ndjson);
        return raw is null || ndjson is null ? null : new BenchDataSet(directory, options, raw, ndjson, reused: true);
    }

    private static List<BenchFile>? Resolve(string directory, IReadOnlyList<ManifestFile> files)
    {
        var resolved = new List<BenchFile>(files.Count);
        foreach (var file in files)
        {
            string path = System.IO.Path.GetFullPath(System.IO.Path.Combine(directory, file.Path));
            var info = new FileInfo(path);
            if (!info.Exists || info.Length != file.Bytes)
            {
                return null;
            }
            resolved.Add(new BenchFile(path, file.Rows, file.Bytes));
        }
        return resolved;
    }

    private sealed record Manifest(int Version, long Rows, int Files, bool Pretty, int Seed,
        IReadOnlyList<ManifestFile> Raw, IReadOnlyList<ManifestFile> Ndjson);

    private sealed record ManifestFile(string Path, long Rows, long Bytes);
}
