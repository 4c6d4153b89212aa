using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Text.Unicode;
using Apache.Arrow;
using Apache.Arrow.Types;
using Parquet;
using Parquet.Data;
using Parquet.Schema;

namespace PagesAnalytics.Export;

/// <summary>
/// The rows of one column of a <see cref="ParquetExportWriter"/> buffered for the current row group, in the form
/// <see cref="ParquetRowGroupWriter.WriteAllPartsAsync{T}"/> takes as is: dense non-null values plus definition levels
/// (1 present, 0 null) for nullable columns. Buffers are reused from one row group to the next.
/// </summary>
internal abstract class ArrowParquetColumn
{
    private int[] _definitionLevels = [];

    protected ArrowParquetColumn(Apache.Arrow.Field arrowField, DataField parquetField, int rowLimit)
    {
        Name = arrowField.Name;
        ArrowType = arrowField.DataType;
        Nullable = arrowField.IsNullable;
        ParquetField = parquetField;
        RowLimit = rowLimit;
    }

    /// <summary>Column name, as in the Arrow schema.</summary>
    public string Name { get; }

    /// <summary>The Arrow type every batch must have in this column.</summary>
    public IArrowType ArrowType { get; }

    /// <summary>The Parquet field the column is written as.</summary>
    public DataField ParquetField { get; }

    /// <summary>Whether the column takes nulls (from the Arrow field).</summary>
    public bool Nullable { get; }

    /// <summary>True for string columns, the only ones a dictionary encoding hint applies to.</summary>
    public virtual bool IsString => false;

    /// <summary>Most rows ever buffered: one row group.</summary>
    protected int RowLimit { get; }

    /// <summary>Buffered rows, nulls included.</summary>
    protected int RowCount { get; private set; }

    /// <summary>Buffered non-null values.</summary>
    protected int ValueCount { get; set; }

    /// <summary>
    /// The column for one Arrow field.
    /// </summary>
    /// <exception cref="NotSupportedException">The field's Arrow type has no Parquet mapping here.</exception>
    public static ArrowParquetColumn Create(Apache.Arrow.Field field, int rowLimit)
    {
        string name = field.Name;
        bool nullable = field.IsNullable;
        var type = field.DataType;
        return type.TypeId switch
        {
            ArrowTypeId.String or ArrowTypeId.LargeString or ArrowTypeId.StringView =>
                new Utf8Column(field, new DataField(name, typeof(string), nullable), rowLimit),
            ArrowTypeId.Binary or ArrowTypeId.LargeBinary or ArrowTypeId.BinaryView =>
                new BinaryColumn(field, new DataField(name, typeof(byte[]), nullable), rowLimit),
            ArrowTypeId.Int8 => Primitive<sbyte>(field, rowLimit),
            ArrowTypeId.Int16 => Primitive<short>(field, rowLimit),
            ArrowTypeId.Int32 => Primitive<int>(field, rowLimit),
            ArrowTypeId.Int64 => Primitive<long>(field, rowLimit),
            ArrowTypeId.UInt8 => Primitive<byte>(field, rowLimit),
            ArrowTypeId.UInt16 => Primitive<ushort>(field, rowLimit),
            ArrowTypeId.UInt32 => Primitive<uint>(field, rowLimit),
            ArrowTypeId.UInt64 => Primitive<ulong>(field, rowLimit),
            ArrowTypeId.Float => Primitive<float>(field, rowLimit),
            ArrowTypeId.Double => Primitive<double>(field, rowLimit),
            ArrowTypeId.Boolean => new BooleanColumn(field, new DataField(name, typeof(bool), nullable), rowLimit),
            // isAdjustedToUTC follows the Arrow timezone: DuckDB reads it back as TIMESTAMP WITH TIME ZONE or TIMESTAMP.
            // MILLIS because Parquet.Net 6.1.0 writes min/max statistics in milliseconds whatever the unit
            // (parquet-dotnet#769): with MICROS, readers that skip row groups by statistics return wrong rows.
            ArrowTypeId.Timestamp => new TimestampColumn(field,
                new DateTimeDataField(name, DateTimeFormat.Timestamp,
                    isAdjustedToUTC: !string.IsNullOrEmpty(((TimestampType)type).Timezone),
                    unit: DateTimeTimeUnit.Millis, isNullable: nullable),
                rowLimit),
            ArrowTypeId.Date32 or ArrowTypeId.Date64 =>
                new DateColumn(field, new DataField(name, typeof(DateOnly), nullable), rowLimit),
            ArrowTypeId.Decimal128 => ((Decimal128Type)type).Precision <= DecimalColumn.MaxPrecision
                ? new DecimalColumn(field, new DecimalDataField(name, ((Decimal128Type)type).Precision,
                    ((Decimal128Type)type).Scale, isNullable: nullable), rowLimit)
                : new BigDecimalColumn(field, new BigDecimalDataField(name, ((Decimal128Type)type).Precision,
                    ((Decimal128Type)type).Scale, isNullable: nullable), rowLimit),
            _ => throw new NotSupportedException(
                $"column '{name}' has Arrow type {ArrowTypes.Describe(type)}, which Parquet export does not support "
                + "(supported: strings, binary, integers, floating point, boolean, timestamp, date32/64, decimal128)."),
        };
    }

    /// <summary>Whether batches may hold <paramref name="type"/> in this column.</summary>
    public bool Accepts(IArrowType type) => ArrowTypes.Equivalent(ArrowType, type);

    /// <summary>Appends rows [start, start + count) of <paramref name="array"/>.</summary>
    public void Append(IArrowArray array, int start, int count)
    {
        var data = (Apache.Arrow.Array)array;
        Span<int> levels = Span<int>.Empty;
        int present = count;
        if (Nullable)
        {
            _definitionLevels = Grow(_definitionLevels, RowCount, RowCount + count, RowLimit);
            levels = _definitionLevels.AsSpan(RowCount, count);
            present = FillLevels(data, start, count, levels);
        }
        else if (data.NullCount > 0 && CountNulls(data, start, count) > 0)
        {
            throw new ArgumentException(
                $"record batch column '{Name}' is not nullable in the schema but holds nulls.", "batch");
        }
        AppendValues(data, start, count, present == count ? Span<int>.Empty : levels, present);
        RowCount += count;
        ValueCount += present;
    }

    /// <summary>Writes every buffered row as this column's chunk of <paramref name="rowGroup"/>.</summary>
    public Task WriteAsync(ParquetRowGroupWriter rowGroup, CancellationToken ct)
    {
        // Not `cond ? memory : null`: null would convert to an empty Memory (via int[]), not to "no levels".
        ReadOnlyMemory<int>? levels = null;
        if (Nullable)
        {
            levels = _definitionLevels.AsMemory(0, RowCount);
        }
        return WriteValuesAsync(rowGroup, levels, ValueCount, ct);
    }

    /// <summary>Forgets the buffered rows (already written), keeping the buffers for the next row group.</summary>
    public void Clear()
    {
        RowCount = 0;
        ValueCount = 0;
        ClearValues();
    }

    /// <summary>Drops the buffers.</summary>
    public virtual void Release()
    {
        _definitionLevels = [];
        RowCount = 0;
        ValueCount = 0;
    }

    /// <summary>
    /// Appends the <paramref name="present"/> non-null values of rows [start, start + count). <paramref name="levels"/>
    /// holds one level per row when some of them are null, and is empty when all are present.
    /// </summary>
    protected abstract void AppendValues(Apache.Arrow.Array array, int start, int count, ReadOnlySpan<int> levels,
        int present);

    protected abstract Task WriteValuesAsync(ParquetRowGroupWriter rowGroup, ReadOnlyMemory<int>? levels, int values,
        CancellationToken ct);

    protected virtual void ClearValues()
    {
    }

    /// <summary>
    /// Returns <paramref name="array"/> if it holds <paramref name="needed"/> items, else a larger array holding its
    /// first <paramref name="used"/> items: doubled, but never past <paramref name="limit"/> unless
    /// <paramref name="needed"/> is larger.
    /// </summary>
    protected static T[] Grow<T>(T[] array, int used, long needed, int limit = int.MaxValue)
    {
        if (needed <= array.Length)
        {
            return array;
        }
        if (needed > System.Array.MaxLength)
        {
            throw new InvalidOperationException(
                $"one row group needs {needed} buffered items; lower ParquetExportOptions.RowGroupRows.");
        }
        long doubled = Math.Max(1024L, 2L * array.Length);
        int size = (int)Math.Max(needed, Math.Min(doubled, Math.Min(limit, System.Array.MaxLength)));
        var grown = new T[size];
        array.AsSpan(0, used).CopyTo(grown);
        return grown;
    }

    /// <summary>Reads bit <paramref name="bit"/> of an Arrow bitmap.</summary>
    protected static int Bit(ReadOnlySpan<byte> bitmap, int bit) => (bitmap[bit >> 3] >> (bit & 7)) & 1;

    /// <summary>Floor division, so negative epoch offsets round toward the past.</summary>
    protected static long FloorDiv(long value, long divisor)
    {
        long quotient = Math.DivRem(value, divisor, out long remainder);
        return remainder < 0 ? quotient - 1 : quotient;
    }

    [DoesNotReturn]
    protected void ThrowValue(int row, string problem) =>
        throw new ArgumentException($"record batch column '{Name}' row {row}: {problem}", "batch");

    private static ArrowParquetColumn Primitive<T>(Apache.Arrow.Field field, int rowLimit)
        where T : unmanaged, IEquatable<T> =>
        new PrimitiveColumn<T>(field, new DataField(field.Name, typeof(T), field.IsNullable), rowLimit);

    /// <summary>
    /// Fills definition levels from the validity bitmap of rows [start, start + count); returns the non-null rows.
    /// </summary>
    private static int FillLevels(Apache.Arrow.Array array, int start, int count, Span<int> levels)
    {
        if (array.NullCount == 0 || array.NullBitmapBuffer.IsEmpty)
        {
            levels.Fill(1);
            return count;
        }
        ReadOnlySpan<byte> bitmap = array.NullBitmapBuffer.Span;
        int bit = array.Offset + start;
        int present = 0;
        for (int i = 0; i < levels.Length; i++, bit++)
        {
            int level = Bit(bitmap, bit);
            levels[i] = level;
            present += level;
        }
        return present;
    }

    private static int CountNulls(Apache.Arrow.Array array, int start, int count)
    {
        if (array.NullBitmapBuffer.IsEmpty)
        {
            return 0;
        }
        ReadOnlySpan<byte> bitmap = array.NullBitmapBuffer.Span;
        int nulls = 0;
        for (int i = 0, bit = array.Offset + start; i < count; i++, bit++)
        {
            nulls += 1 - Bit(bitmap, bit);
        }
        return nulls;
    }

    /// <summary>Integers and floating point values, copied as they are (Parquet.Net maps the CLR type).</summary>
    private sealed class PrimitiveColumn<T>(Apache.Arrow.Field arrowField, DataField parquetField, int rowLimit)
        : ArrowParquetColumn(arrowField, parquetField, rowLimit)
        where T : unmanaged, IEquatable<T>
    {
        private T[] _values = [];

        protected override void AppendValues(Apache.Arrow.Array array, int start, int count, ReadOnlySpan<int> levels,
            int present)
        {
            ReadOnlySpan<T> source = ((PrimitiveArray<T>)array).Values.Slice(start, count);
            _values = Grow(_values, ValueCount, ValueCount + count, RowLimit);
            Span<T> target = _values.AsSpan(ValueCount);
            if (levels.IsEmpty)
            {
                source.CopyTo(target);
                return;
            }
            // Branch-free compaction: a null's slot is overwritten by the next value.
            int n = 0;
            for (int i = 0; i < source.Length; i++)
            {
                target[n] = source[i];
                n += levels[i];
            }
        }

        protected override Task WriteValuesAsync(ParquetRowGroupWriter rowGroup, ReadOnlyMemory<int>? levels,
            int values, CancellationToken ct) =>
            rowGroup.WriteAllPartsAsync<T>(ParquetField, _values.AsMemory(0, values), levels, null, ct);

        public override void Release()
        {
            base.Release();
            _values = [];
        }
    }

    /// <summary>Arrow's bit-packed booleans, unpacked.</summary>
    private sealed class BooleanColumn(Apache.Arrow.Field arrowField, DataField parquetField, int rowLimit)
        : ArrowParquetColumn(arrowField, parquetField, rowLimit)
    {
        private bool[] _values = [];

        protected override void AppendValues(Apache.Arrow.Array array, int start, int count, ReadOnlySpan<int> levels,
            int present)
        {
            ReadOnlySpan<byte> bits = ((BooleanArray)array).ValueBuffer.Span;
            _values = Grow(_values, ValueCount, ValueCount + count, RowLimit);
            Span<bool> target = _values.AsSpan(ValueCount);
            bool dense = levels.IsEmpty;
            int bit = array.Offset + start;
            int n = 0;
            for (int i = 0; i < count; i++, bit++)
            {
                target[n] = Bit(bits, bit) != 0;
                n += dense ? 1 : levels[i];
            }
        }

        protected override Task WriteValuesAsync(ParquetRowGroupWriter rowGroup, ReadOnlyMemory<int>? levels,
            int values, CancellationToken ct) =>
            rowGroup.WriteAllPartsAsync<bool>(ParquetField, _values.AsMemory(0, values), levels, null, ct);

        public override void Release()
        {
            base.Release();
            _values = [];
        }
    }

    /// <summary>
    /// Arrow timestamps of any unit as the <see cref="DateTime"/> values Parquet.Net takes; written as microseconds,
    /// so nanoseconds are truncated (toward the past). Values outside 0001..9999 are rejected.
    /// </summary>
    private sealed class TimestampColumn(Apache.Arrow.Field arrowField, DataField parquetField, int rowLimit)
        : ArrowParquetColumn(arrowField, parquetField, rowLimit)
    {
        private static readonly long UnixEpochTicks = DateTime.UnixEpoch.Ticks;
        private static readonly long MaxTicks = DateTime.MaxValue.Ticks;

        private DateTime[] _values = [];

        protected override void AppendValues(Apache.Arrow.Array array, int start, int count, ReadOnlySpan<int> levels,
            int present)
        {
            ReadOnlySpan<long> source = ((TimestampArray)array).Values.Slice(start, count);
            _values = Grow(_values, ValueCount, ValueCount + count, RowLimit);
            Span<DateTime> target = _values.AsSpan(ValueCount);
            bool dense = levels.IsEmpty;
            var unit = ((TimestampType)array.Data.DataType).Unit;
            long ticksPerUnit = unit switch
            {
                TimeUnit.Second => TimeSpan.TicksPerSecond,
                TimeUnit.Millisecond => TimeSpan.TicksPerMillisecond,
                TimeUnit.Microsecond => TimeSpan.TicksPerMicrosecond,
                _ => 0, // nanoseconds: divided, never out of range
            };
            long minValue = ticksPerUnit == 0 ? long.MinValue : -UnixEpochTicks / ticksPerUnit;
            long maxValue = ticksPerUnit == 0 ? long.MaxValue : (MaxTicks - UnixEpochTicks) / ticksPerUnit;
            int n = 0;
            for (int i = 0; i < source.Length; i++)
            {
                if (!dense && levels[i] == 0)
                {
                    continue;
                }
                long value = source[i];
                if (value < minValue || value > maxValue)
                {
                    ThrowValue(start + i, $"timestamp {value} ({unit}) is outside 0001-01-01..9999-12-31.");
                }
                long ticks = ticksPerUnit == 0 ? FloorDiv(value, 100) : value * ticksPerUnit;
                target[n++] = new DateTime(UnixEpochTicks + ticks, DateTimeKind.Utc);
            }
        }

        protected override Task WriteValuesAsync(ParquetRowGroupWriter rowGroup, ReadOnlyMemory<int>? levels,
            int values, CancellationToken ct) =>
            rowGroup.WriteAllPartsAsync<DateTime>(ParquetField, _values.AsMemory(0, values), levels, null, ct);

        public override void Release()
        {
            base.Release();
            _values = [];
        }
    }

    /// <summary>Arrow date32 (days) or date64 (milliseconds, floored to days) as <see cref="DateOnly"/>.</summary>
    private sealed class DateColumn(Apache.Arrow.Field arrowField, DataField parquetField, int rowLimit)
        : ArrowParquetColumn(arrowField, parquetField, rowLimit)
    {
        private static readonly int UnixEpochDayNumber = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;
        private static readonly int MaxDayNumber = DateOnly.MaxValue.DayNumber;

        private DateOnly[] _values = [];

        protected override void AppendValues(Apache.Arrow.Array array, int start, int count, ReadOnlySpan<int> levels,
            int present)
        {
            _values = Grow(_values, ValueCount, ValueCount + count, RowLimit);
            Span<DateOnly> target = _values.AsSpan(ValueCount);
            bool dense = levels.IsEmpty;
            bool millis = array is Date64Array;
            ReadOnlySpan<int> days32 = millis ? default : ((Date32Array)array).Values.Slice(start, count);
            ReadOnlySpan<long> millis64 = millis ? ((Date64Array)array).Values.Slice(start, count) : default;
            int n = 0;
            for (int i = 0; i < count; i++)
            {
                if (!dense && levels[i] == 0)
                {
                    continue;
                }
                long days = millis ? FloorDiv(millis64[i], 86_400_000) : days32[i];
                long dayNumber = UnixEpochDayNumber + days;
                if (dayNumber < 0 || dayNumber > MaxDayNumber)
                {
                    ThrowValue(start + i, $"date {days} days from 1970-01-01 is outside 0001-01-01..9999-12-31.");
                }
                target[n++] = DateOnly.FromDayNumber((int)dayNumber);
            }
        }

        protected override Task WriteValuesAsync(ParquetRowGroupWriter rowGroup, ReadOnlyMemory<int>? levels,
            int values, CancellationToken ct) =>
            rowGroup.WriteAllPartsAsync<DateOnly>(ParquetField, _values.AsMemory(0, values), levels, null, ct);

        public override void Release()
        {
            base.Release();
            _values = [];
        }
    }

    /// <summary>
    /// decimal128 of precision up to 18: Parquet DECIMAL on INT32/INT64, fed as exact <see cref="decimal"/> values
    /// built from the unscaled integer (no rounding, no allocation).
    /// </summary>
    internal sealed class DecimalColumn(Apache.Arrow.Field arrowField, DataField parquetField, int rowLimit)
        : ArrowParquetColumn(arrowField, parquetField, rowLimit)
    {
        /// <summary>Largest precision written through <see cref="decimal"/>; wider ones go to FIXED_LEN_BYTE_ARRAY.</summary>
        public const int MaxPrecision = 18;

        private decimal[] _values = [];

        protected override void AppendValues(Apache.Arrow.Array array, int start, int count, ReadOnlySpan<int> levels,
            int present)
        {
            _values = Grow(_values, ValueCount, ValueCount + count, RowLimit);
            Span<decimal> target = _values.AsSpan(ValueCount);
            bool dense = levels.IsEmpty;
            byte scale = (byte)((Decimal128Type)array.Data.DataType).Scale;
            // 16-byte little-endian two's complement values; buffer 0 is validity.
            ReadOnlySpan<byte> bytes = array.Data.Buffers[1].Span.Slice((array.Offset + start) * 16, count * 16);
            int n = 0;
            for (int i = 0; i < count; i++)
            {
                if (!dense && levels[i] == 0)
                {
                    continue;
                }
                // Precision <= 18: the unscaled value fits the low 64 bits.
                long unscaled = BinaryPrimitives.ReadInt64LittleEndian(bytes.Slice(i * 16, 8));
                bool negative = unscaled < 0;
                ulong magnitude = negative ? (ulong)-unscaled : (ulong)unscaled;
                target[n++] = new decimal((int)(uint)magnitude, (int)(uint)(magnitude >> 32), 0, negative, scale);
            }
        }

        protected override Task WriteValuesAsync(ParquetRowGroupWriter rowGroup, ReadOnlyMemory<int>? levels,
            int values, CancellationToken ct) =>
            rowGroup.WriteAllPartsAsync<decimal>(ParquetField, _values.AsMemory(0, values), levels, null, ct);

        public override void Release()
        {
            base.Release();
            _values = [];
        }
    }

    /// <summary>
    /// decimal128 of precision 19..38 (DuckDB's HUGEINT sums arrive as decimal128(38, 0)): Parquet DECIMAL on
    /// FIXED_LEN_BYTE_ARRAY through Parquet.Net's <see cref="BigDecimal"/>. Exact, but one <see cref="BigInteger"/>
    /// per value beyond the int range: these columns are aggregates, rarely many rows.
    /// </summary>
    private sealed class BigDecimalColumn(Apache.Arrow.Field arrowField, DataField parquetField, int rowLimit)
        : ArrowParquetColumn(arrowField, parquetField, rowLimit)
    {
        private BigDecimal[] _values = [];

        protected override void AppendValues(Apache.Arrow.Array array, int start, int count, ReadOnlySpan<int> levels,
            int present)
        {
            _values = Grow(_values, ValueCount, ValueCount + count, RowLimit);
            Span<BigDecimal> target = _values.AsSpan(ValueCount);
            bool dense = levels.IsEmpty;
            var type = (Decimal128Type)array.Data.DataType;
            int precision = type.Precision;
            int scale = type.Scale;
            // 16-byte little-endian two's complement values; buffer 0 is validity.
            ReadOnlySpan<byte> bytes = array.Data.Buffers[1].Span.Slice((array.Offset + start) * 16, count * 16);
            int n = 0;
            for (int i = 0; i < count; i++)
            {
                if (!dense && levels[i] == 0)
                {
                    continue;
                }
                var unscaled = new BigInteger(bytes.Slice(i * 16, 16), isUnsigned: false, isBigEndian: false);
                target[n++] = new BigDecimal(unscaled, precision, scale);
            }
        }

        protected override Task WriteValuesAsync(ParquetRowGroupWriter rowGroup, ReadOnlyMemory<int>? levels,
            int values, CancellationToken ct) =>
            rowGroup.WriteAllPartsAsync<BigDecimal>(ParquetField, _values.AsMemory(0, values), levels, null, ct);

        protected override void ClearValues() => _values.AsSpan().Clear();

        public override void Release()
        {
            base.Release();
            _values = [];
        }
    }

    /// <summary>
    /// Variable-length values (utf8, large_utf8, utf8view and the binary kinds) copied into one reused buffer;
    /// Parquet.Net gets <see cref="ReadOnlyMemory{T}"/> slices of it, never a <see cref="string"/> or array per value.
    /// </summary>
    private abstract class VariableColumn<TElement>(Apache.Arrow.Field arrowField, DataField parquetField, int rowLimit)
        : ArrowParquetColumn(arrowField, parquetField, rowLimit)
        where TElement : unmanaged
    {
        private TElement[] _data = [];
        private int _dataCount;
        // _ends[k] is where value k ends in _data; value k starts at _ends[k - 1] (or 0).
        private int[] _ends = [];
        private ReadOnlyMemory<TElement>[] _slices = [];

        /// <summary>Converts one value into <paramref name="target"/> (large enough for one element per byte).</summary>
        protected abstract int Convert(ReadOnlySpan<byte> source, Span<TElement> target, int row);

        protected override void AppendValues(Apache.Arrow.Array array, int start, int count, ReadOnlySpan<int> levels,
            int present)
        {
            _ends = Grow(_ends, ValueCount, ValueCount + count, RowLimit);
            bool dense = levels.IsEmpty;
            int valueCount = ValueCount;
            switch (array)
            {
                case BinaryArray plain:
                {
                    ReadOnlySpan<int> offsets = plain.ValueOffsets.Slice(start, count + 1);
                    ReadOnlySpan<byte> bytes = plain.Values;
                    // One element per byte is always enough (UTF-16 never needs more code units than UTF-8 has bytes).
                    _data = Grow(_data, _dataCount, (long)_dataCount + (offsets[count] - offsets[0]));
                    for (int i = 0; i < count; i++)
                    {
                        if (dense || levels[i] != 0)
                        {
                            int from = offsets[i];
                            AppendOne(bytes.Slice(from, offsets[i + 1] - from), ref valueCount, start + i);
                        }
                    }
                    break;
                }
                case LargeBinaryArray large:
                {
                    ReadOnlySpan<long> offsets = large.ValueOffsets.Slice(start, count + 1);
                    ReadOnlySpan<byte> bytes = large.ValueBuffer.Span;
                    _data = Grow(_data, _dataCount, _dataCount + (offsets[count] - offsets[0]));
                    for (int i = 0; i < count; i++)
                    {
                        if (dense || levels[i] != 0)
                        {
                            long from = offsets[i];
                            AppendOne(bytes.Slice(checked((int)from), (int)(offsets[i + 1] - from)), ref valueCount,
                                start + i);
                        }
                    }
                    break;
                }
                case BinaryViewArray views:
                {
                    for (int i = 0; i < count; i++)
                    {
                        if (dense || levels[i] != 0)
                        {
                            ReadOnlySpan<byte> value = views.GetBytes(start + i);
                            _data = Grow(_data, _dataCount, (long)_dataCount + value.Length);
                            AppendOne(value, ref valueCount, start + i);
                        }
                    }
                    break;
                }
                default:
                    throw new InvalidOperationException($"column '{Name}': unexpected array {array.GetType().Name}.");
            }
        }

        private void AppendOne(ReadOnlySpan<byte> value, ref int valueCount, int row)
        {
            _dataCount += Convert(value, _data.AsSpan(_dataCount), row);
            _ends[valueCount++] = _dataCount;
        }

        protected override async Task WriteValuesAsync(ParquetRowGroupWriter rowGroup, ReadOnlyMemory<int>? levels,
            int values, CancellationToken ct)
        {
            _slices = Grow(_slices, 0, values, RowLimit);
            var slices = _slices;
            var data = _data;
            var ends = _ends;
            int from = 0;
            for (int k = 0; k < values; k++)
            {
                int end = ends[k];
                slices[k] = new ReadOnlyMemory<TElement>(data, from, end - from);
                from = end;
            }
            try
            {
                await rowGroup.WriteAllPartsAsync<ReadOnlyMemory<TElement>>(ParquetField, slices.AsMemory(0, values),
                    levels, null, ct).ConfigureAwait(false);
            }
            finally
            {
                // The slices would otherwise keep a data buffer alive after it is regrown.
                slices.AsSpan(0, values).Clear();
            }
        }

        protected override void ClearValues() => _dataCount = 0;

        public override void Release()
        {
            base.Release();
            _data = [];
            _ends = [];
            _slices = [];
            _dataCount = 0;
        }
    }

    /// <summary>UTF-8 strings converted into a reused UTF-16 buffer (Parquet.Net takes strings as chars).</summary>
    private sealed class Utf8Column(Apache.Arrow.Field arrowField, DataField parquetField, int rowLimit)
        : VariableColumn<char>(arrowField, parquetField, rowLimit)
    {
        public override bool IsString => true;

        protected override int Convert(ReadOnlySpan<byte> source, Span<char> target, int row)
        {
            // Invalid sequences become U+FFFD, as every UTF-8 reader shows them.
            var status = Utf8.ToUtf16(source, target, out _, out int written);
            if (status != OperationStatus.Done)
            {
                ThrowValue(row, $"UTF-8 to UTF-16 conversion failed ({status}).");
            }
            return written;
        }
    }

    /// <summary>Binary values copied as they are.</summary>
    private sealed class BinaryColumn(Apache.Arrow.Field arrowField, DataField parquetField, int rowLimit)
        : VariableColumn<byte>(arrowField, parquetField, rowLimit)
    {
        protected override int Convert(ReadOnlySpan<byte> source, Span<byte> target, int row)
        {
            source.CopyTo(target);
            return source.Length;
        }
    }
}

/// <summary>Arrow type comparisons shared by the export writers.</summary>
internal static class ArrowTypes
{
    /// <summary>
    /// Whether values of <paramref name="actual"/> can be written where the schema says <paramref name="expected"/>:
    /// the same type, with the same unit, timezone presence, precision and scale where those apply.
    /// </summary>
    public static bool Equivalent(IArrowType expected, IArrowType actual)
    {
        if (expected.TypeId != actual.TypeId)
        {
            return false;
        }
        return (expected, actual) switch
        {
            (TimestampType e, TimestampType a) =>
                e.Unit == a.Unit && string.IsNullOrEmpty(e.Timezone) == string.IsNullOrEmpty(a.Timezone),
            (Decimal128Type e, Decimal128Type a) => e.Precision == a.Precision && e.Scale == a.Scale,
            (FixedSizeBinaryType e, FixedSizeBinaryType a) => e.ByteWidth == a.ByteWidth,
            _ => true,
        };
    }

    /// <summary>
    /// Checks that <paramref name="batch"/> has the columns of <paramref name="schema"/>: count, names and types.
    /// </summary>
    /// <exception cref="ArgumentException">The batch does not match.</exception>
    public static void EnsureMatches(Apache.Arrow.Schema schema, RecordBatch batch)
    {
        var expected = schema.FieldsList;
        var actual = batch.Schema.FieldsList;
        if (actual.Count != expected.Count)
        {
            throw new ArgumentException(
                $"record batch has {actual.Count} columns, the export schema has {expected.Count}.", nameof(batch));
        }
        for (int c = 0; c < expected.Count; c++)
        {
            if (!string.Equals(actual[c].Name, expected[c].Name, StringComparison.Ordinal))
            {
                throw new ArgumentException(
                    $"record batch column {c} is '{actual[c].Name}', the export schema has '{expected[c].Name}'.",
                    nameof(batch));
            }
            var type = batch.Column(c).Data.DataType;
            if (!Equivalent(expected[c].DataType, type))
            {
                throw new ArgumentException(
                    $"record batch column '{expected[c].Name}' is {Describe(type)}, the export schema has "
                    + $"{Describe(expected[c].DataType)}.", nameof(batch));
            }
            if (batch.Column(c).Length != batch.Length)
            {
                throw new ArgumentException(
                    $"record batch column '{expected[c].Name}' has {batch.Column(c).Length} rows, the batch has "
                    + $"{batch.Length}.", nameof(batch));
            }
        }
    }

    /// <summary>A type as people read it: <c>timestamp[us, tz=UTC]</c>, <c>decimal128(38, 0)</c>.</summary>
    public static string Describe(IArrowType type) => type switch
    {
        TimestampType t => $"timestamp[{t.Unit}{(string.IsNullOrEmpty(t.Timezone) ? "" : ", tz=" + t.Timezone)}]",
        Decimal128Type d => $"decimal128({d.Precision}, {d.Scale})",
        FixedSizeBinaryType f => $"fixed_size_binary({f.ByteWidth})",
        _ => type.Name,
    };
}
