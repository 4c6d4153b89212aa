using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Types;
using DuckDB.NET.Data;
using PagesAnalytics.Query;
using PagesAnalytics.Store;

namespace PagesAnalytics.Export;

/// <summary>A compiled export: the DuckDB statement, its parameters, the file columns and the partition columns.</summary>
public sealed class CompiledExport
{
    internal CompiledExport(string sql, IReadOnlyList<object?> parameters, IReadOnlyList<ExportColumn> fileColumns,
        IReadOnlyList<ExportColumn> partitionColumns)
    {
        Sql = sql;
        Parameters = parameters;
        FileColumns = fileColumns;
        PartitionColumns = partitionColumns;
        var fields = new List<Field>(fileColumns.Count);
        foreach (var column in fileColumns)
        {
            fields.Add(ExportColumns.Field(column));
        }
        FileSchema = new Apache.Arrow.Schema(fields, null);
    }

    /// <summary>
    /// The statement over the store's views, with <c>$n</c> placeholders. Its result has the partition columns first
    /// (one per <see cref="PartitionColumns"/>), then the <see cref="FileColumns"/>; partitioned results are ordered by
    /// the partition columns.
    /// </summary>
    public string Sql { get; }

    /// <summary>Values of <c>$1</c>...</summary>
    public IReadOnlyList<object?> Parameters { get; }

    /// <summary>The columns written into the files, in order.</summary>
    public IReadOnlyList<ExportColumn> FileColumns { get; }

    /// <summary>The columns of the directory tree, outermost first; empty for one file.</summary>
    public IReadOnlyList<ExportColumn> PartitionColumns { get; }

    /// <summary>The Arrow schema of the files (nullability as in the store: url, source_id, row_ordinal required).</summary>
    public Apache.Arrow.Schema FileSchema { get; }
}

/// <summary>
/// <c>pages export</c>: streams the rows of a request out of the store as Parquet, an Arrow IPC file, CSV or NDJSON, in
/// one file or a Hive-style tree of files (<c>http_class=2xx/part-00000.parquet</c>).
/// </summary>
/// <remarks>
/// <para>
/// Rows are those <c>pages query</c> would return for the same where/having/target/mode/all-snapshots, without
/// order or limit. DuckDB hands them over as Arrow batches in streaming mode and each batch is written and released,
/// so memory does not grow with the export: it is DuckDB's working memory (<see cref="ExportOptions.MemoryLimitMegabytes"/>,
/// spilling beyond it) plus one Parquet row group being buffered (~0.9 GB at 1M rows for the default columns).
/// </para>
/// <para>
/// A partitioned export asks DuckDB for the rows ordered by the partition columns, so exactly one file is open at a
/// time and each partition directory gets one file. Directory names are <c>column=value</c> with the value escaped as
/// Hive escapes path names (<c>%2F</c> for <c>/</c>, and <c>" # % ' * : = ? \ { [ ] ^</c>, DEL and control characters),
/// NULL as <c>__HIVE_DEFAULT_PARTITION__</c>; DuckDB (<c>hive_partitioning=true</c>), Spark, Trino (Hive connector) and
/// pyarrow/pandas read them back as columns. Dates are <c>YYYY-MM-DD</c>.
/// </para>
/// <para>
/// The output appears only when complete: a file is written as <c>PATH.tmp-PID</c> and renamed over PATH; a tree is
/// written under <c>PATH.tmp-PID/</c> and renamed to PATH, which must not exist or be an empty directory. A failure
/// or cancellation leaves nothing behind.
/// </para>
/// </remarks>
public static class PagesExport
{
    private const string PartitionPrefix = "__partition_";

    /// <summary>Directory name of a NULL partition value, as Hive, Spark and DuckDB read it.</summary>
    public const string HiveDefaultPartition = "__HIVE_DEFAULT_PARTITION__";

    /// <summary>
    /// Compiles the request. Filter, select and partition errors are <see cref="FilterException"/>s and
    /// <see cref="PagesUsageException"/>s naming the bad setting.
    /// </summary>
    public static CompiledExport Compile(ExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var selected = new List<ExportColumn>();
        if (options.Select is null)
        {
            selected.AddRange(ExportColumns.Default);
        }
        else
        {
            foreach (var name in SelectParser.Parse(options.Select, ExportColumns.SelectColumns))
            {
                selected.Add(ExportColumns.Find(name)!);
            }
        }
        var partitions = new List<ExportColumn>();
        foreach (var name in options.PartitionBy)
        {
            var column = ExportColumns.Find(name.Trim());
            if (column is null || !column.Partitionable)
            {
                throw new PagesUsageException($"cannot partition by '{name}': choose from {string.Join(", ", ExportColumns.Partitionable)}");
            }
            if (partitions.Contains(column))
            {
                throw new PagesUsageException($"--partition-by names '{column.Name}' twice");
            }
            partitions.Add(column);
        }
        // Partition values live in the directory names, as Hive-style writers do: not in the files.
        selected.RemoveAll(partitions.Contains);
        if (selected.Count == 0)
        {
            throw new PagesUsageException("the export has no columns left besides the partition columns");
        }

        var matched = PagesQueryCompiler.CompileMatchedRows(options.Where, options.Target, options.Mode, options.AllSnapshots);
        var parameters = new List<object?>(matched.Parameters);
        string having = "";
        if (!string.IsNullOrWhiteSpace(options.Having))
        {
            var compiled = FilterCompiler.Compile(FilterParser.Parse(options.Having, "having", FilterColumns.Pages), matched.NextParameterIndex);
            having = " WHERE " + compiled.Sql;
            parameters.AddRange(compiled.Parameters);
        }

        var sql = new StringBuilder("WITH matched AS (").Append(matched.Sql).Append("),\nkept AS (SELECT * FROM matched")
            .Append(having).Append(")\nSELECT ");
        for (int i = 0; i < partitions.Count; i++)
        {
            sql.Append(partitions[i].Sql).Append(" AS \"").Append(PartitionPrefix).Append(i.ToString(CultureInfo.InvariantCulture)).Append("\", ");
        }
        for (int i = 0; i < selected.Count; i++)
        {
            sql.Append(i == 0 ? "" : ", ").Append(selected[i].Sql).Append(" AS \"").Append(selected[i].Name).Append('"');
        }
        sql.Append("\nFROM kept AS m");
        if (selected.Exists(c => c.FromSources) || partitions.Exists(c => c.FromSources))
        {
            sql.Append(" LEFT JOIN sources AS s ON s.source_id = m.\"source_id\"");
        }
        if (partitions.Count > 0)
        {
            // One partition at a time: DuckDB sorts (spilling beyond its memory limit), we keep one file open.
            sql.Append("\nORDER BY ");
            for (int i = 0; i < partitions.Count; i++)
            {
                sql.Append(i == 0 ? "" : ", ").Append('"').Append(PartitionPrefix).Append(i.ToString(CultureInfo.InvariantCulture)).Append("\" NULLS LAST");
            }
        }
        return new CompiledExport(sql.ToString(), parameters, selected, partitions);
    }

    /// <summary>
    /// Exports the rows of <paramref name="options"/> from <paramref name="store"/> to <paramref name="outputPath"/>: a
    /// file, or the root directory of the tree when <see cref="ExportOptions.PartitionBy"/> is set.
    /// </summary>
    /// <exception cref="PagesUsageException">The output path is unusable (a tree over an existing file or a non-empty
    /// directory, a file over a directory).</exception>
    public static async Task<ExportSummary> RunAsync(PagesStore store, ExportOptions options, string outputPath,
        IProgress<ExportProgress>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(outputPath);
        var compiled = Compile(options);
        var stopwatch = Stopwatch.StartNew();
        string output = Path.GetFullPath(outputPath);
        bool tree = compiled.PartitionColumns.Count > 0;
        CheckOutput(output, tree);
        string pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        string temp = output + ".tmp-" + pid;
        string spill = output + ".spill-" + pid;
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        var metadata = Metadata(store, options);
        var state = new WriteState(options, compiled, metadata, progress);
        bool done = false;
        try
        {
            using (var session = store.OpenQuery())
            {
                Configure(session, options, spill);
                using var command = (DuckDBCommand)session.Connection.CreateCommand();
                command.CommandText = compiled.Sql;
                foreach (var value in compiled.Parameters)
                {
                    command.Parameters.Add(value is null ? new DuckDBParameter { Value = DBNull.Value } : new DuckDBParameter(value));
                }
                command.UseStreamingMode = true; // without it DuckDB materialises the whole result before the first batch
                if (tree)
                {
                    Directory.CreateDirectory(temp);
                    await WriteTreeAsync(command, temp, state, ct).ConfigureAwait(false);
                }
                else
                {
                    await WriteFileAsync(command, temp, Path.GetFileName(output), state, ct).ConfigureAwait(false);
                }
            }
            if (tree)
            {
                if (Directory.Exists(output))
                {
                    Directory.Delete(output); // checked empty above
                }
                Directory.Move(temp, output);
            }
            else
            {
                File.Move(temp, output, overwrite: true);
            }
            done = true;
        }
        finally
        {
            if (!done)
            {
                DeleteQuietly(temp);
            }
            DeleteQuietly(spill);
        }
        return new ExportSummary(output, options.Format, state.Rows, state.Files, state.Partitions, stopwatch.Elapsed);
    }

    /// <summary>
    /// The Hive-style directory name of one partition value: <c>column=value</c>, the value escaped as Hive and Spark
    /// escape path names (<c>%XX</c>, uppercase hex), NULL (and the empty string) as <see cref="HiveDefaultPartition"/>.
    /// </summary>
    public static string PartitionDirectory(string column, string? value)
    {
        ArgumentNullException.ThrowIfNull(column);
        if (string.IsNullOrEmpty(value))
        {
            return column + "=" + HiveDefaultPartition;
        }
        var escaped = new StringBuilder(column.Length + value.Length + 1).Append(column).Append('=');
        foreach (char c in value)
        {
            if (c < 0x20 || c == 0x7F || "\"#%'*/:=?\\{[]^".Contains(c, StringComparison.Ordinal))
            {
                escaped.Append('%').Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            }
            else
            {
                escaped.Append(c);
            }
        }
        return escaped.ToString();
    }

    private static void CheckOutput(string output, bool tree)
    {
        if (tree)
        {
            if (File.Exists(output))
            {
                throw new PagesUsageException($"--out {output} is a file; a partitioned export writes a directory");
            }
            if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any())
            {
                throw new PagesUsageException($"--out {output} is a directory that is not empty; remove it or choose another path");
            }
        }
        else if (Directory.Exists(output))
        {
            throw new PagesUsageException($"--out {output} is a directory; name a file (or use --partition-by for a tree)");
        }
    }

    private static void Configure(QuerySession session, ExportOptions options, string spill)
    {
        foreach (var setting in new[]
        {
            string.Create(CultureInfo.InvariantCulture, $"SET memory_limit = '{options.MemoryLimitMegabytes}MB'"),
            "SET temp_directory = " + QuerySession.SqlLiteral(spill),
        })
        {
            using var command = session.Connection.CreateCommand();
            command.CommandText = setting;
            command.ExecuteNonQuery();
        }
    }

    private static Dictionary<string, string> Metadata(PagesStore store, ExportOptions options)
    {
        var request = new Dictionary<string, object?>
        {
            ["select"] = options.Select,
            ["where"] = options.Where,
            ["having"] = options.Having,
            ["target"] = options.Target,
            ["mode"] = options.Mode,
            ["all_snapshots"] = options.AllSnapshots,
            ["partition_by"] = options.PartitionBy,
        };
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["pages.store"] = store.Directory,
            ["pages.exported_at"] = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
            ["pages.request"] = JsonSerializer.Serialize(request),
        };
    }

    private static async Task WriteFileAsync(DuckDBCommand command, string path, string name, WriteState state, CancellationToken ct)
    {
        await using var writer = await state.OpenAsync(path, name, null, ct).ConfigureAwait(false);
        await foreach (var batch in command.ExecuteArrowBatchesAsync(ct).ConfigureAwait(false))
        {
            using (batch)
            {
                if (batch.Length > 0)
                {
                    await writer.WriteAsync(state.FileBatch(batch, 0, batch.Length), ct).ConfigureAwait(false);
                    state.Report(batch.Length, name);
                }
            }
        }
        await writer.CompleteAsync(ct).ConfigureAwait(false);
    }

    private static async Task WriteTreeAsync(DuckDBCommand command, string root, WriteState state, CancellationToken ct)
    {
        int keyCount = state.Compiled.PartitionColumns.Count;
        var current = new PartitionKey[keyCount];
        ExportFileWriter? writer = null;
        string relative = "";
        var filesPerDirectory = new Dictionary<string, int>(StringComparer.Ordinal);
        try
        {
            await foreach (var batch in command.ExecuteArrowBatchesAsync(ct).ConfigureAwait(false))
            {
                using (batch)
                {
                    int start = 0;
                    for (int row = 0; row < batch.Length; row++)
                    {
                        if (writer is not null && SameKey(current, batch, row))
                        {
                            continue;
                        }
                        if (writer is not null && row > start)
                        {
                            await writer.WriteAsync(state.FileBatch(batch, start, row - start), ct).ConfigureAwait(false);
                            state.Report(row - start, relative);
                        }
                        if (writer is not null)
                        {
                            await writer.CompleteAsync(ct).ConfigureAwait(false);
                            await writer.DisposeAsync().ConfigureAwait(false);
                            writer = null;
                        }
                        start = row;
                        var directory = new StringBuilder();
                        for (int k = 0; k < keyCount; k++)
                        {
                            current[k] = PartitionKey.Read(batch.Column(k), row);
                            directory.Append(k == 0 ? "" : "/")
                                .Append(PartitionDirectory(state.Compiled.PartitionColumns[k].Name, current[k].Text(batch.Column(k))));
                        }
                        string dir = directory.ToString();
                        // Rows come ordered by partition, so a directory is normally visited once; if not, add a file.
                        int index = filesPerDirectory.TryGetValue(dir, out int seen) ? seen : 0;
                        filesPerDirectory[dir] = index + 1;
                        if (index == 0)
                        {
                            state.Partitions++;
                        }
                        string name = "part-" + index.ToString("D5", CultureInfo.InvariantCulture) + ExportOptions.Extension(state.Options.Format);
                        relative = dir + "/" + name;
                        Directory.CreateDirectory(Path.Combine(root, dir));
                        writer = await state.OpenAsync(Path.Combine(root, dir, name), relative, dir, ct).ConfigureAwait(false);
                    }
                    if (writer is not null && batch.Length > start)
                    {
                        await writer.WriteAsync(state.FileBatch(batch, start, batch.Length - start), ct).ConfigureAwait(false);
                        state.Report(batch.Length - start, relative);
                    }
                }
            }
            if (writer is not null)
            {
                await writer.CompleteAsync(ct).ConfigureAwait(false);
            }
        }
        finally
        {
            if (writer is not null)
            {
                await writer.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static bool SameKey(PartitionKey[] current, RecordBatch batch, int row)
    {
        for (int k = 0; k < current.Length; k++)
        {
            if (!current[k].Matches(batch.Column(k), row))
            {
                return false;
            }
        }
        return true;
    }

    private static void DeleteQuietly(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
            else if (File.Exists(path))
            {
                File.Delete(path);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Counters and the per-file set-up shared by the single-file and the tree paths.</summary>
    private sealed class WriteState(ExportOptions options, CompiledExport compiled, Dictionary<string, string> metadata,
        IProgress<ExportProgress>? progress)
    {
        public ExportOptions Options { get; } = options;

        public CompiledExport Compiled { get; } = compiled;

        public long Rows { get; private set; }

        public int Files { get; private set; }

        public int Partitions { get; set; }

        public Task<ExportFileWriter> OpenAsync(string path, string relative, string? partition, CancellationToken ct)
        {
            Files++;
            var fileMetadata = metadata;
            if (partition is not null)
            {
                fileMetadata = new Dictionary<string, string>(metadata, StringComparer.Ordinal) { ["pages.partition"] = partition };
            }
            var parquet = new ParquetExportOptions { RowGroupRows = Options.RowGroupRows, Metadata = fileMetadata };
            progress?.Report(new ExportProgress(Rows, Files, relative));
            return ExportFileWriter.CreateAsync(Options.Format, path, Compiled.FileSchema, parquet, ct);
        }

        public void Report(int rows, string current)
        {
            Rows += rows;
            progress?.Report(new ExportProgress(Rows, Files, current));
        }

        /// <summary>
        /// Rows [start, start + length) of the file columns of a DuckDB batch (which has the partition columns first),
        /// under the export's schema. Shares the batch's buffers: never disposed itself.
        /// </summary>
        public RecordBatch FileBatch(RecordBatch batch, int start, int length)
        {
            int skip = Compiled.PartitionColumns.Count;
            var arrays = new IArrowArray[batch.ColumnCount - skip];
            for (int c = 0; c < arrays.Length; c++)
            {
                var array = batch.Column(c + skip);
                arrays[c] = start == 0 && length == batch.Length ? array : ArrowArrayFactory.Slice(array, start, length);
            }
            return new RecordBatch(Compiled.FileSchema, arrays, length);
        }
    }

    /// <summary>One partition column's value in the current run, compared without allocating per row.</summary>
    private readonly struct PartitionKey
    {
        private readonly bool _null;
        private readonly long _number;
        private readonly byte[]? _text;

        private PartitionKey(bool isNull, long number, byte[]? text)
        {
            _null = isNull;
            _number = number;
            _text = text;
        }

        public static PartitionKey Read(IArrowArray array, int row)
        {
            if (array.IsNull(row))
            {
                return new PartitionKey(true, 0, null);
            }
            return array switch
            {
                StringArray text => new PartitionKey(false, 0, text.GetBytes(row).ToArray()),
                Int32Array int32 => new PartitionKey(false, int32.Values[row], null),
                Int64Array int64 => new PartitionKey(false, int64.Values[row], null),
                Date32Array date => new PartitionKey(false, date.Values[row], null),
                _ => throw new NotSupportedException($"cannot partition by a column of type {array.Data.DataType.Name}"),
            };
        }

        public bool Matches(IArrowArray array, int row)
        {
            if (array.IsNull(row))
            {
                return _null;
            }
            if (_null)
            {
                return false;
            }
            return array switch
            {
                StringArray text => text.GetBytes(row).SequenceEqual(_text),
                Int32Array int32 => int32.Values[row] == _number,
                Int64Array int64 => int64.Values[row] == _number,
                Date32Array date => date.Values[row] == _number,
                _ => false,
            };
        }

        /// <summary>The value as a directory name shows it; null for NULL.</summary>
        public string? Text(IArrowArray array)
        {
            if (_null)
            {
                return null;
            }
            return array.Data.DataType.TypeId switch
            {
                ArrowTypeId.String => Encoding.UTF8.GetString(_text!),
                ArrowTypeId.Date32 => DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + (int)_number)
                    .ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                _ => _number.ToString(CultureInfo.InvariantCulture),
            };
        }
    }
}
