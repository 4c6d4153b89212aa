using System.Text;
using PagesAnalytics.Ingest;
using PagesAnalytics.Schema;
using PagesAnalytics.Tests.Support;
using Xunit;

namespace PagesAnalytics.Tests.Ingest;

/// <summary>
/// Random responses (fixed seeds) built from every value shape the scanner takes or hands back, in random
/// spacing and key order, some of them broken: the reader with the scanner must answer exactly as without it,
/// and the parallel reader as the sequential one (or hand the file back).
/// </summary>
public sealed class ScannerFuzzTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pages-fuzz-" + Guid.NewGuid().ToString("N"));

    public ScannerFuzzTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    // Values read the same by both paths (some of them through the token reader: "42", "+00:00" dates, 19 digits).
    private static readonly string[] Strings =
    [
        "\"\"", "\"plain\"", "\"caf\u00e9 \U0001D11E\"", "\"q\\\"b\\\\s\\/\\b\\f\\n\\r\\t\"", "\"\\u00e9\\ud83d\\ude00\"",
        "\"},{\"", "\"\\u0000\"", "null",
    ];

    private static readonly string[] Integers = ["0", "-0", "7", "-12", "999999999999999999", "1234567890123456789", "null", "\"42\""];

    private static readonly string[] Integers32 = ["0", "-0", "7", "-12", "2147483647", "-2147483648", "null", "\"42\""];

    private static readonly string[] Dates = ["\"2013-11-20T09:46:29Z\"", "\"1970-01-01T00:00:00Z\"", "null", "\"2013-11-20T09:46:29+00:00\""];

    // Values that reject the response.
    private static readonly string[] Bad = ["\"\\ud800\"", "\"\\x\"", "1.5", "01", "true", "[1]", "\"2013-02-30T00:00:00Z\""];

    private static string Value(Random random, ColumnKind kind, int badOneIn)
    {
        if (random.Next(badOneIn) == 0)
        {
            return Bad[random.Next(Bad.Length)];
        }
        return kind switch
        {
            ColumnKind.Utf8 => Strings[random.Next(Strings.Length)],
            ColumnKind.Timestamp => Dates[random.Next(Dates.Length)],
            ColumnKind.Int32 => Integers32[random.Next(Integers32.Length)],
            _ => Integers[random.Next(Integers.Length)],
        };
    }

    private static string Space(Random random) => random.Next(4) switch
    {
        0 => " ",
        1 => "\n  ",
        2 => "\r\n\t",
        _ => "",
    };

    private static string Record(Random random, int i, int badOneIn)
    {
        var keys = new List<string> { $"\"url\":{Space(random)}\"http://f/{i}\"" };
        for (int c = 1; c < PagesSchema.ApiColumnCount; c++)
        {
            if (random.Next(4) != 0)
            {
                var column = PagesSchema.Columns[c];
                keys.Add($"\"{column.Name}\"{Space(random)}:{Space(random)}{Value(random, column.Kind, badOneIn)}");
            }
        }
        if (random.Next(30) == 0)
        {
            keys.Add("\"extra\":{\"a\":[1,\"},{\"]}");
        }
        // Usually the API's order, sometimes shuffled.
        if (random.Next(3) == 0)
        {
            keys = [.. keys.OrderBy(_ => random.Next())];
        }
        return "{" + Space(random) + string.Join("," + Space(random), keys) + Space(random) + "}";
    }

    private static byte[] Response(Random random, int records, int badOneIn = 400, int breakOneIn = 2)
    {
        var text = new StringBuilder("{\"pages\":[").Append(Space(random));
        for (int i = 0; i < records; i++)
        {
            if (i > 0)
            {
                text.Append(',').Append(Space(random));
            }
            text.Append(Record(random, i, badOneIn));
        }
        text.Append(Space(random)).Append("],\"stats\":{\"pages\":").Append(records).Append("}}");
        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        if (random.Next(breakOneIn) != 0)
        {
            return bytes;
        }
        if (random.Next(2) == 0)
        {
            return bytes[..random.Next(bytes.Length)];                        // cut off
        }
        bytes[random.Next(bytes.Length)] = (byte)"\",{}[]:x\\ 0"[random.Next(11)]; // one byte changed
        return bytes;
    }

    private static async Task<string> ReadAsync(byte[] input, bool scanner, int bufferBytes)
    {
        try
        {
            var (rows, sizes, reader) = await TestData.ReadAllAsync(input, new ResponseReaderOptions
            {
                Scanner = scanner,
                BufferBytes = bufferBytes,
                BatchRows = 9,
                SourceName = "fuzz.json",
            });
            return TestData.Dump(rows) + $"\n{string.Join(",", sizes)} {reader.Rows} {reader.UnknownKeys} {reader.StatsPages}";
        }
        catch (ResponseFormatException ex)
        {
            return $"error {ex.Message} | {ex.Line} {ex.BytePosition} {ex.JsonPath} {ex.RecordIndex}";
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task Random_responses_read_the_same_with_and_without_the_scanner(int seed)
    {
        var random = new Random(seed);
        int rejected = 0;
        string lastError = "";
        for (int round = 0; round < 60; round++)
        {
            var input = Response(random, random.Next(1, 40));
            int buffer = random.Next(2) == 0 ? 64 + random.Next(200) : 64 * 1024;
            string expected = await ReadAsync(input, scanner: false, buffer);
            string actual = await ReadAsync(input, scanner: true, buffer);
            rejected += expected.StartsWith("error ", StringComparison.Ordinal) ? 1 : 0;
            lastError = expected.StartsWith("error ", StringComparison.Ordinal) ? expected : lastError;
            Assert.True(expected == actual, $"seed {seed} round {round}:\n{Encoding.UTF8.GetString(input)}\nexpected:\n{expected}\nactual:\n{actual}");
        }
        Assert.True(rejected is >= 5 and <= 55, $"{rejected} of 60 rejected; last: {lastError}"); // both answers occur: rows and errors
    }

    [Theory]
    [InlineData(5)]
    [InlineData(6)]
    public async Task Random_files_read_in_parallel_as_sequentially(int seed)
    {
        var random = new Random(seed);
        int compared = 0;
        for (int round = 0; round < 25; round++)
        {
            var input = Response(random, random.Next(20, 80), badOneIn: 20_000, breakOneIn: 5);
            string path = Path.Combine(_dir, $"fuzz-{seed}-{round}.json");
            await File.WriteAllBytesAsync(path, input);
            string expected = await ReadAsync(input, scanner: true, 64 * 1024);
            var reader = new ParallelResponseReader(path, new ResponseReaderOptions { BatchRows = 9, SourceName = "fuzz.json" },
                new ParallelReadOptions
                {
                    Workers = 2,
                    SegmentBytes = 64 + random.Next(400),
                    OverrunSegments = 1_000_000,
                    ChunkBytes = 32 + random.Next(300),
                });
            var rows = new List<object?[]>();
            try
            {
                await foreach (var batch in reader.ReadBatchesAsync())
                {
                    using (batch)
                    {
                        rows.AddRange(TestData.ToRows(batch));
                    }
                }
            }
            catch (ParallelFallbackException)
            {
                continue; // handed back: the sequential reader gives the answer
            }
            Assert.False(expected.StartsWith("error ", StringComparison.Ordinal), $"seed {seed} round {round}: read in parallel, rejected sequentially: {expected}");
            Assert.Equal(expected[..expected.LastIndexOf('\n')], TestData.Dump(rows));
            compared++;
        }
        Assert.True(compared >= 5, $"only {compared} of 25 files were read in parallel");
    }
}
