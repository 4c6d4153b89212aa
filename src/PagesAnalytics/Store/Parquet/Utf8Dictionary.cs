using System.Buffers.Binary;

namespace PagesAnalytics.Store.Parquet;

/// <summary>
/// The distinct values of a string column, in first-seen order, kept PLAIN-encoded (4-byte length + bytes) so the
/// buffer is the dictionary page body as is. Bounded: <see cref="GetOrAdd"/> refuses a value past
/// <see cref="MaxEntries"/> entries or <see cref="MaxBytes"/> bytes and the column falls back to PLAIN.
/// </summary>
/// <remarks>
/// One dictionary serves the whole file, not one column chunk: pages are encoded as batches arrive, before it is
/// known which row group they end up in (a short tail joins the previous group), so every chunk's dictionary page
/// is the dictionary as it stands when the chunk is written — a superset of the indices its pages use.
/// </remarks>
internal sealed class Utf8Dictionary
{
    public const int MaxEntries = 1024;
    public const int MaxBytes = 128 * 1024;

    // Open addressing, linear probing; entry index + 1, 0 = empty. Twice the entries keeps probes short.
    private readonly int[] _buckets = new int[2 * MaxEntries];
    private readonly int[] _starts = new int[MaxEntries];
    private readonly int[] _lengths = new int[MaxEntries];
    private readonly int[] _hashes = new int[MaxEntries];
    private readonly ByteBuffer _plain = new();

    public int Count { get; private set; }

    /// <summary>The dictionary page body: every entry PLAIN-encoded, in index order.</summary>
    public ReadOnlySpan<byte> PlainBytes => _plain.WrittenSpan;

    public ReadOnlySpan<byte> Entry(int index) => _plain.WrittenSpan.Slice(_starts[index], _lengths[index]);

    /// <summary>The index of <paramref name="value"/>, added if new; -1 when the dictionary is full.</summary>
    public int GetOrAdd(ReadOnlySpan<byte> value)
    {
        int hash = Hash(value);
        int[] buckets = _buckets;
        int mask = buckets.Length - 1;
        int slot = hash & mask;
        ReadOnlySpan<byte> plain = _plain.WrittenSpan;
        while (true)
        {
            int entry = buckets[slot] - 1;
            if (entry < 0)
            {
                break;
            }
            if (_hashes[entry] == hash && _lengths[entry] == value.Length
                && plain.Slice(_starts[entry], value.Length).SequenceEqual(value))
            {
                return entry;
            }
            slot = (slot + 1) & mask;
        }
        if (Count == MaxEntries || _plain.Length + 4 + value.Length > MaxBytes)
        {
            return -1;
        }
        int index = Count++;
        _plain.WriteInt32LittleEndian(value.Length);
        _starts[index] = _plain.Length;
        _lengths[index] = value.Length;
        _hashes[index] = hash;
        _plain.Write(value);
        buckets[slot] = index + 1;
        return index;
    }

    /// <summary>Drops the entries from <paramref name="count"/> on (added by a page that fell back to PLAIN).</summary>
    public void TruncateTo(int count)
    {
        if (count >= Count)
        {
            return;
        }
        // Removing single entries would break linear-probing chains: rebuild the table from the survivors.
        int mask = _buckets.Length - 1;
        Array.Clear(_buckets);
        _plain.Truncate(count == 0 ? 0 : _starts[count - 1] + _lengths[count - 1]);
        Count = count;
        for (int entry = 0; entry < count; entry++)
        {
            int slot = _hashes[entry] & mask;
            while (_buckets[slot] != 0)
            {
                slot = (slot + 1) & mask;
            }
            _buckets[slot] = entry + 1;
        }
    }

    public void Release()
    {
        Count = 0;
        Array.Clear(_buckets);
        _plain.Release();
    }

    /// <summary>
    /// A quick hash for the short values dictionaries hold: the first and last 8 (or 4) bytes and the length,
    /// with every 8 bytes in between folded in; collisions only cost a comparison.
    /// </summary>
    private static int Hash(ReadOnlySpan<byte> value)
    {
        int n = value.Length;
        ulong a;
        ulong b;
        if (n >= 8)
        {
            a = BinaryPrimitives.ReadUInt64LittleEndian(value);
            b = BinaryPrimitives.ReadUInt64LittleEndian(value[(n - 8)..]);
            for (int i = 8; i < n - 8; i += 8)
            {
                a = (a ^ BinaryPrimitives.ReadUInt64LittleEndian(value[i..])) * 0x9E3779B97F4A7C15;
            }
        }
        else if (n >= 4)
        {
            a = BinaryPrimitives.ReadUInt32LittleEndian(value);
            b = BinaryPrimitives.ReadUInt32LittleEndian(value[(n - 4)..]);
        }
        else
        {
            a = n == 0 ? 0 : value[0] | ((ulong)value[n >> 1] << 8) | ((ulong)value[n - 1] << 16);
            b = 0;
        }
        ulong h = (a * 0x9E3779B97F4A7C15) ^ (b * 0xC2B2AE3D27D4EB4F) ^ ((ulong)(uint)n * 0x165667B19E3779F9);
        h ^= h >> 29;
        h *= 0xBF58476D1CE4E5B9;
        h ^= h >> 32;
        return (int)h;
    }
}
