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
        int mask = _buckets.Length - 1;
        int slot = hash & mask;
        while (true)
        {
            int entry = _buckets[slot] - 1;
            if (entry < 0)
            {
                break;
            }
            if (_hashes[entry] == hash && Entry(entry).SequenceEqual(value))
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
        _buckets[slot] = index + 1;
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

    private static int Hash(ReadOnlySpan<byte> value)
    {
        var hash = new HashCode();
        hash.AddBytes(value);
        return hash.ToHashCode();
    }
}
