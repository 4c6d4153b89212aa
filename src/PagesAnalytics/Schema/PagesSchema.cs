using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.Types;

namespace PagesAnalytics.Schema;

/// <summary>The storage kind of a column: decides its Arrow, Parquet and DuckDB types.</summary>
public enum ColumnKind
{
    /// <summary>UTF-8 string.</summary>
    Utf8,
    /// <summary>32-bit signed integer.</summary>
    Int32,
    /// <summary>64-bit signed integer.</summary>
    Int64,
    /// <summary>UTC timestamp in microseconds; the API's epoch sentinel is stored NULL.</summary>
    Timestamp,
}

/// <summary>One column of the pages table.</summary>
/// <param name="Index">Position in <see cref="PagesSchema.Columns"/> (the API's documented order first).</param>
/// <param name="Name">Column name as the API spells it.</param>
/// <param name="Kind">Storage kind.</param>
/// <param name="Nullable">False only for <c>url</c>, <c>source_id</c> and <c>row_ordinal</c>.</param>
/// <param name="Description">One line for help texts and the README.</param>
public sealed record PageColumn(int Index, string Name, ColumnKind Kind, bool Nullable, string Description)
{
    /// <summary>The column's DuckDB type name.</summary>
    public string DuckDbType => Kind switch
    {
        ColumnKind.Utf8 => "VARCHAR",
        ColumnKind.Int32 => "INTEGER",
        ColumnKind.Int64 => "BIGINT",
        ColumnKind.Timestamp => "TIMESTAMPTZ",
        _ => throw new InvalidOperationException($"unknown kind {Kind}"),
    };

    /// <summary>The column's Arrow type.</summary>
    public IArrowType ArrowType => Kind switch
    {
        ColumnKind.Utf8 => StringType.Default,
        ColumnKind.Int32 => Int32Type.Default,
        ColumnKind.Int64 => Int64Type.Default,
        ColumnKind.Timestamp => PagesSchema.TimestampType,
        _ => throw new InvalidOperationException($"unknown kind {Kind}"),
    };
}

/// <summary>
/// The single source of truth for the pages table: the 19 API columns of <c>pages_extended</c> in the
/// documented order, then <c>source_id</c> and <c>row_ordinal</c>.
/// </summary>
public static class PagesSchema
{
    /// <summary>Number of columns the API returns.</summary>
    public const int ApiColumnCount = 19;

    /// <summary>Index of the <c>source_id</c> column.</summary>
    public const int SourceIdIndex = 19;

    /// <summary>Index of the <c>row_ordinal</c> column.</summary>
    public const int RowOrdinalIndex = 20;

    // Column indexes, for code that addresses a column directly.
    public const int Url = 0, AhrefsRank = 1, FirstSeen = 2, LastVisited = 3, HttpCode = 4, Size = 5,
        LinksInternal = 6, LinksExternal = 7, Encoding = 8, Title = 9, RedirectUrl = 10, ContentEncoding = 11,
        Backlinks = 12, Dofollow = 13, Nofollow = 14, Redirects = 15, Refdomains = 16, RefclassC = 17, Refips = 18;

    /// <summary>Arrow timestamp type of <c>first_seen</c> and <c>last_visited</c>: microseconds, UTC.</summary>
    public static readonly TimestampType TimestampType = new(TimeUnit.Microsecond, "UTC");

    /// <summary>All columns, API columns first in the documented order.</summary>
    public static readonly IReadOnlyList<PageColumn> Columns =
    [
        new(Url, "url", ColumnKind.Utf8, false, "URL of the crawled page."),
        new(AhrefsRank, "ahrefs_rank", ColumnKind.Int32, true, "URL Rating of the page."),
        new(FirstSeen, "first_seen", ColumnKind.Timestamp, true, "Least recent date the crawler could crawl the page."),
        new(LastVisited, "last_visited", ColumnKind.Timestamp, true, "Most recent date the crawler could crawl the page."),
        new(HttpCode, "http_code", ColumnKind.Int32, true, "HTTP code last returned for the page (0: not crawled)."),
        new(Size, "size", ColumnKind.Int64, true, "Size of the crawled page, in bytes."),
        new(LinksInternal, "links_internal", ColumnKind.Int32, true, "Internal links found in the page."),
        new(LinksExternal, "links_external", ColumnKind.Int32, true, "External links found in the page."),
        new(Encoding, "encoding", ColumnKind.Utf8, true, "Character encoding of the page, e.g. utf8."),
        new(Title, "title", ColumnKind.Utf8, true, "Title of the crawled page."),
        new(RedirectUrl, "redirect_url", ColumnKind.Utf8, true, "URL the page redirects to."),
        new(ContentEncoding, "content_encoding", ColumnKind.Utf8, true, "Compression of the page data, e.g. gzip."),
        new(Backlinks, "backlinks", ColumnKind.Int64, true, "External backlinks to the page."),
        new(Dofollow, "dofollow", ColumnKind.Int64, true, "DoFollow backlinks to the page."),
        new(Nofollow, "nofollow", ColumnKind.Int64, true, "NoFollow backlinks to the page."),
        new(Redirects, "redirects", ColumnKind.Int64, true, "Pages redirecting to the page."),
        new(Refdomains, "refdomains", ColumnKind.Int64, true, "Referring domains."),
        new(RefclassC, "refclass_c", ColumnKind.Int64, true, "Referring class C networks."),
        new(Refips, "refips", ColumnKind.Int64, true, "Referring IP addresses."),
        new(SourceIdIndex, "source_id", ColumnKind.Int32, false, "Which ingested input the row came from (view sources)."),
        new(RowOrdinalIndex, "row_ordinal", ColumnKind.Int64, false, "Position of the row in its input: the API's own order."),
    ];

    /// <summary>The Arrow schema of every batch the reader yields.</summary>
    public static readonly Apache.Arrow.Schema ArrowSchema = BuildArrowSchema();

    /// <summary>UTF-8 names of the API columns, indexed like <see cref="Columns"/>.</summary>
    internal static readonly byte[][] Utf8Names = BuildUtf8Names();

    /// <summary>Finds a column by name; null when the schema has no such column.</summary>
    public static PageColumn? Find(string name)
    {
        foreach (var column in Columns)
        {
            if (string.Equals(column.Name, name, StringComparison.Ordinal))
            {
                return column;
            }
        }
        return null;
    }

    /// <summary>
    /// Maps a UTF-8 property name of a page object to its API column index, or -1. Tries
    /// <paramref name="expected"/> first because responses almost always keep the documented order.
    /// </summary>
    internal static int ApiColumnIndexOf(ReadOnlySpan<byte> name, int expected)
    {
        // Every API column name is 3 to 16 bytes: two overlapping 8-byte words (or 2-byte words below 8) compare it
        // in two instructions, which matters at 19 keys per row.
        ulong head = 0, tail = 0;
        if (name.Length is >= 8 and <= 16)
        {
            head = MemoryMarshal.Read<ulong>(name);
            tail = MemoryMarshal.Read<ulong>(name[^8..]);
        }
        else if (name.Length is >= 2 and < 8)
        {
            head = MemoryMarshal.Read<ushort>(name);
            tail = MemoryMarshal.Read<ushort>(name[^2..]) | ((ulong)name[name.Length / 2] << 16);
        }
        else
        {
            return -1;
        }
        var keys = NameKeys;
        if ((uint)expected < ApiColumnCount)
        {
            ref readonly var key = ref keys[expected];
            if (key.Length == name.Length && key.Head == head && key.Tail == tail
                && (name.Length >= 8 || name.SequenceEqual(Utf8Names[expected])))
            {
                return expected;
            }
        }
        for (int i = 0; i < ApiColumnCount; i++)
        {
            ref readonly var key = ref keys[i];
            if (key.Length == name.Length && key.Head == head && key.Tail == tail
                && (name.Length >= 8 || name.SequenceEqual(Utf8Names[i])))
            {
                return i;
            }
        }
        return -1;
    }

    private readonly record struct NameKey(int Length, ulong Head, ulong Tail);

    private static readonly NameKey[] NameKeys = BuildNameKeys();

    private static NameKey[] BuildNameKeys()
    {
        var keys = new NameKey[ApiColumnCount];
        for (int i = 0; i < ApiColumnCount; i++)
        {
            var name = Utf8Names[i].AsSpan();
            keys[i] = name.Length >= 8
                ? new NameKey(name.Length, MemoryMarshal.Read<ulong>(name), MemoryMarshal.Read<ulong>(name[^8..]))
                : new NameKey(name.Length, MemoryMarshal.Read<ushort>(name),
                    MemoryMarshal.Read<ushort>(name[^2..]) | ((ulong)name[name.Length / 2] << 16));
        }
        return keys;
    }

    private static Apache.Arrow.Schema BuildArrowSchema()
    {
        var builder = new Apache.Arrow.Schema.Builder();
        foreach (var column in Columns)
        {
            builder.Field(new Field(column.Name, column.ArrowType, column.Nullable));
        }
        return builder.Build();
    }

    private static byte[][] BuildUtf8Names()
    {
        var names = new byte[ApiColumnCount][];
        for (int i = 0; i < ApiColumnCount; i++)
        {
            names[i] = System.Text.Encoding.UTF8.GetBytes(Columns[i].Name);
        }
        return names;
    }
}
