using System.Text;

namespace PagesAnalytics.Query;

/// <summary>
/// A user-written <c>where</c>, <c>having</c>, <c>order_by</c>, <c>select</c>, <c>target</c> or <c>mode</c> that cannot be
/// used. Carries the clause, the 0-based character position and the reason as properties. <see cref="Exception.Message"/>
/// is <see cref="Summary"/>, e.g. <c>where: unknown column 'refdomain' at 12 (did you mean 'refdomains'?)</c>, followed by
/// the two lines of <see cref="Caret"/>.
/// </summary>
public sealed class FilterException : PagesException
{
    // Lines longer than this are shown as a window around the position.
    private const int MaxShownLine = 100;
    private const int WindowBefore = 40;

    /// <summary>Creates the exception; the message is composed from the parts.</summary>
    /// <param name="clause">Which option was being read: where, having, order_by, select, target or mode.</param>
    /// <param name="input">The whole text that was being read.</param>
    /// <param name="position">0-based index into <paramref name="input"/> (UTF-16 code units); may equal its length.</param>
    /// <param name="reason">What was wrong, without the position, e.g. <c>unknown column 'refdomain'</c>.</param>
    /// <param name="suggestion">A nearby valid name, or null.</param>
    public FilterException(string clause, string input, int position, string reason, string? suggestion = null)
        : base(ComposeMessage(clause, input, position, reason, suggestion))
    {
        Clause = clause;
        Input = input;
        Position = position;
        Reason = reason;
        Suggestion = suggestion;
        Summary = ComposeSummary(clause, position, reason, suggestion);
        Caret = ComposeCaret(input, position);
    }

    /// <summary>The option being read: <c>where</c>, <c>having</c>, <c>order_by</c>, <c>select</c>, <c>target</c> or <c>mode</c>.</summary>
    public string Clause { get; }

    /// <summary>0-based character index (UTF-16 code units) into <see cref="Input"/>; equals its length for "at end of input".</summary>
    public int Position { get; }

    /// <summary>The whole text that was being read.</summary>
    public string Input { get; }

    /// <summary>What was wrong, without the position.</summary>
    public string Reason { get; }

    /// <summary>The nearest valid name (column, function, operator, key, mode), or null.</summary>
    public string? Suggestion { get; }

    /// <summary>The first line of the message, without the caret lines.</summary>
    public string Summary { get; }

    /// <summary>
    /// Two lines: the input line holding the position (a window of it when long; tabs and control characters shown as
    /// spaces), and a line with <c>^</c> under the position.
    /// </summary>
    public string Caret { get; }

    private static string ComposeSummary(string clause, int position, string reason, string? suggestion)
    {
        var text = new StringBuilder(clause).Append(": ").Append(reason).Append(" at ").Append(position);
        if (suggestion is not null)
        {
            text.Append(" (did you mean '").Append(suggestion).Append("'?)");
        }
        return text.ToString();
    }

    private static string ComposeMessage(string clause, string input, int position, string reason, string? suggestion)
        => ComposeSummary(clause, position, reason, suggestion) + "\n" + ComposeCaret(input, position);

    private static string ComposeCaret(string input, int position)
    {
        position = Math.Clamp(position, 0, input.Length);
        int lineStart = position == 0 ? 0 : input.LastIndexOf('\n', position - 1) + 1;
        int lineEnd = input.IndexOf('\n', position);
        if (lineEnd < 0)
        {
            lineEnd = input.Length;
        }
        int start = lineStart;
        int end = lineEnd;
        string prefix = "";
        string suffix = "";
        if (end - start > MaxShownLine)
        {
            start = Math.Max(lineStart, position - WindowBefore);
            end = Math.Min(lineEnd, start + MaxShownLine);
            prefix = start > lineStart ? "..." : "";
            suffix = end < lineEnd ? "..." : "";
        }
        var line = new StringBuilder(prefix);
        for (int i = start; i < end; i++)
        {
            char c = input[i];
            line.Append(char.IsControl(c) ? ' ' : c);
        }
        line.Append(suffix);
        return line.Append('\n').Append(' ', prefix.Length + position - start).Append('^').ToString();
    }
}
