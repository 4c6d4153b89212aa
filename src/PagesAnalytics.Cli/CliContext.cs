using Spectre.Console;

namespace PagesAnalytics.Cli;

/// <summary>Where a command reads and writes: the real console, or buffers in tests.</summary>
public sealed class CliContext
{
    /// <summary>Creates a context; tests pass their own streams.</summary>
    public CliContext(Stream stdout, TextWriter stderr, Func<Stream> stdin, bool stdoutIsTerminal = false, bool stderrIsTerminal = false)
    {
        Stdout = stdout;
        Stderr = stderr;
        Stdin = stdin;
        StdoutIsTerminal = stdoutIsTerminal;
        StderrIsTerminal = stderrIsTerminal;
    }

    /// <summary>Data only.</summary>
    public Stream Stdout { get; }

    /// <summary>Progress, summaries and errors.</summary>
    public TextWriter Stderr { get; }

    /// <summary>Opens standard input.</summary>
    public Func<Stream> Stdin { get; }

    /// <summary>True when stdout is an interactive terminal.</summary>
    public bool StdoutIsTerminal { get; }

    /// <summary>True when stderr is an interactive terminal (progress bars are shown only then).</summary>
    public bool StderrIsTerminal { get; }

    /// <summary>The process's console.</summary>
    public static CliContext FromConsole()
    {
        var stderr = new StreamWriter(Console.OpenStandardError(), new System.Text.UTF8Encoding(false)) { AutoFlush = true };
        return new CliContext(Console.OpenStandardOutput(), stderr, Console.OpenStandardInput,
            !Console.IsOutputRedirected, !Console.IsErrorRedirected);
    }

    /// <summary>A Spectre console writing to stderr (colours only on a terminal).</summary>
    public IAnsiConsole ErrorConsole() => Create(Stderr, StderrIsTerminal);

    /// <summary>A Spectre console writing to stdout (for tables as data).</summary>
    public IAnsiConsole OutputConsole(TextWriter writer) => Create(writer, StdoutIsTerminal);

    private static IAnsiConsole Create(TextWriter writer, bool terminal)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!terminal)
        {
            console.Profile.Width = 240;
        }
        return console;
    }
}
