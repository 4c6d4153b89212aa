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
    /// Expands command-line arguments into inputs: files as given, directories recursively (<c>*.json</c>, in
    /// ordinal order of their paths), <c>-</c> for <paramref name="stdin"/>. A path that does not exist is a usage
    /// error naming it; nothing is skipped silently.
    /// </summary>
    public static IReadOnlyList<InputSource> Expand(IReadOnlyList<string> arguments, Func<Stream> stdin)
    {
        var inputs = new List<InputSource>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        bool sawStdin = false;
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
                var files = Directory.GetFiles(argument, "*.json", SearchOption.AllDirectories);
                System.Array.Sort(files, StringComparer.Ordinal);
                foreach (var file in files)
                {
                    if (seen.Add(System.IO.Path.GetFullPath(file)))
                    {
                        inputs.Add(FromFile(file));
                    }
                }
            }
            else if (File.Exists(argument))
            {
                if (seen.Add(System.IO.Path.GetFullPath(argument)))
                {
                    inputs.Add(FromFile(argument));
                }
            }
            else
            {
                throw new PagesUsageException($"no such file or directory: {argument}");
            }
        }
        return inputs;
    }
}
