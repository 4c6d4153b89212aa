using System.Buffers;
using System.Numerics;
using PagesAnalytics.Schema;

namespace PagesAnalytics.Store.Parquet;

/// <summary>
/// The compressed pages of one column for a run of rows (one segment of a row group), back to back, each a
/// Thrift page header and the compressed body, plus what the footer needs to know about them.
/// </summary>
internal sealed class ColumnPages(StatisticsOrder order)
{
    /// <summary>Page headers and compressed bodies.</summary>
    public ByteBuffer Bytes { get; } = new();

    public ChunkStatistics Statistics { get; } = new(order);

    /// <summary>Page headers plus uncompressed bodies, as total_uncompressed_size counts them.</summary>
    public long UncompressedBytes { get; set; }

    public bool HasDictionaryPages { get; set; }

    public bool HasPlainPages { get; set; }

    public void Reset()
    {
        Bytes.Clear();
        Statistics.Reset();
        UncompressedBytes = 0;
        HasDictionaryPages = false;
        HasPlainPages = false;
    }

    public void Release()
    {
        Reset();
        Bytes.Release();
        Statistics.Release();
    }
}

/// <summary>Scratch shared by the column encoders of one file: pages are encoded one at a time.</summary>
internal sealed class EncoderScratch(PageCompressor compressor) : IDisposable
{
    private byte[] _bits = [];
    private int[] _indices = [];

    public PageCompressor Compressor => compressor;

    /// <summary>The uncompressed body of the page being encoded.</summary>
    public ByteBuffer Page { get; } = new();

    /// <summary>Compressor output, copied after the page header.</summary>
    public ByteBuffer Compressed { get; } = new();

    public ThriftCompactWriter Thrift { get; } = new(new ByteBuffer());

    /// <summary>Validity of the page's rows, aligned to bit 0, valid after <see cref="ColumnEncoder"/> found nulls.</summary>
    public Span<byte> Bits(int bytes)
    {
        if (_bits.Length < bytes)
        {
            Return(ref _bits);
            _bits = ArrayPool<byte>.Shared.Rent(bytes);
        }
        return _bits.AsSpan(0, bytes);
    }

    public Span<int> Indices(int count)
    {
        if (_indices.Length < count)
        {
            Return(ref _indices);
            _indices = ArrayPool<int>.Shared.Rent(count);
        }
        return _indices.AsSpan(0, count);
    }

    public void Dispose()
    {
        Return(ref _bits);
        Return(ref _indices);
        Page.Release();
        Compressed.Release();
    }

    private static void Return<T>(ref T[] array)
    {
        if (array.Length > 0)
        {
            ArrayPool<T>.Shared.Return(array);
        }
        array = [];
    }
}

/// <summary>
/// Encodes one column of Arrow arrays into Parquet data pages (V1): definition levels for OPTIONAL columns as an
/// RLE/bit-packed hybrid of width 1 behind a 4-byte length, then the non-null values PLAIN (or dictionary indices),
/// compressed, each page with its header and statistics. Reads the Arrow buffers directly; nothing of the batch
/// is kept once a page is encoded.
/// </summary>
internal abstract class ColumnEncoder
{
    /// <summary>Most rows per page.</summary>
    public const int MaxPageRows = 64 * 1024;

    protected ColumnEncoder(PageColumn column, EncoderScratch scratch)
    {
        Column = column;
        Scratch = scratch;
    }

    public PageColumn Column { get; }

    protected EncoderScratch Scratch { get; }

    public abstract PhysicalType PhysicalType { get; }

    public abstract StatisticsOrder Order { get; }

    /// <summary>The dictionary of the column's RLE_DICTIONARY pages, null while there are none.</summary>
    public virtual Utf8Dictionary? Dictionary => null;

    public static ColumnEncoder Create(PageColumn column, EncoderScratch scratch) => column.Kind switch
    {
        ColumnKind.Utf8 => new Utf8Encoder(column, scratch),
        ColumnKind.Int32 => new Int32Encoder(column, scratch),
        ColumnKind.Int64 => new Int64Encoder(column, scratch),
        ColumnKind.Timestamp => new TimestampMillisEncoder(column, scratch),
        _ => throw new InvalidOperationException($"unknown kind {column.Kind}"),
    };

    /// <summary>Appends pages holding rows [<paramref name="start"/>, +<paramref name="count"/>) of <paramref name="array"/> to <paramref name="target"/>.</summary>
    public void Encode(Apache.Arrow.Array array, int start, int count, ColumnPages target)
    {
        while (count > 0)
        {
            int rows = NextPageRows(array, start, count);
            EncodePage(array, start, rows, target);
            start += rows;
            count -= rows;
        }
    }

    /// <summary>Called after a row group is written; releases what no pending page needs.</summary>
    public virtual void RowGroupWritten(bool dictionaryPagesPending)
    {
    }

    public virtual void Release()
    {
    }

    protected virtual int NextPageRows(Apache.Arrow.Array array, int start, int count) => Math.Min(count, MaxPageRows);

    protected abstract void EncodePage(Apache.Arrow.Array array, int start, int count, ColumnPages target);

    /// <summary>
    /// Starts a page body: clears the scratch page and, for an OPTIONAL column, writes the definition levels. Returns
    /// the number of non-null rows; when it is less than <paramref name="count"/>, <see cref="EncoderScratch.Bits"/>
    /// holds the page's validity aligned to bit 0.
    /// </summary>
    protected int BeginPage(Apache.Arrow.Array array, int start, int count)
    {
        var page = Scratch.Page;
        page.Clear();
        if (!Column.Nullable)
        {
            return count;
        }
        int lengthAt = page.Length;
        page.WriteInt32LittleEndian(0);
        int present = count;
        if (array.NullCount == 0 || array.NullBitmapBuffer.IsEmpty)
        {
            RleHybridEncoder.WriteRun(count, 1, page);
        }
        else
        {
            int bytes = (count + 7) >> 3;
            Span<byte> bits = Scratch.Bits(bytes);
            CopyBits(array.NullBitmapBuffer.Span, array.Offset + start, count, bits);
            present = PopCount(bits);
            if (present == count)
            {
                RleHybridEncoder.WriteRun(count, 1, page);
            }
            else if (present == 0)
            {
                RleHybridEncoder.WriteRun(count, 0, page);
            }
            else
            {
                RleHybridEncoder.EncodeBitmap(bits, count, page);
            }
        }
        page.PatchInt32LittleEndian(lengthAt, page.Length - lengthAt - 4);
        return present;
    }

    /// <summary>
    /// Compresses the scratch page and appends header + body to <paramref name="target"/>; folds the page's
    /// statistics into the target's.
    /// </summary>
    protected void FinishPage(ColumnPages target, int rows, int nullCount, ParquetEncoding encoding, bool hasMinMax,
        ReadOnlySpan<byte> min, ReadOnlySpan<byte> max)
    {
        ReadOnlySpan<byte> body = Scratch.Page.WrittenSpan;
        var compressor = Scratch.Compressor;
        ReadOnlySpan<byte> compressed = body;
        if (compressor.Codec != CompressionCodec.Uncompressed)
        {
            Span<byte> destination = Scratch.Compressed.GetSpan(compressor.MaxCompressedLength(body.Length));
            compressed = destination[..compressor.Compress(body, destination)];
        }

        var output = target.Bytes;
        int headerStart = output.Length;
        var thrift = Scratch.Thrift;
        thrift.Retarget(output);
        thrift.BeginStruct();
        thrift.I32Field(ThriftField.PageHeader.Type, (int)PageType.DataPage);
        thrift.I32Field(ThriftField.PageHeader.UncompressedPageSize, body.Length);
        thrift.I32Field(ThriftField.PageHeader.CompressedPageSize, compressed.Length);
        thrift.StructField(ThriftField.PageHeader.DataPageHeader);
        thrift.I32Field(ThriftField.DataPageHeader.NumValues, rows);
        thrift.I32Field(ThriftField.DataPageHeader.Encoding, (int)encoding);
        thrift.I32Field(ThriftField.DataPageHeader.DefinitionLevelEncoding, (int)ParquetEncoding.Rle);
        thrift.I32Field(ThriftField.DataPageHeader.RepetitionLevelEncoding, (int)ParquetEncoding.Rle);
        // Readers such as Parquet.Net take num_values - null_count as the page's value count when page statistics
        // are present, so null_count is always written.
        ChunkStatistics.Write(thrift, ThriftField.DataPageHeader.Statistics, nullCount, hasMinMax, min, max);
        thrift.EndStruct();
        thrift.EndStruct();
        int headerLength = output.Length - headerStart;
        output.Write(compressed);

        target.UncompressedBytes += headerLength + body.Length;
        target.Statistics.AddNulls(nullCount);
        if (encoding == ParquetEncoding.RleDictionary)
        {
            target.HasDictionaryPages = true;
        }
        else
        {
            target.HasPlainPages = true;
        }
    }

    /// <summary>Copies <paramref name="count"/> bits starting at bit <paramref name="bitOffset"/>; bits past count are zero.</summary>
    private static void CopyBits(ReadOnlySpan<byte> bitmap, int bitOffset, int count, Span<byte> destination)
    {
        int bytes = (count + 7) >> 3;
        int first = bitOffset >> 3;
        int shift = bitOffset & 7;
        if (shift == 0)
        {
            bitmap.Slice(first, bytes).CopyTo(destination);
        }
        else
        {
            int last = bitmap.Length - 1;
            for (int j = 0; j < bytes; j++)
            {
                int at = first + j;
                int low = bitmap[at] >> shift;
                int high = at < last ? bitmap[at + 1] << (8 - shift) : 0;
                destination[j] = (byte)(low | high);
            }
        }
        int tail = count & 7;
        if (tail != 0)
        {
            destination[bytes - 1] &= (byte)((1 << tail) - 1);
        }
    }

    private static int PopCount(ReadOnlySpan<byte> bits)
    {
        int count = 0;
        int i = 0;
        for (; i + 8 <= bits.Length; i += 8)
        {
            count += BitOperations.PopCount(System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bits[i..]));
        }
        for (; i < bits.Length; i++)
        {
            count += BitOperations.PopCount(bits[i]);
        }
        return count;
    }

    /// <summary>Copies the values whose bit is set, in order; returns how many.</summary>
    protected static int Compact<T>(ReadOnlySpan<T> values, ReadOnlySpan<byte> bits, Span<T> destination)
    {
        int n = 0;
        for (int j = 0; j < bits.Length; j++)
        {
            uint b = bits[j];
            if (b == 0)
            {
                continue;
            }
            int at = j << 3;
            if (b == 0xFF)
            {
                values.Slice(at, 8).CopyTo(destination[n..]);
                n += 8;
                continue;
            }
            while (b != 0)
            {
                destination[n++] = values[at + BitOperations.TrailingZeroCount(b)];
                b &= b - 1;
            }
        }
        return n;
    }
}
