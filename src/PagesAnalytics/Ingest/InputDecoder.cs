using System.IO.Compression;
using ZstdSharp;

namespace PagesAnalytics.Ingest;

/// <summary>Compression of an input, as told by its first bytes (never by its name).</summary>
public enum InputCompression
{
    /// <summary>Plain JSON text.</summary>
    None,
    /// <summary>gzip (magic <c>1F 8B</c>).</summary>
    Gzip,
    /// <summary>Zstandard (magic <c>28 B5 2F FD</c>).</summary>
    Zstd,
    /// <summary>Brotli. It has no magic bytes: an input that starts neither like JSON text nor gzip/zstd is decoded as brotli.</summary>
    Brotli,
}

/// <summary>Detects the compression of an input by its magic bytes and returns a stream of the decoded bytes.</summary>
public static class InputDecoder
{
    private const int SniffBytes = 4;

    /// <summary>
    /// Wraps <paramref name="raw"/> in the right decoder. Corrupt compressed data surfaces from reads of the
    /// returned stream as <see cref="InvalidDataException"/>, whatever the codec. The returned stream owns <paramref name="raw"/>.
    /// </summary>
    public static async Task<(Stream Decoded, InputCompression Compression)> OpenAsync(Stream raw, CancellationToken ct = default)
    {
        var head = new byte[SniffBytes];
        int n = 0;
        while (n < head.Length)
        {
            int read = await raw.ReadAsync(head.AsMemory(n), ct).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }
            n += read;
        }
        var joined = new PrefixedStream(head.AsMemory(0, n), raw);
        var compression = Detect(head.AsSpan(0, n));
        Stream decoded = compression switch
        {
            InputCompression.Gzip => new GZipStream(joined, CompressionMode.Decompress, leaveOpen: false),
            InputCompression.Zstd => new DecompressionStream(joined, leaveOpen: false),
            InputCompression.Brotli => new BrotliStream(joined, CompressionMode.Decompress, leaveOpen: false),
            _ => joined,
        };
        return (compression == InputCompression.None ? decoded : new CodecErrorStream(decoded, compression), compression);
    }

    /// <summary>Tells the compression from the first bytes of an input.</summary>
    public static InputCompression Detect(ReadOnlySpan<byte> head)
    {
        if (head.Length >= 2 && head[0] == 0x1F && head[1] == 0x8B)
        {
            return InputCompression.Gzip;
        }
        if (head.Length >= 4 && head[0] == 0x28 && head[1] == 0xB5 && head[2] == 0x2F && head[3] == 0xFD)
        {
            return InputCompression.Zstd;
        }
        if (head.Length == 0)
        {
            return InputCompression.None;
        }
        byte first = head[0];
        // JSON text starts with whitespace, a BOM or a printable character; anything else is taken for brotli.
        bool text = first is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or 0xEF || (first >= 0x20 && first < 0x7F);
        return text ? InputCompression.None : InputCompression.Brotli;
    }

    /// <summary>Replays bytes already read, then continues with the rest of the inner stream.</summary>
    private sealed class PrefixedStream(ReadOnlyMemory<byte> prefix, Stream inner) : ReadOnlyStream(inner)
    {
        private ReadOnlyMemory<byte> _prefix = prefix;

        public override int Read(Span<byte> buffer)
        {
            if (!_prefix.IsEmpty)
            {
                int n = Math.Min(buffer.Length, _prefix.Length);
                _prefix.Span[..n].CopyTo(buffer);
                _prefix = _prefix[n..];
                return n;
            }
            return Inner.Read(buffer);
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!_prefix.IsEmpty)
            {
                return ValueTask.FromResult(Read(buffer.Span));
            }
            return Inner.ReadAsync(buffer, cancellationToken);
        }

    }

    /// <summary>Turns each codec's own failure (ZstdException, EndOfStreamException, ...) into InvalidDataException.</summary>
    private sealed class CodecErrorStream(Stream inner, InputCompression compression) : ReadOnlyStream(inner)
    {
        public override int Read(Span<byte> buffer)
        {
            try
            {
                return Inner.Read(buffer);
            }
            catch (Exception ex) when (IsCodecFailure(ex))
            {
                throw Translate(ex);
            }
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsCodecFailure(ex))
            {
                throw Translate(ex);
            }
        }

        private static bool IsCodecFailure(Exception ex)
            => ex is InvalidDataException or ZstdException or EndOfStreamException or InvalidOperationException;

        private InvalidDataException Translate(Exception ex) => ex is InvalidDataException data && ex.Message.Contains(Name, StringComparison.Ordinal)
            ? data
            : new InvalidDataException($"{Name} data: {ex.Message}", ex);

        private string Name => compression switch
        {
            InputCompression.Gzip => "gzip",
            InputCompression.Zstd => "zstd",
            _ => "brotli (no JSON, gzip or zstd signature either)",
        };

    }
}
