using System.Buffers;
using System.Text.Json;

namespace PagesAnalytics.Bench;

/// <summary>
/// Rewrites a <c>pages_extended</c> response as NDJSON: every element of the root's <c>pages</c> array on its own line,
/// byte for byte as it appears in the response (the line breaks and indentation of a pretty-printed response dropped;
/// JSON strings cannot hold raw ones). Streams through one pooled buffer that grows only when one page object does not
/// fit, so memory stays flat whatever the size of the response.
/// </summary>
public static class NdjsonConverter
{
    private const int InitialBufferBytes = 1 << 20;

    /// <summary>Converts the file <paramref name="input"/> into <paramref name="output"/>; returns the lines written.</summary>
    public static async Task<long> ConvertFileAsync(string input, string output, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(input);
        ArgumentException.ThrowIfNullOrEmpty(output);
        await using var source = new FileStream(input, FileMode.Open, FileAccess.Read, FileShare.Read, 1,
            FileOptions.Asynchronous | FileOptions.SequentialScan);
        // Written synchronously from the scanner's loop, through a large buffer.
        await using var target = new FileStream(output, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        long rows = await ConvertAsync(source, target, System.IO.Path.GetFileName(input), ct).ConfigureAwait(false);
        target.Flush();
        return rows;
    }

    /// <summary>Converts the response read from <paramref name="input"/>; returns the lines written to <paramref name="output"/>.</summary>
    public static async Task<long> ConvertAsync(Stream input, Stream output, string sourceName, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        var scanner = new PagesScanner();
        byte[] buffer = ArrayPool<byte>.Shared.Rent(InitialBufferBytes);
        try
        {
            int start = 0, end = 0;
            bool final = false, bomChecked = false;
            while (true)
            {
                if (!final)
                {
                    int read = await input.ReadAsync(buffer.AsMemory(end), ct).ConfigureAwait(false);
                    end += read;
                    final = read == 0;
                }
                if (!bomChecked && (end - start >= 3 || final))
                {
                    bomChecked = true;
                    if (buffer.AsSpan(start, end - start).StartsWith("\uFEFF"u8))
                    {
                        start += 3;
                    }
                }
                if (bomChecked)
                {
                    try
                    {
                        start = scanner.Scan(buffer, start, end, final, output);
                    }
                    catch (JsonException e)
                    {
                        throw new PagesException($"{sourceName}: not a valid response: {e.Message}", e);
                    }
                }
                if (final)
                {
                    break;
                }

                // Keep the unfinished page object (or the unconsumed token) and refill behind it.
                int keep = scanner.ObjectStart >= 0 ? scanner.ObjectStart : start;
                if (keep > 0)
                {
                    buffer.AsSpan(keep, end - keep).CopyTo(buffer);
                    scanner.Shift(keep);
                    start -= keep;
                    end -= keep;
                }
                if (end == buffer.Length)
                {
                    byte[] larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, end).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }
            if (!scanner.Done)
            {
                throw new PagesException($"{sourceName}: the response ends before its root value closes");
            }
            return scanner.Rows;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Token state across refills: finds the root's <c>pages</c> and the extent of each of its elements.</summary>
    private sealed class PagesScanner
    {
        private static readonly byte[] NewLine = "\n"u8.ToArray();
        private static readonly SearchValues<byte> LineBreaks = SearchValues.Create("\r\n"u8);

        private JsonReaderState _state;
        private byte[] _compact = [];
        private bool _expectPages;  // the last root key was "pages"
        private bool _inPages;      // inside the root's pages array

        /// <summary>Page objects written so far.</summary>
        public long Rows { get; private set; }

        /// <summary>The root value has closed.</summary>
        public bool Done { get; private set; }

        /// <summary>Buffer index of the page object being read, or -1.</summary>
        public int ObjectStart { get; private set; } = -1;

        public void Shift(int by)
        {
            if (ObjectStart >= 0)
            {
                ObjectStart -= by;
            }
        }

        /// <summary>Reads the complete tokens of <c>buffer[start..end]</c>; returns the index after the last one.</summary>
        public int Scan(byte[] buffer, int start, int end, bool final, Stream target)
        {
            var reader = new Utf8JsonReader(buffer.AsSpan(start, end - start), final, _state);
            while (reader.Read())
            {
                int depth = reader.CurrentDepth;
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName when depth == 1:
                        _expectPages = reader.ValueTextEquals("pages"u8);
                        continue;
                    case JsonTokenType.StartArray when depth == 1 && _expectPages:
                        _inPages = true;
                        break;
                    case JsonTokenType.EndArray when depth == 1 && _inPages:
                        _inPages = false;
                        break;
                    case JsonTokenType.StartObject when depth == 2 && _inPages:
                        ObjectStart = start + (int)reader.TokenStartIndex;
                        break;
                    case JsonTokenType.EndObject when depth == 2 && _inPages:
                        WriteLine(buffer.AsSpan(ObjectStart, start + (int)reader.BytesConsumed - ObjectStart), target);
                        ObjectStart = -1;
                        Rows++;
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray when depth == 0:
                        Done = true;
                        break;
                }
                _expectPages = false;
            }
            _state = reader.CurrentState;
            return start + (int)reader.BytesConsumed;
        }

        private void WriteLine(ReadOnlySpan<byte> json, Stream target)
        {
            // Raw line breaks cannot occur inside JSON strings, so their absence means the object is already one line.
            if (json.IndexOfAny(LineBreaks) < 0)
            {
                target.Write(json);
            }
            else
            {
                if (_compact.Length < json.Length)
                {
                    _compact = new byte[Math.Max(json.Length, 2 * _compact.Length)];
                }
                target.Write(_compact, 0, Minify(json, _compact));
            }
            target.Write(NewLine);
        }

        private static int Minify(ReadOnlySpan<byte> json, byte[] into)
        {
            int length = 0;
            bool inString = false, escaped = false;
            foreach (byte b in json)
            {
                if (inString)
                {
                    if (escaped)
                    {
                        escaped = false;
                    }
                    else if (b == (byte)'\\')
                    {
                        escaped = true;
                    }
                    else if (b == (byte)'"')
                    {
                        inString = false;
                    }
                }
                else if (b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r')
                {
                    continue;
                }
                else if (b == (byte)'"')
                {
                    inString = true;
                }
                into[length++] = b;
            }
            return length;
        }
    }
}
