using System.Numerics;
using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.Memory;
using PagesAnalytics.Schema;

namespace PagesAnalytics.Ingest;

/// <summary>
/// Collects rows column by column in reusable byte buffers and turns them into Arrow record batches of
/// <see cref="PagesSchema.ArrowSchema"/>. Values of the current row are set in any order, at most once each
/// in effect (a repeated key overwrites); columns not set by <see cref="EndRow"/> are NULL.
/// </summary>
internal sealed class PageBatchBuilder
{
    private const int InitialStringBytesPerRow = 32;

    /// <summary>Rows the arrays are made for at first; they double as rows come, up to the capacity.</summary>
    internal const int InitialRows = 1024;

    private readonly int _capacity;
    private readonly int _sourceId;
    private readonly ColumnKind[] _kinds;
    private readonly byte[][] _values;     // fixed-width little-endian values, per API column (empty for strings)
    private readonly byte[][] _validity;   // Arrow validity bitmaps, per API column
    private readonly int[][] _offsets;     // string columns: room + 1 offsets
    private readonly byte[][] _data;       // string columns: UTF-8 bytes
    private long[] _ordinals;
    private int[] _sourceIds;
    private readonly ArrowBuffer.Builder<byte> _staging = new(1 << 16);
    private int _stringsSet;               // bit per column: string value set for the current row
    private int _count;
    private int _room;                     // rows the arrays hold now (<= _capacity)

    public PageBatchBuilder(int capacity, int sourceId)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _sourceId = sourceId;
        // A response of a thousand rows (archives hold thousands of them) should not pay for a 65,536-row batch
        // (28 MB, zero-filled by the runtime): start small and grow.
        _room = Math.Min(capacity, InitialRows);
        _kinds = new ColumnKind[PagesSchema.ApiColumnCount];
        _values = new byte[PagesSchema.ApiColumnCount][];
        _validity = new byte[PagesSchema.ApiColumnCount][];
        _offsets = new int[PagesSchema.ApiColumnCount][];
        _data = new byte[PagesSchema.ApiColumnCount][];
        for (int c = 0; c < PagesSchema.ApiColumnCount; c++)
        {
            var kind = PagesSchema.Columns[c].Kind;
            _kinds[c] = kind;
            _validity[c] = new byte[(_room + 7) / 8];
            switch (kind)
            {
                case ColumnKind.Utf8:
                    _values[c] = [];
                    _offsets[c] = new int[_room + 1];
                    _data[c] = new byte[Math.Max(1024, _room * InitialStringBytesPerRow)];
                    break;
                case ColumnKind.Int32:
                    _values[c] = new byte[_room * sizeof(int)];
                    _offsets[c] = [];
                    _data[c] = [];
                    break;
                default:
                    _values[c] = new byte[_room * sizeof(long)];
                    _offsets[c] = [];
                    _data[c] = [];
                    break;
            }
        }
        _ordinals = new long[_room];
        _sourceIds = new int[_room];
    }

    /// <summary>Rows completed in the current batch.</summary>
    public int Count => _count;

    /// <summary>True when the batch holds <c>capacity</c> rows.</summary>
    public bool IsFull => _count == _capacity;

    /// <summary>Sets a 32-bit column of the current row.</summary>
    public void SetInt32(int column, int value)
    {
        MemoryMarshal.Cast<byte, int>(_values[column].AsSpan())[_count] = value;
        SetValid(column);
    }

    /// <summary>Sets a 64-bit or timestamp column of the current row.</summary>
    public void SetInt64(int column, long value)
    {
        MemoryMarshal.Cast<byte, long>(_values[column].AsSpan())[_count] = value;
        SetValid(column);
    }

    /// <summary>Sets a string column of the current row from UTF-8 bytes.</summary>
    public void SetString(int column, ReadOnlySpan<byte> utf8)
    {
        var offsets = _offsets[column];
        int start = offsets[_count];
        int end = start + utf8.Length;
        var data = _data[column];
        if (end > data.Length)
        {
            data = GrowData(column, end);
        }
        utf8.CopyTo(data.AsSpan(start));
        offsets[_count + 1] = end;
        _stringsSet |= 1 << column;
        SetValid(column);
    }

    /// <summary>Sets a column of the current row to NULL (JSON null, or a sentinel).</summary>
    public void SetNull(int column)
    {
        _validity[column][_count >> 3] &= (byte)~(1 << (_count & 7));
        if (_kinds[column] == ColumnKind.Utf8)
        {
            var offsets = _offsets[column];
            offsets[_count + 1] = offsets[_count];
            _stringsSet |= 1 << column;
        }
    }

    /// <summary>True when the current row has a non-null value in the column.</summary>
    public bool IsSet(int column) => (_validity[column][_count >> 3] & (1 << (_count & 7))) != 0;

    /// <summary>Completes the current row; columns never set stay NULL.</summary>
    public void EndRow(long ordinal)
    {
        if (_stringsSet != StringColumnMask)
        {
            for (int c = 0; c < PagesSchema.ApiColumnCount; c++)
            {
                if (_kinds[c] == ColumnKind.Utf8 && (_stringsSet & (1 << c)) == 0)
                {
                    var offsets = _offsets[c];
                    offsets[_count + 1] = offsets[_count];
                }
            }
        }
        _stringsSet = 0;
        _ordinals[_count] = ordinal;
        _count++;
        if (_count == _room && _room < _capacity)
        {
            Grow();
        }
    }

    /// <summary>Doubles the rows the arrays hold (at most to the capacity), keeping the rows so far.</summary>
    private void Grow()
    {
        int room = (int)Math.Min(_capacity, (long)_room * 2);
        for (int c = 0; c < PagesSchema.ApiColumnCount; c++)
        {
            var validity = new byte[(room + 7) / 8];
            _validity[c].CopyTo(validity, 0);
            _validity[c] = validity;
            switch (_kinds[c])
            {
                case ColumnKind.Utf8:
                    var offsets = new int[room + 1];
                    _offsets[c].CopyTo(offsets, 0);
                    _offsets[c] = offsets;
                    break;
                case ColumnKind.Int32:
                    _values[c] = Grown(_values[c], room * sizeof(int));
                    break;
                default:
                    _values[c] = Grown(_values[c], room * sizeof(long));
                    break;
            }
        }
        System.Array.Resize(ref _ordinals, room);
        System.Array.Resize(ref _sourceIds, room);
        _room = room;
    }

    private static byte[] Grown(byte[] old, int length)
    {
        var grown = new byte[length];
        old.CopyTo(grown, 0);
        return grown;
    }

    /// <summary>Discards the values set so far for the current row.</summary>
    public void AbandonRow()
    {
        for (int c = 0; c < PagesSchema.ApiColumnCount; c++)
        {
            _validity[c][_count >> 3] &= (byte)~(1 << (_count & 7));
        }
        _stringsSet = 0;
    }

    /// <summary>Builds a batch of the completed rows (pooled memory, owned by the caller, who disposes it) and starts a new one.</summary>
    public RecordBatch Build()
    {
        int rows = _count;
        var allocator = PooledBatchAllocator.Instance;
        var arrays = new IArrowArray[PagesSchema.Columns.Count];
        for (int c = 0; c < PagesSchema.ApiColumnCount; c++)
        {
            int validBytes = (rows + 7) / 8;
            var validitySpan = _validity[c].AsSpan(0, validBytes);
            int nulls = rows - PopCount(validitySpan, rows);
            var validity = nulls == 0 ? ArrowBuffer.Empty : Copy(validitySpan, allocator);
            arrays[c] = _kinds[c] switch
            {
                ColumnKind.Utf8 => new StringArray(rows,
                    Copy(MemoryMarshal.AsBytes(_offsets[c].AsSpan(0, rows + 1)), allocator),
                    Copy(_data[c].AsSpan(0, _offsets[c][rows]), allocator), validity, nulls, 0),
                ColumnKind.Int32 => new Int32Array(Copy(_values[c].AsSpan(0, rows * sizeof(int)), allocator),
                    validity, rows, nulls, 0),
                ColumnKind.Int64 => new Int64Array(Copy(_values[c].AsSpan(0, rows * sizeof(long)), allocator),
                    validity, rows, nulls, 0),
                _ => new TimestampArray(PagesSchema.TimestampType,
                    Copy(_values[c].AsSpan(0, rows * sizeof(long)), allocator), validity, rows, nulls, 0),
            };
        }

        _sourceIds.AsSpan(0, rows).Fill(_sourceId);
        arrays[PagesSchema.SourceIdIndex] = new Int32Array(
            Copy(MemoryMarshal.AsBytes(_sourceIds.AsSpan(0, rows)), allocator), ArrowBuffer.Empty, rows, 0, 0);
        arrays[PagesSchema.RowOrdinalIndex] = new Int64Array(
            Copy(MemoryMarshal.AsBytes(_ordinals.AsSpan(0, rows)), allocator), ArrowBuffer.Empty, rows, 0, 0);

        Reset();
        return new RecordBatch(PagesSchema.ArrowSchema, arrays, rows);
    }

    private static readonly int StringColumnMask = ComputeStringMask();

    private static int ComputeStringMask()
    {
        int mask = 0;
        for (int c = 0; c < PagesSchema.ApiColumnCount; c++)
        {
            if (PagesSchema.Columns[c].Kind == ColumnKind.Utf8)
            {
                mask |= 1 << c;
            }
        }
        return mask;
    }

    /// <summary>Drops every value set so far and starts an empty batch.</summary>
    public void Clear() => Reset();

    private void Reset()
    {
        for (int c = 0; c < PagesSchema.ApiColumnCount; c++)
        {
            System.Array.Clear(_validity[c]);
        }
        _count = 0;
        _stringsSet = 0;
    }

    private void SetValid(int column) => _validity[column][_count >> 3] |= (byte)(1 << (_count & 7));

    private byte[] GrowData(int column, int needed)
    {
        var old = _data[column];
        long size = Math.Max((long)old.Length * 2, needed);
        if (size > System.Array.MaxLength)
        {
            // One Arrow string column of one batch is limited to 2 GiB by its int32 offsets.
            throw new InvalidOperationException("string data of one batch exceeds 2 GiB; use a smaller batch size");
        }
        var grown = new byte[size];
        old.AsSpan(0, _offsets[column][_count]).CopyTo(grown);
        _data[column] = grown;
        return grown;
    }

    /// <summary>Copies into pooled memory (given back when the batch is disposed) via one reused staging builder.</summary>
    private ArrowBuffer Copy(ReadOnlySpan<byte> source, MemoryAllocator allocator)
    {
        // A fresh builder per buffer would allocate a large managed array per column per batch (LOH churn).
        // Resize(0), not Clear(): Clear zero-fills what was appended before, which the next Append overwrites anyway.
        var staging = _staging.Resize(0);
        return staging.Append(source).Build(allocator);
    }

    private static int PopCount(ReadOnlySpan<byte> bitmap, int rows)
    {
        int count = 0;
        int fullBytes = rows / 8;
        var words = MemoryMarshal.Cast<byte, ulong>(bitmap[..(fullBytes / 8 * 8)]);
        foreach (var word in words)
        {
            count += BitOperations.PopCount(word);
        }
        for (int i = words.Length * 8; i < fullBytes; i++)
        {
            count += BitOperations.PopCount(bitmap[i]);
        }
        int tail = rows & 7;
        if (tail != 0)
        {
            count += BitOperations.PopCount((uint)(bitmap[fullBytes] & ((1 << tail) - 1)));
        }
        return count;
    }
}
