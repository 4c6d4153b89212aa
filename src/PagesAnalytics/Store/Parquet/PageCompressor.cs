namespace PagesAnalytics.Store.Parquet;

/// <summary>Compresses page bodies with one codec; one instance per file writer, reused for every page.</summary>
internal abstract class PageCompressor : IDisposable
{
    public abstract CompressionCodec Codec { get; }

    /// <summary>The most bytes <see cref="Compress"/> can produce from <paramref name="length"/> bytes.</summary>
    public abstract int MaxCompressedLength(int length);

    /// <summary>Compresses <paramref name="source"/> into <paramref name="destination"/>; returns the bytes written.</summary>
    public abstract int Compress(ReadOnlySpan<byte> source, Span<byte> destination);

    public virtual void Dispose()
    {
    }

    public static PageCompressor Create(PartCompression compression, int zstdLevel) => compression switch
    {
        PartCompression.Zstd => new ZstdPageCompressor(zstdLevel),
        PartCompression.Snappy => new SnappyPageCompressor(),
        PartCompression.None => new UncompressedPageCompressor(),
        _ => throw new ArgumentOutOfRangeException(nameof(compression), compression, "unknown compression"),
    };

    private sealed class ZstdPageCompressor(int level) : PageCompressor
    {
        // One context for the whole file: creating one per page costs more than compressing a small page.
        private readonly ZstdSharp.Compressor _compressor = new(level);

        public override CompressionCodec Codec => CompressionCodec.Zstd;

        public override int MaxCompressedLength(int length) => ZstdSharp.Compressor.GetCompressBound(length);

        public override int Compress(ReadOnlySpan<byte> source, Span<byte> destination) =>
            _compressor.Wrap(source, destination);

        public override void Dispose() => _compressor.Dispose();
    }

    private sealed class SnappyPageCompressor : PageCompressor
    {
        public override CompressionCodec Codec => CompressionCodec.Snappy;

        public override int MaxCompressedLength(int length) => Snappier.Snappy.GetMaxCompressedLength(length);

        public override int Compress(ReadOnlySpan<byte> source, Span<byte> destination) =>
            Snappier.Snappy.Compress(source, destination);
    }

    private sealed class UncompressedPageCompressor : PageCompressor
    {
        public override CompressionCodec Codec => CompressionCodec.Uncompressed;

        public override int MaxCompressedLength(int length) => length;

        public override int Compress(ReadOnlySpan<byte> source, Span<byte> destination)
        {
            source.CopyTo(destination);
            return source.Length;
        }
    }
}
