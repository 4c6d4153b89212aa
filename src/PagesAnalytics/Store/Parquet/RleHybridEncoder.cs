using System.Numerics;

namespace PagesAnalytics.Store.Parquet;

/// <summary>
/// The RLE/bit-packed hybrid encoding of Parquet: a sequence of runs, each a varint header and either one
/// repeated value (header <c>count &lt;&lt; 1</c>, value in <c>ceil(bitWidth / 8)</c> bytes) or groups of 8 values
/// packed least significant bit first (header <c>groups &lt;&lt; 1 | 1</c>). Only the last run may be padded.
/// </summary>
internal static class RleHybridEncoder
{
    // Uniform stretches shorter than this many bytes (8 values each) stay in the bit-packed run around them.
    private const int MinRleBytes = 4;

    // A run of equal dictionary indices becomes an RLE run from this length on.
    private const int MinRleValues = 8;

    /// <summary>
    /// Definition levels of bit width 1 from a validity bitmap: bit i of <paramref name="bits"/> (least significant
    /// first, bits past <paramref name="count"/> zero) is the level of row i. Because Arrow bitmaps and bit-packed
    /// runs of width 1 share their layout, bit-packed stretches are plain copies.
    /// </summary>
    public static void EncodeBitmap(ReadOnlySpan<byte> bits, int count, ByteBuffer output)
    {
        int fullBytes = count >> 3;
        int totalBytes = (count + 7) >> 3;
        int pendingStart = 0;
        int pos = 0;
        while (pos < fullBytes)
        {
            byte b = bits[pos];
            if (b is 0x00 or 0xFF)
            {
                int end = pos + 1;
                while (end < fullBytes && bits[end] == b)
                {
                    end++;
                }
                // A short stretch is still worth a run when nothing is pending before it and nothing follows it.
                if (end - pos >= MinRleBytes || (pendingStart == pos && end == totalBytes))
                {
                    WriteBitPackedBytes(bits[pendingStart..pos], output);
                    WriteRun((end - pos) * 8, b == 0xFF ? 1 : 0, output);
                    pendingStart = end;
                }
                pos = end;
                continue;
            }
            pos++;
        }
        // The rest (and a partial last byte, zero padded) as one bit-packed run: the only run that may be padded.
        WriteBitPackedBytes(bits[pendingStart..totalBytes], output);
    }

    /// <summary>One RLE run of <paramref name="count"/> levels of width 1 (all present or all null).</summary>
    public static void WriteRun(int count, int value, ByteBuffer output)
    {
        if (count == 0)
        {
            return;
        }
        output.WriteVarint((ulong)(uint)count << 1);
        output.WriteByte((byte)value);
    }

    /// <summary>
    /// Dictionary indices of width <paramref name="bitWidth"/> (at most 24): runs of equal indices as RLE runs,
    /// the rest bit-packed.
    /// </summary>
    public static void EncodeIndices(ReadOnlySpan<int> values, int bitWidth, ByteBuffer output)
    {
        int n = values.Length;
        int pendingStart = 0;
        int i = 0;
        while (i < n)
        {
            int value = values[i];
            int end = i + 1;
            while (end < n && values[end] == value)
            {
                end++;
            }
            int run = end - i;
            if (run >= MinRleValues)
            {
                // A bit-packed run holds whole groups of 8: lend it the first values of this run to fill its last group.
                int pending = i - pendingStart;
                int lend = (8 - (pending & 7)) & 7;
                if (run - lend >= MinRleValues)
                {
                    WriteBitPackedValues(values.Slice(pendingStart, pending + lend), bitWidth, output);
                    WriteValueRun(run - lend, value, bitWidth, output);
                    pendingStart = end;
                }
            }
            i = end;
        }
        WriteBitPackedValues(values[pendingStart..], bitWidth, output);
    }

    private static void WriteBitPackedBytes(ReadOnlySpan<byte> groups, ByteBuffer output)
    {
        if (groups.IsEmpty)
        {
            return;
        }
        output.WriteVarint(((ulong)(uint)groups.Length << 1) | 1);
        output.Write(groups);
    }

    private static void WriteValueRun(int count, int value, int bitWidth, ByteBuffer output)
    {
        output.WriteVarint((ulong)(uint)count << 1);
        for (int width = 0; width < bitWidth; width += 8)
        {
            output.WriteByte((byte)(value >> width));
        }
    }

    /// <summary>Values bit-packed in groups of 8; a last partial group is padded with zeros.</summary>
    private static void WriteBitPackedValues(ReadOnlySpan<int> values, int bitWidth, ByteBuffer output)
    {
        if (values.IsEmpty)
        {
            return;
        }
        int groups = (values.Length + 7) >> 3;
        output.WriteVarint(((ulong)(uint)groups << 1) | 1);
        int bytes = groups * bitWidth; // 8 values of bitWidth bits
        Span<byte> span = output.GetSpan(bytes);
        ulong accumulator = 0;
        int bits = 0;
        int written = 0;
        int padded = groups * 8;
        for (int k = 0; k < padded; k++)
        {
            uint v = k < values.Length ? (uint)values[k] : 0u;
            accumulator |= (ulong)v << bits;
            bits += bitWidth;
            while (bits >= 8)
            {
                span[written++] = (byte)accumulator;
                accumulator >>= 8;
                bits -= 8;
            }
        }
        output.Advance(written);
    }

    /// <summary>Bits needed to store indices below <paramref name="count"/>; at least 1.</summary>
    public static int BitWidthFor(int count) => count <= 2 ? 1 : 32 - BitOperations.LeadingZeroCount((uint)(count - 1));
}
