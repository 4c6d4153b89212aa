using Apache.Arrow;
using PagesAnalytics.Ingest;

namespace PagesAnalytics.Benchmarks;

/// <summary>Inputs shared by the benchmark classes, built once per <c>[GlobalSetup]</c>.</summary>
internal static class BenchmarkInput
{
    /// <summary>Seed of every generated response, so all benchmarks see the same bytes.</summary>
    public const int Seed = GeneratorOptions.DefaultSeed;

    /// <summary>A compact generated response of <paramref name="rows"/> rows, in memory.</summary>
    public static byte[] Response(int rows)
    {
        using var buffer = new MemoryStream();
        ResponseGenerator.WriteAsync(buffer, new GeneratorOptions { Rows = rows, Seed = Seed, Pretty = false })
            .GetAwaiter().GetResult();
        return buffer.ToArray();
    }

    /// <summary>The batches <see cref="ResponseReader"/> makes of a generated response of <paramref name="rows"/> rows.</summary>
    public static List<RecordBatch> Batches(int rows)
    {
        return ReadAllAsync(Response(rows)).GetAwaiter().GetResult();

        static async Task<List<RecordBatch>> ReadAllAsync(byte[] response)
        {
            var batches = new List<RecordBatch>();
            using var stream = new MemoryStream(response, writable: false);
            await foreach (var batch in new ResponseReader(stream).ReadBatchesAsync())
            {
                batches.Add(batch);
            }
            return batches;
        }
    }
}
