using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PagesAnalytics.Ingest;
using PagesAnalytics.Schema;
using PagesAnalytics.Store;
using PagesAnalytics.Tests.Support;
using Xunit.Abstractions;
using ZstdSharp;

namespace PagesAnalytics.Tests.Ingest;

/// <summary>
/// Issue 3's mutation test: thousands of damaged responses (truncated, flipped, inserted and deleted bytes, deep
/// nesting, huge strings, out-of-range numbers, duplicated keys, corrupt compression, garbage) go through one
/// store writer. Each must be ingested or rejected with a reason naming it, never throw, and the store must stay
/// consistent with its records.
/// </summary>
public class MutationTests(ITestOutputHelper output)
{
    private const int Seed = 12345;

    /// <summary>One damaged input: its name is its display name (so messages can be checked for it).</summary>
    private sealed record Variant(string Name, string Kind, byte[] Bytes, bool Salvage);

    /// <summary>A page key and where its value lies in a well-formed base response.</summary>
    private sealed record Field(int Record, string Key, ColumnKind Kind, int KeyStart, int ValueStart, int ValueEnd);

    /// <summary>A well-formed response with the positions of its records and fields.</summary>
    private sealed record Base(string Name, byte[] Bytes, List<Field> Fields, List<(int Start, int End)> Records)
    {
        public static Base Scan(string name, byte[] bytes)
        {
            var fields = new List<Field>();
            var records = new List<(int, int)>();
            var reader = new Utf8JsonReader(bytes, isFinalBlock: true, state: default);
            int record = -1;
            int recordStart = 0;
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.StartObject && reader.CurrentDepth == 2)
                {
                    record++;
                    recordStart = (int)reader.TokenStartIndex;
                }
                else if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 2)
                {
                    records.Add((recordStart, (int)reader.BytesConsumed));
                }
                else if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 3)
                {
                    string key = reader.GetString()!;
                    int keyStart = (int)reader.TokenStartIndex;
                    Assert.True(reader.Read());
                    Assert.True(reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray),
                        $"{name}: base responses hold flat records");
                    var column = PagesSchema.Columns.FirstOrDefault(c => c.Name == key);
                    Assert.NotNull(column);
                    fields.Add(new Field(record, key, column.Kind, keyStart, (int)reader.TokenStartIndex, (int)reader.BytesConsumed));
                }
            }
            Assert.NotEmpty(records);
            return new Base(name, bytes, fields, records);
        }
    }

    private static readonly byte[][] InsertTokens =
    [
        "\""u8.ToArray(), "{"u8.ToArray(), "}"u8.ToArray(), "["u8.ToArray(), "]"u8.ToArray(), ","u8.ToArray(),
        ":"u8.ToArray(), [0x00], [0xC3, 0x28], [0xFF], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80],
        [0xEF, 0xBB, 0xBF], "\\"u8.ToArray(), "\\u"u8.ToArray(), "\\ud800"u8.ToArray(), "\n"u8.ToArray(),
        " "u8.ToArray(), "\t"u8.ToArray(), "\"x\":1,"u8.ToArray(), "null"u8.ToArray(), "1e400"u8.ToArray(),
        "},{"u8.ToArray(), "\"},{\""u8.ToArray(), "/*c*/"u8.ToArray(), "'"u8.ToArray(), [0x1F, 0x8B],
    ];

    private static readonly byte[][] InvalidUtf8 =
    [
        [0xC3, 0x28], [0xFF], [0xFE], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xC0, 0xAF], [0xE0, 0x80, 0xAF],
        [0xF4, 0x90, 0x80, 0x80], [0x80], [0xC3], [0xE2, 0x82], [0x00], [0x1F],
    ];

    private static readonly string[] Int32Values =
    [
        "3000000000", "-2147483649", "2147483647", "-2147483648", "1.5", "1e400", "-1e400", "1e-400",
        "99999999999999999999999", "-0", "1E2", "1.0", "\"42\"", "\"4 2\"", "\"\"", "\"3000000000\"", "\"-0\"",
        "true", "null", "[]", "{}", "-", "01", "0x10", "NaN", "Infinity", "--1", "+1",
    ];

    private static readonly string[] Int64Values =
    [
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "1e400",
        "99999999999999999999999", "-0", "1.5", "1.0", "0.0", "1e3", "\"123\"", "\"-0\"", "\"+5\"", "\"1e3\"",
        "\"99999999999999999999999\"", "\"\\u0031\"", "true", "false", "[1]", "{\"a\":1}", "NaN", "-", "00",
    ];

    private static readonly string[] TimestampValues =
    [
        "\"0001-01-01T00:00:00Z\"", "\"9999-12-31T23:59:59Z\"", "\"9999-12-31T23:59:59-14:00\"",
        "\"0001-01-01T00:00:00+14:00\"", "\"2024-02-30T00:00:00Z\"", "\"2023-02-29T00:00:00Z\"",
        "\"2024-13-01T00:00:00Z\"", "\"2024-01-01T24:00:00Z\"", "\"2024-01-01T23:59:60Z\"", "\"2024-01-01\"",
        "\"\"", "12345", "1e400", "\"2024-01-01T00:00:00.1234567+05:00\"", "\"1970-01-01T00:00:00Z\"",
        "\"1970-01-01T00:00:00+00:00\"", "\"\\u0032024-01-01T00:00:00Z\"", "\"0000-01-01T00:00:00Z\"",
        "\"99999-01-01T00:00:00Z\"", "true", "[]", "\"2024-01-01T00:00:00\"",
    ];

    private static readonly string[] StringValues =
    [
        "123", "true", "[]", "{}", "\"\\ud800\"", "\"\\udc00x\"", "\"a\\ud800\\u0041\"", "\"\\ud83d\\ude00\"",
        "\"\\u0000\"", "\"\\x\"", "\"\\u12\"", "\"\\/\\b\\f\\n\\r\\t\"", "\"\"", "1e400", "\"\\\"\"",
    ];

    [Fact]
    public async Task Thousands_of_mutated_responses_never_throw_and_leave_the_store_consistent()
    {
        var clock = Stopwatch.StartNew();
        var variants = await BuildVariantsAsync();
        var built = clock.Elapsed;
        Assert.True(variants.Count >= 2000, $"only {variants.Count} variants");
        Assert.Equal(variants.Count, variants.Select(v => v.Name).Distinct(StringComparer.Ordinal).Count());

        using var dir = new TempDir();
        var store = PagesStore.Open(dir.File("store"));
        var escaped = new List<string>();
        var problems = new List<string>();
        var outcomes = new List<(Variant Variant, SourceOutcome Outcome)>();
        var firstWithSha = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var writer = store.OpenWriter())
        {
            foreach (var variant in variants)
            {
                var bytes = variant.Bytes;
                var input = InputSource.FromStream(() => new MemoryStream(bytes, writable: false), variant.Name);
                var options = variant.Salvage ? new IngestOptions { Salvage = true } : null;
                string sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
                bool seen = firstWithSha.TryGetValue(sha, out var earlier);
                firstWithSha.TryAdd(sha, variant.Name);
                SourceOutcome outcome;
                try
                {
                    outcome = await writer.IngestAsync(input, options);
                }
                catch (Exception ex)
                {
                    escaped.Add($"{variant.Name} ({bytes.Length} bytes{(variant.Salvage ? ", salvage" : "")}): {ex.GetType().FullName}: {ex.Message}");
                    continue;
                }
                outcomes.Add((variant, outcome));
                CheckOutcome(variant, outcome, seen, earlier, problems);
            }
        }
        var ingested = clock.Elapsed - built;

        // Rows of every accepted variant equal a direct read of its bytes.
        var stored = new Dictionary<long, long>();
        using (var session = store.OpenQuery())
        {
            using var reader = session.ExecuteReadOnly("SELECT source_id, count(*) FROM pages GROUP BY source_id");
            while (reader.Read())
            {
                stored[Convert.ToInt64(reader.GetValue(0))] = Convert.ToInt64(reader.GetValue(1));
            }
        }
        foreach (var (variant, outcome) in outcomes)
        {
            if (outcome.Status is not (SourceStatus.Ok or SourceStatus.Partial) || outcome.Record is not { } record)
            {
                continue;
            }
            bool partial = outcome.Status == SourceStatus.Partial;
            long direct;
            try
            {
                direct = await DirectReadAsync(variant.Bytes, salvage: partial);
            }
            catch (Exception ex)
            {
                problems.Add($"{variant.Name}: ingested as {outcome.Status} with {outcome.Rows} rows, but a direct read fails: {ex.GetType().Name}: {ex.Message}");
                continue;
            }
            long inStore = stored.GetValueOrDefault(record.SourceId);
            if (direct != outcome.Rows || record.Rows != outcome.Rows || inStore != outcome.Rows)
            {
                problems.Add($"{variant.Name}: {outcome.Status}, outcome rows {outcome.Rows}, record rows {record.Rows}, stored rows {inStore}, direct read {direct}");
            }
        }

        // The store as a whole agrees with its records.
        var records = store.ReadRecords();
        long visibleRows = records.Where(r => r.IsVisible).Sum(r => r.Rows);
        long rowsAdded = outcomes.Sum(o => o.Outcome.Rows);
        long pagesCount;
        long sourcesCount;
        long scanned = 0;
        using (var session = store.OpenQuery())
        {
            pagesCount = Scalar(session, "SELECT count(*) FROM pages");
            sourcesCount = Scalar(session, "SELECT count(*) FROM sources");
            // Every value of every stored row reads back (the parts are whole and their strings valid UTF-8).
            using var all = session.ExecuteReadOnly("SELECT * FROM pages");
            while (all.Read())
            {
                for (int i = 0; i < all.FieldCount; i++)
                {
                    _ = all.IsDBNull(i) ? null : all.GetValue(i);
                }
                scanned++;
            }
        }
        var missingParts = records.Where(r => r.IsVisible)
            .SelectMany(r => r.Parts.Select(p => (r.SourceId, Part: p)))
            .Where(x => !File.Exists(Path.Combine(store.Directory, x.Part)))
            .Select(x => $"source {x.SourceId}: {x.Part}")
            .ToList();
        var visibleIds = records.Where(r => r.IsVisible && r.Parts.Count > 0).Select(r => r.SourceId.ToString()).ToHashSet();
        var orphanParts = Directory.GetDirectories(Path.Combine(store.Directory, "parts"))
            .Select(Path.GetFileName)
            .Where(name => !visibleIds.Contains(name!))
            .ToList();
        var tmpEntries = Directory.GetFileSystemEntries(Path.Combine(store.Directory, "tmp"));

        // Report.
        var byStatus = outcomes.GroupBy(o => o.Outcome.Status).OrderBy(g => g.Key)
            .Select(g => $"{g.Key}={g.Count()}");
        output.WriteLine($"variants tried: {variants.Count} ({variants.Count(v => v.Salvage)} with salvage), seed {Seed}");
        output.WriteLine($"outcomes: {string.Join(", ", byStatus)}, escaped exceptions={escaped.Count}");
        output.WriteLine($"records: {records.Count}, rows stored: {pagesCount} (added {rowsAdded}), scanned {scanned}");
        foreach (var kind in outcomes.GroupBy(o => o.Variant.Kind).OrderBy(g => g.Key))
        {
            output.WriteLine($"  {kind.Key,-14} {string.Join(", ", kind.GroupBy(o => o.Outcome.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}={g.Count()}"))}");
        }
        output.WriteLine($"time: build {built.TotalSeconds:F1} s, ingest {ingested.TotalSeconds:F1} s, total {clock.Elapsed.TotalSeconds:F1} s");

        // All checks report together, so a failure of one does not hide the state of the others.
        Assert.Multiple(
            () => Assert.True(escaped.Count == 0,
                $"{escaped.Count} exceptions escaped IngestAsync; first ones:\n" + string.Join("\n", escaped.Take(8))),
            () => Assert.True(problems.Count == 0,
                $"{problems.Count} outcome problems; first ones:\n" + string.Join("\n", problems.Take(8))),
            () => Assert.Equal(visibleRows, pagesCount),
            () => Assert.Equal(rowsAdded, pagesCount),
            () => Assert.Equal(pagesCount, scanned),
            () => Assert.Equal(records.Count, sourcesCount),
            () => Assert.Equal(outcomes.Count(o => o.Outcome.Record is not null), records.Count),
            () => Assert.Empty(missingParts),
            () => Assert.Empty(tmpEntries),
            () => Assert.Empty(orphanParts));
    }

    private static void CheckOutcome(Variant variant, SourceOutcome outcome, bool seenBytes, string? earlier, List<string> problems)
    {
        string name = variant.Name;
        var record = outcome.Record;
        switch (outcome.Status)
        {
            case SourceStatus.Skipped:
                if (!seenBytes)
                {
                    problems.Add($"{name}: skipped ({outcome.Message}) but no earlier variant had the same bytes");
                }
                if (outcome.Rows != 0 || string.IsNullOrEmpty(outcome.Message))
                {
                    problems.Add($"{name}: skipped with {outcome.Rows} rows, message '{outcome.Message}'");
                }
                return;
            case SourceStatus.Ok:
            case SourceStatus.Rejected:
            case SourceStatus.Partial when variant.Salvage:
                break;
            default:
                problems.Add($"{name}: unexpected status '{outcome.Status}' (salvage: {variant.Salvage})");
                return;
        }
        if (seenBytes)
        {
            problems.Add($"{name}: {outcome.Status}, but {earlier} had the same bytes (expected skipped)");
        }
        if (record is null || record.Status != outcome.Status)
        {
            problems.Add($"{name}: {outcome.Status} without a matching record ({record?.Status ?? "none"})");
            return;
        }
        switch (outcome.Status)
        {
            case SourceStatus.Rejected:
                if (string.IsNullOrWhiteSpace(outcome.Message) || !outcome.Message.Contains(name, StringComparison.Ordinal))
                {
                    problems.Add($"{name}: rejected with a reason that does not name it: '{outcome.Message}'");
                }
                if (outcome.Rows != 0 || record.Rows != 0 || record.Parts.Count != 0)
                {
                    problems.Add($"{name}: rejected yet {outcome.Rows} rows / record {record.Rows} rows / {record.Parts.Count} parts");
                }
                break;
            case SourceStatus.Partial:
                if (outcome.Rows <= 0 || record.SalvagedToByte is null || string.IsNullOrWhiteSpace(record.Error)
                    || !record.Error.Contains(name, StringComparison.Ordinal))
                {
                    problems.Add($"{name}: partial with {outcome.Rows} rows, salvaged to {record.SalvagedToByte}, error '{record.Error}'");
                }
                break;
            default:
                if (record.Error is not null || (outcome.Rows > 0) != (record.Parts.Count > 0))
                {
                    problems.Add($"{name}: ok with {outcome.Rows} rows, {record.Parts.Count} parts, error '{record.Error}'");
                }
                break;
        }
    }

    /// <summary>Rows of a plain read of the bytes (decoded first when they are compressed).</summary>
    private static async Task<long> DirectReadAsync(byte[] bytes, bool salvage)
    {
        var options = new ResponseReaderOptions { Salvage = salvage };
        if (InputDecoder.Detect(bytes.AsSpan(0, Math.Min(4, bytes.Length))) == InputCompression.None)
        {
            var plain = new ResponseReader(new MemoryStream(bytes), options);
            await foreach (var batch in plain.ReadBatchesAsync())
            {
                batch.Dispose();
            }
            return plain.Rows;
        }
        var (decoded, _) = await InputDecoder.OpenAsync(new MemoryStream(bytes));
        await using (decoded)
        {
            var reader = new ResponseReader(decoded, options);
            await foreach (var batch in reader.ReadBatchesAsync())
            {
                batch.Dispose();
            }
            return reader.Rows;
        }
    }

    private static long Scalar(QuerySession session, string sql)
    {
        using var reader = session.ExecuteReadOnly(sql);
        Assert.True(reader.Read());
        return Convert.ToInt64(reader.GetValue(0));
    }

    // ---- Building the variants -------------------------------------------------------------------------------

    private static async Task<List<Variant>> BuildVariantsAsync()
    {
        var rng = new Random(Seed);
        var bases = await LoadBasesAsync(rng);
        var list = new List<Variant>();
        void Add(string kind, string what, byte[] bytes)
        {
            int n = list.Count;
            // Every fourth variant keeps what comes before a break point instead of rejecting the whole input.
            list.Add(new Variant($"m{n:D4}-{kind}-{what}", kind, bytes, Salvage: n % 4 == 3));
        }

        foreach (var b in bases)
        {
            // Unchanged, twice: the second is a duplicate of the first (sha dedup).
            Add("identity", b.Name, b.Bytes);
            Add("identity", b.Name + "-again", b.Bytes);

            for (int i = 0; i < 35; i++)
            {
                int at = rng.Next(b.Bytes.Length);
                Add("truncate", $"{b.Name}@{at}", b.Bytes[..at]);
            }
            for (int i = 0; i < 35; i++)
            {
                var bytes = (byte[])b.Bytes.Clone();
                int at = rng.Next(bytes.Length);
                bool bit = rng.Next(2) == 0;
                byte was = bytes[at];
                bytes[at] = bit ? (byte)(was ^ (1 << rng.Next(8))) : (byte)rng.Next(256);
                Add("flip", $"{b.Name}@{at}:{was:X2}>{bytes[at]:X2}", bytes);
            }
            for (int i = 0; i < 35; i++)
            {
                int at = rng.Next(b.Bytes.Length + 1);
                int which = rng.Next(InsertTokens.Length + 1);
                byte[] token = which == InsertTokens.Length ? [(byte)rng.Next(256)] : InsertTokens[which];
                Add("insert", $"{b.Name}@{at}+{Convert.ToHexString(token)}", Splice(b.Bytes, at, at, token));
            }
            for (int i = 0; i < 12; i++)
            {
                // Invalid UTF-8 (and NUL / control bytes) inside a string value.
                var strings = b.Fields.Where(f => f.Kind == ColumnKind.Utf8 && f.ValueEnd - f.ValueStart >= 2).ToList();
                var f = strings[rng.Next(strings.Count)];
                int at = f.ValueStart + 1 + rng.Next(f.ValueEnd - f.ValueStart - 1);
                var bad = InvalidUtf8[rng.Next(InvalidUtf8.Length)];
                Add("utf8", $"{b.Name}-r{f.Record}.{f.Key}@{at}+{Convert.ToHexString(bad)}", Splice(b.Bytes, at, at, bad));
            }
            for (int i = 0; i < 25; i++)
            {
                int at = rng.Next(b.Bytes.Length);
                int length = 1 + rng.Next(Math.Min(64, b.Bytes.Length - at));
                Add("delete", $"{b.Name}@{at}-{length}", Splice(b.Bytes, at, at + length, []));
            }
            for (int i = 0; i < 30; i++)
            {
                var f = b.Fields[rng.Next(b.Fields.Count)];
                string[] pool = f.Kind switch
                {
                    ColumnKind.Int32 => Int32Values,
                    ColumnKind.Int64 => Int64Values,
                    ColumnKind.Timestamp => TimestampValues,
                    _ => StringValues,
                };
                string value = pool[rng.Next(pool.Length)];
                Add("value", $"{b.Name}-r{f.Record}.{f.Key}={Shorten(value)}",
                    Splice(b.Bytes, f.ValueStart, f.ValueEnd, Encoding.UTF8.GetBytes(value)));
            }
            for (int i = 0; i < 6; i++)
            {
                // A string value given raw invalid UTF-8 as its whole content.
                var strings = b.Fields.Where(f => f.Kind == ColumnKind.Utf8).ToList();
                var f = strings[rng.Next(strings.Count)];
                var bad = InvalidUtf8[rng.Next(InvalidUtf8.Length)];
                Add("value", $"{b.Name}-r{f.Record}.{f.Key}=raw{Convert.ToHexString(bad)}",
                    Splice(b.Bytes, f.ValueStart, f.ValueEnd, [(byte)'"', .. bad, (byte)'"']));
            }
            for (int i = 0; i < 10; i++)
            {
                var f = b.Fields[rng.Next(b.Fields.Count)];
                byte[] pair;
                string what;
                if (rng.Next(2) == 0)
                {
                    pair = [.. b.Bytes.AsSpan(f.KeyStart, f.ValueEnd - f.KeyStart), (byte)','];
                    what = "same";
                }
                else
                {
                    var other = b.Fields[rng.Next(b.Fields.Count)];
                    pair = [.. Encoding.UTF8.GetBytes($"\"{f.Key}\":"), .. b.Bytes.AsSpan(other.ValueStart, other.ValueEnd - other.ValueStart), (byte)','];
                    what = "other";
                }
                Add("dupkey", $"{b.Name}-r{f.Record}.{f.Key}-{what}", Splice(b.Bytes, f.KeyStart, f.KeyStart, pair));
            }
            AddCompressed(b, rng, Add);
        }

        AddNesting(bases, Add);
        AddHugeStrings(bases, Add);
        AddSpecials(bases, Add);
        AddGarbage(rng, Add);
        return list;
    }

    private static async Task<List<Base>> LoadBasesAsync(Random rng)
    {
        var bases = new List<Base>
        {
            Base.Scan("example", File.ReadAllBytes(TestData.SamplePath("pages_extended-example.json"))),
        };
        using (var generated = new MemoryStream())
        {
            await ResponseGenerator.WriteAsync(generated, new GeneratorOptions { Rows = 40, Seed = Seed });
            bases.Add(Base.Scan("gen40", generated.ToArray()));
        }
        using (var generated = new MemoryStream())
        {
            await ResponseGenerator.WriteAsync(generated, new GeneratorOptions { Rows = 12, Seed = Seed + 1, Pretty = true });
            bases.Add(Base.Scan("gen12pretty", generated.ToArray()));
        }

        // Slices of the 300-record pretty sample: its own header and footer around a run of its records.
        var pretty = Base.Scan("pretty300", File.ReadAllBytes(TestData.SamplePath("pages_extended-300-pretty.json")));
        byte[] head = pretty.Bytes[..pretty.Records[0].Start];
        byte[] tail = pretty.Bytes[pretty.Records[^1].End..];
        for (int s = 0; s < 8; s++)
        {
            int count = 2 + rng.Next(14);
            int first = rng.Next(pretty.Records.Count - count);
            byte[] body = pretty.Bytes[pretty.Records[first].Start..pretty.Records[first + count - 1].End];
            bases.Add(Base.Scan($"pretty300[{first}+{count}]", [.. head, .. body, .. tail]));
        }
        return bases;
    }

    private static void AddCompressed(Base b, Random rng, Action<string, string, byte[]> add)
    {
        byte[] gz = Gzip(b.Bytes);
        add("gzip", b.Name + "-intact", gz);
        int cut = 1 + rng.Next(b.Bytes.Length - 1);
        add("gzip", $"{b.Name}-of-truncated@{cut}", Gzip(b.Bytes[..cut]));
        for (int i = 0; i < 5; i++)
        {
            int at = rng.Next(gz.Length);
            add("gzip", $"{b.Name}-truncated@{at}", gz[..at]);
        }
        // The last bytes are the CRC and length trailer: cut inside it too.
        add("gzip", $"{b.Name}-truncated@{gz.Length - 4}", gz[..^4]);
        add("gzip", $"{b.Name}-truncated@{gz.Length - 1}", gz[..^1]);
        for (int i = 0; i < 5; i++)
        {
            var bytes = (byte[])gz.Clone();
            int at = rng.Next(bytes.Length);
            bytes[at] ^= (byte)(1 << rng.Next(8));
            add("gzip", $"{b.Name}-flip@{at}", bytes);
        }
        int insertAt = rng.Next(gz.Length + 1);
        add("gzip", $"{b.Name}-insert@{insertAt}", Splice(gz, insertAt, insertAt, [(byte)rng.Next(256)]));
        add("gzip", b.Name + "-trailing-garbage", [.. gz, .. "garbage"u8]);
        add("gzip", b.Name + "-two-members", [.. gz, .. gz]);

        byte[] br = Brotli(b.Bytes);
        add("brotli", b.Name + "-intact", br);
        for (int i = 0; i < 2; i++)
        {
            int at = rng.Next(br.Length);
            add("brotli", $"{b.Name}-truncated@{at}", br[..at]);
            var bytes = (byte[])br.Clone();
            int flip = rng.Next(bytes.Length);
            bytes[flip] ^= (byte)(1 << rng.Next(8));
            add("brotli", $"{b.Name}-flip@{flip}", bytes);
        }

        byte[] zst = Zstd(b.Bytes);
        add("zstd", b.Name + "-intact", zst);
        for (int i = 0; i < 2; i++)
        {
            int at = rng.Next(zst.Length);
            add("zstd", $"{b.Name}-truncated@{at}", zst[..at]);
            var bytes = (byte[])zst.Clone();
            int flip = rng.Next(bytes.Length);
            bytes[flip] ^= (byte)(1 << rng.Next(8));
            add("zstd", $"{b.Name}-flip@{flip}", bytes);
        }
    }

    private static void AddNesting(List<Base> bases, Action<string, string, byte[]> add)
    {
        int[] depths = [10, 60, 61, 62, 63, 64, 65, 100, 1_000, 10_000];
        for (int d = 0; d < depths.Length; d++)
        {
            int depth = depths[d];
            var b = bases[d % bases.Count];
            string open = new('[', depth);
            string close = new(']', depth);
            string objects = string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);
            int recordBody = b.Records[0].Start + 1;
            var url = b.Fields.First(f => f.Key == "url");
            var backlinks = b.Fields.FirstOrDefault(f => f.Key == "backlinks") ?? url;
            int statsEnd = b.Bytes.AsSpan().LastIndexOf((byte)'}');

            add("nesting", $"{b.Name}-record-unknown-key-arrays{depth}", Splice(b.Bytes, recordBody, recordBody, Encoding.UTF8.GetBytes($"\"deep\":{open}{close},")));
            add("nesting", $"{b.Name}-record-unknown-key-objects{depth}", Splice(b.Bytes, recordBody, recordBody, Encoding.UTF8.GetBytes($"\"deep\":{objects},")));
            add("nesting", $"{b.Name}-record-unclosed{depth}", Splice(b.Bytes, recordBody, recordBody, Encoding.UTF8.GetBytes($"\"deep\":{open}")));
            add("nesting", $"{b.Name}-backlinks-value{depth}", Splice(b.Bytes, backlinks.ValueStart, backlinks.ValueEnd, Encoding.UTF8.GetBytes(open + close)));
            add("nesting", $"{b.Name}-url-value{depth}", Splice(b.Bytes, url.ValueStart, url.ValueEnd, Encoding.UTF8.GetBytes(open + "\"x\"" + close)));
            add("nesting", $"{b.Name}-root-key{depth}", Splice(b.Bytes, statsEnd, statsEnd, Encoding.UTF8.GetBytes($",\"deep\":{open}{close}")));
            add("nesting", $"root-arrays{depth}", Encoding.UTF8.GetBytes(open + close));
            add("nesting", $"root-unclosed{depth}", Encoding.UTF8.GetBytes(open));
            add("nesting", $"pages-elements{depth}", Encoding.UTF8.GetBytes($"{{\"pages\":[{open}{close}]}}"));
        }
    }

    private static void AddHugeStrings(List<Base> bases, Action<string, string, byte[]> add)
    {
        // Few cases: each costs tens of megabytes of parsing and Parquet.
        var example = bases[0];
        var title = example.Fields.First(f => f.Key == "title");
        var url = example.Fields.First(f => f.Key == "url");
        byte[] ascii5 = Quoted(Encoding.ASCII.GetBytes(new string('a', 5 << 20)));
        add("huge", "title-5MB-ascii", Splice(example.Bytes, title.ValueStart, title.ValueEnd, ascii5));

        // 9 MB of text half escaped (\u00e9 and \"): the escaped path unescapes into scratch.
        var escapedText = new StringBuilder(9 << 20);
        while (escapedText.Length < (9 << 20))
        {
            escapedText.Append("caf\\u00e9 \\\"x\\\" \u00e9t\u00e9 ");
        }
        var gen = bases[1];
        var genTitle = gen.Fields.Last(f => f.Key == "title");
        add("huge", "title-9MB-escaped", Splice(gen.Bytes, genTitle.ValueStart, genTitle.ValueEnd, Quoted(Encoding.UTF8.GetBytes(escapedText.ToString()))));

        byte[] ascii20 = Quoted(Encoding.ASCII.GetBytes(new string('t', 20 << 20)));
        var huge20 = Splice(example.Bytes, title.ValueStart, title.ValueEnd, ascii20);
        add("huge", "title-20MB-truncated-inside", huge20[..(title.ValueStart + (15 << 20))]);
        add("huge", "unknown-key-6MB", Splice(example.Bytes, url.KeyStart, url.KeyStart,
            [.. "\"huge\":"u8, .. Quoted(Encoding.ASCII.GetBytes(new string('u', 6 << 20))), (byte)',']));
        add("huge", "url-5MB-invalid-utf8-at-end", Splice(example.Bytes, url.ValueStart, url.ValueEnd,
            Quoted([.. Encoding.ASCII.GetBytes(new string('h', 5 << 20)), 0xC3, 0x28])));
    }

    private static void AddSpecials(List<Base> bases, Action<string, string, byte[]> add)
    {
        byte[] example = bases[0].Bytes;
        byte[] gen = bases[1].Bytes;
        string[] texts =
        [
            "", " ", "\n\n", "null", "0", "[]", "{}", "\"pages\"", "{\"pages\":null}", "{\"pages\":{}}", "{\"pages\":[1]}",
            "{\"pages\":[{}]}", "{\"pages\":[{\"url\":null}]}", "{\"pages\":[{\"url\":\"\"}]}", "{\"pages\":[]}",
            "{\"pages\":[],\"pages\":[]}", "{\"stats\":{\"pages\":5}}", "{\"error\":\"Invalid token\"}",
            "{\"error\":{\"code\":1}}", "{\"error\":\"\\ud800\"}", "{\"error\":null}", "{\"error\":[[[1]]]}",
            "{\"pages\":[{\"url\":\"a\"},]}", "{'pages':[]}", "{\"pages\":[{\"url\":\"a\"}],\"stats\":{\"pages\":\"12\"}}",
            "{\"pages\":[{\"url\":\"a\"}],\"stats\":{\"pages\":1e400}}", "{\"pages\":[{\"url\":\"a\"}],\"stats\":[]}",
            "{\"pages\":[{\"url\":\"a\"}],\"stats\":{\"pages\":null}}", "{\"pages\":[{\"url\":\"a\"}]}\n{\"pages\":[{\"url\":\"b\"}]}\n",
            "{\"pages\":[{\"url\":\"a\"}]}{\"pages\":[{\"url\":\"b\"}]}", "{\"pages\":[{\"url\":\"a\"}]}\n{\"error\":\"quota\"}",
            "{\"pages\":[{\"url\":\"a\"}]}\n[]", "{\"pages\":[{\"url\":\"a\"}]} x", "{\"pages\":[{\"url\":\"a\"}]}}",
            "{\"pages\":[{\"url\":\"a\",\"url\":null}]}", "{\"pages\":[{\"url\":null,\"url\":\"a\"}]}",
            "{\"pages\":[{\"url\":\"a\"}],\"stats\":{\"pages\":1},\"stats\":{\"pages\":2}}",
            "{\"pages\":[{\"url\":\"\\u0000\"}]}", "{\"pages\":[{\"url\":\"a\\/b\"}]}", "/* c */{\"pages\":[]}",
        ];
        for (int i = 0; i < texts.Length; i++)
        {
            add("special", $"text{i}", Encoding.UTF8.GetBytes(texts[i]));
        }
        add("special", "error-invalid-utf8", [.. "{\"error\":\""u8, 0xC3, 0x28, .. "\"}"u8]);
        add("special", "bom-example", [0xEF, 0xBB, 0xBF, .. example]);
        add("special", "bom-bom-example", [0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF, .. example]);
        add("special", "bom-only", [0xEF, 0xBB, 0xBF]);
        add("special", "half-bom", [0xEF, 0xBB]);
        add("special", "example-twice", [.. example, .. example]);
        add("special", "example-then-truncated", [.. example, (byte)'\n', .. example[..(example.Length / 2)]]);
        add("special", "example-then-garbage", [.. example, .. "\u0001\u0002garbage"u8]);
        add("special", "example-then-open-brace", [.. example, (byte)'{']);
        add("special", "gen-lines", [.. gen, (byte)'\n', .. gen, (byte)'\n']);
        add("special", "example-crlf", Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(example).Replace("\n", "\r\n")));
        add("special", "example-utf16", Encoding.Unicode.GetBytes(Encoding.UTF8.GetString(example)));
        add("special", "example-utf16-bom", [0xFF, 0xFE, .. Encoding.Unicode.GetBytes(Encoding.UTF8.GetString(example))]);
        add("special", "example-utf32", Encoding.UTF32.GetBytes(Encoding.UTF8.GetString(example)));
        add("special", "empty-sample", File.ReadAllBytes(TestData.SamplePath("pages_extended-empty.json")));
        add("special", "gzip-of-empty", Gzip([]));
        add("special", "gzip-magic-only", [0x1F, 0x8B]);
        add("special", "zstd-magic-only", [0x28, 0xB5, 0x2F, 0xFD]);
        add("special", "gzip-of-gzip", Gzip(Gzip(example)));
        add("special", "gzip-of-garbage", Gzip([0x00, 0xFF, 0x10, 0x20]));
    }

    private static void AddGarbage(Random rng, Action<string, string, byte[]> add)
    {
        string[] soup = ["{", "}", "[", "]", ",", ":", "\"pages\"", "\"url\"", "\"a\"", "1", "-1e9", "null", "true", " ", "\n", "\"stats\""];
        for (int i = 0; i < 120; i++)
        {
            int length = rng.Next(4097);
            byte[] bytes = new byte[length];
            switch (i % 3)
            {
                case 0:
                    rng.NextBytes(bytes);
                    break;
                case 1:
                    for (int k = 0; k < length; k++)
                    {
                        bytes[k] = (byte)rng.Next(0x20, 0x7F);
                    }
                    break;
                default:
                    var text = new StringBuilder();
                    while (text.Length < length / 4)
                    {
                        text.Append(soup[rng.Next(soup.Length)]);
                    }
                    bytes = Encoding.UTF8.GetBytes(text.ToString());
                    break;
            }
            add("garbage", $"{i % 3}-{bytes.Length}", bytes);
        }
    }

    // ---- Helpers ---------------------------------------------------------------------------------------------

    private static byte[] Splice(byte[] source, int start, int end, ReadOnlySpan<byte> insert)
        => [.. source.AsSpan(0, start), .. insert, .. source.AsSpan(end)];

    private static byte[] Quoted(byte[] content) => [(byte)'"', .. content, (byte)'"'];

    private static string Shorten(string value)
    {
        var clean = value.Replace("\"", "'", StringComparison.Ordinal).Replace("\\", "bs", StringComparison.Ordinal);
        return clean.Length > 24 ? clean[..24] : clean;
    }

    private static byte[] Gzip(byte[] data)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(data);
        }
        return buffer.ToArray();
    }

    private static byte[] Brotli(byte[] data)
    {
        using var buffer = new MemoryStream();
        using (var brotli = new BrotliStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            brotli.Write(data);
        }
        return buffer.ToArray();
    }

    private static byte[] Zstd(byte[] data)
    {
        using var compressor = new Compressor(3);
        return compressor.Wrap(data).ToArray();
    }
}
