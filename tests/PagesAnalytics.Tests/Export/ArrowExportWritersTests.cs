using System.Globalization;
using System.IO.Compression;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;
using DuckDB.NET.Data;
using PagesAnalytics.Export;
using PagesAnalytics.Tests.Support;

namespace PagesAnalytics.Tests.Export;

public sealed class ArrowExportWritersTests : IDisposable
{
    private const int GeneratedRows = 2500;

    // Every supported SQL type, generated rows plus a row of NULLs and a row of extremes.
    private const string CreateTable = """
        CREATE TABLE t AS
        SELECT
            i::INTEGER AS id,
            CASE WHEN i % 7 = 3 THEN NULL WHEN i % 5 = 0 THEN '' ELSE 'row ' || i || ' héllo wörld ✓ 😀 ' || repeat('x', i % 13) END AS s,
            CASE WHEN i % 11 = 0 THEN NULL ELSE ['utf-8', 'iso-8859-1', 'windows-1251', ''][i % 4 + 1] END AS encoding,
            CASE WHEN i % 9 = 1 THEN NULL ELSE (i % 256 - 128)::TINYINT END AS i8,
            (i * 37 % 65536 - 32768)::SMALLINT AS i16,
            CASE WHEN i % 6 = 2 THEN NULL ELSE (i * 104729 - 50000)::INTEGER END AS i32,
            CASE WHEN i % 8 = 5 THEN NULL ELSE (i::BIGINT - 1250) * 1099511627776 END AS i64,
            (i % 256)::UTINYINT AS u8,
            (i * 31 % 65536)::USMALLINT AS u16,
            (i::UBIGINT * 1717171)::UINTEGER AS u32,
            (i::UBIGINT * 7000000000000000)::UBIGINT AS u64,
            (i / 8.0)::FLOAT AS f,
            CASE WHEN i % 10 = 4 THEN NULL ELSE i / 3.0 END::DOUBLE AS d,
            CASE i % 3 WHEN 0 THEN true WHEN 1 THEN false ELSE NULL END AS b,
            -- Millisecond values: Parquet files store timestamps as MILLIS (see ArrowParquetColumns).
            CASE WHEN i % 13 = 0 THEN NULL
                 ELSE TIMESTAMPTZ '1969-12-31 23:59:59.999+00' + to_milliseconds(i * 1234567890) END AS tz,
            TIMESTAMP '2000-01-01 00:00:00' - to_milliseconds(i * 987654) AS ts,
            CASE WHEN i % 17 = 0 THEN NULL ELSE DATE '1969-12-25' + (i * 17)::INTEGER END AS dt,
            ((i * 12345 - 99999) / 100.0)::DECIMAL(10,2) AS dec,
            ('1' || repeat('2', i % 27) || '.0123456789')::DECIMAL(38,10) AS dec38,
            (i::HUGEINT - 1000) * 1000000000000000000000000000000::HUGEINT AS hi,
            ('\x00\xFF' || i)::BLOB AS bin
        FROM range(3, 2500) r(i);
        INSERT INTO t (id) VALUES (1);
        INSERT INTO t VALUES (2, '', 'utf-8', -128, -32768, -2147483648, -9223372036854775808, 0, 0, 0, 0,
            -3.4e38, -1.7976931348623157e308, true, TIMESTAMPTZ '0001-01-01 00:00:00+00', TIMESTAMP '9999-12-31 23:59:59.999',
            DATE '0001-01-01', -99999999.99, -9999999999999999999999999999.9999999999,
            -99999999999999999999999999999999999999::HUGEINT, ''::BLOB);
        INSERT INTO t VALUES (0, 'ünïcödé 中文 𝄞', 'windows-1251', 127, 32767, 2147483647, 9223372036854775807, 255, 65535,
            4294967295, 18446744073709551615, 3.4e38, 1.7976931348623157e308, false, TIMESTAMPTZ '9999-12-31 23:59:59.999+00',
            TIMESTAMP '0001-01-01 00:00:00', DATE '9999-12-31', 99999999.99, 9999999999999999999999999999.9999999999,
            99999999999999999999999999999999999999::HUGEINT, '\xDE\xAD\xBE\xEF'::BLOB);
        """;

    private const string AllRows = "SELECT * FROM t ORDER BY id";

    private const string Aggregates = """
        SELECT encoding, count(*) AS n, sum(i64) AS total, avg(i32) AS mean, sum(dec) AS dec_sum, avg(dec) AS dec_avg,
               sum(hi) AS hi_sum, min(tz) AS first_tz, max(dt) AS last_dt
        FROM t WHERE id > 2 GROUP BY encoding ORDER BY encoding NULLS LAST
        """;

    private readonly TempDir _temp = new();
    private readonly DuckDBConnection _db;

    public ArrowExportWritersTests()
    {
        _db = new DuckDBConnection("DataSource=:memory:");
        _db.Open();
        Execute(_db, "SET TimeZone = 'UTC'");
        Execute(_db, CreateTable);
    }

    public void Dispose()
    {
        _db.Dispose();
        _temp.Dispose();
    }

    // ---- what DuckDB hands out ----

    [Fact]
    public async Task DuckDb_ArrowTypesOfEachSqlType()
    {
        var types = new Dictionary<string, string>();
        await foreach (var batch in Batches(AllRows + " LIMIT 1"))
        {
            using (batch)
            {
                foreach (var field in batch.Schema.FieldsList)
                {
                    types[field.Name] = ArrowTypeText(field.DataType);
                    Assert.True(field.IsNullable);
                }
            }
        }
        await foreach (var batch in Batches(Aggregates))
        {
            using (batch)
            {
                foreach (var field in batch.Schema.FieldsList)
                {
                    types[field.Name] = ArrowTypeText(field.DataType);
                }
            }
        }

        Assert.Equal("utf8", types["s"]);
        Assert.Equal("int8", types["i8"]);
        Assert.Equal("int16", types["i16"]);
        Assert.Equal("int32", types["i32"]);
        Assert.Equal("int64", types["i64"]);
        Assert.Equal("uint8", types["u8"]);
        Assert.Equal("uint16", types["u16"]);
        Assert.Equal("uint32", types["u32"]);
        Assert.Equal("uint64", types["u64"]);
        Assert.Equal("float", types["f"]);
        Assert.Equal("double", types["d"]);
        Assert.Equal("bool", types["b"]);
        Assert.Matches(@"^timestamp\[Microsecond, tz=.+\]$", types["tz"]);
        Assert.Equal("timestamp[Microsecond]", types["ts"]);
        Assert.Equal("date32", types["dt"]);
        Assert.Equal("decimal128(10, 2)", types["dec"]);
        Assert.Equal("decimal128(38, 10)", types["dec38"]);
        Assert.Equal("decimal128(38, 0)", types["hi"]); // HUGEINT
        Assert.Equal("binary", types["bin"]);
        Assert.Equal("int64", types["n"]); // count(*)
        Assert.Equal("decimal128(38, 0)", types["total"]); // sum(BIGINT) is HUGEINT
        Assert.Equal("double", types["mean"]); // avg(INTEGER)
        Assert.Equal("decimal128(38, 2)", types["dec_sum"]);
        Assert.Equal("double", types["dec_avg"]); // avg(DECIMAL)
        Assert.Equal("decimal128(38, 0)", types["hi_sum"]);
    }

    // ---- Parquet ----

    [Theory]
    [InlineData(AllRows)]
    [InlineData(Aggregates)]
    public async Task Parquet_EveryValueAndTypeReadBackByDuckDb(string query)
    {
        string path = _temp.File("out.parquet");
        long rows;
        await using (var file = File.Create(path))
        {
            rows = await ArrowExport.WriteParquetAsync(Batches(query), file);
        }

        Assert.Equal(Scalar<long>($"SELECT count(*) FROM ({query})"), rows);
        Assert.Equal(Describe($"SELECT * FROM ({query})").Select(ParquetTypeOf),
            Describe($"SELECT * FROM read_parquet({Quote(path)})"));
        Assert.Equal(DumpText($"SELECT * FROM ({query})"), DumpText($"SELECT * FROM read_parquet({Quote(path)})"));
    }

    [Fact]
    public async Task Parquet_TypesAsDuckDbDescribesThem()
    {
        string path = await WriteParquetFileAsync(AllRows);
        var types = Describe($"SELECT * FROM read_parquet({Quote(path)})").ToDictionary(c => c.Name, c => c.Type);

        Assert.Equal("VARCHAR", types["s"]);
        Assert.Equal("VARCHAR", types["encoding"]);
        Assert.Equal("INTEGER", types["i32"]);
        Assert.Equal("BIGINT", types["i64"]);
        Assert.Equal("UBIGINT", types["u64"]);
        Assert.Equal("TIMESTAMP WITH TIME ZONE", types["tz"]);
        Assert.Equal("TIMESTAMP", types["ts"]);
        Assert.Equal("DATE", types["dt"]);
        Assert.Equal("DECIMAL(10,2)", types["dec"]);
        Assert.Equal("DECIMAL(38,10)", types["dec38"]);
        Assert.Equal("DECIMAL(38,0)", types["hi"]);
        Assert.Equal("BLOB", types["bin"]);
        // Values of 38 digits survive (beyond System.Decimal).
        Assert.Equal(["-99999999999999999999999999999999999999", "99999999999999999999999999999999999999"],
            Strings($"SELECT hi::VARCHAR FROM read_parquet({Quote(path)}) WHERE id IN (0, 2) ORDER BY hi"));
    }

    [Fact]
    public async Task Parquet_ZstdAndRowGroupsOfRowGroupRows()
    {
        string path = await WriteParquetFileAsync(AllRows, new ParquetExportOptions { RowGroupRows = 1000 });

        Assert.Equal([1000L, 1000L, 500L],
            Strings($"SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata({Quote(path)}) ORDER BY 1",
                column: 1).Select(long.Parse));
        Assert.Equal(["ZSTD"], Strings($"SELECT DISTINCT compression FROM parquet_metadata({Quote(path)})"));
        Assert.Equal(DumpText(AllRows), DumpText($"SELECT * FROM read_parquet({Quote(path)})"));
    }

    [Fact]
    public void Parquet_ZstdAtLevel3NotTheDefault19()
    {
        var options = ParquetExportWriter.BuildParquetOptions(new ParquetExportOptions(), []);
        Assert.Equal(Parquet.CompressionMethod.Zstd, options.CompressionMethod);
        Assert.Equal(CompressionLevel.Optimal, options.CompressionLevel);
    }

    [Fact]
    public async Task Parquet_DictionaryEncodingForDictionaryColumnsOnly()
    {
        string path = await WriteParquetFileAsync(AllRows);

        Assert.Contains("DICTIONARY", Encodings(path, "encoding"), StringComparison.Ordinal);
        Assert.DoesNotContain("DICTIONARY", Encodings(path, "s"), StringComparison.Ordinal);

        // Without "encoding" in the set it is plain; names of non-string columns are ignored.
        string custom = await WriteParquetFileAsync(AllRows,
            new ParquetExportOptions { DictionaryColumns = new HashSet<string> { "i32", "missing" } }, "custom.parquet");
        Assert.DoesNotContain("DICTIONARY", Encodings(custom, "encoding"), StringComparison.Ordinal);
        Assert.Equal(DumpText(AllRows), DumpText($"SELECT * FROM read_parquet({Quote(custom)})"));
    }

    [Fact]
    public async Task Parquet_KeyValueMetadata()
    {
        var metadata = new Dictionary<string, string> { ["query"] = "SELECT * FROM pages", ["pages.version"] = "ünï 1" };
        string path = await WriteParquetFileAsync(Aggregates, new ParquetExportOptions { Metadata = metadata });

        Assert.Equal(["pages.version=ünï 1", "query=SELECT * FROM pages"],
            Strings($"SELECT decode(key) || '=' || decode(value) FROM parquet_kv_metadata({Quote(path)}) ORDER BY 1"));
    }

    [Fact]
    public async Task Parquet_EmptyResult_FallbackSchemaAndZeroRows()
    {
        const string empty = "SELECT * FROM t WHERE id < 0";
        Apache.Arrow.Schema schema;
        using (var command = Command(empty))
        using (var stream = command.ExecuteArrowStream())
        {
            schema = stream.Schema;
        }
        string path = _temp.File("empty.parquet");
        await using (var file = File.Create(path))
        {
            Assert.Equal(0, await ArrowExport.WriteParquetAsync(Batches(empty), file, schema));
        }

        Assert.Equal(0, Scalar<long>($"SELECT count(*) FROM read_parquet({Quote(path)})"));
        Assert.Equal(Describe(empty).Select(ParquetTypeOf), Describe($"SELECT * FROM read_parquet({Quote(path)})"));

        // The array-stream overload takes the schema from the stream.
        string viaStream = _temp.File("empty-stream.parquet");
        using (var command = Command(empty))
        using (var stream = command.ExecuteArrowStream())
        await using (var file = File.Create(viaStream))
        {
            Assert.Equal(0, await ArrowExport.WriteParquetAsync(stream, file));
        }
        Assert.Equal(Describe(empty).Select(ParquetTypeOf), Describe($"SELECT * FROM read_parquet({Quote(viaStream)})"));
    }

    [Fact]
    public async Task NoBatchesAndNoSchema_Throws()
    {
        using var output = new MemoryStream();
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            ArrowExport.WriteParquetAsync(Batches("SELECT 1 AS x WHERE false"), output));
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            ArrowExport.WriteArrowFileAsync(Batches("SELECT 1 AS x WHERE false"), output));
    }

    [Fact]
    public async Task Parquet_ArrayStreamOverload_WritesEveryRow()
    {
        string path = _temp.File("stream.parquet");
        using (var command = Command(AllRows))
        using (var stream = command.ExecuteArrowStream())
        await using (var file = File.Create(path))
        {
            Assert.Equal(GeneratedRows, await ArrowExport.WriteParquetAsync(stream, file));
        }
        Assert.Equal(DumpText(AllRows), DumpText($"SELECT * FROM read_parquet({Quote(path)})"));
    }

    [Theory]
    [InlineData("SET arrow_large_buffer_size = true", "large_utf8")]
    [InlineData("SET arrow_output_version = '1.4'; SET produce_arrow_string_view = true", "utf8view")]
    public async Task Parquet_LargeStringAndStringView(string setting, string arrowType)
    {
        Execute(_db, setting);
        const string query = "SELECT id, s, encoding, bin FROM t ORDER BY id";
        await foreach (var batch in Batches(query + " LIMIT 1"))
        {
            using (batch)
            {
                Assert.Equal(arrowType, batch.Schema.GetFieldByName("s").DataType.Name);
            }
        }

        string path = await WriteParquetFileAsync(query);
        Assert.Equal(Describe(query).Select(ParquetTypeOf), Describe($"SELECT * FROM read_parquet({Quote(path)})"));
        Assert.Equal(DumpText(query), DumpText($"SELECT * FROM read_parquet({Quote(path)})"));
        Assert.Contains("DICTIONARY", Encodings(path, "encoding"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Parquet_TimestampUnits_WrittenAsMilliseconds()
    {
        const string query = """
            SELECT '2013-11-20 09:46:29.123456789'::TIMESTAMP_NS AS ns, '1969-12-31 23:59:59.999999999'::TIMESTAMP_NS AS ns_neg,
                   '2013-11-20 09:46:29.123'::TIMESTAMP_MS AS ms, '1900-01-01 00:00:01'::TIMESTAMP_S AS s,
                   '2013-11-20 09:46:29.123456+00'::TIMESTAMPTZ AS tz
            """;
        string path = await WriteParquetFileAsync(query);

        Assert.Equal(["TIMESTAMP", "TIMESTAMP", "TIMESTAMP", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE"],
            Describe($"SELECT * FROM read_parquet({Quote(path)})").Select(c => c.Type));
        // Every unit is written as MILLIS (Parquet.Net's statistics are in milliseconds whatever the unit), rounding down.
        Assert.Equal(["2013-11-20 09:46:29.123|1969-12-31 23:59:59.999|2013-11-20 09:46:29.123|1900-01-01 00:00:01|2013-11-20 09:46:29.123+00"],
            DumpText($"SELECT * FROM read_parquet({Quote(path)})"));
    }

    [Fact]
    public async Task Parquet_NarrowDecimalsAndDate64()
    {
        const string query = """
            SELECT * FROM (VALUES (-999.9::DECIMAL(4,1), 123456789012345.678::DECIMAL(18,3), DATE '1969-12-31'),
                                  (NULL, -999999999999999.999::DECIMAL(18,3), DATE '2024-02-29'),
                                  (0.5::DECIMAL(4,1), NULL, NULL)) v(d4, d18, dt)
            """;
        string path = await WriteParquetFileAsync(query);
        Assert.Equal(["DECIMAL(4,1)", "DECIMAL(18,3)", "DATE"], Describe($"SELECT * FROM read_parquet({Quote(path)})").Select(c => c.Type));
        Assert.Equal(DumpText(query), DumpText($"SELECT * FROM read_parquet({Quote(path)})"));
        Assert.Equal(["INT32", "INT64"],
            Strings($"SELECT type FROM parquet_schema({Quote(path)}) WHERE name IN ('d4', 'd18') ORDER BY name DESC"));

        // date64 (milliseconds) is not produced by DuckDB; floored to days.
        var schema = new Apache.Arrow.Schema.Builder().Field(f => f.Name("day").DataType(Date64Type.Default)).Build();
        var days = new Date64Array.Builder()
            .Append(new DateTime(1969, 12, 31, 23, 0, 0, DateTimeKind.Utc))
            .Append(new DateTime(2013, 11, 20, 9, 46, 29, DateTimeKind.Utc))
            .AppendNull()
            .Build();
        string date64 = _temp.File("date64.parquet");
        await using (var file = File.Create(date64))
        await using (var writer = await ParquetExportWriter.CreateAsync(file, schema))
        {
            await writer.WriteAsync(new RecordBatch(schema, [days], 3));
            await writer.CompleteAsync();
        }
        Assert.Equal(["1969-12-31", "2013-11-20", "NULL"], DumpText($"SELECT * FROM read_parquet({Quote(date64)})"));
    }

    [Fact]
    public async Task Cancellation_IsOperationCanceled()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            ArrowExport.WriteParquetAsync(Batches(AllRows), new MemoryStream(), ct: cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            ArrowExport.WriteArrowFileAsync(Batches(AllRows), new MemoryStream(), ct: cancelled.Token));
    }

    [Fact]
    public async Task ParquetWriter_SlicedBatchesAndSchemaMismatch()
    {
        // Slices have non-zero array offsets: bitmaps, booleans, decimals and strings must honour them.
        var batches = new List<RecordBatch>();
        await foreach (var batch in Batches(AllRows))
        {
            batches.Add(batch);
        }
        string path = _temp.File("sliced.parquet");
        await using (var file = File.Create(path))
        await using (var writer = await ParquetExportWriter.CreateAsync(file, batches[0].Schema,
            new ParquetExportOptions { RowGroupRows = 777 }))
        {
            using (var other = await FirstBatchAsync("SELECT 1 AS x"))
            {
                var mismatch = await Assert.ThrowsAsync<ArgumentException>(() => writer.WriteAsync(other));
                Assert.Contains("1 columns", mismatch.Message, StringComparison.Ordinal);
            }
            foreach (var batch in batches)
            {
                int half = batch.Length / 3;
                using (var head = batch.Slice(0, half))
                using (var tail = batch.Slice(half, batch.Length - half))
                {
                    await writer.WriteAsync(head);
                    await writer.WriteAsync(tail);
                }
                batch.Dispose();
            }
            Assert.Equal(GeneratedRows, writer.Rows);
            await writer.CompleteAsync();
            Assert.True(file.CanWrite); // the caller's stream stays open
        }

        Assert.Equal(DumpText(AllRows), DumpText($"SELECT * FROM read_parquet({Quote(path)})"));
        Assert.Equal([777L, 777L, 777L, 169L],
            Strings($"SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata({Quote(path)}) ORDER BY 1",
                column: 1).Select(long.Parse));
    }

    [Fact]
    public async Task Parquet_NonSeekableOutputAndOutputNotAtStart()
    {
        using var memory = new MemoryStream();
        memory.Write("prefix"u8);
        await ArrowExport.WriteParquetAsync(Batches(Aggregates), new ForwardOnlyStream(memory));

        string path = _temp.File("piped.parquet");
        File.WriteAllBytes(path, memory.ToArray()[6..]);
        Assert.Equal(DumpText(Aggregates), DumpText($"SELECT * FROM read_parquet({Quote(path)})"));
    }

    [Fact]
    public async Task Parquet_NonNullableFields_RequiredColumns()
    {
        var schema = new Apache.Arrow.Schema.Builder()
            .Field(f => f.Name("url").DataType(StringType.Default).Nullable(false))
            .Field(f => f.Name("size").DataType(Int64Type.Default).Nullable(true))
            .Build();
        var batch = new RecordBatch(schema,
            [
                new StringArray.Builder().Append("https://a.example/").Append("").Build(),
                new Int64Array.Builder().Append(1L << 40).AppendNull().Build(),
            ], 2);
        string path = _temp.File("required.parquet");
        await using (var file = File.Create(path))
        await using (var writer = await ParquetExportWriter.CreateAsync(file, schema))
        {
            await writer.WriteAsync(batch);
            await writer.CompleteAsync();
        }

        Assert.Equal(["url=REQUIRED", "size=OPTIONAL"],
            Strings($"SELECT name || '=' || repetition_type FROM parquet_schema({Quote(path)}) WHERE name IN ('url', 'size')"));
        Assert.Equal(["https://a.example/|1099511627776", "|NULL"], DumpText($"SELECT * FROM read_parquet({Quote(path)})"));

        var withNull = new RecordBatch(schema,
            [new StringArray.Builder().AppendNull().Build(), new Int64Array.Builder().Append(1).Build()], 1);
        await using var again = await ParquetExportWriter.CreateAsync(new MemoryStream(), schema);
        var error = await Assert.ThrowsAsync<ArgumentException>(() => again.WriteAsync(withNull));
        Assert.Contains("'url'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SELECT 1 AS id, [1, 2] AS tags", "tags", "list")]
    [InlineData("SELECT 1 AS id, INTERVAL 1 DAY AS gap", "gap", "interval")]
    [InlineData("SELECT 1 AS id, {'a': 1} AS obj", "obj", "struct")]
    [InlineData("SELECT 1 AS id, TIME '01:02:03' AS t", "t", "time64")]
    public async Task Parquet_UnsupportedType_NamesColumnAndType(string query, string column, string type)
    {
        using var output = new MemoryStream();
        var error = await Assert.ThrowsAsync<NotSupportedException>(() => ArrowExport.WriteParquetAsync(Batches(query), output));
        Assert.Contains($"'{column}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(type, error.Message, StringComparison.Ordinal);
        Assert.Equal(0, output.Length); // nothing written before the schema is checked
    }

    [Fact]
    public void Options_Validated()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ParquetExportWriter.CreateAsync(new MemoryStream(), new Apache.Arrow.Schema.Builder().Build(),
                new ParquetExportOptions { RowGroupRows = 0 }).GetAwaiter().GetResult());
        Assert.Contains("RowGroupRows", error.Message, StringComparison.Ordinal);
    }

    // ---- Arrow IPC ----

    [Theory]
    [InlineData(AllRows)]
    [InlineData(Aggregates)]
    public async Task ArrowFile_EveryValueReadBackByArrowFileReader(string query)
    {
        string path = _temp.File("out.arrow");
        await using (var file = File.Create(path))
        {
            Assert.Equal(Scalar<long>($"SELECT count(*) FROM ({query})"), await ArrowExport.WriteArrowFileAsync(Batches(query), file));
        }

        var expected = await ArrowRowsAsync(Batches(query));
        await using var input = File.OpenRead(path);
        using var reader = new ArrowFileReader(input);
        var schema = reader.Schema;
        Assert.Equal(expected.Schema.FieldsList.Select(f => (f.Name, ArrowTypeText(f.DataType))),
            schema.FieldsList.Select(f => (f.Name, ArrowTypeText(f.DataType))));
        var actual = await ArrowRowsAsync(ReadAll(reader));
        Assert.Equal(expected.Rows, actual.Rows);
    }

    [Fact]
    public async Task ArrowFile_EmptyResultAndNonSeekableOutput()
    {
        const string empty = "SELECT * FROM t WHERE id < 0";
        Apache.Arrow.Schema schema;
        using (var command = Command(empty))
        using (var stream = command.ExecuteArrowStream())
        {
            schema = stream.Schema;
        }
        using var memory = new MemoryStream();
        memory.Write("xy"u8);
        Assert.Equal(0, await ArrowExport.WriteArrowFileAsync(Batches(empty), new ForwardOnlyStream(memory), schema));

        using var reader = new ArrowFileReader(new MemoryStream(memory.ToArray()[2..]));
        Assert.Equal(schema.FieldsList.Select(f => ArrowTypeText(f.DataType)),
            reader.Schema.FieldsList.Select(f => ArrowTypeText(f.DataType)));
        Assert.Equal(0, await reader.RecordBatchCountAsync());

        // A non-seekable output with rows, too.
        using var piped = new MemoryStream();
        await ArrowExport.WriteArrowFileAsync(Batches(Aggregates), new ForwardOnlyStream(piped));
        using var pipedReader = new ArrowFileReader(new MemoryStream(piped.ToArray()));
        Assert.Equal((await ArrowRowsAsync(Batches(Aggregates))).Rows, (await ArrowRowsAsync(ReadAll(pipedReader))).Rows);
    }

    [Fact]
    public async Task ArrowStream_EveryValueReadBackByArrowStreamReader()
    {
        using var memory = new MemoryStream();
        Assert.Equal(GeneratedRows, await ArrowExport.WriteArrowStreamAsync(Batches(AllRows), memory));
        Assert.True(memory.CanWrite);

        memory.Position = 0;
        using var reader = new ArrowStreamReader(memory, leaveOpen: true);
        Assert.Equal((await ArrowRowsAsync(Batches(AllRows))).Rows, (await ArrowRowsAsync(ReadAll(reader))).Rows);
    }

    // ---- helpers ----

    private async Task<string> WriteParquetFileAsync(string query, ParquetExportOptions? options = null,
        string name = "out.parquet")
    {
        string path = _temp.File(name);
        await using var file = File.Create(path);
        await ArrowExport.WriteParquetAsync(Batches(query), file, options: options);
        return path;
    }

    private async IAsyncEnumerable<RecordBatch> Batches(string query)
    {
        using var command = Command(query);
        await foreach (var batch in command.ExecuteArrowBatchesAsync())
        {
            yield return batch;
        }
    }

    private async Task<RecordBatch> FirstBatchAsync(string query)
    {
        await foreach (var batch in Batches(query))
        {
            return batch;
        }
        throw new InvalidOperationException("no batch");
    }

    private static async IAsyncEnumerable<RecordBatch> ReadAll(ArrowStreamReader reader)
    {
        while (await reader.ReadNextRecordBatchAsync() is { } batch)
        {
            yield return batch;
        }
    }

    private DuckDBCommand Command(string sql)
    {
        var command = _db.CreateCommand();
        command.CommandText = sql;
        return command;
    }

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private T Scalar<T>(string sql)
    {
        using var command = Command(sql);
        return (T)Convert.ChangeType(command.ExecuteScalar()!, typeof(T), CultureInfo.InvariantCulture);
    }

    private List<string> Strings(string sql, int column = 0)
    {
        using var command = Command(sql);
        using var reader = command.ExecuteReader();
        var values = new List<string>();
        while (reader.Read())
        {
            values.Add(Convert.ToString(reader.GetValue(column), CultureInfo.InvariantCulture) ?? "");
        }
        return values;
    }

    /// <summary>(name, DuckDB type) of every column of a query.</summary>
    private List<(string Name, string Type)> Describe(string query)
    {
        using var command = Command($"DESCRIBE {query}");
        using var reader = command.ExecuteReader();
        var columns = new List<(string, string)>();
        while (reader.Read())
        {
            columns.Add((reader.GetString(0), reader.GetString(1)));
        }
        return columns;
    }

    /// <summary>The DuckDB type a column reads back as from our Parquet: HUGEINT becomes DECIMAL(38,0).</summary>
    private static (string Name, string Type) ParquetTypeOf((string Name, string Type) column) =>
        column.Type == "HUGEINT" ? (column.Name, "DECIMAL(38,0)") : column;

    /// <summary>Every value of a query as DuckDB's own text form, one line per row, NULL as NULL.</summary>
    private List<string> DumpText(string query)
    {
        var columns = Describe(query);
        string select = string.Join(" || '|' || ",
            columns.Select(c => $"coalesce(CAST(\"{c.Name}\" AS VARCHAR), 'NULL')"));
        return Strings($"SELECT {select} FROM ({query})");
    }

    private string Encodings(string path, string column) =>
        string.Join(";", Strings(
            $"SELECT encodings FROM parquet_metadata({Quote(path)}) WHERE path_in_schema = '{column}' ORDER BY row_group_id"));

    private static string Quote(string path) => "'" + path.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static string ArrowTypeText(IArrowType type) => type switch
    {
        TimestampType t => string.IsNullOrEmpty(t.Timezone) ? $"timestamp[{t.Unit}]" : $"timestamp[{t.Unit}, tz={t.Timezone}]",
        Decimal128Type d => $"decimal128({d.Precision}, {d.Scale})",
        _ => type.Name,
    };

    /// <summary>All rows of some batches as text cells (disposing the batches), plus the first schema.</summary>
    private static async Task<(Apache.Arrow.Schema Schema, List<string> Rows)> ArrowRowsAsync(
        IAsyncEnumerable<RecordBatch> batches)
    {
        Apache.Arrow.Schema? schema = null;
        var rows = new List<string>();
        await foreach (var batch in batches)
        {
            using (batch)
            {
                schema ??= batch.Schema;
                for (int r = 0; r < batch.Length; r++)
                {
                    var cells = new string[batch.ColumnCount];
                    for (int c = 0; c < cells.Length; c++)
                    {
                        cells[c] = Cell(batch.Column(c), r);
                    }
                    rows.Add(string.Join("|", cells));
                }
            }
        }
        return (schema ?? throw new InvalidOperationException("no batches"), rows);
    }

    private static string Cell(IArrowArray array, int row)
    {
        if (array.IsNull(row))
        {
            return "NULL";
        }
        object value = array switch
        {
            StringArray a => a.GetString(row),
            BinaryArray a => Convert.ToHexString(a.GetBytes(row)),
            BooleanArray a => a.GetValue(row)!.Value,
            Int8Array a => a.GetValue(row)!.Value,
            Int16Array a => a.GetValue(row)!.Value,
            Int32Array a => a.GetValue(row)!.Value,
            Int64Array a => a.GetValue(row)!.Value,
            UInt8Array a => a.GetValue(row)!.Value,
            UInt16Array a => a.GetValue(row)!.Value,
            UInt32Array a => a.GetValue(row)!.Value,
            UInt64Array a => a.GetValue(row)!.Value,
            FloatArray a => a.GetValue(row)!.Value,
            DoubleArray a => a.GetValue(row)!.Value,
            TimestampArray a => a.GetValue(row)!.Value,
            Date32Array a => a.GetValue(row)!.Value,
            Decimal128Array a => a.GetString(row),
            _ => throw new InvalidOperationException($"unexpected array {array.GetType().Name}"),
        };
        return Convert.ToString(value, CultureInfo.InvariantCulture)!;
    }

    /// <summary>A write-only stream that cannot seek or tell its position, like a pipe.</summary>
    private sealed class ForwardOnlyStream(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    }
}
