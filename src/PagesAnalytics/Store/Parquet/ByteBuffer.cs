using System.Buffers;
using System.Buffers.Binary;

namespace PagesAnalytics.Store.Parquet;

/// <summary>
/// A growable byte buffer over one array rented from <see cref="ArrayPool{T}.Shared"/>. Reused for the life of a
/// writer (<see cref="Clear"/> keeps the array), returned by <see cref="Release"/>.
/// </summary>
internal sealed class ByteBuffer
{
    private byte[] _array = [];
    private int _length;

    /// <summary>Bytes written.</summary>
    public int Length => _length;

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _array.AsSpan(0, _length);

    /// <summary>The bytes written so far, for stream writes.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _array.AsMemory(0, _length);

    /// <summary>Forgets the bytes but keeps the array.</summary>
    public void Clear() => _length = 0;

    /// <summary>Drops the bytes after <paramref name="length"/>.</summary>
    public void Truncate(int length)
    {
        if ((uint)length > (uint)_length)
        {
            throw new ArgumentOutOfRangeException(nameof(length));
        }
        _length = length;
    }

    /// <summary>A span of at least <paramref name="size"/> bytes after the written ones; commit with <see cref="Advance"/>.</summary>
    public Span<byte> GetSpan(int size)
    {
        if (_array.Length - _length < size)
        {
            Grow(size);
        }
        return _array.AsSpan(_length);
    }

    public void Advance(int count)
    {
        if ((uint)count > (uint)(_array.Length - _length))
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }
        _length += count;
    }

    public void WriteByte(byte value)
    {
        if (_length == _array.Length)
        {
            Grow(1);
        }
        _array[_length++] = value;
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        _length += bytes.Length;
    }

    public void WriteInt32LittleEndian(int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(GetSpan(4), value);
        _length += 4;
    }

    /// <summary>Overwrites 4 bytes already written at <paramref name="position"/>.</summary>
    public void PatchInt32LittleEndian(int position, int value) =>
        BinaryPrimitives.WriteInt32LittleEndian(_array.AsSpan(position, 4), value);

    /// <summary>Unsigned LEB128, as Thrift compact and the RLE/bit-packed hybrid headers use.</summary>
    public void WriteVarint(ulong value)
    {
        Span<byte> span = GetSpan(10);
        int n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[n++] = (byte)value;
        _length += n;
    }

    /// <summary>Returns the array to the pool; the buffer is empty and usable again afterwards.</summary>
    public void Release()
    {
        var array = _array;
        _array = [];
        _length = 0;
        if (array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    private void Grow(int size)
    {
        long needed = (long)_length + size;
        if (needed > Array.MaxLength)
        {
            throw new OutOfMemoryException($"a Parquet buffer would exceed {Array.MaxLength} bytes.");
        }
        int newSize = (int)Math.Min(Array.MaxLength, Math.Max(needed, Math.Max(4096L, 2L * _array.Length)));
        var grown = ArrayPool<byte>.Shared.Rent(newSize);
        _array.AsSpan(0, _length).CopyTo(grown);
        if (_array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
        }
        _array = grown;
    }
}
