using System.Text;

namespace PagesAnalytics;

/// <summary>Base of every error PagesAnalytics raises on purpose; the CLI maps each subtype to an exit code.</summary>
public class PagesException : Exception
{
    /// <summary>Creates the exception with its one-line message.</summary>
    public PagesException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}

/// <summary>
/// A response that is not valid JSON or not the shape of a <c>pages_extended</c> response. Carries the position
/// as properties and in the message, e.g. <c>pages.json: record 1832 (line 1, byte 771204): "backlinks" expected a number, got "abc"</c>.
/// </summary>
public sealed class ResponseFormatException : PagesException
{
    /// <summary>Creates the exception; the message is composed from the parts.</summary>
    public ResponseFormatException(string source, long? recordIndex, long line, long bytePosition, string jsonPath,
        string reason, Exception? inner = null)
        : base(Compose(source, recordIndex, line, bytePosition, reason), inner)
    {
        Source = source;
        RecordIndex = recordIndex;
        Line = line;
        BytePosition = bytePosition;
        JsonPath = jsonPath;
        Reason = reason;
    }

    /// <summary>File name (or <c>-</c> for stdin) of the response.</summary>
    public new string Source { get; }

    /// <summary>0-based index of the record in <c>pages</c> (equals its <c>row_ordinal</c>); null outside a record.</summary>
    public long? RecordIndex { get; }

    /// <summary>1-based line of the offending token.</summary>
    public long Line { get; }

    /// <summary>0-based byte offset of the offending token from the start of the (decompressed) response.</summary>
    public long BytePosition { get; }

    /// <summary>JSON path of the offending value, e.g. <c>$.pages[3].backlinks</c>.</summary>
    public string JsonPath { get; }

    /// <summary>What was wrong, without the position.</summary>
    public string Reason { get; }

    private static string Compose(string source, long? recordIndex, long line, long bytePosition, string reason)
    {
        var text = new StringBuilder(source).Append(": ");
        if (recordIndex is { } index)
        {
            text.Append("record ").Append(index).Append(' ');
        }
        text.Append("(line ").Append(line).Append(", byte ").Append(bytePosition).Append("): ").Append(reason);
        return text.ToString();
    }
}

/// <summary>The response is the API's own error object, <c>{"error":"..."}</c>.</summary>
public sealed class ApiErrorResponseException : PagesException
{
    /// <summary>Creates the exception for the API message of one response.</summary>
    public ApiErrorResponseException(string source, string apiMessage)
        : base($"{source}: the API answered with an error: {apiMessage}")
    {
        Source = source;
        ApiMessage = apiMessage;
    }

    /// <summary>File name of the response.</summary>
    public new string Source { get; }

    /// <summary>The API's message, verbatim.</summary>
    public string ApiMessage { get; }
}

/// <summary>A bad setting or argument given by the user (exit code 2 in the CLI).</summary>
public sealed class PagesUsageException : PagesException
{
    /// <summary>Creates the exception naming the bad setting.</summary>
    public PagesUsageException(string message) : base(message)
    {
    }
}
