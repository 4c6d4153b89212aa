using Apache.Arrow;
using DuckDB.NET.Data;
using PagesAnalytics.Schema;
using PagesAnalytics.Store;

namespace PagesAnalytics.Tests.Store;

public sealed class PartWriterTests : IDisposable
{
    private const long MinMicros = -62_135_596_800_000_000; // 0001-01-01T00:00:00Z
    private const long MaxMicros = 253_402_300_799_999_999; // 9999-12-31T23:59:59.999999Z

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pa-partwriter-" + Guid.NewGuid().ToString("N"));

    public PartWriterTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private string PartPath(string name = "part-0.parquet") => Path.Combine(_dir, name);

    [Theory]
    [InlineData(PartCompression.Zstd)]
    [InlineData(PartCompression.Snappy)]
    public async Task RoundTrip_EveryValueReadBackByDuckDb(PartCompression compression)
    {
        var rows = new List<object?[]>(SpecialRows());
        for (long i = rows.Count; i < 160; i++)
        {
            rows.Add(GeneratedRow(i));
        }
        string path = PartPath();

        // Odd batch sizes across several row groups, plus a batch that is a slice (non-zero array offsets).
        await using (var writer = await PartWriter.CreateAsync(path, new PartWriterOptions { MinRowGroupRows = 8, Compression = compression }))
        {
            int at = 0;
            foreach (int size in new[] { 1, 2, 5, 13, 40, 3, 1 })
            {
                using var batch = BuildBatch(rows.GetRange(at, size));
                await writer.WriteAsync(batch);
                at += size;
            }
            using (var big = BuildBatch(rows.GetRange(at - 7, rows.Count - at + 7)))
            using (var slice = big.Slice(7, rows.Count - at))
            {
                Assert.NotEqual(0, ((Apache.Arrow.Array)slice.Column(PagesSchema.Url)).Offset);
                await writer.WriteAsync(slice);
            }
            Assert.Equal(rows.Count, writer.Rows);
            Assert.Equal(rows.Count, await writer.CompleteAsync());
        }

        var actual = ReadAllRows(path);
        Assert.Equal(rows.Count, actual.Count);
        for (int r = 0; r < rows.Count; r++)
        {
            for (int c = 0; c < PagesSchema.Columns.Count; c++)
            {
                var expected = rows[r][c];
                if (PagesSchema.Columns[c].Kind == ColumnKind.Timestamp && expected is long micros)
                {
                    // Parts store MILLIS (Parquet.Net writes timestamp statistics in milliseconds), rounded down.
                    expected = micros - ((micros % 1000) + 1000) % 1000;
                }
                var got = actual[r][c];
                if (!Equals(expected, got))
                {
                    Assert.Fail($"row {r} column '{PagesSchema.Columns[c].Name}': expected {Show(expected)}, got {Show(got)}");
                }
            }
        }
    }

    [Fact]
    public async Task DuckDbSeesSchemaTypesAndNullability()
    {
        string path = PartPath();
        await WriteRowsAsync(path, SpecialRows());

        using var connection = OpenDuckDb();
        var types = new Dictionary<string, string>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"DESCRIBE SELECT * FROM read_parquet({Quote(path)})";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                types[reader.GetString(0)] = reader.GetString(1);
            }
        }
        var repetition = new Dictionary<string, string>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT name, repetition_type FROM parquet_schema({Quote(path)}) WHERE num_children IS NULL OR num_children = 0";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                repetition[reader.GetString(0)] = reader.GetString(1);
            }
        }

        Assert.Equal(PagesSchema.Columns.Count, types.Count);
        foreach (var column in PagesSchema.Columns)
        {
            string expected = column.Kind switch
            {
                ColumnKind.Utf8 => "VARCHAR",
                ColumnKind.Int32 => "INTEGER",
                ColumnKind.Int64 => "BIGINT",
                ColumnKind.Timestamp => "TIMESTAMP WITH TIME ZONE",
                _ => throw new InvalidOperationException(),
            };
            Assert.True(types.TryGetValue(column.Name, out var actual), $"column {column.Name} missing");
            Assert.Equal((column.Name, expected), (column.Name, actual));
            Assert.Equal((column.Name, column.Nullable ? "OPTIONAL" : "REQUIRED"), (column.Name, repetition[column.Name]));
        }
    }

    [Fact]
    public async Task DefaultOptions_TailMergedIntoLastRowGroup_Zstd_DictionaryForLowCardinalityColumns()
    {
        string path = PartPath();
        const int full = PartWriterOptions.DefaultRowGroupRows;
        await WriteRowsAsync(path, RowRange(0, 2 * full + 1000), batchSizes: [full, full, 1000]);

        Assert.Equal([(0L, (long)full), (1L, (long)full + 1000)], RowGroups(path));
        using var connection = OpenDuckDb();
        Assert.Equal(["ZSTD"], QueryStrings(connection, $"SELECT DISTINCT compression FROM parquet_metadata({Quote(path)})"));
        foreach (string name in new[] { "encoding", "content_encoding" })
        {
            string encodings = QueryStrings(connection,
                $"SELECT encodings FROM parquet_metadata({Quote(path)}) WHERE path_in_schema = '{name}' AND row_group_id = 0").Single();
            Assert.Contains("DICTIONARY", encodings, StringComparison.Ordinal);
        }
        string titleEncodings = QueryStrings(connection,
            $"SELECT encodings FROM parquet_metadata({Quote(path)}) WHERE path_in_schema = 'title' AND row_group_id = 0").Single();
        Assert.DoesNotContain("DICTIONARY", titleEncodings, StringComparison.Ordinal);

        // Every row arrives once, in order.
        Assert.Equal(["132072|0|132071|132072|true"], QueryStrings(connection,
            $"SELECT count(*) || '|' || min(row_ordinal) || '|' || max(row_ordinal) || '|' || count(DISTINCT row_ordinal) || '|' || " +
            $"bool_and(row_ordinal = rn - 1) FROM (SELECT row_ordinal, row_number() OVER () AS rn FROM read_parquet({Quote(path)}))"));
    }

    [Theory]
    [InlineData(10, new[] { 25 }, new long[] { 10, 15 })]
    [InlineData(10, new[] { 5 }, new long[] { 5 })]
    [InlineData(10, new[] { 10 }, new long[] { 10 })]
    [InlineData(10, new[] { 20 }, new long[] { 10, 10 })]
    [InlineData(10, new[] { 19, 1 }, new long[] { 10, 10 })]
    [InlineData(10, new[] { 21 }, new long[] { 10, 11 })]
    [InlineData(4, new[] { 3, 3, 3 }, new long[] { 4, 5 })]
    [InlineData(10, new[] { 7, 100, 3 }, new long[] { 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10 })]
    [InlineData(1, new[] { 1, 1, 1 }, new long[] { 1, 1, 1 })]
    [InlineData(3, new[] { 1, 1, 1, 1, 1, 1, 1, 1 }, new long[] { 3, 5 })]
    public async Task RowGroupSizes_AtLeastMinimumUnlessWholeFileIsSmaller(int minRows, int[] batchSizes, long[] expectedGroups)
    {
        string path = PartPath();
        int total = batchSizes.Sum();
        await WriteRowsAsync(path, RowRange(0, total), batchSizes, new PartWriterOptions { MinRowGroupRows = minRows });

        var groups = RowGroups(path);
        Assert.Equal(expectedGroups, groups.Select(g => g.Rows).ToArray());
        Assert.Equal(Enumerable.Range(0, groups.Count).Select(i => (long)i), groups.Select(g => g.Id));
        using var connection = OpenDuckDb();
        Assert.Equal(Enumerable.Range(0, total).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            QueryStrings(connection, $"SELECT row_ordinal FROM read_parquet({Quote(path)})"));
    }

    [Fact]
    public async Task OneLargeBatch_IsSplitIntoGroupsOfTheMinimum()
    {
        string path = PartPath();
        await WriteRowsAsync(path, RowRange(0, 100_000), batchSizes: [100_000],
            new PartWriterOptions { MinRowGroupRows = 30_000, Compression = PartCompression.Snappy });

        Assert.Equal([30_000L, 30_000L, 40_000L], RowGroups(path).Select(g => g.Rows).ToArray());
        using var connection = OpenDuckDb();
        Assert.Equal(["SNAPPY"], QueryStrings(connection, $"SELECT DISTINCT compression FROM parquet_metadata({Quote(path)})"));
    }

    [Fact]
    public async Task AllNullableColumnsNullInAWholeRowGroup()
    {
        string path = PartPath();
        var rows = new List<object?[]>();
        for (long i = 0; i < 5; i++)
        {
            var row = new object?[PagesSchema.Columns.Count];
            row[PagesSchema.Url] = "u" + i;
            row[PagesSchema.SourceIdIndex] = 1;
            row[PagesSchema.RowOrdinalIndex] = i;
            rows.Add(row);
        }
        await WriteRowsAsync(path, rows, batchSizes: [2, 3], new PartWriterOptions { MinRowGroupRows = 2 });

        Assert.Equal([2L, 3L], RowGroups(path).Select(g => g.Rows).ToArray());
        var actual = ReadAllRows(path);
        Assert.Equal(rows.Count, actual.Count);
        for (int r = 0; r < rows.Count; r++)
        {
            Assert.Equal(rows[r], actual[r]);
        }
    }

    [Fact]
    public async Task EmptyPart_IsAValidFileWithNoRows()
    {
        string path = PartPath();
        await using (var writer = await PartWriter.CreateAsync(path))
        {
            Assert.Equal(0, await writer.CompleteAsync());
        }

        using var connection = OpenDuckDb();
        Assert.Equal(["0"], QueryStrings(connection, $"SELECT count(*) FROM read_parquet({Quote(path)})"));
    }

    [Fact]
    public async Task TempFileUntilComplete_ThenOnlyFinalFile()
    {
        string path = PartPath();
        await using var writer = await PartWriter.CreateAsync(path);
        using (var batch = BuildBatch(RowRange(0, 10)))
        {
            await writer.WriteAsync(batch);
        }
        Assert.True(File.Exists(path + PartWriter.TempSuffix));
        Assert.False(File.Exists(path));

        await writer.CompleteAsync();
        Assert.False(File.Exists(path + PartWriter.TempSuffix));
        Assert.True(File.Exists(path));

        await writer.DisposeAsync();
        Assert.True(File.Exists(path));
        Assert.Equal([path], Directory.GetFiles(_dir));
    }

    [Fact]
    public async Task DisposeWithoutComplete_LeavesNeitherTempNorFinalFile()
    {
        string path = PartPath();
        var writer = await PartWriter.CreateAsync(path, new PartWriterOptions { MinRowGroupRows = 4 });
        using (var batch = BuildBatch(RowRange(0, 20)))
        {
            await writer.WriteAsync(batch); // row groups already written to the temp file
        }
        Assert.True(new FileInfo(path + PartWriter.TempSuffix).Length > 0);

        await writer.DisposeAsync();
        await writer.DisposeAsync();

        Assert.Empty(Directory.GetFileSystemEntries(_dir));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => writer.CompleteAsync());
    }

    [Fact]
    public async Task DisposeWithoutAnyWrite_LeavesNothing()
    {
        string path = PartPath();
        await using (var writer = await PartWriter.CreateAsync(path))
        {
            Assert.True(File.Exists(path + PartWriter.TempSuffix));
        }
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    [Fact]
    public async Task CancelledWrite_ThenDispose_LeavesNothing()
    {
        string path = PartPath();
        var writer = await PartWriter.CreateAsync(path, new PartWriterOptions { MinRowGroupRows = 2 });
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        using (var batch = BuildBatch(RowRange(0, 10)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writer.WriteAsync(batch, cts.Token));
        }
        await writer.DisposeAsync();
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    [Fact]
    public async Task ExistingFinalPath_IsNeverOverwritten_TempDebrisIsReplaced()
    {
        string path = PartPath();
        await File.WriteAllTextAsync(path + PartWriter.TempSuffix, "debris of a crash");
        await WriteRowsAsync(path, RowRange(0, 3));
        Assert.False(File.Exists(path + PartWriter.TempSuffix));

        var error = await Assert.ThrowsAsync<IOException>(() => PartWriter.CreateAsync(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        using var connection = OpenDuckDb();
        Assert.Equal(["3"], QueryStrings(connection, $"SELECT count(*) FROM read_parquet({Quote(path)})"));
    }

    [Fact]
    public async Task WriteOrCompleteAfterComplete_Throws()
    {
        string path = PartPath();
        await using var writer = await PartWriter.CreateAsync(path);
        await writer.CompleteAsync();
        using var batch = BuildBatch(RowRange(0, 1));
        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.WriteAsync(batch));
        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.CompleteAsync());
    }

    [Theory]
    [InlineData(PartCompression.Zstd, "ZSTD")]
    [InlineData(PartCompression.Snappy, "SNAPPY")]
    [InlineData(PartCompression.None, "UNCOMPRESSED")]
    public async Task Compression_IsTheCodecOfEveryColumnChunk(PartCompression compression, string codec)
    {
        string path = PartPath();
        await WriteRowsAsync(path, RowRange(0, 300), batchSizes: [100, 200],
            new PartWriterOptions { MinRowGroupRows = 100, Compression = compression });

        using var connection = OpenDuckDb();
        Assert.Equal([codec], QueryStrings(connection, $"SELECT DISTINCT compression FROM parquet_metadata({Quote(path)})"));
        Assert.Equal([(3 * PagesSchema.Columns.Count).ToString(System.Globalization.CultureInfo.InvariantCulture)],
            QueryStrings(connection, $"SELECT count(*) FROM parquet_metadata({Quote(path)})"));
        Assert.Equal(["300"], QueryStrings(connection, $"SELECT count(*) FROM read_parquet({Quote(path)})"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(PartWriterOptions.MaxMinRowGroupRows + 1)]
    public async Task InvalidMinRowGroupRows_NamesTheSetting(int minRows)
    {
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            () => PartWriter.CreateAsync(PartPath(), new PartWriterOptions { MinRowGroupRows = minRows }));
        Assert.Equal(nameof(PartWriterOptions.MinRowGroupRows), error.ParamName);
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    [Fact]
    public async Task BatchWithNullInRequiredColumn_IsRejected()
    {
        var row = GeneratedRow(0);
        row[PagesSchema.Url] = null;
        await using var writer = await PartWriter.CreateAsync(PartPath());
        using var batch = BuildBatch([row]);
        var error = await Assert.ThrowsAsync<ArgumentException>(() => writer.WriteAsync(batch));
        Assert.Contains("'url'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TimestampOutsideDateTimeRange_FaultsTheWriter_DisposeLeavesNothing()
    {
        using var good = BuildBatch(RowRange(0, 1));
        var arrays = new IArrowArray[PagesSchema.Columns.Count];
        for (int c = 0; c < arrays.Length; c++)
        {
            arrays[c] = good.Column(c);
        }
        arrays[PagesSchema.FirstSeen] = new TimestampArray(PagesSchema.TimestampType,
            new ArrowBuffer.Builder<long>().Append(long.MaxValue).Build(), ArrowBuffer.Empty, 1, 0, 0);
        var bad = new RecordBatch(PagesSchema.ArrowSchema, arrays, 1);

        var writer = await PartWriter.CreateAsync(PartPath());
        var error = await Assert.ThrowsAsync<ArgumentException>(() => writer.WriteAsync(bad));
        Assert.Contains("'first_seen'", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.CompleteAsync());
        await writer.DisposeAsync();
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    [Fact]
    public async Task BatchWithOtherSchema_IsRejected()
    {
        var schema = new Apache.Arrow.Schema.Builder()
            .Field(new Field("url", Apache.Arrow.Types.StringType.Default, false))
            .Build();
        using var batch = new RecordBatch(schema, [new StringArray.Builder().Append("x").Build()], 1);
        await using var writer = await PartWriter.CreateAsync(PartPath());
        var error = await Assert.ThrowsAsync<ArgumentException>(() => writer.WriteAsync(batch));
        Assert.Contains("21", error.Message, StringComparison.Ordinal);
    }

    // ---- data ----

    /// <summary>Hand-picked edge cases: all nulls, extremes, empty strings, non-ASCII, emoji, a long string.</summary>
    private static List<object?[]> SpecialRows()
    {
        var allNull = new object?[PagesSchema.Columns.Count];
        allNull[PagesSchema.Url] = "https://example.com/all-null";

        var extremes = GeneratedRow(1);
        extremes[PagesSchema.Url] = "";
        extremes[PagesSchema.AhrefsRank] = int.MinValue;
        extremes[PagesSchema.HttpCode] = int.MaxValue;
        extremes[PagesSchema.LinksInternal] = 0;
        extremes[PagesSchema.Size] = long.MaxValue;
        extremes[PagesSchema.Backlinks] = long.MinValue;
        extremes[PagesSchema.Dofollow] = 4_294_967_296L;
        extremes[PagesSchema.FirstSeen] = MinMicros;
        extremes[PagesSchema.LastVisited] = MaxMicros;
        extremes[PagesSchema.Encoding] = "";
        extremes[PagesSchema.Title] = "";
        extremes[PagesSchema.RedirectUrl] = "";
        extremes[PagesSchema.ContentEncoding] = "";

        var unicode = GeneratedRow(2);
        unicode[PagesSchema.Url] = "https://例え.jp/パス/🚀?q=naïve&x=Ω";
        unicode[PagesSchema.Title] = "Ünïcödé — 日本語 👩‍👩‍👧‍👦 𝄞 é (e\u0301)";
        unicode[PagesSchema.RedirectUrl] = "https://😀.example/";
        unicode[PagesSchema.Encoding] = "utf8";
        unicode[PagesSchema.ContentEncoding] = "gzip";
        unicode[PagesSchema.FirstSeen] = 0L;           // the epoch itself, stored as a value here
        unicode[PagesSchema.LastVisited] = -1L;        // one microsecond before it

        var longText = GeneratedRow(3);
        longText[PagesSchema.Title] = string.Concat(Enumerable.Repeat("long title 🚀 ж ", 2_000));

        var rows = new List<object?[]> { allNull, extremes, unicode, longText };
        for (int i = 0; i < rows.Count; i++)
        {
            rows[i][PagesSchema.SourceIdIndex] = 42;
            rows[i][PagesSchema.RowOrdinalIndex] = (long)i;
        }
        return rows;
    }

    /// <summary>A realistic row with column-specific null patterns.</summary>
    private static object?[] GeneratedRow(long i)
    {
        var row = new object?[PagesSchema.Columns.Count];
        row[PagesSchema.Url] = i % 5 == 0 ? $"https://ドメイン.example/{i}/ü" : $"https://example.com/page/{i}";
        row[PagesSchema.AhrefsRank] = i % 7 == 1 ? null : (int)(i * 37 % 101);
        row[PagesSchema.FirstSeen] = i % 6 == 2 ? null : 1_500_000_000_000_000L + i * 1_000_003L;
        row[PagesSchema.LastVisited] = i % 9 == 3 ? null : 1_700_000_000_123_456L - i * 86_400_000_001L;
        row[PagesSchema.HttpCode] = i % 4 == 0 ? null : (int)(200 + i % 5 * 100);
        row[PagesSchema.Size] = i % 8 == 5 ? null : 3_000_000_000L + i;
        row[PagesSchema.LinksInternal] = i % 10 == 6 ? null : (int)(i % 300);
        row[PagesSchema.LinksExternal] = i % 3 == 2 ? null : (int)(i % 17);
        row[PagesSchema.Encoding] = (i % 3) switch { 0 => null, 1 => "", _ => "utf8" };
        row[PagesSchema.Title] = (i % 4) switch { 0 => null, 1 => "", 2 => $"Títle 🚀 {i}", _ => $"plain title {i}" };
        row[PagesSchema.RedirectUrl] = (i % 6) switch { 0 => $"https://example.com/r/{i}", 1 => "", _ => null };
        row[PagesSchema.ContentEncoding] = (i % 5) switch { 0 => null, 1 => "gzip", 2 => "", 3 => "br", _ => "deflate" };
        for (int c = PagesSchema.Backlinks; c <= PagesSchema.Refips; c++)
        {
            row[c] = (i + c) % 11 == 0 ? null : (1L << 40) + i * c;
        }
        row[PagesSchema.SourceIdIndex] = 42;
        row[PagesSchema.RowOrdinalIndex] = i;
        return row;
    }

    private static List<object?[]> RowRange(long from, int count)
    {
        var rows = new List<object?[]>(count);
        for (long i = from; i < from + count; i++)
        {
            rows.Add(GeneratedRow(i));
        }
        return rows;
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
                    var builder = new TimestampArray.Builder(PagesSchema.TimestampType);
                    foreach (var row in rows)
                    {
                        if (row[c] is long micros) builder.Append(new DateTimeOffset(DateTimeOffset.UnixEpoch.Ticks + micros * 10, TimeSpan.Zero));
                        else builder.AppendNull();
                    }
                    arrays[c] = builder.Build();
                    break;
                }
            }
        }
        return new RecordBatch(PagesSchema.ArrowSchema, arrays, rows.Count);
    }

    private static async Task WriteRowsAsync(string path, List<object?[]> rows, int[]? batchSizes = null, PartWriterOptions? options = null)
    {
        batchSizes ??= [rows.Count];
        await using var writer = await PartWriter.CreateAsync(path, options);
        int at = 0;
        foreach (int size in batchSizes)
        {
            using var batch = BuildBatch(rows.GetRange(at, size));
            await writer.WriteAsync(batch);
            at += size;
        }
        Assert.Equal(rows.Count, at);
        Assert.Equal(rows.Count, await writer.CompleteAsync());
    }

    // ---- DuckDB, the independent reader ----

    private static DuckDBConnection OpenDuckDb()
    {
        var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        return connection;
    }

    private static string Quote(string path) => "'" + path.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>All rows in file order; timestamps as microseconds since the epoch, NULL as null.</summary>
    private static List<object?[]> ReadAllRows(string path)
    {
        var select = new List<string>();
        foreach (var column in PagesSchema.Columns)
        {
            select.Add(column.Kind == ColumnKind.Timestamp ? $"epoch_us({column.Name})" : column.Name);
        }
        using var connection = OpenDuckDb();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {string.Join(", ", select)} FROM read_parquet({Quote(path)})";
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

    private static List<(long Id, long Rows)> RowGroups(string path)
    {
        using var connection = OpenDuckDb();
        using var command = connection.CreateCommand();
        command.CommandText =
            $"SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata({Quote(path)}) ORDER BY row_group_id";
        using var reader = command.ExecuteReader();
        var groups = new List<(long, long)>();
        while (reader.Read())
        {
            groups.Add((Convert.ToInt64(reader.GetValue(0)), Convert.ToInt64(reader.GetValue(1))));
        }
        return groups;
    }

    private static List<string> QueryStrings(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var values = new List<string>();
        while (reader.Read())
        {
            values.Add(Convert.ToString(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture) ?? "");
        }
        return values;
    }

    private static string Show(object? value) => value switch
    {
        null => "NULL",
        string s => $"\"{(s.Length > 60 ? s[..60] + "…" : s)}\" (string, {s.Length} chars)",
        _ => $"{value} ({value.GetType().Name})",
    };
}
