using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Apache.Arrow;
using PagesAnalytics.Schema;

namespace PagesAnalytics.Store.Parquet;

/// <summary>INT32 or INT64 values copied from the Arrow value buffer as they are (both little-endian).</summary>
internal abstract class FixedWidthEncoder<T>(PageColumn column, EncoderScratch scratch) : ColumnEncoder(column, scratch)
    where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
{
    protected override void EncodePage(Apache.Arrow.Array array, int start, int count, ColumnPages target)
    {
        ReadOnlySpan<T> values = ((PrimitiveArray<T>)array).Values.Slice(start, count);
        int present = BeginPage(array, start, count);
        int size = present * Unsafe.SizeOf<T>();
        var page = Scratch.Page;
        Span<T> destination = MemoryMarshal.Cast<byte, T>(page.GetSpan(size))[..present];
        if (present == count)
        {
            values.CopyTo(destination);
        }
        else
        {
            Compact(values, Scratch.Bits((count + 7) >> 3), destination);
        }
        page.Advance(size);

        if (present == 0)
        {
            FinishPage(target, count, count, ParquetEncoding.Plain, false, default, default);
            return;
        }
        MinMax(destination, out T min, out T max);
        long min64 = long.CreateTruncating(min);
        long max64 = long.CreateTruncating(max);
        Span<byte> minBytes = stackalloc byte[8];
        Span<byte> maxBytes = stackalloc byte[8];
        int width = WriteValue(minBytes, min);
        WriteValue(maxBytes, max);
        FinishPage(target, count, count - present, ParquetEncoding.Plain, true, minBytes[..width], maxBytes[..width]);
        target.Statistics.AddRange(min64, max64);
    }

    private static int WriteValue(Span<byte> destination, T value)
    {
        MemoryMarshal.Write(destination, in value);
        return Unsafe.SizeOf<T>();
    }

    /// <summary>Signed min and max of a non-empty span.</summary>
    private static void MinMax(ReadOnlySpan<T> values, out T min, out T max)
    {
        int i = 0;
        T lo = values[0];
        T hi = values[0];
        if (Vector.IsHardwareAccelerated && values.Length >= 2 * Vector<T>.Count)
        {
            var vectors = MemoryMarshal.Cast<T, Vector<T>>(values);
            var vmin = vectors[0];
            var vmax = vectors[0];
            for (int v = 1; v < vectors.Length; v++)
            {
                vmin = Vector.Min(vmin, vectors[v]);
                vmax = Vector.Max(vmax, vectors[v]);
            }
            for (int k = 0; k < Vector<T>.Count; k++)
            {
                if (vmin[k] < lo)
                {
                    lo = vmin[k];
                }
                if (vmax[k] > hi)
                {
                    hi = vmax[k];
                }
            }
            i = vectors.Length * Vector<T>.Count;
        }
        for (; i < values.Length; i++)
        {
            T value = values[i];
            if (value < lo)
            {
                lo = value;
            }
            if (value > hi)
            {
                hi = value;
            }
        }
        min = lo;
        max = hi;
    }
}

internal sealed class Int32Encoder(PageColumn column, EncoderScratch scratch) : FixedWidthEncoder<int>(column, scratch)
{
    public override PhysicalType PhysicalType => PhysicalType.Int32;

    public override StatisticsOrder Order => StatisticsOrder.Int32;
}

internal sealed class Int64Encoder(PageColumn column, EncoderScratch scratch) : FixedWidthEncoder<long>(column, scratch)
{
    public override PhysicalType PhysicalType => PhysicalType.Int64;

    public override StatisticsOrder Order => StatisticsOrder.Int64;
}

/// <summary>
/// Arrow microsecond timestamps stored as INT64 milliseconds (TIMESTAMP(isAdjustedToUTC, MILLIS)), rounded down,
/// as parts have stored them since Parquet.Net wrote wrong statistics for MICROS. Values outside 0001..9999 are
/// refused, as before.
/// </summary>
internal sealed class TimestampMillisEncoder(PageColumn column, EncoderScratch scratch) : ColumnEncoder(column, scratch)
{
    private const long MinMicros = -62_135_596_800_000_000; // 0001-01-01T00:00:00Z
    private const long MaxMicros = 253_402_300_799_999_999; // 9999-12-31T23:59:59.999999Z

    public override PhysicalType PhysicalType => PhysicalType.Int64;

    public override StatisticsOrder Order => StatisticsOrder.Int64;

    protected override void EncodePage(Apache.Arrow.Array array, int start, int count, ColumnPages target)
    {
        ReadOnlySpan<long> values = ((TimestampArray)array).Values.Slice(start, count);
        int present = BeginPage(array, start, count);
        var page = Scratch.Page;
        Span<long> destination = MemoryMarshal.Cast<byte, long>(page.GetSpan(present * 8))[..present];
        long min = long.MaxValue;
        long max = long.MinValue;
        if (present == count)
        {
            for (int i = 0; i < values.Length; i++)
            {
                long millis = ToMillis(values[i], start + i);
                destination[i] = millis;
                min = Math.Min(min, millis);
                max = Math.Max(max, millis);
            }
        }
        else
        {
            ReadOnlySpan<byte> bits = Scratch.Bits((count + 7) >> 3);
            int n = 0;
            for (int j = 0; j < bits.Length; j++)
            {
                uint b = bits[j];
                while (b != 0)
                {
                    int i = (j << 3) + BitOperations.TrailingZeroCount(b);
                    b &= b - 1;
                    long millis = ToMillis(values[i], start + i);
                    destination[n++] = millis;
                    min = Math.Min(min, millis);
                    max = Math.Max(max, millis);
                }
            }
        }
        page.Advance(present * 8);

        Span<byte> minBytes = stackalloc byte[8];
        Span<byte> maxBytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(minBytes, min);
        BinaryPrimitives.WriteInt64LittleEndian(maxBytes, max);
        FinishPage(target, count, count - present, ParquetEncoding.Plain, present > 0, minBytes, maxBytes);
        if (present > 0)
        {
            target.Statistics.AddRange(min, max);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long ToMillis(long micros, int row)
    {
        if ((ulong)(micros - MinMicros) > (ulong)(MaxMicros - MinMicros))
        {
            ThrowOutOfRange(Column.Name, row, micros);
        }
        // Floor, not truncation toward zero: -1 us is -1 ms.
        long millis = micros / 1000;
        return micros - millis * 1000 < 0 ? millis - 1 : millis;
    }

    [DoesNotReturn]
    private static void ThrowOutOfRange(string column, int row, long micros) =>
        throw new ArgumentException(
            $"record batch column '{column}' row {row}: timestamp {micros} us is outside 0001..9999.", "batch");
}
