using System.Globalization;

namespace PagesAnalytics.Export;

/// <summary>File formats of <c>pages export</c>.</summary>
public enum ExportFormat
{
    /// <summary>Apache Parquet: Zstd, dictionary-encoded low-cardinality strings, column statistics.</summary>
    Parquet,
    /// <summary>An Arrow IPC file (Feather v2).</summary>
    Arrow,
    /// <summary>CSV with a header row (RFC 4180 quoting; NULL is an empty field, an empty string is <c>""</c>).</summary>
    Csv,
    /// <summary>One JSON object per line.</summary>
    Ndjson,
}

/// <summary>One export request: which rows and columns, how they are laid out, and in which format.</summary>
public sealed record ExportOptions
{
    /// <summary>Default for <see cref="MemoryLimitMegabytes"/>.</summary>
    public const int DefaultMemoryLimitMegabytes = 1024;

    /// <summary>Smallest accepted <see cref="MemoryLimitMegabytes"/>.</summary>
    public const int MinMemoryLimitMegabytes = 64;

    /// <summary>The file format.</summary>
    public ExportFormat Format { get; init; } = ExportFormat.Parquet;

    /// <summary>
    /// Columns to write: null for the default (<see cref="ExportColumns.Default"/>: the 21 stored columns, <c>host</c>
    /// and <c>snapshot</c>), <c>*</c> for the 19 API columns, or names of <see cref="ExportColumns.All"/> separated by
    /// commas (<c>*,host,http_class</c>).
    /// </summary>
    public string? Select { get; init; }

    /// <summary>Row filter applied before one row per url is kept (v2 or v3 syntax, as <c>pages query</c>).</summary>
    public string? Where { get; init; }

    /// <summary>Filter on the per-url result (as <c>pages query --having</c>).</summary>
    public string? Having { get; init; }

    /// <summary>Target of the request, without protocol.</summary>
    public string? Target { get; init; }

    /// <summary>exact, domain, subdomains or prefix (default domain when a target is given).</summary>
    public string? Mode { get; init; }

    /// <summary>Every stored row instead of one row per url from its newest snapshot.</summary>
    public bool AllSnapshots { get; init; }

    /// <summary>
    /// Columns of the Hive-style directory tree (<c>http_class=2xx/part-00000.parquet</c>), outermost first; empty for
    /// one file. Allowed: <see cref="ExportColumns.Partitionable"/>. Partition columns are in the directory names only,
    /// not in the files, as Hive, Spark and DuckDB write them.
    /// </summary>
    public IReadOnlyList<string> PartitionBy { get; init; } = [];

    /// <summary>Rows per Parquet row group (<see cref="ParquetExportOptions.DefaultRowGroupRows"/> by default).</summary>
    public int RowGroupRows { get; init; } = ParquetExportOptions.DefaultRowGroupRows;

    /// <summary>
    /// DuckDB's working memory for the export, in MB. Beyond it DuckDB spills to a temporary directory beside the output
    /// (the one-row-per-url step and the sort by partition columns need it on large stores).
    /// </summary>
    public int MemoryLimitMegabytes { get; init; } = DefaultMemoryLimitMegabytes;

    internal void Validate()
    {
        if (!Enum.IsDefined(Format))
        {
            throw new PagesUsageException($"ExportOptions.Format {Format} is not a format.");
        }
        if (RowGroupRows is <= 0 or > ParquetExportOptions.MaxRowGroupRows)
        {
            throw new PagesUsageException(string.Create(CultureInfo.InvariantCulture,
                $"row groups must hold between 1 and {ParquetExportOptions.MaxRowGroupRows} rows, got {RowGroupRows}"));
        }
        if (MemoryLimitMegabytes < MinMemoryLimitMegabytes)
        {
            throw new PagesUsageException(string.Create(CultureInfo.InvariantCulture,
                $"the memory limit must be at least {MinMemoryLimitMegabytes} MB, got {MemoryLimitMegabytes}"));
        }
        ArgumentNullException.ThrowIfNull(PartitionBy, nameof(PartitionBy));
    }

    /// <summary>The format a file name suggests (<c>.parquet</c>, <c>.arrow</c>/<c>.feather</c>/<c>.ipc</c>,
    /// <c>.csv</c>, <c>.ndjson</c>/<c>.jsonl</c>), or null.</summary>
    public static ExportFormat? FormatFromPath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".parquet" => ExportFormat.Parquet,
            ".arrow" or ".feather" or ".ipc" => ExportFormat.Arrow,
            ".csv" => ExportFormat.Csv,
            ".ndjson" or ".jsonl" => ExportFormat.Ndjson,
            _ => null,
        };
    }

    /// <summary>The format called <paramref name="name"/> (parquet, arrow, csv, ndjson; any case).</summary>
    public static ExportFormat ParseFormat(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "parquet" => ExportFormat.Parquet,
            "arrow" or "feather" => ExportFormat.Arrow,
            "csv" => ExportFormat.Csv,
            "ndjson" or "jsonl" => ExportFormat.Ndjson,
            _ => throw new PagesUsageException($"unknown export format '{name}' (parquet, arrow, csv or ndjson)"),
        };
    }

    /// <summary>The file extension of a format, with the dot.</summary>
    public static string Extension(ExportFormat format) => format switch
    {
        ExportFormat.Parquet => ".parquet",
        ExportFormat.Arrow => ".arrow",
        ExportFormat.Csv => ".csv",
        _ => ".ndjson",
    };
}

/// <summary>Where an export is: rows written so far, the file being written.</summary>
/// <param name="Rows">Rows written so far.</param>
/// <param name="Files">Files started so far.</param>
/// <param name="Current">The file being written, relative to the output.</param>
public readonly record struct ExportProgress(long Rows, int Files, string Current);

/// <summary>What an export wrote.</summary>
/// <param name="Path">The output: one file, or the root of a partitioned tree.</param>
/// <param name="Format">The format.</param>
/// <param name="Rows">Rows written.</param>
/// <param name="Files">Files written (1 unless partitioned; a partitioned export of no rows writes none).</param>
/// <param name="Partitions">Partition directories written (0 unless partitioned).</param>
/// <param name="Elapsed">Wall time.</param>
public sealed record ExportSummary(string Path, ExportFormat Format, long Rows, int Files, int Partitions, TimeSpan Elapsed);
