using System.Buffers.Binary;
using System.Globalization;
using Apache.Arrow;
using DuckDB.NET.Data;
using Parquet;
using Parquet.Data;
using PagesAnalytics.Schema;
using PagesAnalytics.Store;

namespace PagesAnalytics.Tests.Store;

/// <summary>
/// The Parquet encoding of parts, checked through two independent readers (DuckDB and Parquet.Net): every value,
/// the statistics readers prune by, the schema, the byte layout the footer describes, and filters over many row
/// groups.
/// </summary>
public sealed class ParquetEncodingTests : IDisposable
{
    private const long MinMicros = -62_135_596_800_000_000; // 0001-01-01T00:00:00Z
    private const long MaxMicros = 253_402_300_799_999_999; // 9999-12-31T23:59:59.999999Z

    // Batch sizes that cut row groups and pages in odd places: one row, a page and a bit (65_537), a row group
    // and a bit, many small ones.
    private static readonly int[] OddBatchSizes = [1, 7, 65_537, 3, 10_001, 2, 1, 999, 5];

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pa-parquet-" + Guid.NewGuid().ToString("N"));

    public ParquetEncodingTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Theory]
    [InlineData(PartCompression.Zstd, 10_000)]
    [InlineData(PartCompression.Snappy, 10_000)]
    [InlineData(PartCompression.None, 10_000)]
    [InlineData(PartCompression.Zstd, 70_000)] // one group; the 65_537-row batch is cut into pages by row count
    public async Task EveryValue_ReadBackByDuckDbAndByParquetNet(PartCompression compression, int minRowGroupRows)
    {
        var rows = MessyRows(OddBatchSizes.Sum());
        string path = Path.Combine(_dir, "messy.parquet");
        await WriteSlicedAsync(path, rows, OddBatchSizes, new PartWriterOptions { MinRowGroupRows = minRowGroupRows, Compression = compression });

        AssertRowsEqual(rows, ReadWithDuckDb(path), "DuckDB");
        AssertRowsEqual(rows, await ReadWithParquetNetAsync(path), "Parquet.Net");
    }

    [Fact]
    public async Task Statistics_EqualWhatDuckDbAndParquetNetComputePerRowGroup()
    {
        var rows = MessyRows(OddBatchSizes.Sum());
        string path = Path.Combine(_dir, "stats.parquet");
        await WriteSlicedAsync(path, rows, OddBatchSizes, new PartWriterOptions { MinRowGroupRows = 10_000 });

        using var connection = OpenDuckDb();
        Execute(connection, "SET TimeZone = 'UTC'");
        var groupRows = QueryRows(connection,
            $"SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata({Quote(path)}) ORDER BY row_group_id");
        Assert.Equal(new long[] { 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 16_556 },
            groupRows.Select(r => Convert.ToInt64(r[1], CultureInfo.InvariantCulture)).ToArray());

        long first = 0;
        foreach (var group in groupRows)
        {
            long id = Convert.ToInt64(group[0], CultureInfo.InvariantCulture);
            long count = Convert.ToInt64(group[1], CultureInfo.InvariantCulture);
            foreach (var column in PagesSchema.Columns)
            {
                // DuckDB's own aggregates over the group's rows, rendered the way parquet_metadata renders stats.
                var expected = QueryRows(connection,
                    $"SELECT CAST(min({column.Name}) AS VARCHAR), CAST(max({column.Name}) AS VARCHAR), " +
                    $"count(*) - count({column.Name}) FROM read_parquet({Quote(path)}, file_row_number = true) " +
                    $"WHERE file_row_number >= {first} AND file_row_number < {first + count}").Single();
                var stored = QueryRows(connection,
                    $"SELECT stats_min_value, stats_max_value, stats_null_count FROM parquet_metadata({Quote(path)}) " +
                    $"WHERE row_group_id = {id} AND path_in_schema = '{column.Name}'").Single();
                Assert.Equal((column.Name, id, expected[0], expected[1], expected[2]),
                    (column.Name, id, stored[0], stored[1], stored[2]));
            }
            first += count;
        }

        // Parquet.Net decodes the same statistics; compare them with values computed here from the input rows.
        await using var reader = await ParquetReader.CreateAsync(path);
        var fields = reader.Schema.GetDataFields();
        int start = 0;
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var rowGroup = reader.OpenRowGroupReader(g);
            int count = (int)rowGroup.RowCount;
            foreach (var column in PagesSchema.Columns)
            {
                var statistics = rowGroup.GetStatistics(fields[column.Index]);
                Assert.NotNull(statistics);
                var values = rows.GetRange(start, count).Select(r => Stored(column, r[column.Index])).Where(v => v is not null).ToList();
                Assert.Equal((column.Name, g, (long?)(count - values.Count)), (column.Name, g, statistics.NullCount));
                object? min = values.Count == 0 ? null : values.Min(OrdinalComparer.Instance);
                object? max = values.Count == 0 ? null : values.Max(OrdinalComparer.Instance);
                Assert.Equal((column.Name, g, min, max), (column.Name, g, statistics.MinValue, statistics.MaxValue));
            }
            start += count;
        }
    }

    [Fact]
    public async Task ValuesLargerThanAPage_GetAPageEach()
    {
        var rows = MessyRows(12);
        string huge = string.Concat(Enumerable.Repeat("é🚀 large value ", 100_000)); // about 1.9 MB of UTF-8
        rows[3][PagesSchema.Title] = huge;
        rows[4][PagesSchema.Title] = huge + "!";
        rows[9][PagesSchema.Url] = huge;
        string path = Path.Combine(_dir, "huge.parquet");
        await WriteSlicedAsync(path, rows, [5, 7], new PartWriterOptions { Compression = PartCompression.Snappy });

        AssertRowsEqual(rows, ReadWithDuckDb(path), "DuckDB");
        AssertRowsEqual(rows, await ReadWithParquetNetAsync(path), "Parquet.Net");
        using var connection = OpenDuckDb();
        object? max = rows.Select(r => r[PagesSchema.Title]).Where(v => v is not null).Max(OrdinalComparer.Instance);
        Assert.Equal(huge + "!", max);
        Assert.Equal([max], QueryRows(connection,
            $"SELECT stats_max_value FROM parquet_metadata({Quote(path)}) WHERE path_in_schema = 'title'").Single());
    }

    [Fact]
    public async Task AllNullColumnChunk_HasNullCountButNoMinMax()
    {
        var rows = MessyRows(30);
        foreach (var row in rows)
        {
            foreach (var column in PagesSchema.Columns.Where(c => c.Nullable))
            {
                row[column.Index] = null;
            }
        }
        string path = Path.Combine(_dir, "null.parquet");
        await WriteSlicedAsync(path, rows, [30], new PartWriterOptions());

        using var connection = OpenDuckDb();
        foreach (var column in PagesSchema.Columns.Where(c => c.Nullable))
        {
            Assert.Equal([null, null, 30L], QueryRows(connection,
                $"SELECT stats_min_value, stats_max_value, stats_null_count FROM parquet_metadata({Quote(path)}) " +
                $"WHERE path_in_schema = '{column.Name}'").Single());
        }
        AssertRowsEqual(rows, await ReadWithParquetNetAsync(path), "Parquet.Net");
    }

    [Fact]
    public async Task Schema_TypesLogicalTypesRepetitionAndFileMetadata()
    {
        string path = Path.Combine(_dir, "schema.parquet");
        await WriteSlicedAsync(path, MessyRows(100), [100], new PartWriterOptions());

        using var connection = OpenDuckDb();
        var leaves = QueryRows(connection,
            $"SELECT name, type, repetition_type, converted_type, logical_type, duckdb_type FROM parquet_schema({Quote(path)}) " +
            "WHERE num_children IS NULL ORDER BY column_id");
        Assert.Equal(PagesSchema.Columns.Select(c => c.Name), leaves.Select(l => (string)l[0]!));
        foreach (var column in PagesSchema.Columns)
        {
            var leaf = leaves[column.Index];
            var (type, converted, duckDbType) = column.Kind switch
            {
                ColumnKind.Utf8 => ("BYTE_ARRAY", "UTF8", "VARCHAR"),
                ColumnKind.Int32 => ("INT32", null, "INTEGER"),
                ColumnKind.Int64 => ("INT64", null, "BIGINT"),
                _ => ("INT64", "TIMESTAMP_MILLIS", "TIMESTAMP WITH TIME ZONE"),
            };
            Assert.Equal((column.Name, type, column.Nullable ? "OPTIONAL" : "REQUIRED", converted, duckDbType),
                (column.Name, (string?)leaf[1], (string?)leaf[2], (string?)leaf[3], (string?)leaf[5]));
            string? logical = (string?)leaf[4];
            switch (column.Kind)
            {
                case ColumnKind.Utf8:
                    Assert.Equal("StringType()", logical);
                    break;
                case ColumnKind.Timestamp:
                    Assert.StartsWith("TimestampType(isAdjustedToUTC=1, unit=TimeUnit(MILLIS=MilliSeconds()", logical, StringComparison.Ordinal);
                    break;
                default:
                    Assert.Null(logical);
                    break;
            }
        }

        var file = QueryRows(connection,
            $"SELECT created_by, format_version, num_rows, num_row_groups FROM parquet_file_metadata({Quote(path)})").Single();
        Assert.Equal(["PagesAnalytics version 1.0.0", 1L, 100L, 1L], file.Select(v => v is int i ? (long)i : v));

        await using var reader = await ParquetReader.CreateAsync(path);
        var orders = reader.Metadata!.ColumnOrders!;
        Assert.Equal(PagesSchema.Columns.Count, orders.Count);
        Assert.All(orders, order => Assert.NotNull(order.TYPEORDER));
        Assert.Empty(QueryRows(connection, $"SELECT * FROM parquet_kv_metadata({Quote(path)})"));
    }

    [Theory]
    [InlineData(PartCompression.Zstd)]
    [InlineData(PartCompression.None)]
    public async Task Layout_OffsetsAndSizesInTheFooterAreExact(PartCompression compression)
    {
        var rows = MessyRows(OddBatchSizes.Sum());
        string path = Path.Combine(_dir, "layout.parquet");
        await WriteSlicedAsync(path, rows, OddBatchSizes, new PartWriterOptions { MinRowGroupRows = 10_000, Compression = compression });
        byte[] file = await File.ReadAllBytesAsync(path);
        Assert.Equal("PAR1"u8.ToArray(), file[..4]);
        Assert.Equal("PAR1"u8.ToArray(), file[^4..]);
        int footerLength = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(file.Length - 8));

        await using var reader = await ParquetReader.CreateAsync(path);
        long position = 4;
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var rowGroup = reader.OpenRowGroupReader(g);
            var meta = rowGroup.RowGroup;
            Assert.Equal(position, meta.FileOffset);
            Assert.Equal(g, (int)meta.Ordinal!.Value);
            long groupUncompressed = 0;
            foreach (var chunk in meta.Columns)
            {
                var column = chunk.MetaData!;
                long chunkStart = column.DictionaryPageOffset ?? column.DataPageOffset;
                Assert.Equal(position, chunkStart);
                Assert.Equal(0, chunk.FileOffset);
                Assert.Equal(meta.NumRows, column.NumValues);

                // Walk the pages: their headers and bodies fill the chunk exactly.
                long at = chunkStart;
                long uncompressed = 0;
                long values = 0;
                long nulls = 0;
                bool first = true;
                while (at < chunkStart + column.TotalCompressedSize)
                {
                    var page = PageHeaderReader.Read(file, (int)at);
                    if (page.Type == 2)
                    {
                        Assert.True(first, "a dictionary page comes first");
                        Assert.Equal(column.DictionaryPageOffset, at);
                    }
                    else
                    {
                        Assert.Equal(0, page.Type);
                        if (first)
                        {
                            Assert.Equal(column.DataPageOffset, at);
                        }
                        values += page.NumValues;
                        nulls += page.NullCount;
                    }
                    if (compression == PartCompression.None)
                    {
                        Assert.Equal(page.UncompressedSize, page.CompressedSize);
                    }
                    first = false;
                    uncompressed += page.HeaderSize + page.UncompressedSize;
                    at += page.HeaderSize + page.CompressedSize;
                }
                Assert.Equal(chunkStart + column.TotalCompressedSize, at);
                Assert.Equal(column.TotalUncompressedSize, uncompressed);
                Assert.Equal(meta.NumRows, values);
                Assert.Equal(column.Statistics!.NullCount, nulls);
                groupUncompressed += uncompressed;
                position = at;
            }
            Assert.Equal(position - meta.FileOffset, meta.TotalCompressedSize);
            Assert.Equal(groupUncompressed, meta.TotalByteSize);
        }
        Assert.Equal(file.Length - 8 - footerLength, position);
    }

    [Theory]
    [InlineData("first_seen")]
    [InlineData("size")]
    [InlineData("ahrefs_rank")]
    [InlineData("url")]
    [InlineData("encoding")]
    public async Task FilterOverManyRowGroups_EqualsUnprunedScan(string name)
    {
        // Values grow with the row, so row groups hold disjoint ranges and pruning by statistics skips most.
        var rows = new List<object?[]>();
        for (long i = 0; i < 12_000; i++)
        {
            var row = MessyRow(new Random((int)i), i);
            row[PagesSchema.FirstSeen] = i % 13 == 5 ? null : -5_000_000_000L + i * 1_000_777L; // crosses 1970, sub-ms parts
            row[PagesSchema.Size] = i % 11 == 3 ? null : long.MinValue / 2 + i * 1_000_000_007L;
            row[PagesSchema.AhrefsRank] = i % 17 == 0 ? null : (int)(i / 10) - 500;
            row[PagesSchema.Url] = "https://example.com/" + i.ToString("D6", CultureInfo.InvariantCulture) + (i % 3 == 0 ? "/ü" : "");
            row[PagesSchema.Encoding] = i % 19 == 0 ? null : "enc-" + (i / 1000).ToString("D2", CultureInfo.InvariantCulture);
            rows.Add(row);
        }
        string path = Path.Combine(_dir, "clustered.parquet");
        await WriteSlicedAsync(path, rows, [5_000, 7_000], new PartWriterOptions { MinRowGroupRows = 1_000 });

        using var connection = OpenDuckDb();
        Execute(connection, "SET TimeZone = 'UTC'");
        Execute(connection, $"CREATE TABLE t AS SELECT * FROM read_parquet({Quote(path)})");
        var column = PagesSchema.Find(name)!;
        // Probe at every row group's boundaries (as stored), just inside them and between groups.
        var probes = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var bound in QueryRows(connection,
            $"SELECT stats_min_value, stats_max_value FROM parquet_metadata({Quote(path)}) WHERE path_in_schema = '{name}'"))
        {
            probes.Add((string)bound[0]!);
            probes.Add((string)bound[1]!);
        }
        var values = QueryRows(connection, $"SELECT DISTINCT CAST({name} AS VARCHAR) FROM t WHERE {name} IS NOT NULL AND row_ordinal % 397 = 0");
        foreach (var value in values)
        {
            probes.Add((string)value[0]!);
        }
        if (column.Kind == ColumnKind.Timestamp)
        {
            probes.Add("1969-12-31 23:59:59.999+00");
            probes.Add("1970-01-01 00:00:00+00");
        }
        string literal = column.Kind switch
        {
            ColumnKind.Utf8 => "VARCHAR",
            ColumnKind.Int32 => "INTEGER",
            ColumnKind.Int64 => "BIGINT",
            _ => "TIMESTAMPTZ",
        };
        int checkedFilters = 0;
        foreach (string probe in probes)
        {
            foreach (string op in new[] { "=", "<", "<=", ">", ">=" })
            {
                string where = $"{name} {op} CAST($1 AS {literal})";
                string fromFile = QueryScalar(connection, $"SELECT count(*) || '/' || coalesce(sum(row_ordinal), -1) FROM read_parquet({Quote(path)}) WHERE {where}", probe);
                string fromTable = QueryScalar(connection, $"SELECT count(*) || '/' || coalesce(sum(row_ordinal), -1) FROM t WHERE {where}", probe);
                Assert.Equal((name, probe, op, fromTable), (name, probe, op, fromFile));
                checkedFilters++;
            }
        }
        Assert.True(checkedFilters > 50);
        Assert.Equal(12, QueryRows(connection, $"SELECT DISTINCT row_group_id FROM parquet_metadata({Quote(path)})").Count);
    }

    [Fact]
    public async Task Dictionary_FallsBackToPlainMidFile_BothReadersAgree()
    {
        // encoding: few values for 15_000 rows (dictionary pages, across row groups), then a new value per row.
        var rows = MessyRows(40_000);
        for (int i = 0; i < rows.Count; i++)
        {
            rows[i][PagesSchema.Encoding] = i < 15_000 ? (i % 5 == 0 ? null : "v" + (i / 3_000)) : (i % 7 == 0 ? null : "distinct " + i);
            rows[i][PagesSchema.ContentEncoding] = "gzip";
        }
        string path = Path.Combine(_dir, "fallback.parquet");
        // Groups of 7_000 rows; the page of rows 14_000..15_000 is the last with a dictionary.
        await WriteSlicedAsync(path, rows, [6_000, 6_000, 3_000, 3_000, 22_000], new PartWriterOptions { MinRowGroupRows = 7_000 });

        using var connection = OpenDuckDb();
        var encodings = QueryRows(connection,
            $"SELECT row_group_id, encodings, dictionary_page_offset IS NOT NULL FROM parquet_metadata({Quote(path)}) " +
            "WHERE path_in_schema = 'encoding' ORDER BY row_group_id").Select(r => $"{r[0]}:{r[1]}:{r[2]}").ToList();
        Assert.Equal("0:PLAIN, RLE, RLE_DICTIONARY:True", encodings[0]);
        Assert.Equal("2:PLAIN, RLE, RLE_DICTIONARY:True", encodings[2]); // rows 14_000..21_000: both kinds of pages
        Assert.Equal("3:PLAIN, RLE:False", encodings[3]);
        Assert.Equal("4:PLAIN, RLE:False", encodings[4]);
        Assert.All(QueryRows(connection,
            $"SELECT encodings FROM parquet_metadata({Quote(path)}) WHERE path_in_schema = 'content_encoding'"),
            r => Assert.Equal("PLAIN, RLE, RLE_DICTIONARY", r[0]));

        AssertRowsEqual(rows, ReadWithDuckDb(path), "DuckDB");
        AssertRowsEqual(rows, await ReadWithParquetNetAsync(path), "Parquet.Net");
    }

    [Fact]
    public async Task InvalidUtf8_FaultsTheWriter_NamesColumnAndRow()
    {
        using var good = BuildBatch(MessyRows(3));
        var arrays = new IArrowArray[PagesSchema.Columns.Count];
        for (int c = 0; c < arrays.Length; c++)
        {
            arrays[c] = good.Column(c);
        }
        var title = new StringArray.Builder();
        title.Append("ok"u8);
        title.Append((ReadOnlySpan<byte>)[0x61, 0xC3]); // a truncated two-byte sequence
        title.Append("ok"u8);
        arrays[PagesSchema.Title] = title.Build();
        using var bad = new RecordBatch(PagesSchema.ArrowSchema, arrays, 3);

        string path = Path.Combine(_dir, "bad.parquet");
        var writer = await PartWriter.CreateAsync(path);
        var error = await Assert.ThrowsAsync<ArgumentException>(() => writer.WriteAsync(bad));
        Assert.Contains("'title' row 1", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.CompleteAsync());
        await writer.DisposeAsync();
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    [Fact]
    public async Task Utf8SplitAcrossValues_IsRejectedThoughTheBytesAreValidTogether()
    {
        using var good = BuildBatch(MessyRows(2));
        var arrays = new IArrowArray[PagesSchema.Columns.Count];
        for (int c = 0; c < arrays.Length; c++)
        {
            arrays[c] = good.Column(c);
        }
        var title = new StringArray.Builder();
        title.Append((ReadOnlySpan<byte>)[0x61, 0xC3]);
        title.Append((ReadOnlySpan<byte>)[0xBC, 0x62]); // "aü" + "b" cut inside the ü
        arrays[PagesSchema.Title] = title.Build();
        using var bad = new RecordBatch(PagesSchema.ArrowSchema, arrays, 2);

        await using var writer = await PartWriter.CreateAsync(Path.Combine(_dir, "split.parquet"));
        var error = await Assert.ThrowsAsync<ArgumentException>(() => writer.WriteAsync(bad));
        Assert.Contains("'title' row 0", error.Message, StringComparison.Ordinal);
    }

    // ---- data ----

    private static readonly string[] Specials =
    [
        "",
        "\"quoted\" \\ back\\slash / \b\f\n\r\t \u0001 \u001f \u007f",
        "https://例え.jp/パス/🚀?q=naïve&x=Ω",
        "Ünïcödé — 日本語 👩‍👩‍👧‍👦 𝄞 é (e\u0301) \uFEFF",
        "\0nul inside\0",
        "ÿÿÿ \U0010FFFF max code point",
    ];

    private static readonly string[] EncodingValues = ["utf8", "", "windows-1251", "ISO-8859-1", "ÜTF-8 ✓"];

    // Null density by block of rows: long all-valid and all-null runs as well as mixtures.
    private static readonly double[] NullDensities = [0, 1, 0.5, 0.03, 0.97, 0, 0.2];

    private static List<object?[]> MessyRows(int count)
    {
        var random = new Random(20_240_601);
        var rows = new List<object?[]>(count);
        for (long i = 0; i < count; i++)
        {
            rows.Add(MessyRow(random, i));
        }
        return rows;
    }

    private static object?[] MessyRow(Random random, long i)
    {
        var row = new object?[PagesSchema.Columns.Count];
        long block = i / 997;
        row[PagesSchema.Url] = (i % 101) switch
        {
            0 => Specials[(int)(i / 101 % Specials.Length)],
            1 => new string('u', 3_000) + i,
            _ => "https://example.com/p/" + i.ToString(CultureInfo.InvariantCulture),
        };
        row[PagesSchema.AhrefsRank] = (i % 89) switch { 0 => int.MinValue, 1 => int.MaxValue, 2 => -1, _ => random.Next(0, 101) };
        row[PagesSchema.FirstSeen] = (i % 83) switch
        {
            0 => MinMicros,
            1 => MaxMicros,
            2 => -1L,
            3 => -999L,
            4 => -1_000L,
            5 => -1_001L,
            6 => -1_577_923_200_000_001L, // 1920, one microsecond before a second
            _ => random.NextInt64(-2_208_988_800_000_000, 4_102_444_800_000_000), // 1900..2100
        };
        row[PagesSchema.LastVisited] = (i % 71) == 0 ? MaxMicros - 1 : random.NextInt64(MinMicros, MaxMicros + 1);
        row[PagesSchema.HttpCode] = (i % 79) switch { 0 => int.MinValue, 1 => int.MaxValue, _ => 200 + random.Next(0, 4) * 100 };
        row[PagesSchema.Size] = (i % 61) switch { 0 => long.MinValue, 1 => long.MaxValue, _ => random.NextInt64(long.MinValue, long.MaxValue) };
        row[PagesSchema.LinksInternal] = random.Next(int.MinValue, int.MaxValue);
        row[PagesSchema.LinksExternal] = random.Next(0, 10);
        // Long runs of one value (RLE runs of indices) in some blocks, random in others.
        row[PagesSchema.Encoding] = block % 2 == 0 ? EncodingValues[(int)(i / 50 % EncodingValues.Length)] : EncodingValues[random.Next(EncodingValues.Length)];
        row[PagesSchema.Title] = (i % 5) switch
        {
            0 => Specials[random.Next(Specials.Length)],
            1 => "",
            _ => "Títle 🚀 " + i.ToString(CultureInfo.InvariantCulture),
        };
        row[PagesSchema.RedirectUrl] = random.Next(4) == 0 ? "https://😀.example/" + random.Next(1_000) : "";
        row[PagesSchema.ContentEncoding] = random.Next(5) switch { 0 => "gzip", 1 => "br", 2 => "deflate", 3 => "", _ => "zstd" };
        for (int c = PagesSchema.Backlinks; c <= PagesSchema.Refips; c++)
        {
            row[c] = (i + c) % 97 switch { 0 => long.MinValue, 1 => long.MaxValue, 2 => 0L, _ => random.NextInt64(0, 1L << 40) };
        }
        foreach (var column in PagesSchema.Columns)
        {
            if (column.Nullable && random.NextDouble() < NullDensities[(int)((block + column.Index) % NullDensities.Length)])
            {
                row[column.Index] = null;
            }
        }
        row[PagesSchema.SourceIdIndex] = 7;
        row[PagesSchema.RowOrdinalIndex] = i;
        return row;
    }

    /// <summary>What a part stores for an input value: timestamps as milliseconds, rounded down.</summary>
    private static object? Stored(PageColumn column, object? value) =>
        column.Kind == ColumnKind.Timestamp && value is long micros ? Math.DivRem(micros, 1000L) switch
        {
            var (q, r) when r < 0 => q - 1,
            var (q, _) => q,
        } : value;

    /// <summary>Writes <paramref name="rows"/> in batches of <paramref name="batchSizes"/>, each a slice (non-zero array offsets) of a larger batch.</summary>
    private static async Task WriteSlicedAsync(string path, List<object?[]> rows, int[] batchSizes, PartWriterOptions options)
    {
        Assert.Equal(rows.Count, batchSizes.Sum());
        await using var writer = await PartWriter.CreateAsync(path, options);
        int at = 0;
        foreach (int size in batchSizes)
        {
            // 3..13 rows of padding before: offsets that are not multiples of 8.
            int before = 3 + size % 11;
            var padded = new List<object?[]>(size + before + 2);
            for (int k = 0; k < before; k++)
            {
                padded.Add(MessyRow(new Random(k), 1_000_000 + k));
            }
            padded.AddRange(rows.GetRange(at, size));
            padded.Add(MessyRow(new Random(1), 2_000_000));
            padded.Add(MessyRow(new Random(2), 2_000_001));
            using var whole = BuildBatch(padded);
            using var slice = whole.Slice(before, size);
            Assert.Equal(before, ((Apache.Arrow.Array)slice.Column(PagesSchema.Title)).Offset);
            await writer.WriteAsync(slice);
            at += size;
        }
        Assert.Equal(rows.Count, await writer.CompleteAsync());
    }

    private static RecordBatch BuildBatch(IReadOnlyList<object?[]> rows)
    {
        var arrays = new IArrowArray[PagesSchema.Columns.Count];
        foreach (var column in PagesSchema.Columns)
        {
            int c = column.Index;
            switch (column.Kind)
            {
                case ColumnKind.Utf8:
                {
                    var builder = new StringArray.Builder();
                    foreach (var row in rows)
                    {
                        if (row[c] is string s) builder.Append(s); else builder.AppendNull();
                    }
                    arrays[c] = builder.Build();
                    break;
                }
                case ColumnKind.Int32:
                {
                    var builder = new Int32Array.Builder();
                    foreach (var row in rows)
                    {
                        if (row[c] is int v) builder.Append(v); else builder.AppendNull();
                    }
                    arrays[c] = builder.Build();
                    break;
                }
                case ColumnKind.Int64:
                {
                    var builder = new Int64Array.Builder();
                    foreach (var row in rows)
                    {
                        if (row[c] is long v) builder.Append(v); else builder.AppendNull();
                    }
                    arrays[c] = builder.Build();
                    break;
                }
                case ColumnKind.Timestamp:
                {
                    // Raw microseconds into the value buffer: the full 0001..9999 range, no DateTimeOffset detour.
                    var values = new ArrowBuffer.Builder<long>(rows.Count);
                    var validity = new ArrowBuffer.BitmapBuilder(rows.Count);
                    int nulls = 0;
                    foreach (var row in rows)
                    {
                        values.Append(row[c] is long micros ? micros : 0);
                        validity.Append(row[c] is long);
                        nulls += row[c] is long ? 0 : 1;
                    }
                    arrays[c] = new TimestampArray(PagesSchema.TimestampType, values.Build(), validity.Build(), rows.Count, nulls, 0);
                    break;
                }
            }
        }
        return new RecordBatch(PagesSchema.ArrowSchema, arrays, rows.Count);
    }

    private static void AssertRowsEqual(List<object?[]> expected, List<object?[]> actual, string reader)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int r = 0; r < expected.Count; r++)
        {
            foreach (var column in PagesSchema.Columns)
            {
                object? want = Stored(column, expected[r][column.Index]);
                object? got = actual[r][column.Index];
                if (!Equals(want, got))
                {
                    Assert.Fail($"{reader}: row {r} column '{column.Name}': expected {Show(want)}, got {Show(got)}");
                }
            }
        }
    }

    private static string Show(object? value) => value switch
    {
        null => "NULL",
        string s => $"\"{(s.Length > 60 ? s[..60] + "…" : s)}\" ({s.Length} chars)",
        _ => $"{value} ({value.GetType().Name})",
    };

    // ---- DuckDB ----

    private static DuckDBConnection OpenDuckDb()
    {
        var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        return connection;
    }

    private static string Quote(string path) => "'" + path.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static List<object?[]> QueryRows(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (int c = 0; c < row.Length; c++)
            {
                row[c] = reader.IsDBNull(c) ? null : reader.GetValue(c);
            }
            rows.Add(row);
        }
        return rows;
    }

    private static string QueryScalar(DuckDBConnection connection, string sql, string parameter)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.Add(new DuckDBParameter(parameter));
        return Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture)!;
    }

    /// <summary>All rows in file order; timestamps as milliseconds since the epoch.</summary>
    private static List<object?[]> ReadWithDuckDb(string path)
    {
        var select = PagesSchema.Columns.Select(c => c.Kind == ColumnKind.Timestamp ? $"epoch_ms({c.Name})" : c.Name);
        using var connection = OpenDuckDb();
        return QueryRows(connection, $"SELECT {string.Join(", ", select)} FROM read_parquet({Quote(path)})");
    }

    // ---- Parquet.Net ----

    /// <summary>All rows in file order from Parquet.Net's raw column reader (values + definition levels).</summary>
    private static async Task<List<object?[]>> ReadWithParquetNetAsync(string path)
    {
        await using var reader = await ParquetReader.CreateAsync(path);
        var fields = reader.Schema.GetDataFields();
        Assert.Equal(PagesSchema.Columns.Select(c => c.Name), fields.Select(f => f.Name));
        var rows = new List<object?[]>();
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var rowGroup = reader.OpenRowGroupReader(g);
            var block = new object?[(int)rowGroup.RowCount][];
            for (int r = 0; r < block.Length; r++)
            {
                block[r] = new object?[PagesSchema.Columns.Count];
            }
            foreach (var column in PagesSchema.Columns)
            {
                using var raw = await rowGroup.ReadRawColumnDataBaseAsync(fields[column.Index]);
                switch (raw)
                {
                    case RawColumnData<ReadOnlyMemory<char>> strings:
                        Fill(strings, column, block, v => v.ToString());
                        break;
                    case RawColumnData<int> ints:
                        Fill(ints, column, block, v => v);
                        break;
                    case RawColumnData<long> longs:
                        Fill(longs, column, block, v => v);
                        break;
                    case RawColumnData<DateTime> times:
                        Fill(times, column, block, v => (v.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond);
                        break;
                    default:
                        throw new InvalidOperationException($"{column.Name}: unexpected {raw.GetType()}");
                }
            }
            rows.AddRange(block);
        }
        return rows;
    }

    private static void Fill<T>(RawColumnData<T> raw, PageColumn column, object?[][] block, Func<T, object> convert)
        where T : struct
    {
        var values = raw.Values;
        if (!column.Nullable)
        {
            Assert.Equal(block.Length, values.Length);
            for (int r = 0; r < block.Length; r++)
            {
                block[r][column.Index] = convert(values[r]);
            }
            return;
        }
        var levels = raw.DefinitionLevels;
        Assert.Equal(block.Length, levels.Length);
        int k = 0;
        for (int r = 0; r < block.Length; r++)
        {
            block[r][column.Index] = levels[r] == 1 ? convert(values[k++]) : null;
        }
        Assert.True(k <= values.Length, $"{column.Name}: {k} values defined, {values.Length} read");
    }

    /// <summary>Orders strings by their UTF-8 bytes (Parquet's order for strings), numbers as numbers.</summary>
    private sealed class OrdinalComparer : IComparer<object?>
    {
        public static readonly OrdinalComparer Instance = new();

        public int Compare(object? x, object? y) => (x, y) switch
        {
            (string a, string b) => System.Text.Encoding.UTF8.GetBytes(a).AsSpan().SequenceCompareTo(System.Text.Encoding.UTF8.GetBytes(b)),
            (int a, int b) => a.CompareTo(b),
            (long a, long b) => a.CompareTo(b),
            _ => throw new InvalidOperationException($"cannot compare {x} and {y}"),
        };
    }

    /// <summary>
    /// The few PageHeader fields the layout test needs, read with a minimal Thrift compact protocol reader of its
    /// own (independent of the writer's).
    /// </summary>
    private static class PageHeaderReader
    {
        public readonly record struct Header(int Type, int UncompressedSize, int CompressedSize, int NumValues, long NullCount, int HeaderSize);

        public static Header Read(byte[] data, int start)
        {
            int pos = start;
            int type = -1, uncompressed = -1, compressed = -1, numValues = 0;
            long nullCount = 0;
            foreach (var (id, fieldType) in Fields(data, () => pos, p => pos = p))
            {
                switch (id)
                {
                    case 1: type = (int)ZigZag(ReadVarint(data, ref pos)); break;
                    case 2: uncompressed = (int)ZigZag(ReadVarint(data, ref pos)); break;
                    case 3: compressed = (int)ZigZag(ReadVarint(data, ref pos)); break;
                    case 5 or 7:
                        foreach (var (inner, innerType) in Fields(data, () => pos, p => pos = p))
                        {
                            if (inner == 1)
                            {
                                numValues = (int)ZigZag(ReadVarint(data, ref pos));
                            }
                            else if (inner == 5 && id == 5)
                            {
                                foreach (var (statistic, statisticType) in Fields(data, () => pos, p => pos = p))
                                {
                                    if (statistic == 3)
                                    {
                                        nullCount = ZigZag(ReadVarint(data, ref pos));
                                    }
                                    else
                                    {
                                        Skip(data, ref pos, statisticType);
                                    }
                                }
                            }
                            else
                            {
                                Skip(data, ref pos, innerType);
                            }
                        }
                        break;
                    default: Skip(data, ref pos, fieldType); break;
                }
            }
            return new Header(type, uncompressed, compressed, numValues, nullCount, pos - start);
        }

        /// <summary>Field (id, type) pairs of the struct at the position; the caller consumes each field's value.</summary>
        private static IEnumerable<(int Id, int Type)> Fields(byte[] data, Func<int> getPos, Action<int> setPos)
        {
            int last = 0;
            while (true)
            {
                int pos = getPos();
                byte header = data[pos++];
                if (header == 0)
                {
                    setPos(pos);
                    yield break;
                }
                int type = header & 0x0F;
                int delta = header >> 4;
                int id;
                if (delta != 0)
                {
                    id = last + delta;
                }
                else
                {
                    id = (int)ZigZag(ReadVarint(data, ref pos));
                }
                last = id;
                setPos(pos);
                yield return (id, type);
            }
        }

        private static void Skip(byte[] data, ref int pos, int type)
        {
            switch (type)
            {
                case 1 or 2: break; // bool in a field header
                case 3: pos++; break;
                case 4 or 5 or 6: ReadVarint(data, ref pos); break;
                case 7: pos += 8; break;
                case 8:
                {
                    int length = (int)ReadVarint(data, ref pos);
                    pos += length;
                    break;
                }
                case 9 or 10:
                {
                    byte header = data[pos++];
                    int count = header >> 4;
                    if (count == 15)
                    {
                        count = (int)ReadVarint(data, ref pos);
                    }
                    for (int i = 0; i < count; i++)
                    {
                        if ((header & 0x0F) is 1 or 2) pos++; else Skip(data, ref pos, header & 0x0F);
                    }
                    break;
                }
                case 12:
                {
                    int p = pos;
                    foreach (var (_, inner) in Fields(data, () => p, v => p = v))
                    {
                        Skip(data, ref p, inner);
                    }
                    pos = p;
                    break;
                }
                default: throw new InvalidDataException($"Thrift type {type} at {pos}");
            }
        }

        private static ulong ReadVarint(byte[] data, ref int pos)
        {
            ulong value = 0;
            int shift = 0;
            while (true)
            {
                byte b = data[pos++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
                shift += 7;
            }
        }

        private static long ZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);
    }
}
