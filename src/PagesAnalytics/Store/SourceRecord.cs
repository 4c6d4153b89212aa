using System.Text.Json;
using System.Text.Json.Serialization;

namespace PagesAnalytics.Store;

/// <summary>What became of one ingested input.</summary>
public static class SourceStatus
{
    /// <summary>Every row of the input is in the store.</summary>
    public const string Ok = "ok";

    /// <summary>Only the complete records before a break point are in the store.</summary>
    public const string Partial = "partial";

    /// <summary>None of the input's rows are in the store; <see cref="SourceRecord.Error"/> says why.</summary>
    public const string Rejected = "rejected";

    /// <summary>The same bytes were already ingested from another path; nothing was added.</summary>
    public const string Skipped = "skipped";
}

/// <summary>
/// The record of one ingested input, stored as <c>sources/&lt;source_id&gt;.json</c>. Writing it is the commit
/// point of the input: readers only see parts listed by a record whose status is ok or partial.
/// </summary>
public sealed record SourceRecord
{
    /// <summary>Identifier of the input; the <c>source_id</c> column of its rows.</summary>
    public required int SourceId { get; init; }

    /// <summary>Full path of the input as given (<c>-</c> for stdin).</summary>
    public required string Path { get; init; }

    /// <summary>Lower-case hex SHA-256 of the input's bytes as read.</summary>
    public required string Sha256 { get; init; }

    /// <summary>Bytes of the input as read.</summary>
    public long Bytes { get; init; }

    /// <summary>Compression detected from the input's first bytes: none, gzip, zstd or brotli.</summary>
    public string Compression { get; init; } = "none";

    /// <summary>Responses found in the input (several when a paging loop appended them).</summary>
    public int Responses { get; init; }

    /// <summary>For a partial input: the byte offset (in the decoded response) where reading stopped.</summary>
    public long? SalvagedToByte { get; init; }

    /// <summary>Rows stored from the input.</summary>
    public long Rows { get; init; }

    /// <summary><c>stats.pages</c> of the response, if it had one.</summary>
    public long? StatsPages { get; init; }

    /// <summary>Keys the schema does not know, skipped while reading.</summary>
    public long UnknownKeys { get; init; }

    /// <summary>Target of the API request, when known.</summary>
    public string? Target { get; init; }

    /// <summary>Mode of the API request (exact, domain, subdomains, prefix), when known.</summary>
    public string? Mode { get; init; }

    /// <summary>Date the response was fetched, <c>YYYY-MM-DD</c>, when known.</summary>
    public string? Snapshot { get; init; }

    /// <summary>How <see cref="Snapshot"/> was found (option, path, mtime).</summary>
    public string? SnapshotFrom { get; init; }

    /// <summary>One of <see cref="SourceStatus"/>.</summary>
    public required string Status { get; init; }

    /// <summary>Why the input was rejected or skipped.</summary>
    public string? Error { get; init; }

    /// <summary>Parquet parts of the input, relative to the store directory.</summary>
    public IReadOnlyList<string> Parts { get; init; } = [];

    /// <summary>When the record was written.</summary>
    public DateTimeOffset IngestedAt { get; init; }

    /// <summary>True when readers should see the input's parts.</summary>
    [JsonIgnore]
    public bool IsVisible => Status is SourceStatus.Ok or SourceStatus.Partial;

    /// <summary>
    /// Options of the record files: snake_case names, indented. The metadata comes from a source generator
    /// (<see cref="SourceRecordJsonContext"/>), not reflection: every command reads the records, and building
    /// serializers by reflection cost start-up time (a hundred methods compiled at run time, and Reflection.Emit).
    /// </summary>
    internal static readonly JsonSerializerOptions Json = SourceRecordJsonContext.Default.Options;
}

/// <summary>Compile-time JSON metadata of <see cref="SourceRecord"/>.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(SourceRecord))]
internal sealed partial class SourceRecordJsonContext : JsonSerializerContext;
