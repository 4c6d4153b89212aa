using System.Text;
using PagesAnalytics.Ingest;
using PagesAnalytics.Tests.Support;
using Xunit;

namespace PagesAnalytics.Tests.Ingest;

/// <summary>
/// <see cref="ResponseReader"/> lets <see cref="SegmentScanner"/> read plain records between the records its token
/// reader reads. With or without it, every input must give the same rows, batches, counts and the same error: the
/// same message, line, byte position, JSON path and record. Inputs are broken at every few bytes to prove it.
/// </summary>
public sealed class ResponseReaderScannerTests
{
    private static string Response(bool pretty, int seed)
    {
        var records = new List<string>();
        var unsupported = new[]
        {
            "{\"url\":\"u1\",\"extra\":{\"a\":[1,\"},{\"]},\"backlinks\":1}",
            "{\"url\":\"u2\",\"backlinks\":\"12\"}",
            "{\"url\":\"u3\",\"first_seen\":\"2013-11-20T09:46:29.5Z\"}",
            "{\"url\":\"u4\",\"size\":1234567890123456789}",
        };
        var supported = SegmentScannerTests.Supported.Where(r => r.Length < 1000).ToArray();
        for (int i = 0; i < 40; i++)
        {
            records.Add(i % 9 == seed % 9 ? unsupported[(i / 9) % unsupported.Length]
                : supported[(i + seed) % supported.Length].Replace("\"url\":\"", $"\"url\":\"r{i}-", StringComparison.Ordinal));
        }
        string separator = pretty ? ",\n    " : ",";
        string body = "{\"pages\":[" + (pretty ? "\n    " : "") + string.Join(separator, records) + (pretty ? "\n  " : "")
            + "],\"stats\":{\"pages\":40}}";
        return pretty ? body.Replace("\"stats\"", "\n  \"stats\"", StringComparison.Ordinal) : body;
    }

    private static async Task<string> OutcomeAsync(byte[] input, bool scanner, bool salvage, int bufferBytes)
    {
        var options = new ResponseReaderOptions
        {
            Scanner = scanner,
            Salvage = salvage,
            BufferBytes = bufferBytes,
            BatchRows = 7,
            SourceId = 2,
            SourceName = "in.json",
        };
        var text = new StringBuilder();
        ResponseReader? reader = null;
        try
        {
            var (rows, sizes, read) = await TestData.ReadAllAsync(input, options);
            reader = read;
            text.Append(TestData.Dump(rows)).Append("\nbatches ").AppendJoin(",", sizes);
            text.Append($"\nrows {read.Rows} unknown {read.UnknownKeys} stats {read.StatsPages} responses {read.Responses}");
            if (read.SalvageError is { } salvaged)
            {
                text.Append("\nsalvaged ").Append(Describe(salvaged));
            }
        }
        catch (PagesException ex)
        {
            text.Append("error ").Append(ex.GetType().Name).Append(' ').Append(ex is ResponseFormatException f ? Describe(f) : ex.Message);
        }
        return text.ToString();
    }

    private static string Describe(ResponseFormatException ex)
        => $"{ex.Message} | line {ex.Line} at {ex.BytePosition} path {ex.JsonPath} record {ex.RecordIndex}";

    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 1)]
    [InlineData(false, 5)]
    [InlineData(true, 8)]
    public async Task The_scanner_changes_no_row_and_no_error_wherever_the_input_breaks(bool pretty, int seed)
    {
        string json = Response(pretty, seed);
        byte[] clean = TestData.Utf8(json + (pretty ? "\n" : "") + json);
        var variants = new List<byte[]> { clean };
        for (int at = seed; at < clean.Length; at += 11)
        {
            variants.Add(clean[..at]);                                     // cut off
            variants.Add([.. clean[..at], (byte)'x', .. clean[at..]]);      // a stray byte
            variants.Add([.. clean[..at], .. clean[(at + 1)..]]);           // a byte lost
            var quote = (byte[])clean.Clone();
            quote[at] = (byte)'"';                                          // a byte changed
            variants.Add(quote);
        }
        for (int v = 0; v < variants.Count; v++)
        {
            // Small and large read buffers, with and without salvage, in turn.
            int config = (v + (v / 4)) % 4;
            int buffer = config % 2 == 0 ? 61 : 4096;
            bool salvage = config >= 2;
            string expected = await OutcomeAsync(variants[v], scanner: false, salvage, buffer);
            string actual = await OutcomeAsync(variants[v], scanner: true, salvage, buffer);
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public async Task Plain_records_are_read_by_the_scanner()
    {
        byte[] input = TestData.Utf8(Response(pretty: true, seed: 3));
        var (rows, _, reader) = await TestData.ReadAllAsync(input, new ResponseReaderOptions { BatchRows = 7 });
        var (plain, _, _) = await TestData.ReadAllAsync(input, new ResponseReaderOptions { BatchRows = 7, Scanner = false });
        Assert.Equal(TestData.Dump(plain), TestData.Dump(rows));
        Assert.Equal(40, reader.Rows);
        Assert.True(reader.ScannedRows >= 20, $"only {reader.ScannedRows} of 40 rows were scanned");
    }

    [Fact]
    public async Task Invalid_utf8_is_reported_by_the_token_reader_as_before()
    {
        var bytes = TestData.Utf8(Response(pretty: false, seed: 2)).ToList();
        int at = Encoding.ASCII.GetString([.. bytes]).LastIndexOf("\"url\":\"r", StringComparison.Ordinal) + 8;
        bytes.Insert(at, 0xE2);
        foreach (bool salvage in new[] { false, true })
        {
            string expected = await OutcomeAsync([.. bytes], scanner: false, salvage, 4096);
            Assert.Contains("UTF-8", expected, StringComparison.Ordinal);
            Assert.Equal(expected, await OutcomeAsync([.. bytes], scanner: true, salvage, 4096));
        }
    }
}
