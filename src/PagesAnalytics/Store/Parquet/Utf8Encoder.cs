using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Text.Unicode;
using Apache.Arrow;
using PagesAnalytics.Schema;

namespace PagesAnalytics.Store.Parquet;

/// <summary>
/// UTF-8 strings as BYTE_ARRAY, straight from the Arrow offsets and bytes. Tries a dictionary first
/// (RLE_DICTIONARY pages) and falls back to PLAIN for good once the column has too many distinct values.
/// </summary>
internal sealed class Utf8Encoder(PageColumn column, EncoderScratch scratch) : ColumnEncoder(column, scratch)
{
    /// <summary>Most value bytes per page (a single longer value still gets a page of its own).</summary>
    public const int MaxPageBytes = 1 << 20;

    private Utf8Dictionary? _dictionary = new();
    private bool _dictionaryFull;
    private readonly ulong[] _used = new ulong[Utf8Dictionary.MaxEntries / 64];

    public override PhysicalType PhysicalType => PhysicalType.ByteArray;

    public override StatisticsOrder Order => StatisticsOrder.Bytes;

    public override Utf8Dictionary? Dictionary => _dictionary is { Count: > 0 } dictionary ? dictionary : null;

    public override void RowGroupWritten(bool dictionaryPagesPending)
    {
        if (_dictionaryFull && !dictionaryPagesPending && _dictionary is not null)
        {
            _dictionary.Release();
            _dictionary = null;
        }
    }

    public override void Release()
    {
        _dictionary?.Release();
        _dictionary = null;
    }

    protected override int NextPageRows(Apache.Arrow.Array array, int start, int count)
    {
        count = Math.Min(count, MaxPageRows);
        ReadOnlySpan<int> offsets = ((StringArray)array).ValueOffsets.Slice(start, count + 1);
        int first = offsets[0];
        if (offsets[count] - first <= MaxPageBytes)
        {
            return count;
        }
        // The most rows whose bytes fit, at least one.
        int lo = 1;
        int hi = count;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) >>> 1;
            if (offsets[mid] - first <= MaxPageBytes)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return lo;
    }

    protected override void EncodePage(Apache.Arrow.Array array, int start, int count, ColumnPages target)
    {
        var strings = (StringArray)array;
        ReadOnlySpan<int> offsets = strings.ValueOffsets.Slice(start, count + 1);
        ReadOnlySpan<byte> data = strings.Values;
        int present = BeginPage(array, start, count);
        ValidateUtf8(offsets, data, present == count ? default : Scratch.Bits((count + 7) >> 3), start);

        if (present == 0)
        {
            FinishPage(target, count, count, ParquetEncoding.Plain, false, default, default);
            return;
        }
        if (!_dictionaryFull && TryEncodeDictionaryPage(offsets, data, count, present, target))
        {
            return;
        }
        EncodePlainPage(offsets, data, count, present, target);
    }

    private void EncodePlainPage(ReadOnlySpan<int> offsets, ReadOnlySpan<byte> data, int count, int present,
        ColumnPages target)
    {
        var page = Scratch.Page;
        // Null slots normally hold no bytes; if they do, this only overestimates.
        Span<byte> output = page.GetSpan(4 * present + (offsets[count] - offsets[0]));
        bool dense = present == count;
        ReadOnlySpan<byte> bits = dense ? default : Scratch.Bits((count + 7) >> 3);
        int written = 0;
        int minStart = -1, minLength = 0, maxStart = 0, maxLength = 0;
        for (int i = 0; i < count; i++)
        {
            if (!dense && (bits[i >> 3] & (1 << (i & 7))) == 0)
            {
                continue;
            }
            int from = offsets[i];
            int length = offsets[i + 1] - from;
            ReadOnlySpan<byte> value = data.Slice(from, length);
            BinaryPrimitives.WriteInt32LittleEndian(output[written..], length);
            value.CopyTo(output[(written + 4)..]);
            written += 4 + length;
            if (minStart < 0)
            {
                minStart = maxStart = from;
                minLength = maxLength = length;
            }
            else if (value.SequenceCompareTo(data.Slice(minStart, minLength)) < 0)
            {
                minStart = from;
                minLength = length;
            }
            else if (value.SequenceCompareTo(data.Slice(maxStart, maxLength)) > 0)
            {
                maxStart = from;
                maxLength = length;
            }
        }
        page.Advance(written);

        ReadOnlySpan<byte> min = data.Slice(minStart, minLength);
        ReadOnlySpan<byte> max = data.Slice(maxStart, maxLength);
        FinishPage(target, count, count - present, ParquetEncoding.Plain, true, min, max);
        target.Statistics.AddRange(min, max);
    }

    /// <summary>
    /// Encodes the page as dictionary indices; false (nothing written past the levels, dictionary as before) when
    /// the dictionary overflows, which retires it for the rest of the file.
    /// </summary>
    private bool TryEncodeDictionaryPage(ReadOnlySpan<int> offsets, ReadOnlySpan<byte> data, int count, int present,
        ColumnPages target)
    {
        var dictionary = _dictionary!;
        int countBefore = dictionary.Count;
        Span<int> indices = Scratch.Indices(present);
        Span<ulong> used = _used;
        used.Clear();
        bool dense = present == count;
        ReadOnlySpan<byte> bits = dense ? default : Scratch.Bits((count + 7) >> 3);
        int previousFrom = -1, previousLength = 0, previousIndex = 0;
        int n = 0;
        for (int i = 0; i < count; i++)
        {
            if (!dense && (bits[i >> 3] & (1 << (i & 7))) == 0)
            {
                continue;
            }
            int from = offsets[i];
            int length = offsets[i + 1] - from;
            ReadOnlySpan<byte> value = data.Slice(from, length);
            int index;
            // Neighbouring rows often repeat a value: skip the hash lookup.
            if (previousFrom >= 0 && value.SequenceEqual(data.Slice(previousFrom, previousLength)))
            {
                index = previousIndex;
            }
            else
            {
                index = dictionary.GetOrAdd(value);
                if (index < 0)
                {
                    RetireDictionary(countBefore);
                    return false;
                }
                previousFrom = from;
                previousLength = length;
                previousIndex = index;
            }
            indices[n++] = index;
            used[index >> 6] |= 1UL << index;
        }

        var page = Scratch.Page;
        int bitWidth = RleHybridEncoder.BitWidthFor(dictionary.Count);
        page.WriteByte((byte)bitWidth);
        RleHybridEncoder.EncodeIndices(indices[..n], bitWidth, page);

        // Min/max over the distinct entries the page uses, not over every row.
        int minIndex = -1, maxIndex = -1;
        for (int word = 0; word < used.Length; word++)
        {
            ulong w = used[word];
            while (w != 0)
            {
                int index = (word << 6) + BitOperations.TrailingZeroCount(w);
                w &= w - 1;
                ReadOnlySpan<byte> entry = dictionary.Entry(index);
                if (minIndex < 0)
                {
                    minIndex = maxIndex = index;
                }
                else if (entry.SequenceCompareTo(dictionary.Entry(minIndex)) < 0)
                {
                    minIndex = index;
                }
                else if (entry.SequenceCompareTo(dictionary.Entry(maxIndex)) > 0)
                {
                    maxIndex = index;
                }
            }
        }
        ReadOnlySpan<byte> min = dictionary.Entry(minIndex);
        ReadOnlySpan<byte> max = dictionary.Entry(maxIndex);
        FinishPage(target, count, count - present, ParquetEncoding.RleDictionary, true, min, max);
        target.Statistics.AddRange(min, max);
        return true;
    }

    private void RetireDictionary(int keep)
    {
        _dictionaryFull = true;
        // Earlier pages still waiting for their row group keep their indices; the overflowing page's entries go.
        _dictionary!.TruncateTo(keep);
        if (keep == 0)
        {
            _dictionary.Release();
            _dictionary = null;
        }
    }

    /// <summary>
    /// Rejects a non-null value that is not valid UTF-8 (as the UTF-16 conversion of the previous writer did). Fast
    /// path: the page's bytes are valid as a whole and every value starts on a character boundary.
    /// </summary>
    private void ValidateUtf8(ReadOnlySpan<int> offsets, ReadOnlySpan<byte> data, ReadOnlySpan<byte> bits, int start)
    {
        int count = offsets.Length - 1;
        int end = offsets[count];
        if (Utf8.IsValid(data[offsets[0]..end]))
        {
            bool boundaries = true;
            for (int i = 1; i < count; i++)
            {
                int at = offsets[i];
                if (at < end && (data[at] & 0xC0) == 0x80)
                {
                    boundaries = false;
                    break;
                }
            }
            if (boundaries)
            {
                return;
            }
        }
        for (int i = 0; i < count; i++)
        {
            if (!bits.IsEmpty && (bits[i >> 3] & (1 << (i & 7))) == 0)
            {
                continue;
            }
            if (!Utf8.IsValid(data[offsets[i]..offsets[i + 1]]))
            {
                ThrowInvalidUtf8(Column.Name, start + i);
            }
        }
    }

    [DoesNotReturn]
    private static void ThrowInvalidUtf8(string column, int row) =>
        throw new ArgumentException($"record batch column '{column}' row {row}: the value is not valid UTF-8.", "batch");
}
