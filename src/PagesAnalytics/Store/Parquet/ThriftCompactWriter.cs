using System.Text;

namespace PagesAnalytics.Store.Parquet;

/// <summary>
/// Writes Thrift structs in the compact protocol, the encoding of Parquet page headers and the footer: field
/// headers carry the delta to the previous field id in the high nibble, integers are zigzag varints, binaries are
/// a varint length and the bytes, a struct ends with a stop byte.
/// </summary>
/// <remarks>
/// The caller writes fields in ascending id order inside each struct, opens a struct with
/// <see cref="BeginStruct"/> (top level or list element) or <see cref="StructField"/> and closes it with
/// <see cref="EndStruct"/>.
/// </remarks>
internal sealed class ThriftCompactWriter
{
    // Compact protocol type ids.
    public const byte TypeBooleanTrue = 1;
    public const byte TypeBooleanFalse = 2;
    public const byte TypeByte = 3;
    public const byte TypeI16 = 4;
    public const byte TypeI32 = 5;
    public const byte TypeI64 = 6;
    public const byte TypeBinary = 8;
    public const byte TypeList = 9;
    public const byte TypeStruct = 12;

    private const int MaxDepth = 16;

    private readonly short[] _lastFieldIds = new short[MaxDepth];
    private ByteBuffer _output;
    private int _depth;
    private short _lastFieldId;

    public ThriftCompactWriter(ByteBuffer output) => _output = output;

    /// <summary>Writes to <paramref name="output"/> from now on; only between top-level structs.</summary>
    public void Retarget(ByteBuffer output)
    {
        if (_depth != 0)
        {
            throw new InvalidOperationException("a struct is still open.");
        }
        _output = output;
    }

    /// <summary>Opens a top-level struct or a struct element of a list.</summary>
    public void BeginStruct()
    {
        if (_depth == MaxDepth)
        {
            throw new InvalidOperationException("Thrift structs nested too deep.");
        }
        _lastFieldIds[_depth++] = _lastFieldId;
        _lastFieldId = 0;
    }

    /// <summary>Writes the stop byte and closes the innermost struct.</summary>
    public void EndStruct()
    {
        if (_depth == 0)
        {
            throw new InvalidOperationException("no struct is open.");
        }
        _output.WriteByte(0);
        _lastFieldId = _lastFieldIds[--_depth];
    }

    /// <summary>Opens a struct-typed field; close it with <see cref="EndStruct"/>.</summary>
    public void StructField(short id)
    {
        FieldHeader(id, TypeStruct);
        BeginStruct();
    }

    /// <summary>An empty struct-typed field, as the members of Parquet's type unions are.</summary>
    public void EmptyStructField(short id)
    {
        FieldHeader(id, TypeStruct);
        _output.WriteByte(0);
    }

    public void BoolField(short id, bool value) => FieldHeader(id, value ? TypeBooleanTrue : TypeBooleanFalse);

    public void I16Field(short id, short value)
    {
        FieldHeader(id, TypeI16);
        _output.WriteVarint(ZigZag(value));
    }

    public void I32Field(short id, int value)
    {
        FieldHeader(id, TypeI32);
        _output.WriteVarint(ZigZag(value));
    }

    public void I64Field(short id, long value)
    {
        FieldHeader(id, TypeI64);
        _output.WriteVarint(ZigZag(value));
    }

    public void BinaryField(short id, ReadOnlySpan<byte> value)
    {
        FieldHeader(id, TypeBinary);
        BinaryValue(value);
    }

    public void StringField(short id, string value)
    {
        FieldHeader(id, TypeBinary);
        StringValue(value);
    }

    /// <summary>Writes a list field's header; then write <paramref name="count"/> elements of <paramref name="elementType"/>.</summary>
    public void ListField(short id, byte elementType, int count)
    {
        FieldHeader(id, TypeList);
        if (count < 15)
        {
            _output.WriteByte((byte)((count << 4) | elementType));
        }
        else
        {
            _output.WriteByte((byte)(0xF0 | elementType));
            _output.WriteVarint((uint)count);
        }
    }

    /// <summary>An i32 list element.</summary>
    public void I32Value(int value) => _output.WriteVarint(ZigZag(value));

    /// <summary>A binary list element.</summary>
    public void BinaryValue(ReadOnlySpan<byte> value)
    {
        _output.WriteVarint((uint)value.Length);
        _output.Write(value);
    }

    /// <summary>A string list element, UTF-8.</summary>
    public void StringValue(string value)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        _output.WriteVarint((uint)length);
        int written = Encoding.UTF8.GetBytes(value, _output.GetSpan(length));
        _output.Advance(written);
    }

    private void FieldHeader(short id, byte type)
    {
        int delta = id - _lastFieldId;
        if (delta is > 0 and <= 15)
        {
            _output.WriteByte((byte)((delta << 4) | type));
        }
        else
        {
            _output.WriteByte(type);
            _output.WriteVarint(ZigZag(id));
        }
        _lastFieldId = id;
    }

    private static ulong ZigZag(int value) => (uint)((value << 1) ^ (value >> 31));

    private static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));
}
