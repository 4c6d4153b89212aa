namespace PagesAnalytics.Ingest;

/// <summary>One input to ingest: a file, or standard input.</summary>
public sealed class InputSource
{
    /// <summary>The argument that means standard input.</summary>
    public const string StdinArgument = "-";

    private readonly Func<Stream> _open;

    private InputSource(string path, string displayName, long? length, Func<Stream> open)
    {
        Path = path;
        DisplayName = displayName;
        Length = length;
        _open = open;
    }

    /// <summary>Full path of the file, or <c>-</c> for standard input.</summary>
    public string Path { get; }

    /// <summary>Short name for messages (the path as the user gave it, or below the directory they gave).</summary>
    public string DisplayName { get; }

    /// <summary>Size in bytes when known up front (files), else null.</summary>
    public long? Length { get; }

    /// <summary>True for a regular file, which can be read twice.</summary>
    public bool IsFile => Path != StdinArgument;

    /// <summary>Opens the input for sequential reading.</summary>
    public Stream Open() => _open();

    /// <summary>A regular file.</summary>
    public static InputSource FromFile(string path, string? displayName = null)
    {
        var full = System.IO.Path.GetFullPath(path);
        return new InputSource(full, displayName ?? path, new FileInfo(full).Length,
            () => new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan));
    }

    /// <summary>A stream such as standard input, read once.</summary>
    public static InputSource FromStream(Func<Stream> open, string displayName = StdinArgument)
        => new(StdinArgument, displayName, null, open);

    /// <summary>
    /// Expands command-line arguments into inputs: files as given (any name), directories recursively (response
    /// files: <c>*.json</c>, <c>*.jsonl</c>, <c>*.ndjson</c>, each optionally ending in <c>.gz</c>, <c>.zst</c>,
    /// <c>.zstd</c> or <c>.br</c>), glob patterns (<c>*</c>, <c>?</c>, <c>**</c>), and <c>-</c> for
    /// <paramref name="stdin"/>. Files come in ordinal order of their paths, each once. A path that does not
    /// exist, or a pattern that matches nothing, is a usage error naming it: nothing is skipped silently.
    /// </summary>
    public static IReadOnlyList<InputSource> Expand(IReadOnlyList<string> arguments, Func<Stream> stdin)
    {
        var inputs = new List<InputSource>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        bool sawStdin = false;
        void AddFiles(IEnumerable<string> files)
        {
            var sorted = files.ToArray();
            System.Array.Sort(sorted, StringComparer.Ordinal);
            foreach (var file in sorted)
            {
                if (seen.Add(System.IO.Path.GetFullPath(file)))
                {
                    inputs.Add(FromFile(file));
                }
            }
        }

        foreach (var argument in arguments)
        {
            if (argument == StdinArgument)
            {
                if (sawStdin)
                {
                    throw new PagesUsageException("'-' (standard input) can be given only once");
                }
                sawStdin = true;
                inputs.Add(FromStream(stdin));
            }
            else if (Directory.Exists(argument))
            {
                AddFiles(Directory.EnumerateFiles(argument, "*", SearchOption.AllDirectories).Where(IsResponseFileName));
            }
            else if (File.Exists(argument))
            {
                AddFiles([argument]);
            }
            else if (Glob.IsPattern(argument))
            {
                var matches = Glob.Match(argument);
                if (matches.Count == 0)
                {
                    throw new PagesUsageException($"no files match {argument}");
                }
                AddFiles(matches);
            }
            else
            {
                throw new PagesUsageException($"no such file or directory: {argument}");
            }
        }
        return inputs;
    }

    /// <summary>True for names a directory scan takes as responses (see <see cref="Expand"/>).</summary>
    public static bool IsResponseFileName(string path)
    {
        var name = System.IO.Path.GetFileName(path).ToLowerInvariant();
        foreach (var compressed in (ReadOnlySpan<string>)[".gz", ".zst", ".zstd", ".br"])
        {
            if (name.EndsWith(compressed, StringComparison.Ordinal))
            {
                name = name[..^compressed.Length];
                break;
            }
        }
        return name.EndsWith(".json", StringComparison.Ordinal) || name.EndsWith(".jsonl", StringComparison.Ordinal)
            || name.EndsWith(".ndjson", StringComparison.Ordinal);
    }
}
