using Apache.Arrow;
using Apache.Arrow.Memory;
using BenchmarkDotNet.Attributes;
using PagesAnalytics.Ingest;
using PagesAnalytics.Schema;

namespace PagesAnalytics.Benchmarks;

/// <summary>
/// Building Arrow record batches from values already parsed (no JSON here): the stock Apache.Arrow builders a user
/// would reach for first (one <c>StringArray.Builder</c>, <c>Int64Array.Builder</c>, ... per column and batch) against
/// our <see cref="PageBatchBuilder"/> (reused column buffers, one copy into native memory per batch). The builder is made
/// once in the setup, as the reader makes one per response, so its allocations per row are the steady state of a large
/// response. Both walk the rows
/// in the order a parser produces them — row by row, column by column — and make batches of
/// <see cref="ResponseReaderOptions.DefaultBatchRows"/> rows, each disposed once counted.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
public class BatchBuilderBenchmarks
{
    private const int BatchRows = ResponseReaderOptions.DefaultBatchRows;

    private ParsedColumns _columns = null!;
    private PageBatchBuilder _builder = null!;

    [Params(100_000)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var batches = BenchmarkInput.Batches(Rows);
        _columns = ParsedColumns.From(batches);
        _builder = new PageBatchBuilder(BatchRows, sourceId: 1);
        foreach (var batch in batches)
        {
            batch.Dispose();
        }
    }

    /// <summary>Fresh Apache.Arrow builders for every batch; timestamps appended as <see cref="DateTimeOffset"/>.</summary>
    [Benchmark(Baseline = true)]
    public long ArrowBuilders()
    {
        var columns = _columns;
        var kinds = columns.Kinds;
        var allocator = MemoryAllocator.Default.Value;
        long rows = 0;
        for (int start = 0; start < columns.Rows; start += BatchRows)
        {
            int count = Math.Min(BatchRows, columns.Rows - start);
            var builders = new IArrowArrayBuilder[PagesSchema.ApiColumnCount];
            for (int c = 0; c < builders.Length; c++)
            {
                builders[c] = kinds[c] switch
                {
                    ColumnKind.Utf8 => new StringArray.Builder(),
                    ColumnKind.Int32 => new Int32Array.Builder(),
                    ColumnKind.Int64 => new Int64Array.Builder(),
                    _ => new TimestampArray.Builder(PagesSchema.TimestampType),
                };
            }
            var sourceIds = new Int32Array.Builder();
            var ordinals = new Int64Array.Builder();
            for (int r = start; r < start + count; r++)
            {
                for (int c = 0; c < builders.Length; c++)
                {
                    bool valid = columns.Valid[c][r];
                    switch (builders[c])
                    {
                        case StringArray.Builder s when valid:
                            s.Append(columns.StringAt(c, r));
                            break;
                        case StringArray.Builder s:
                            s.AppendNull();
                            break;
                        case Int32Array.Builder i when valid:
                            i.Append((int)columns.Values[c][r]);
                            break;
                        case Int32Array.Builder i:
                            i.AppendNull();
                            break;
                        case Int64Array.Builder l when valid:
                            l.Append(columns.Values[c][r]);
                            break;
                        case Int64Array.Builder l:
                            l.AppendNull();
                            break;
                        case TimestampArray.Builder t when valid:
                            t.Append(DateTimeOffset.UnixEpoch.AddTicks(columns.Values[c][r] * 10));
                            break;
                        case TimestampArray.Builder t:
                            t.AppendNull();
                            break;
                    }
                }
                sourceIds.Append(1);
                ordinals.Append(r);
            }
            var arrays = new IArrowArray[PagesSchema.Columns.Count];
            for (int c = 0; c < builders.Length; c++)
            {
                arrays[c] = builders[c] switch
                {
                    StringArray.Builder s => s.Build(allocator),
                    Int32Array.Builder i => i.Build(allocator),
                    Int64Array.Builder l => l.Build(allocator),
                    TimestampArray.Builder t => t.Build(allocator),
                    _ => throw new InvalidOperationException(),
                };
            }
            arrays[PagesSchema.SourceIdIndex] = sourceIds.Build(allocator);
            arrays[PagesSchema.RowOrdinalIndex] = ordinals.Build(allocator);
            using var batch = new RecordBatch(PagesSchema.ArrowSchema, arrays, count);
            rows += batch.Length;
        }
        return rows;
    }

    /// <summary>What <see cref="ResponseReader"/> does per value: <see cref="Ingest.PageBatchBuilder"/>, reused across batches.</summary>
    [Benchmark]
    public long PageBatchBuilder()
    {
        var columns = _columns;
        var kinds = columns.Kinds;
        var builder = _builder;
        long rows = 0;
        for (int r = 0; r < columns.Rows; r++)
        {
            for (int c = 0; c < kinds.Length; c++)
            {
                if (!columns.Valid[c][r])
                {
                    builder.SetNull(c);
                    continue;
                }
                switch (kinds[c])
                {
                    case ColumnKind.Utf8:
                        builder.SetString(c, columns.StringAt(c, r));
                        break;
                    case ColumnKind.Int32:
                        builder.SetInt32(c, (int)columns.Values[c][r]);
                        break;
                    default:
                        builder.SetInt64(c, columns.Values[c][r]);
                        break;
                }
            }
            builder.EndRow(r);
            if (builder.IsFull)
            {
                using var batch = builder.Build();
                rows += batch.Length;
            }
        }
        if (builder.Count > 0)
        {
            using var batch = builder.Build();
            rows += batch.Length;
        }
        return rows;
    }

    /// <summary>The 19 API columns of a response as plain arrays: what a parser hands to a batch builder.</summary>
    private sealed class ParsedColumns
    {
        public required int Rows { get; init; }
        public required ColumnKind[] Kinds { get; init; }
        public required bool[][] Valid { get; init; }
        public required long[][] Values { get; init; }     // ints and timestamps (microseconds)
        public required byte[][] Data { get; init; }       // strings: UTF-8 bytes
        public required int[][] Offsets { get; init; }     // strings: Rows + 1 offsets

        public ReadOnlySpan<byte> StringAt(int column, int row)
        {
            var offsets = Offsets[column];
            return Data[column].AsSpan(offsets[row], offsets[row + 1] - offsets[row]);
        }

        public static ParsedColumns From(List<RecordBatch> batches)
        {
            int rows = batches.Sum(b => b.Length);
            int n = PagesSchema.ApiColumnCount;
            var kinds = new ColumnKind[n];
            var valid = new bool[n][];
            var values = new long[n][];
            var data = new byte[n][];
            var offsets = new int[n][];
            for (int c = 0; c < n; c++)
            {
                kinds[c] = PagesSchema.Columns[c].Kind;
                valid[c] = new bool[rows];
                values[c] = new long[kinds[c] == ColumnKind.Utf8 ? 0 : rows];
                offsets[c] = new int[kinds[c] == ColumnKind.Utf8 ? rows + 1 : 0];
                var bytes = new List<byte>();
                int r = 0;
                foreach (var batch in batches)
                {
                    var array = batch.Column(c);
                    for (int i = 0; i < batch.Length; i++, r++)
                    {
                        valid[c][r] = array.IsValid(i);
                        switch (array)
                        {
                            case StringArray s:
                                if (valid[c][r])
                                {
                                    bytes.AddRange(s.GetBytes(i).ToArray());
                                }
                                offsets[c][r + 1] = bytes.Count;
                                break;
                            case Int32Array i32:
                                values[c][r] = i32.GetValue(i) ?? 0;
                                break;
                            case Int64Array i64:
                                values[c][r] = i64.GetValue(i) ?? 0;
                                break;
                            case TimestampArray t:
                                values[c][r] = t.Values[i];
                                break;
                        }
                    }
                }
                data[c] = [.. bytes];
            }
            return new ParsedColumns { Rows = rows, Kinds = kinds, Valid = valid, Values = values, Data = data, Offsets = offsets };
        }
    }
}
