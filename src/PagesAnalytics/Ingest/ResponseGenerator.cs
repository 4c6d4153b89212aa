using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using PagesAnalytics.Schema;

namespace PagesAnalytics.Ingest;

/// <summary>Settings of one <see cref="ResponseGenerator"/> run.</summary>
public sealed record GeneratorOptions
{
    /// <summary>Seed used when none is given.</summary>
    public const int DefaultSeed = 42;

    /// <summary>Host used when none is given.</summary>
    public const string DefaultHost = "example.com";

    /// <summary>Number of page objects to write; zero or more.</summary>
    public long Rows { get; init; }

    /// <summary>Seed of the <see cref="System.Random"/> that decides every value: same seed, same bytes.</summary>
    public int Seed { get; init; } = DefaultSeed;

    /// <summary>Indented output with one field per line; otherwise one compact line.</summary>
    public bool Pretty { get; init; }

    /// <summary>Site the URLs are on; some rows use the www., blog., shop. and m. subdomains of it.</summary>
    public string Host { get; init; } = DefaultHost;

    internal void Validate()
    {
        if (Rows < 0)
        {
            throw new ArgumentOutOfRangeException("options.Rows", Rows, "GeneratorOptions.Rows must be zero or more.");
        }
        if (string.IsNullOrEmpty(Host) || Host[0] == '.' || Host[^1] == '.')
        {
            throw new ArgumentException($"GeneratorOptions.Host '{Host}' is not a host name.", "options.Host");
        }
        foreach (char c in Host)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '.' || c == '-'))
            {
                throw new ArgumentException(
                    $"GeneratorOptions.Host '{Host}' is not a host name (only letters, digits, '.' and '-').", "options.Host");
            }
        }
    }
}

/// <summary>What a <see cref="ResponseGenerator"/> run wrote, recomputed from the written values.</summary>
/// <param name="Rows">Page objects written.</param>
/// <param name="Bytes">Bytes written to the output.</param>
/// <param name="SumBacklinks">Sum of <c>backlinks</c> over all rows.</param>
/// <param name="SumRefdomains">Sum of <c>refdomains</c> over all rows.</param>
/// <param name="LastVisitedNotNull">Rows whose <c>last_visited</c> is not the 1970 "never" sentinel.</param>
public sealed record GeneratorSummary(long Rows, long Bytes, long SumBacklinks, long SumRefdomains, long LastVisitedNotNull);

/// <summary>
/// Writes realistic, deterministic Ahrefs API v2 <c>pages_extended</c> responses of any size in constant
/// memory: a heavy-tailed mix of crawled, redirected, broken and never-crawled pages whose titles carry
/// everything a reader must survive (non-ASCII, emoji, escapes, <c>},{</c> and <c>"},{"</c> inside strings,
/// PHP-style <c>\uXXXX</c> and <c>\/</c> escapes, reordered keys).
/// </summary>
public static class ResponseGenerator
{
    // The JSON writer buffers in memory until flushed; flushing every so many rows bounds that buffer.
    private const int FlushEveryRows = 2048;

    private static readonly byte[] NewLine = "\n"u8.ToArray();

    /// <summary>Writes one response to <paramref name="output"/>; the stream is flushed, not closed.</summary>
    public static Task<GeneratorSummary> WriteAsync(Stream output, GeneratorOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return WriteCoreAsync(output, options, progress: null, ct);
    }

    /// <summary>Writes one response to a new (or truncated) file; <paramref name="progress"/> gets rows written so far.</summary>
    public static async Task<GeneratorSummary> WriteFileAsync(
        string path, GeneratorOptions options, IProgress<long>? progress = null, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        await using var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            Share = FileShare.None,
            BufferSize = 1 << 16,
            Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
        });
        var summary = await WriteCoreAsync(file, options, progress, ct).ConfigureAwait(false);
        await file.FlushAsync(ct).ConfigureAwait(false);
        return summary;
    }

    private static async Task<GeneratorSummary> WriteCoreAsync(
        Stream output, GeneratorOptions options, IProgress<long>? progress, CancellationToken ct)
    {
        var rows = new PageRowWriter(options);
        var writerOptions = new JsonWriterOptions
        {
            Indented = options.Pretty,
            // Non-ASCII stays raw UTF-8 (only titles of the PHP-style rows are \u-escaped, by PageRowWriter).
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        long bytes;
        await using (var writer = new Utf8JsonWriter(output, writerOptions))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("pages"u8);
            for (long i = 0; i < options.Rows; i++)
            {
                rows.Write(writer, i);
                if ((i + 1) % FlushEveryRows == 0)
                {
                    ct.ThrowIfCancellationRequested();
                    await writer.FlushAsync(ct).ConfigureAwait(false);
                    progress?.Report(i + 1);
                }
            }
            writer.WriteEndArray();
            writer.WriteStartObject("stats"u8);
            writer.WriteNumber("pages"u8, rows.StatsPages);
            writer.WriteEndObject();
            writer.WriteEndObject();
            await writer.FlushAsync(ct).ConfigureAwait(false);
            bytes = writer.BytesCommitted;
        }
        if (options.Pretty)
        {
            await output.WriteAsync(NewLine, ct).ConfigureAwait(false);
            await output.FlushAsync(ct).ConfigureAwait(false);
            bytes += NewLine.Length;
        }
        progress?.Report(options.Rows);
        return new GeneratorSummary(options.Rows, bytes, rows.SumBacklinks, rows.SumRefdomains, rows.LastVisitedNotNull);
    }
}

/// <summary>Draws one page at a time from the seeded random source and writes it; holds no rows.</summary>
internal sealed class PageRowWriter
{
    // Every EscapedEvery-th row (at EscapedPhase) is written PHP-style: non-ASCII as lower-case \uxxxx, '/' as \/.
    internal const int EscapedEvery = 50;
    internal const int EscapedPhase = 25;
    private const double ShuffledKeysShare = 0.03;
    private const int MaxTitleChars = 1000;

    private static readonly long FirstSeenMin = new DateTimeOffset(2012, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();
    private static readonly long CrawlEnd = new DateTimeOffset(2025, 10, 31, 23, 59, 59, TimeSpan.Zero).ToUnixTimeSeconds();

    // The first rows cover every kind, so even a small sample shows them; later rows are drawn.
    private static readonly int[] LeadingCodes = [200, 0, 301, 404, 302, 410, 500, 503];

    private static readonly JsonEncodedText[] Names = BuildNames();
    private static readonly JsonEncodedText Sentinel = JsonEncodedText.Encode("1970-01-01T00:00:00Z");
    private static readonly JsonEncodedText Empty = JsonEncodedText.Encode("");
    private static readonly JsonEncodedText Utf8 = JsonEncodedText.Encode("utf8");
    private static readonly JsonEncodedText Latin1 = JsonEncodedText.Encode("iso-8859-1");
    private static readonly JsonEncodedText Windows1251 = JsonEncodedText.Encode("windows-1251");
    private static readonly JsonEncodedText Gzip = JsonEncodedText.Encode("gzip");
    private static readonly JsonEncodedText Brotli = JsonEncodedText.Encode("br");
    private static readonly JsonEncodedText Deflate = JsonEncodedText.Encode("deflate");

    private static readonly string[] Words =
    [
        "best", "guide", "how", "to", "buy", "cheap", "online", "review", "free", "download", "news", "blog",
        "home", "about", "contact", "pricing", "features", "tutorial", "tips", "for", "beginners", "2024", "top",
        "10", "ways", "improve", "your", "website", "SEO", "backlinks", "marketing", "content", "strategy", "shop",
        "sale", "shoes", "men", "women", "kids", "garden", "kitchen", "recipes", "easy", "healthy", "travel",
        "hotel", "flights", "weather", "sports", "football", "results", "live", "updates", "video", "photos",
        "gallery", "events", "calendar", "jobs", "careers", "support", "help", "account", "login", "privacy",
        "policy", "terms", "the", "and", "of", "in", "with", "new", "latest", "ultimate", "complete", "checklist",
        "vs", "comparison", "what", "is", "why", "small", "business", "software", "tools", "analytics", "data",
        "cloud", "hosting", "domain", "email", "security", "mobile", "app", "android", "iphone", "laptop", "deals",
        "coupon", "discount", "insurance", "mortgage", "credit", "card", "city", "map", "local", "restaurant",
        "menu", "coffee", "pizza", "keyword", "research", "rank", "tracker", "audit", "site", "explorer",
    ];

    private static readonly string[] Slugs =
    [
        "best", "guide", "buy", "cheap", "review", "free", "news", "pricing", "tutorial", "tips", "top", "seo",
        "backlinks", "marketing", "shoes", "garden", "kitchen", "recipes", "travel", "hotel", "weather", "football",
        "video", "events", "jobs", "support", "privacy", "checklist", "comparison", "software", "tools", "cloud",
        "hosting", "security", "android", "iphone", "laptop", "deals", "coupon", "insurance", "coffee", "pizza",
    ];

    private static readonly string[] MainSections =
    [
        "products", "blog", "news", "docs", "support", "about", "en/guides", "de/ratgeber", "fr/articles",
        "category", "tag", "events", "jobs", "search",
    ];
    private static readonly string[] BlogSections =
    [
        "2014/05", "2016/11", "2018/02", "2019/06", "2021/01", "2023/09", "category/seo", "tag/tips", "author/admin",
    ];
    private static readonly string[] ShopSections =
    [
        "product", "products", "collections/sale", "catalog", "brand", "c/shoes", "c/garden",
    ];

    private static readonly string[] NonAsciiSegments =
    [
        "café-crème", "über-uns", "straße-größe", "купить-ноутбук", "новости", "東京-天気", "中文-新闻", "서울-맛집",
        "ürün-fiyatları", "niño-año",
    ];
    private static readonly string[] PercentSegments = BuildPercentSegments();

    private static readonly string[] Queries =
    [
        "?utm_source=newsletter&utm_medium=email&utm_campaign=spring", "?sort=price&order=asc", "?ref=footer",
        "?lang=de", "?view=print&amp=1", "?color=red&size=42", "?q=running+shoes", "?session=&debug=0",
    ];

    private static readonly string[] LatinTitles =
    [
        "Café & Crème Brûlée – Recettes faciles", "Über uns – Müller GmbH", "Straße der Größe: Öffnungszeiten",
        "Niño español: año nuevo, mañana", "Ångström, Ærø og Øl – Dansk guide", "Zażółć gęślą jaźń – po polsku",
        "Ça va? Où est la bibliothèque?", "Naïve résumé for a coöperative", "Português: ação, coração e pão",
        "Türkçe: İstanbul’da güzel bir gün", "Señor’s “smart quotes” — and … ellipsis", "Crêpes à la française",
    ];
    private static readonly string[] CyrillicTitles =
    [
        "Купить ноутбук недорого — интернет-магазин", "Новости дня: главное за сегодня",
        "Ремонт квартир в Москве под ключ", "Україна: новини та події", "Контакты | О компании",
        "Блог о SEO и продвижении сайтов", "Ёлки-палки: «кавычки-ёлочки»",
    ];
    private static readonly string[] CjkTitles =
    [
        "東京の天気予報 | 日本気象協会", "中文网页标题：最新新闻", "서울 맛집 추천 베스트 10", "株式会社サンプル - 会社概要",
        "产品介绍 — 价格与购买", "ラーメン🍜の作り方", "日本語と English の混在タイトル",
    ];
    private static readonly string[] EmojiTitles =
    [
        "Best deals 🔥🚀 today only", "We ❤️ our customers", "Family 👨‍👩‍👧‍👦 vacation ideas", "Made in 🇩🇪 Germany",
        "Math 𝔸𝕓𝕔 and music 𝄞", "😀😃😄😁 smiles", "Rocket launch 🚀 — live", "🎉",
    ];
    private static readonly string[] TrickyTitles =
    [
        "The \"Best\" Running Shoes of 2024", "C:\\Program Files\\PagesAnalytics\\readme.txt",
        "path/to/page and/or other/slashes", "Name\tPrice\tStock", "First line\nSecond line",
        "Windows line\r\nbreak", "Broken JSON },{ inside a title",
        "Looks like a record: {\"url\":\"https://evil.example/\",\"http_code\":200}",
        "Quote then brace \"},{\"url\":\"https://x.example/", "Nested [{\"a\":1},{\"b\":[2,3]}] array text",
        "fake end \"}],\"stats\":{\"pages\":1}}", "Backslash at the end \\", "Double \\\\ backslash and \\\" quote",
        "Unicode escape lookalike \\u00e9 written literally", "Tab\tand \"quotes\" and \\ and / all},{\"together\"",
        "Line\u2028separator and paragraph\u2029separator", "Bell \u0007 and unit separator \u001f control chars",
        "{\"", "},{", "\"", "\\",
    ];
    private static readonly string[] MixedTitles =
    [
        "Tom & Jerry <b>Cartoons</b>", "AT&T vs. Verizon: 5G plans compared", "50% off + free shipping!!!",
        "Q&A: What's new in C# 13?", "Price: $19.99 (was €24.99, £21)", "<script>alert('x')</script> test page",
        "It's 'single' and `backtick` quoted", "Fish & Chips ~ #1 in town @ 5pm", "Ahrefs Site Explorer & Backlink Checker",
    ];
    private static readonly string[] NotFoundTitles =
        ["404 Not Found", "Page not found", "Oops! That page can’t be found.", "", "Error 404 – Seite nicht gefunden"];
    private static readonly string[] GoneTitles = ["410 Gone", "Gone", "", "This product is no longer available"];
    private static readonly string[] ServerErrorTitles = ["500 Internal Server Error", "Internal Server Error", "", "Database Error"];
    private static readonly string[] UnavailableTitles = ["503 Service Unavailable", "Service Temporarily Unavailable", "", "Maintenance mode"];
    private static readonly string[] RedirectTitles = ["301 Moved Permanently", "302 Found", "Moved", "Redirecting…", "Object moved"];

    private readonly Random _rng;
    private readonly string _host;
    private readonly string _brand;
    private readonly string _hostSubdomain; // "shop." when Host is shop.example.org: not prefixed again
    private readonly ulong _idSalt;
    private readonly int[] _order = new int[PagesSchema.ApiColumnCount];
    private readonly TextBuffer _url = new(256);
    private readonly TextBuffer _title = new(MaxTitleChars + 64);
    private readonly TextBuffer _redirect = new(256);
    private byte[] _raw = new byte[8192];

    // The current row.
    private bool _phpStyle;
    private int _rank, _code, _linksInternal, _linksExternal;
    private long _firstSeen, _lastVisited, _size, _backlinks, _dofollow, _nofollow, _redirects, _refdomains, _refclassC, _refips;
    private JsonEncodedText _encoding, _contentEncoding;
    private int _pathStart;
    private string _sub = "";

    public PageRowWriter(GeneratorOptions options)
    {
        _rng = new Random(options.Seed);
        _host = options.Host;
        int dot = _host.IndexOf('.');
        string first = dot > 0 ? _host[..dot] : _host;
        _brand = char.ToUpperInvariant(first[0]) + first[1..];
        _hostSubdomain = dot > 0 ? _host[..(dot + 1)] : "";
        _idSalt = (ulong)_rng.Next(1_000_000_000);
        // The API's total is larger than what one response holds.
        StatsPages = options.Rows == 0 ? 0 : options.Rows + (long)(options.Rows * (0.25 + 3.0 * _rng.NextDouble())) + _rng.Next(1000);
    }

    public long StatsPages { get; }
    public long SumBacklinks { get; private set; }
    public long SumRefdomains { get; private set; }
    public long LastVisitedNotNull { get; private set; }

    public void Write(Utf8JsonWriter writer, long index)
    {
        Generate(index);
        SumBacklinks += _backlinks;
        SumRefdomains += _refdomains;
        if (_lastVisited != 0)
        {
            LastVisitedNotNull++;
        }

        var order = _order;
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }
        if (_rng.NextDouble() < ShuffledKeysShare)
        {
            for (int i = order.Length - 1; i > 0; i--)
            {
                int j = _rng.Next(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }
        }

        writer.WriteStartObject();
        for (int i = 0; i < order.Length; i++)
        {
            WriteField(writer, order[i]);
        }
        writer.WriteEndObject();
    }

    private void WriteField(Utf8JsonWriter writer, int column)
    {
        var name = Names[column];
        switch (column)
        {
            case PagesSchema.Url: WriteText(writer, name, _url, titleLike: false); break;
            case PagesSchema.AhrefsRank: writer.WriteNumber(name, _rank); break;
            case PagesSchema.FirstSeen: WriteDate(writer, name, _firstSeen); break;
            case PagesSchema.LastVisited: WriteDate(writer, name, _lastVisited); break;
            case PagesSchema.HttpCode: writer.WriteNumber(name, _code); break;
            case PagesSchema.Size: writer.WriteNumber(name, _size); break;
            case PagesSchema.LinksInternal: writer.WriteNumber(name, _linksInternal); break;
            case PagesSchema.LinksExternal: writer.WriteNumber(name, _linksExternal); break;
            case PagesSchema.Encoding: writer.WriteString(name, _encoding); break;
            case PagesSchema.Title: WriteText(writer, name, _title, titleLike: true); break;
            case PagesSchema.RedirectUrl: WriteText(writer, name, _redirect, titleLike: false); break;
            case PagesSchema.ContentEncoding: writer.WriteString(name, _contentEncoding); break;
            case PagesSchema.Backlinks: writer.WriteNumber(name, _backlinks); break;
            case PagesSchema.Dofollow: writer.WriteNumber(name, _dofollow); break;
            case PagesSchema.Nofollow: writer.WriteNumber(name, _nofollow); break;
            case PagesSchema.Redirects: writer.WriteNumber(name, _redirects); break;
            case PagesSchema.Refdomains: writer.WriteNumber(name, _refdomains); break;
            case PagesSchema.RefclassC: writer.WriteNumber(name, _refclassC); break;
            case PagesSchema.Refips: writer.WriteNumber(name, _refips); break;
            default: throw new InvalidOperationException($"no API column {column}");
        }
    }

    private static void WriteDate(Utf8JsonWriter writer, JsonEncodedText name, long unixSeconds)
    {
        if (unixSeconds == 0)
        {
            writer.WriteString(name, Sentinel);
            return;
        }
        Span<byte> text = stackalloc byte[32];
        DateTime.UnixEpoch.AddSeconds(unixSeconds)
            .TryFormat(text, out int written, "yyyy'-'MM'-'dd'T'HH':'mm':'ss'Z'", CultureInfo.InvariantCulture);
        writer.WriteString(name, text[..written]);
    }

    // Titles always go through our own escaper: the framework encoders escape emoji (\ud83d\ude80) even when
    // relaxed, and we want raw 4-byte UTF-8 in most rows. PHP-style rows escape URLs too.
    private void WriteText(Utf8JsonWriter writer, JsonEncodedText name, TextBuffer text, bool titleLike)
    {
        if (!titleLike && !_phpStyle)
        {
            writer.WriteString(name, text.Span);
            return;
        }
        int length = Escape(text.Span, _phpStyle);
        writer.WritePropertyName(name);
        writer.WriteRawValue(_raw.AsSpan(0, length), skipInputValidation: false);
    }

    /// <summary>Writes <paramref name="text"/> as a quoted JSON string into <see cref="_raw"/>.</summary>
    private int Escape(ReadOnlySpan<char> text, bool phpStyle)
    {
        int needed = text.Length * 6 + 2;
        if (_raw.Length < needed)
        {
            _raw = new byte[Math.Max(needed, _raw.Length * 2)];
        }
        var raw = _raw;
        int pos = 0;
        raw[pos++] = (byte)'"';
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '"': raw[pos++] = (byte)'\\'; raw[pos++] = (byte)'"'; continue;
                case '\\': raw[pos++] = (byte)'\\'; raw[pos++] = (byte)'\\'; continue;
                case '\n': raw[pos++] = (byte)'\\'; raw[pos++] = (byte)'n'; continue;
                case '\r': raw[pos++] = (byte)'\\'; raw[pos++] = (byte)'r'; continue;
                case '\t': raw[pos++] = (byte)'\\'; raw[pos++] = (byte)'t'; continue;
                case '\b': raw[pos++] = (byte)'\\'; raw[pos++] = (byte)'b'; continue;
                case '\f': raw[pos++] = (byte)'\\'; raw[pos++] = (byte)'f'; continue;
                case '/' when phpStyle: raw[pos++] = (byte)'\\'; raw[pos++] = (byte)'/'; continue;
            }
            if (c < 0x20 || (phpStyle && c >= 0x80))
            {
                pos = WriteUnicodeEscape(raw, pos, c, lowerCase: phpStyle);
            }
            else if (c < 0x80)
            {
                raw[pos++] = (byte)c;
            }
            else
            {
                if (Rune.DecodeFromUtf16(text[i..], out var rune, out int consumed) != System.Buffers.OperationStatus.Done)
                {
                    throw new InvalidOperationException("generated text holds a lone surrogate");
                }
                pos += rune.EncodeToUtf8(raw.AsSpan(pos));
                i += consumed - 1;
            }
        }
        raw[pos++] = (byte)'"';
        return pos;
    }

    private static int WriteUnicodeEscape(byte[] raw, int pos, char c, bool lowerCase)
    {
        ReadOnlySpan<byte> hex = lowerCase ? "0123456789abcdef"u8 : "0123456789ABCDEF"u8;
        raw[pos++] = (byte)'\\';
        raw[pos++] = (byte)'u';
        raw[pos++] = hex[(c >> 12) & 0xF];
        raw[pos++] = hex[(c >> 8) & 0xF];
        raw[pos++] = hex[(c >> 4) & 0xF];
        raw[pos++] = hex[c & 0xF];
        return pos;
    }

    private double U() => _rng.NextDouble();

    private double Normal()
    {
        double u1 = 1.0 - _rng.NextDouble();
        double u2 = _rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    private long LogNormal(double mu, double sigma, long max)
    {
        double exponent = Math.Min(mu + sigma * Normal(), 40.0);
        return Math.Min((long)Math.Exp(exponent), max);
    }

    private long Huge() => (1L << 31) + (long)(U() * (1L << 34));

    private T Pick<T>(T[] items) => items[_rng.Next(items.Length)];

    private int DrawCode()
    {
        double u = U();
        return u switch
        {
            < 0.790 => 200,
            < 0.850 => 301,
            < 0.870 => 302,
            < 0.915 => 404,
            < 0.925 => 410,
            < 0.935 => 500,
            < 0.940 => 503,
            _ => 0,
        };
    }

    private void Generate(long index)
    {
        int code = index < LeadingCodes.Length ? LeadingCodes[index] : DrawCode();
        bool never = code == 0;
        _code = code;
        _phpStyle = index % EscapedEvery == EscapedPhase;

        BuildUrl(index);

        // Dates: the crawler revisits, so last_visited leans towards the end of the API's life.
        _firstSeen = FirstSeenMin + (long)(U() * (CrawlEnd - 86_400 * 30 - FirstSeenMin));
        double revisit = U();
        _lastVisited = never ? 0
            : revisit < 0.05 ? _firstSeen
            : CrawlEnd - (long)((CrawlEnd - _firstSeen) * revisit * revisit * revisit);

        // Backlinks: mostly log-normal, a Pareto tail, and now and then more than int.MaxValue.
        long backlinks;
        if (never)
        {
            backlinks = 0;
        }
        else if (index == 0 || U() < 0.0001)
        {
            backlinks = Huge();
        }
        else if (U() < code switch { 200 => 0.30, 301 or 302 => 0.40, 404 or 410 => 0.50, _ => 0.60 })
        {
            backlinks = 0;
        }
        else if (U() < 0.02)
        {
            backlinks = Math.Min((long)(1000.0 / Math.Pow(1.0 - U(), 1.25)), 1L << 40);
        }
        else
        {
            backlinks = Math.Max(1, LogNormal(1.5, 2.2, 1L << 40));
        }
        _backlinks = backlinks;
        _dofollow = Math.Clamp((long)Math.Round(backlinks * (0.15 + 0.83 * U())), 0, backlinks);
        _nofollow = backlinks - _dofollow;

        long refdomains;
        if (never)
        {
            // The documented example: never crawled, yet known referring domains.
            refdomains = index != 1 && U() < 0.4 ? 0 : Math.Max(1, LogNormal(3.0, 2.0, 10_000_000));
        }
        else
        {
            refdomains = backlinks == 0 ? 0 : Math.Clamp((long)(backlinks * Math.Exp(-5.5 * U())), 1, backlinks);
        }
        _refdomains = refdomains;
        _refips = refdomains == 0 ? 0 : Math.Clamp((long)(refdomains * (0.6 + 0.4 * U())), 1, refdomains);
        _refclassC = refdomains == 0 ? 0 : Math.Clamp((long)(_refips * (0.55 + 0.45 * U())), 1, _refips);
        _redirects = never ? 0 : index == 0 ? LogNormal(6.0, 1.0, 1_000_000) : U() < 0.8 ? 0 : LogNormal(0.5, 1.8, 1_000_000);
        _rank = never || refdomains == 0 ? 0
            : Math.Clamp((int)Math.Round(7.5 * Math.Log(1.0 + refdomains) + 6.0 * Normal()), 0, 100);

        switch (code)
        {
            case 200:
                _size = U() < 0.00002 ? Huge() : Math.Max(120, LogNormal(10.2, 1.0, 50_000_000));
                _linksInternal = (int)LogNormal(4.0, 1.1, 20_000);
                _linksExternal = U() < 0.15 ? 0 : (int)LogNormal(2.0, 1.3, 5_000);
                break;
            case 301 or 302:
                _size = U() < 0.3 ? 0 : 150 + _rng.Next(400);
                _linksInternal = 0;
                _linksExternal = 0;
                break;
            case 404 or 410:
                _size = LogNormal(8.5, 1.0, 2_000_000);
                _linksInternal = U() < 0.5 ? 0 : (int)LogNormal(3.0, 1.0, 2_000);
                _linksExternal = _rng.Next(5);
                break;
            case 500 or 503:
                _size = U() < 0.5 ? 0 : LogNormal(7.0, 1.0, 1_000_000);
                _linksInternal = 0;
                _linksExternal = 0;
                break;
            default:
                _size = 0;
                _linksInternal = 0;
                _linksExternal = 0;
                break;
        }

        double enc = U();
        _encoding = never ? Empty
            : code is 301 or 302 ? (enc < 0.7 ? Empty : Utf8)
            : enc < 0.80 ? Utf8 : enc < 0.88 ? Latin1 : enc < 0.92 ? Windows1251 : Empty;
        double ce = U();
        _contentEncoding = never || _size == 0 ? Empty
            : ce < 0.65 ? Gzip : ce < 0.85 ? Brotli : ce < 0.88 ? Deflate : Empty;

        BuildTitle();
        BuildRedirect();
    }

    private void BuildUrl(long index)
    {
        var url = _url;
        url.Clear();
        switch (index)
        {
            case 0:
                url.Append("https://").Append(_host);
                _pathStart = url.Length;
                url.Append('/');
                _sub = "";
                return;
            case 1:
                url.Append("http://").Append(_host);
                _pathStart = url.Length;
                url.Append('/');
                _sub = "";
                return;
        }

        url.Append(U() < 0.85 ? "https://" : "http://");
        double s = U();
        string sub = s < 0.32 ? "" : s < 0.77 ? "www." : s < 0.89 ? "blog." : s < 0.97 ? "shop." : "m.";
        string[] sections = sub switch { "blog." => BlogSections, "shop." => ShopSections, _ => MainSections };
        if (sub == _hostSubdomain)
        {
            sub = "";
        }
        _sub = sub;
        url.Append(sub).Append(_host);
        _pathStart = url.Length;

        // A bijection on 0..10^9-1: ids look random but never repeat, so most urls are unique.
        long id = (long)(((ulong)index * 2654435761UL + _idSalt) % 1_000_000_000UL);
        double p = U();
        if (index == 2)
        {
            url.Append("/index.html");
        }
        else if (p < 0.55)
        {
            url.Append('/').Append(Pick(sections)).Append('/').Append(Pick(Slugs)).Append('-').Append(Pick(Slugs))
                .Append('-').Append(id);
            double ext = U();
            url.Append(ext < 0.6 ? "" : ext < 0.85 ? ".html" : ext < 0.95 ? ".php" : "/");
        }
        else if (p < 0.68)
        {
            url.Append('/').Append(Pick(sections)).Append('/').Append(id).Append('/');
        }
        else if (p < 0.71)
        {
            // Listing pages repeat: the few duplicate urls of a response.
            url.Append('/').Append(Pick(sections)).Append('/').Append(Pick(Slugs)).Append('/');
        }
        else if (p < 0.77)
        {
            url.Append("/?p=").Append(id);
        }
        else if (p < 0.83)
        {
            url.Append("/files/").Append(Pick(Slugs)).Append('-').Append(id).Append(U() < 0.5 ? ".pdf" : ".jpg");
        }
        else if (p < 0.87)
        {
            url.Append('/').Append(Pick(PercentSegments)).Append('-').Append(id);
        }
        else if (p < 0.885)
        {
            url.Append('/').Append(Pick(NonAsciiSegments)).Append('-').Append(id);
        }
        else if (p < 0.895)
        {
            url.Append('/').Append(Pick(sections)).Append('/');
        }
        else if (p < 0.92)
        {
            url.Append('/').Append(Pick(sections)).Append("/page/").Append(2 + _rng.Next(400)).Append('/');
        }
        else
        {
            url.Append('/').Append(Pick(sections)).Append('/').Append(Pick(Slugs)).Append('-').Append(id).Append("/amp/");
        }

        double q = U();
        if (q < 0.06)
        {
            url.Append(Pick(Queries));
        }
        else if (q < 0.10)
        {
            url.Append("?page=").Append(2 + _rng.Next(50));
        }
        else if (q < 0.12)
        {
            url.Append("?id=").Append(id).Append("&utm_source=twitter");
        }
    }

    private void BuildTitle()
    {
        var title = _title;
        title.Clear();
        switch (_code)
        {
            case 0: return;
            case 301 or 302: title.Append(U() < 0.75 ? "" : Pick(RedirectTitles)); return;
            case 404: title.Append(Pick(NotFoundTitles)); return;
            case 410: title.Append(Pick(GoneTitles)); return;
            case 500: title.Append(Pick(ServerErrorTitles)); return;
            case 503: title.Append(Pick(UnavailableTitles)); return;
        }

        // PHP-style rows mostly draw from the non-ASCII and tricky kinds, so their escapes show.
        double u = _phpStyle ? 0.62 + 0.30 * U() : U();
        switch (u)
        {
            case < 0.05:
                break;
            case < 0.62:
                AppendWords(3 + _rng.Next(7));
                double suffix = U();
                if (suffix < 0.4)
                {
                    title.Append(" | ").Append(_brand);
                }
                else if (suffix < 0.5)
                {
                    title.Append(" - ").Append(_brand);
                }
                break;
            case < 0.70: title.Append(Pick(LatinTitles)); break;
            case < 0.75: title.Append(Pick(CyrillicTitles)); break;
            case < 0.79: title.Append(Pick(CjkTitles)); break;
            case < 0.82: title.Append(Pick(EmojiTitles)); break;
            case < 0.92: title.Append(Pick(TrickyTitles)); break;
            case < 0.99: title.Append(Pick(MixedTitles)); break;
            default:
                int target = 250 + _rng.Next(MaxTitleChars - 250);
                AppendWords(1);
                while (title.Length < target)
                {
                    title.Append(' ').Append(Pick(Words));
                }
                break;
        }
    }

    private void AppendWords(int count)
    {
        var title = _title;
        string first = Pick(Words);
        title.Append(char.ToUpperInvariant(first[0])).Append(first.AsSpan(1));
        for (int i = 1; i < count; i++)
        {
            title.Append(' ').Append(Pick(Words));
        }
    }

    private void BuildRedirect()
    {
        var redirect = _redirect;
        redirect.Clear();
        var path = _url.Span[_pathStart..];
        if (_code == 301)
        {
            double r = U();
            if (r < 0.45)
            {
                // http -> https, or the bare host -> www.
                bool https = _url.Span.StartsWith("https://");
                redirect.Append("https://").Append(https && _sub.Length == 0 ? "www." : _sub).Append(_host).Append(path);
            }
            else if (r < 0.75 && !path.EndsWith("/") && !path.Contains('?'))
            {
                redirect.Append(_url.Span).Append('/');
            }
            else
            {
                redirect.Append("https://").Append(_host).Append('/').Append(Pick(MainSections)).Append('/')
                    .Append(Pick(Slugs)).Append('-').Append(_rng.Next(100_000));
            }
        }
        else if (_code == 302)
        {
            double r = U();
            if (r < 0.4)
            {
                redirect.Append("https://").Append(_sub).Append(_host).Append("/login?return_to=");
                foreach (char c in path)
                {
                    if (c == '/')
                    {
                        redirect.Append("%2F");
                    }
                    else
                    {
                        redirect.Append(c);
                    }
                }
            }
            else if (r < 0.7)
            {
                redirect.Append("https://").Append(_host).Append(U() < 0.5 ? "/en/" : "/de/");
            }
            else
            {
                redirect.Append("https://cdn.").Append(_host).Append("/assets/").Append(Pick(Slugs)).Append(".html");
            }
        }
    }

    private static JsonEncodedText[] BuildNames()
    {
        var names = new JsonEncodedText[PagesSchema.ApiColumnCount];
        for (int i = 0; i < names.Length; i++)
        {
            names[i] = JsonEncodedText.Encode(PagesSchema.Columns[i].Name);
        }
        return names;
    }

    private static string[] BuildPercentSegments()
    {
        var segments = new string[NonAsciiSegments.Length];
        for (int i = 0; i < segments.Length; i++)
        {
            segments[i] = Uri.EscapeDataString(NonAsciiSegments[i]);
        }
        return segments;
    }

    /// <summary>A reusable, growable char buffer: one per generated string, no allocation per row.</summary>
    private sealed class TextBuffer(int capacity)
    {
        private char[] _chars = new char[capacity];

        public int Length { get; private set; }

        public ReadOnlySpan<char> Span => _chars.AsSpan(0, Length);

        public void Clear() => Length = 0;

        public TextBuffer Append(char c)
        {
            Ensure(1);
            _chars[Length++] = c;
            return this;
        }

        public TextBuffer Append(ReadOnlySpan<char> text)
        {
            Ensure(text.Length);
            text.CopyTo(_chars.AsSpan(Length));
            Length += text.Length;
            return this;
        }

        public TextBuffer Append(string text) => Append(text.AsSpan());

        public TextBuffer Append(long value)
        {
            Ensure(20);
            value.TryFormat(_chars.AsSpan(Length), out int written, provider: CultureInfo.InvariantCulture);
            Length += written;
            return this;
        }

        private void Ensure(int extra)
        {
            if (Length + extra > _chars.Length)
            {
                Array.Resize(ref _chars, Math.Max(_chars.Length * 2, Length + extra));
            }
        }
    }
}
