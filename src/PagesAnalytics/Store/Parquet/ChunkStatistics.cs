using System.Buffers.Binary;

namespace PagesAnalytics.Store.Parquet;

/// <summary>How min/max compare: the column order Parquet defines for the column's type (TypeDefinedOrder).</summary>
internal enum StatisticsOrder
{
    /// <summary>INT32, signed.</summary>
    Int32,
    /// <summary>INT64 (also TIMESTAMP), signed.</summary>
    Int64,
    /// <summary>BYTE_ARRAY (UTF-8 strings), unsigned byte-wise.</summary>
    Bytes,
}

/// <summary>
/// Null count and min/max of a run of pages, merged page by page. Min/max are kept in their PLAIN form without a
/// length prefix, the form the Statistics struct stores.
/// </summary>
internal sealed class ChunkStatistics(StatisticsOrder order)
{
    private readonly ByteBuffer _min = new();
    private readonly ByteBuffer _max = new();
    private long _minInteger;
    private long _maxInteger;

    public StatisticsOrder Order => order;

    public long NullCount { get; private set; }

    /// <summary>False while every value seen is null: then there is no min/max to write.</summary>
    public bool HasMinMax { get; private set; }

    public void Reset()
    {
        NullCount = 0;
        HasMinMax = false;
        _min.Clear();
        _max.Clear();
    }

    public void Release()
    {
        Reset();
        _min.Release();
        _max.Release();
    }

    public void AddNulls(long count) => NullCount += count;

    /// <summary>Widens min/max to include [<paramref name="min"/>, <paramref name="max"/>] (integer orders).</summary>
    public void AddRange(long min, long max)
    {
        if (!HasMinMax)
        {
            _minInteger = min;
            _maxInteger = max;
            HasMinMax = true;
            return;
        }
        if (min < _minInteger)
        {
            _minInteger = min;
        }
        if (max > _maxInteger)
        {
            _maxInteger = max;
        }
    }

    /// <summary>Widens min/max to include [<paramref name="min"/>, <paramref name="max"/>] (byte order).</summary>
    public void AddRange(ReadOnlySpan<byte> min, ReadOnlySpan<byte> max)
    {
        if (!HasMinMax || min.SequenceCompareTo(_min.WrittenSpan) < 0)
        {
            _min.Clear();
            _min.Write(min);
        }
        if (!HasMinMax || max.SequenceCompareTo(_max.WrittenSpan) > 0)
        {
            _max.Clear();
            _max.Write(max);
        }
        HasMinMax = true;
    }

    public void Merge(ChunkStatistics other)
    {
        NullCount += other.NullCount;
        if (!other.HasMinMax)
        {
            return;
        }
        if (order == StatisticsOrder.Bytes)
        {
            AddRange(other._min.WrittenSpan, other._max.WrittenSpan);
        }
        else
        {
            AddRange(other._minInteger, other._maxInteger);
        }
    }

    /// <summary>Min/max in their stored form, for the footer; null when every value is null.</summary>
    public (byte[]? Min, byte[]? Max) ToBytes()
    {
        if (!HasMinMax)
        {
            return (null, null);
        }
        return order switch
        {
            StatisticsOrder.Bytes => (_min.WrittenSpan.ToArray(), _max.WrittenSpan.ToArray()),
            StatisticsOrder.Int32 => (Int32Bytes((int)_minInteger), Int32Bytes((int)_maxInteger)),
            _ => (Int64Bytes(_minInteger), Int64Bytes(_maxInteger)),
        };
    }

    /// <summary>Writes a Statistics struct field: null_count always, min_value/max_value unless every value is null.</summary>
    public static void Write(ThriftCompactWriter thrift, short fieldId, long nullCount, bool hasMinMax,
        ReadOnlySpan<byte> min, ReadOnlySpan<byte> max)
    {
        thrift.StructField(fieldId);
        thrift.I64Field(ThriftField.Statistics.NullCount, nullCount);
        if (hasMinMax)
        {
            thrift.BinaryField(ThriftField.Statistics.MaxValue, max);
            thrift.BinaryField(ThriftField.Statistics.MinValue, min);
        }
        thrift.EndStruct();
    }

    private static byte[] Int32Bytes(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] Int64Bytes(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        return bytes;
    }
}
