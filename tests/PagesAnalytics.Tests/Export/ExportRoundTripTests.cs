using System.Globalization;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;
using DuckDB.NET.Data;
using PagesAnalytics.Cli;
using PagesAnalytics.Export;
using PagesAnalytics.Query;
using PagesAnalytics.Tests.Support;

namespace PagesAnalytics.Tests.Export;

/// <summary>
/// A store shared by the export tests: the bundled sample responses plus two small responses from other snapshots that
/// hold a url twice (200 in 2023, 404 in 2024), a host that needs escaping in a directory name, a url without host, a
/// row without http_code and an empty title.
/// </summary>
public sealed class ExportStoreFixture : IDisposable
{
    public ExportStoreFixture()
    {
        Dir = new TempDir();
        Store = Dir.File("store");
        File.WriteAllText(Dir.File("extra-2023-01-01.json"), """
            {"pages":[
              {"url":"https://a.com/","http_code":200,"backlinks":5,"refdomains":2,"title":"","first_seen":"2019-05-01T10:00:00Z"},
              {"url":"http://we%ird=ho'st*[x]^{y}:8080/p?q=1","http_code":301,"backlinks":3,"title":"odd host","encoding":"utf8"},
              {"url":"/relative/path","backlinks":1,"title":"no host, no http_code"}
            ],"stats":{"pages":3}}
            """);
        File.WriteAllText(Dir.File("extra-2024-01-01.json"), """
            {"pages":[
              {"url":"https://a.com/","http_code":404,"backlinks":1,"refdomains":0,"title":"gone","first_seen":"2020-01-01T00:00:00.123456Z"}
            ],"stats":{"pages":1}}
            """);
        var (exit, _, stderr) = Cli.Run("ingest", Path.Combine(AppContext.BaseDirectory, "sample-responses"),
            Dir.File("extra-2023-01-01.json"), Dir.File("extra-2024-01-01.json"), "--store", Store);
        Assert.True(exit == 0, stderr);
    }

    internal TempDir Dir { get; }

    public string Store { get; }

    public void Dispose() => Dir.Dispose();
}

/// <summary>Runs <c>pages</c> in process, as the CLI tests do.</summary>
internal static class Cli
{
    public static (int Exit, string Stdout, string Stderr) Run(params string[] args)
    {
        var stdout = new MemoryStream();
        var stderr = new StringWriter();
        int exit = PagesCli.RunAsync(args, new CliContext(stdout, stderr, () => new MemoryStream())).GetAwaiter().GetResult();
        return (exit, Encoding.UTF8.GetString(stdout.ToArray()), stderr.ToString());
    }
}

/// <summary>
/// Rows in a canonical text form that does not depend on the reader: every value tagged with its kind and written
/// exactly (<c>i:</c> integers, <c>t:</c> timestamps as UTC microseconds, <c>d:</c> dates, <c>s:</c> strings,
/// <c>f:</c> doubles), NULL as null. Compared as a multiset of rows and as per-column checksums.
/// </summary>
internal sealed class CanonicalTable
{
    public CanonicalTable(IReadOnlyList<string> columns, IReadOnlyDictionary<string, string> types, List<string?[]> rows)
    {
        Columns = columns;
        Types = types;
        Rows = rows;
    }

    public IReadOnlyList<string> Columns { get; }

    /// <summary>The reader's type of each column (DuckDB type names, or Arrow type names for the IPC reader).</summary>
    public IReadOnlyDictionary<string, string> Types { get; }

    public List<string?[]> Rows { get; }

    /// <summary>Reads <paramref name="relation"/> (a table function or a subquery) through DuckDB.</summary>
    public static CanonicalTable FromDuckDb(DuckDBConnection connection, string relation)
    {
        var columns = new List<string>();
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var describe = connection.CreateCommand())
        {
            describe.CommandText = $"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {relation})";
            using var reader = describe.ExecuteReader();
            while (reader.Read())
            {
                columns.Add(reader.GetString(0));
                types[reader.GetString(0)] = reader.GetString(1);
            }
        }
        var select = new StringBuilder("SELECT ");
        for (int i = 0; i < columns.Count; i++)
        {
            string c = "\"" + columns[i] + "\"";
            string expr = types[columns[i]] switch
            {
                "TIMESTAMP WITH TIME ZONE" or "TIMESTAMP" => $"'t:' || epoch_us({c})",
                "DATE" => $"'d:' || strftime({c}, '%Y-%m-%d')",
                "VARCHAR" => $"'s:' || {c}",
                "DOUBLE" or "FLOAT" => $"'f:' || {c}::VARCHAR",
                _ => $"'i:' || {c}::VARCHAR",
            };
            select.Append(i == 0 ? "" : ", ").Append(expr).Append(" AS \"").Append(columns[i]).Append('"');
        }
        select.Append(" FROM ").Append(relation);
        var rows = new List<string?[]>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = select.ToString();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var row = new string?[columns.Count];
                for (int i = 0; i < row.Length; i++)
                {
                    row[i] = reader.IsDBNull(i) ? null : reader.GetString(i);
                }
                rows.Add(row);
            }
        }
        return new CanonicalTable(columns, types, rows);
    }

    /// <summary>Reads an Arrow IPC file with Apache.Arrow's own reader (no DuckDB involved).</summary>
    public static CanonicalTable FromArrowFile(string path)
    {
        using var file = File.OpenRead(path);
        using var reader = new ArrowFileReader(file);
        var schema = reader.Schema;
        var columns = schema.FieldsList.Select(f => f.Name).ToList();
        var types = schema.FieldsList.ToDictionary(f => f.Name, f => ArrowTypeName(f.DataType), StringComparer.Ordinal);
        var rows = new List<string?[]>();
        while (reader.ReadNextRecordBatch() is { } batch)
        {
            for (int r = 0; r < batch.Length; r++)
            {
                var row = new string?[columns.Count];
                for (int c = 0; c < row.Length; c++)
                {
                    var array = batch.Column(c);
                    row[c] = array.IsNull(r) ? null : array switch
                    {
                        StringArray s => "s:" + s.GetString(r),
                        Int32Array i => "i:" + i.Values[r].ToString(CultureInfo.InvariantCulture),
                        Int64Array l => "i:" + l.Values[r].ToString(CultureInfo.InvariantCulture),
                        TimestampArray t => "t:" + t.Values[r].ToString(CultureInfo.InvariantCulture),
                        Date32Array d => "d:" + d.GetDateOnly(r)!.Value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                        DoubleArray f => "f:" + f.Values[r].ToString("R", CultureInfo.InvariantCulture),
                        _ => throw new InvalidOperationException($"unexpected array {array.GetType().Name}"),
                    };
                }
                rows.Add(row);
            }
        }
        return new CanonicalTable(columns, types, rows);
    }

    private static string ArrowTypeName(IArrowType type) => type switch
    {
        TimestampType t => $"timestamp[{t.Unit}, tz={t.Timezone}]",
        _ => type.Name,
    };

    /// <summary>Per column: non-NULL count and an order-independent sum of 64-bit FNV-1a hashes of the values.</summary>
    public Dictionary<string, (long Count, ulong Sum)> Checksums(IEnumerable<string> columns)
    {
        var result = new Dictionary<string, (long, ulong)>(StringComparer.Ordinal);
        foreach (var name in columns)
        {
            int index = IndexOf(name);
            long count = 0;
            ulong sum = 0;
            foreach (var row in Rows)
            {
                if (row[index] is { } value)
                {
                    count++;
                    sum = unchecked(sum + Fnv(value));
                }
            }
            result[name] = (count, sum);
        }
        return result;
    }

    /// <summary>The rows projected on <paramref name="columns"/>, one line each, sorted.</summary>
    public List<string> Dump(IReadOnlyList<string> columns)
    {
        var indexes = columns.Select(IndexOf).ToArray();
        var lines = Rows.Select(row => string.Join("|", indexes.Select(i => row[i] ?? "NULL"))).ToList();
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    public int IndexOf(string name)
    {
        for (int i = 0; i < Columns.Count; i++)
        {
            if (Columns[i] == name)
            {
                return i;
            }
        }
        throw new KeyNotFoundException($"no column '{name}' in [{string.Join(", ", Columns)}]");
    }

    private static ulong Fnv(string value)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(value))
        {
            hash = unchecked((hash ^ b) * 1099511628211UL);
        }
        return hash;
    }
}

/// <summary>
/// Every export format, single file and partitioned, read back by an independent reader — DuckDB's read_parquet,
/// read_csv and read_json (hive_partitioning for trees) and Apache.Arrow's ArrowFileReader for IPC — equals the store's
/// rows for the same request: count, per-column checksums, the whole rows, and the column types.
/// </summary>
public sealed class ExportRoundTripTests : IClassFixture<ExportStoreFixture>
{
    private readonly ExportStoreFixture _store;

    public ExportRoundTripTests(ExportStoreFixture store) => _store = store;

    public static TheoryData<string, string, string[]> Cases => new()
    {
        // name, format, extra arguments
        { "all-parquet", "parquet", ["--all-snapshots"] },
        { "filtered-parquet-tree", "parquet", ["--where", "http_code<>200", "--having", "backlinks>=1", "--partition-by", "http_class,snapshot"] },
        { "target-arrow", "arrow", ["--target", "example.com", "--mode", "subdomains", "--all-snapshots"] },
        { "latest-arrow", "arrow", [] },
        { "csv", "csv", ["--all-snapshots", "--where", "{\"not\":{\"field\":\"title\",\"is\":[\"substring\",\"e\"]}}"] },
        { "csv-tree", "csv", ["--partition-by", "host"] },
        { "ndjson", "ndjson", ["--all-snapshots"] },
        { "ndjson-tree", "ndjson", ["--partition-by", "http_code", "--all-snapshots"] },
        { "parquet-host-tree", "parquet", ["--partition-by", "host", "--all-snapshots", "--select", "*,host,http_class,refdomain_ratio"] },
        { "parquet-code-source-tree", "parquet", ["--partition-by", "source_id,http_code"] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Export_read_back_by_an_independent_reader_equals_the_stores_rows(string name, string format, string[] extra)
    {
        var partitionBy = ArgumentAfter(extra, "--partition-by")?.Split(',') ?? [];
        string output = _store.Dir.File(name + (partitionBy.Length > 0 ? "" : "." + format));
        var (exit, _, stderr) = Cli.Run([.. new[] { "export", "--store", _store.Store, "--out", output, "--format", format }, .. extra]);
        Assert.True(exit == 0, stderr);
        Assert.Matches(@"^exported \d+ rows to ", stderr);

        var expected = Expected(extra);
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        string glob = partitionBy.Length > 0 ? Path.Combine(output, "**", "*." + format) : output;
        string hive = partitionBy.Length > 0 ? ", hive_partitioning = true" : "";
        var actual = format switch
        {
            "parquet" => CanonicalTable.FromDuckDb(duck, $"read_parquet('{glob}'{hive})"),
            // An empty field is NULL; "" is the empty string (allow_quoted_nulls = false says so to DuckDB).
            "csv" => CanonicalTable.FromDuckDb(duck, $"read_csv('{glob}', header = true, union_by_name = true, allow_quoted_nulls = false{hive})"),
            "ndjson" => CanonicalTable.FromDuckDb(duck, $"read_json('{glob}', union_by_name = true{hive})"),
            _ => CanonicalTable.FromArrowFile(output),
        };

        // The export's columns: what was selected (default: stored columns, host, snapshot), partition columns last.
        var columns = ArgumentAfter(extra, "--select") is { } select
            ? SelectParser.Parse(select, ExportColumns.SelectColumns).ToList()
            : ExportColumns.Default.Select(c => c.Name).ToList();
        foreach (var column in partitionBy)
        {
            columns.Remove(column);
            columns.Add(column);
        }
        Assert.Equal(columns.Order(StringComparer.Ordinal), actual.Columns.Order(StringComparer.Ordinal));
        Assert.Equal(expected.Rows.Count, actual.Rows.Count);
        Assert.True(actual.Rows.Count > 0, "the case should export rows");
        Assert.Equal(expected.Checksums(columns), actual.Checksums(columns));
        Assert.Equal(expected.Dump(columns), actual.Dump(columns));

        // Types: timestamps stay instants, counts stay 64-bit.
        switch (format)
        {
            case "parquet":
                foreach (var column in columns.Where(c => !partitionBy.Contains(c)))
                {
                    Assert.Equal(expected.Types[column], actual.Types[column]);
                }
                break;
            case "csv":
                Assert.Equal("TIMESTAMP WITH TIME ZONE", actual.Types["first_seen"]);
                Assert.Equal("BIGINT", actual.Types["backlinks"]);
                break;
            case "ndjson":
                // JSON has no time zone type: read_json gives the same UTC instants as TIMESTAMP.
                Assert.Equal("TIMESTAMP", actual.Types["first_seen"]);
                Assert.Equal("TIMESTAMP", actual.Types["last_visited"]);
                Assert.Equal("BIGINT", actual.Types["refdomains"]);
                break;
            default:
                Assert.Equal("timestamp[Microsecond, tz=UTC]", actual.Types["first_seen"]);
                Assert.Equal("int64", actual.Types["backlinks"]);
                Assert.Equal("int32", actual.Types["http_code"]);
                Assert.Equal("date32", actual.Types["snapshot"]);
                break;
        }
        Assert.Empty(Directory.GetFileSystemEntries(_store.Dir.Path, "*.tmp-*"));
        Assert.Empty(Directory.GetFileSystemEntries(_store.Dir.Path, "*.spill-*"));
    }

    [Fact]
    public void Parquet_export_has_zstd_dictionaries_statistics_utc_timestamps_metadata_and_the_requested_row_groups()
    {
        string output = _store.Dir.File("small-groups.parquet");
        var (exit, _, stderr) = Cli.Run("export", "--store", _store.Store, "--all-snapshots", "--out", output, "--row-group-rows", "300",
            "--where", "http_code>=0");
        Assert.True(exit == 0, stderr);
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        string Scalar(string sql)
        {
            using var command = duck.CreateCommand();
            command.CommandText = sql;
            return Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture) ?? "";
        }
        long rows = long.Parse(Scalar($"SELECT count(*) FROM read_parquet('{output}')"), CultureInfo.InvariantCulture);
        Assert.Equal((rows + 299) / 300, long.Parse(Scalar($"SELECT count(DISTINCT row_group_id) FROM parquet_metadata('{output}')"), CultureInfo.InvariantCulture));
        Assert.Equal("ZSTD", Scalar($"SELECT string_agg(DISTINCT compression, ',') FROM parquet_metadata('{output}')"));
        foreach (var column in new[] { "encoding", "content_encoding", "host" })
        {
            Assert.Contains("DICTIONARY", Scalar($"SELECT any_value(encodings) FROM parquet_metadata('{output}') WHERE path_in_schema = '{column}'"));
        }
        Assert.DoesNotContain("DICTIONARY", Scalar($"SELECT any_value(encodings) FROM parquet_metadata('{output}') WHERE path_in_schema = 'title'"));
        // Statistics: every column chunk of a non-empty column carries min and max, and http_code's agree with the data.
        Assert.Equal("0", Scalar($"SELECT count(*) FROM parquet_metadata('{output}') WHERE path_in_schema = 'http_code' AND (stats_min IS NULL OR stats_max IS NULL)"));
        Assert.Equal(Scalar($"SELECT max(http_code) FROM read_parquet('{output}')"),
            Scalar($"SELECT max(stats_max::INTEGER) FROM parquet_metadata('{output}') WHERE path_in_schema = 'http_code'"));
        Assert.Contains("isAdjustedToUTC=1", Scalar($"SELECT logical_type FROM parquet_schema('{output}') WHERE name = 'first_seen'"));
        Assert.Contains("MICROS", Scalar($"SELECT logical_type FROM parquet_schema('{output}') WHERE name = 'last_visited'"));
        Assert.Equal("REQUIRED", Scalar($"SELECT repetition_type FROM parquet_schema('{output}') WHERE name = 'url'"));
        Assert.Equal(Path.GetFullPath(_store.Store), Scalar($"SELECT decode(value) FROM parquet_kv_metadata('{output}') WHERE decode(key) = 'pages.store'"));
        var exportedAt = DateTimeOffset.Parse(Scalar($"SELECT decode(value) FROM parquet_kv_metadata('{output}') WHERE decode(key) = 'pages.exported_at'"), CultureInfo.InvariantCulture);
        Assert.InRange(DateTimeOffset.UtcNow - exportedAt, TimeSpan.Zero, TimeSpan.FromMinutes(10));
        Assert.Contains("\"where\":\"http_code\\u003E=0\"", Scalar($"SELECT decode(value) FROM parquet_kv_metadata('{output}') WHERE decode(key) = 'pages.request'"));
    }

    [Fact]
    public void Partition_directories_are_escaped_the_hive_way_and_null_is_the_default_partition()
    {
        Assert.Equal("host=we%25ird%3Dho%27st%2A%5Bx%5D%5E%7By}", PagesExport.PartitionDirectory("host", "we%ird=ho'st*[x]^{y}"));
        Assert.Equal("host=a%2Fb%3Ac%3Fd%23e%22f%5Cg%01%7F", PagesExport.PartitionDirectory("host", "a/b:c?d#e\"f\\g\u0001\u007f"));
        Assert.Equal("host=ünïcödé.example", PagesExport.PartitionDirectory("host", "ünïcödé.example"));
        Assert.Equal("http_class=__HIVE_DEFAULT_PARTITION__", PagesExport.PartitionDirectory("http_class", null));
        Assert.Equal("http_class=__HIVE_DEFAULT_PARTITION__", PagesExport.PartitionDirectory("http_class", ""));

        string output = _store.Dir.File("tree-names");
        Assert.Equal(0, Cli.Run("export", "--store", _store.Store, "--all-snapshots", "--out", output, "--partition-by", "http_class,host").Exit);
        var directories = Directory.GetDirectories(output).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Contains("http_class=__HIVE_DEFAULT_PARTITION__", directories);
        Assert.Contains("http_class=2xx", directories);
        Assert.Contains("http_class=0", directories);
        Assert.True(Directory.Exists(Path.Combine(output, "http_class=3xx", "host=we%25ird%3Dho%27st%2A%5Bx%5D%5E%7By}")));
        Assert.True(File.Exists(Path.Combine(output, "http_class=__HIVE_DEFAULT_PARTITION__", "host=__HIVE_DEFAULT_PARTITION__", "part-00000.parquet")));
        // Each partition directory has exactly one file: the rows came ordered by partition.
        Assert.All(Directory.GetDirectories(output, "host=*", SearchOption.AllDirectories), d => Assert.Single(Directory.GetFiles(d)));

        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using var command = duck.CreateCommand();
        command.CommandText = $"SELECT host, http_class FROM read_parquet('{output}/**/*.parquet', hive_partitioning = true) WHERE url LIKE 'http://we%' OR url = '/relative/path' ORDER BY url";
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        Assert.True(reader.IsDBNull(0)); // /relative/path: no host
        Assert.True(reader.IsDBNull(1)); // and no http_code
        Assert.True(reader.Read());
        Assert.Equal("we%ird=ho'st*[x]^{y}", reader.GetString(0));
        Assert.Equal("3xx", reader.GetString(1));
    }

    [Fact]
    public void Output_paths_are_checked_and_a_failed_export_leaves_nothing()
    {
        string file = _store.Dir.File("exists.txt");
        File.WriteAllText(file, "keep");
        var tree = Cli.Run("export", "--store", _store.Store, "--out", file, "--partition-by", "http_class");
        Assert.Equal(2, tree.Exit);
        Assert.Contains("is a file", tree.Stderr);
        Assert.Equal("keep", File.ReadAllText(file));

        string full = _store.Dir.File("full-dir");
        Directory.CreateDirectory(full);
        File.WriteAllText(Path.Combine(full, "x"), "");
        Assert.Equal(2, Cli.Run("export", "--store", _store.Store, "--out", full, "--partition-by", "http_class").Exit);
        Assert.Equal(2, Cli.Run("export", "--store", _store.Store, "--out", full).Exit);

        var badColumn = Cli.Run("export", "--store", _store.Store, "--out", _store.Dir.File("x.parquet"), "--partition-by", "title");
        Assert.Equal(2, badColumn.Exit);
        Assert.Contains("cannot partition by 'title'", badColumn.Stderr);
        var badFilter = Cli.Run("export", "--store", _store.Store, "--out", _store.Dir.File("x.parquet"), "--where", "refdomain>1");
        Assert.Equal(2, badFilter.Exit);
        Assert.Contains("did you mean 'refdomains'", badFilter.Stderr);
        var badSelect = Cli.Run("export", "--store", _store.Store, "--out", _store.Dir.File("x.parquet"), "--select", "url,snapshots");
        Assert.Equal(2, badSelect.Exit);
        Assert.False(File.Exists(_store.Dir.File("x.parquet")));

        // Cancelled half-way: neither the output nor its temporary file remain.
        string cancelled = _store.Dir.File("cancelled.parquet");
        using var cts = new CancellationTokenSource();
        var progress = new SynchronousProgress(p => cts.Cancel());
        var store = PagesAnalytics.Store.PagesStore.Open(_store.Store);
        Assert.ThrowsAny<OperationCanceledException>(() => PagesExport.RunAsync(store,
            new ExportOptions { AllSnapshots = true }, cancelled, progress, cts.Token).GetAwaiter().GetResult());
        Assert.False(File.Exists(cancelled));
        Assert.Empty(Directory.GetFileSystemEntries(_store.Dir.Path, "cancelled.parquet*"));
    }

    [Fact]
    public void Format_follows_the_extension_unless_given_and_an_empty_result_is_a_valid_file()
    {
        string csv = _store.Dir.File("by-extension.csv");
        Assert.Equal(0, Cli.Run("export", "--store", _store.Store, "--out", csv, "--select", "url", "--where", "http_code=200").Exit);
        Assert.StartsWith("url\n", File.ReadAllText(csv));

        string empty = _store.Dir.File("empty.parquet");
        var (exit, _, stderr) = Cli.Run("export", "--store", _store.Store, "--out", empty, "--where", "http_code=999");
        Assert.Equal(0, exit);
        Assert.Contains("exported 0 rows", stderr);
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        var table = CanonicalTable.FromDuckDb(duck, $"read_parquet('{empty}')");
        Assert.Empty(table.Rows);
        Assert.Equal(ExportColumns.Default.Select(c => c.Name), table.Columns);
        Assert.Equal("TIMESTAMP WITH TIME ZONE", table.Types["first_seen"]);

        string emptyArrow = _store.Dir.File("empty.arrow");
        Assert.Equal(0, Cli.Run("export", "--store", _store.Store, "--out", emptyArrow, "--where", "http_code=999").Exit);
        Assert.Empty(CanonicalTable.FromArrowFile(emptyArrow).Rows);
        string emptyCsv = _store.Dir.File("empty.ndjson");
        Assert.Equal(0, Cli.Run("export", "--store", _store.Store, "--out", emptyCsv, "--format", "csv", "--select", "url,host", "--where", "http_code=999").Exit);
        Assert.Equal("url,host\n", File.ReadAllText(emptyCsv));
    }

    /// <summary>The store's rows for the same request, with the export's derived columns, read through DuckDB.</summary>
    private CanonicalTable Expected(string[] extra)
    {
        var options = new PagesQueryOptions
        {
            Select = "*,source_id,row_ordinal,host,refdomain_ratio,dofollow_ratio,class_c_per_refdomain,ips_per_refdomain",
            Where = ArgumentAfter(extra, "--where"),
            Having = ArgumentAfter(extra, "--having"),
            Target = ArgumentAfter(extra, "--target"),
            Mode = ArgumentAfter(extra, "--mode"),
            AllSnapshots = extra.Contains("--all-snapshots"),
            Limit = null,
        };
        var compiled = PagesQueryCompiler.Compile(options);
        using var session = PagesAnalytics.Store.PagesStore.Open(_store.Store).OpenQuery();
        // Bind the request's parameters into a table the canonical reader can scan.
        using (var command = compiled.CreateCommand(session.Connection,
            $"CREATE TEMP TABLE expected AS WITH q AS ({compiled.Sql}) SELECT m.*, s.snapshot, {ExportColumns.HttpClassSql} AS http_class FROM q AS m LEFT JOIN sources AS s ON s.source_id = m.source_id"))
        {
            command.ExecuteNonQuery();
        }
        return CanonicalTable.FromDuckDb(session.Connection, "expected");
    }

    private static string? ArgumentAfter(string[] args, string name)
    {
        int i = System.Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private sealed class SynchronousProgress(Action<ExportProgress> report) : IProgress<ExportProgress>
    {
        public void Report(ExportProgress value) => report(value);
    }
}
