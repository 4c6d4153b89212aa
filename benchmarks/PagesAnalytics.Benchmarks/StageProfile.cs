using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Apache.Arrow;
using PagesAnalytics.Ingest;
using PagesAnalytics.Store;

namespace PagesAnalytics.Benchmarks;

/// <summary>
/// <c>stages FILE [--reps N] [--only STAGE-PREFIX]</c>: where the time of one ingest goes. Times each stage of the pipeline on its own,
/// in this process, N times (median), with wall and CPU time: the token floor, SHA-256 of the file, parsing to
/// Arrow sequentially and on all cores, encoding Parquet from batches already in memory, and the whole ingest.
/// </summary>
internal static class StageProfile
{
    public static bool IsCommand(string name) => name == "stages";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 2)
        {
            Console.Error.WriteLine("usage: stages FILE [--reps N] [--only STAGE-PREFIX]");
            return 2;
        }
        string file = args[1];
        int reps = 3;
        string? only = null;
        for (int i = 2; i < args.Length - 1; i++)
        {
            if (args[i] == "--reps")
            {
                reps = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            }
            else if (args[i] == "--only")
            {
                only = args[i + 1];
            }
        }
        _only = only;
        long bytes = new FileInfo(file).Length;
        var results = new List<(string Stage, double Wall, double Cpu)>();

        results.Add(await MeasureAsync("token scan (1 thread)", reps, () => Task.FromResult(TokenScan(file))));
        results.Add(await MeasureAsync("sha256", reps, async () =>
        {
            await using var stream = File.OpenRead(file);
            await SHA256.HashDataAsync(stream);
            return 0L;
        }));
        results.Add(await MeasureAsync("parse to Arrow (1 thread)", reps, () => ParseSequentialAsync(file)));
        results.Add(await MeasureAsync($"parse to Arrow ({Environment.ProcessorCount} threads)", reps, () => ParseParallelAsync(file)));

        var batches = new List<RecordBatch>();
        if (only is null || only.StartsWith("write", StringComparison.Ordinal))
        {
            await foreach (var batch in new ResponseReader(File.OpenRead(file)).ReadBatchesAsync())
            {
                batches.Add(batch);
            }
        }
        foreach (var codec in new[] { PartCompression.Zstd, PartCompression.Snappy })
        {
            results.Add(await MeasureAsync($"write Parquet part ({codec})", reps, () => WritePartAsync(batches, codec)));
        }
        foreach (var batch in batches)
        {
            batch.Dispose();
        }
        batches.Clear();
        GC.Collect();

        foreach (int threads in new[] { 1, Environment.ProcessorCount })
        {
            results.Add(await MeasureAsync($"whole ingest (--threads {threads})", reps, () => IngestAsync(file, threads)));
        }

        Console.WriteLine($"# Stages of one ingest: {Path.GetFileName(file)}, {bytes / 1e6:F1} MB, {Environment.ProcessorCount} cores, median of {reps}");
        Console.WriteLine();
        Console.WriteLine("| stage | wall s | CPU s | MB/s (wall) |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var (stage, wall, cpu) in results)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {stage} | {wall:F3} | {cpu:F3} | {bytes / 1e6 / wall:F0} |"));
        }
        return 0;
    }

    private static string? _only;

    private static async Task<(string, double, double)> MeasureAsync(string stage, int reps, Func<Task<long>> run)
    {
        if (_only is not null && !stage.StartsWith(_only, StringComparison.Ordinal))
        {
            return (stage, double.NaN, double.NaN);
        }
        var walls = new List<double>();
        var cpus = new List<double>();
        for (int i = 0; i < reps; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var process = Process.GetCurrentProcess();
            var cpu0 = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            await run();
            clock.Stop();
            process.Refresh();
            walls.Add(clock.Elapsed.TotalSeconds);
            cpus.Add((process.TotalProcessorTime - cpu0).TotalSeconds);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{stage}: {walls[^1]:F3} s wall, {cpus[^1]:F3} s CPU"));
        }
        return (stage, Median(walls), Median(cpus));
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    private static long TokenScan(string file)
    {
        using var stream = File.OpenRead(file);
        var buffer = new byte[256 * 1024];
        var state = new JsonReaderState();
        int start = 0;
        int end = 0;
        long tokens = 0;
        bool final = false;
        while (!final)
        {
            buffer.AsSpan(start, end - start).CopyTo(buffer);
            end -= start;
            start = 0;
            int n = stream.Read(buffer, end, buffer.Length - end);
            final = n == 0;
            end += n;
            var reader = new Utf8JsonReader(buffer.AsSpan(0, end), final, state);
            while (reader.Read())
            {
                tokens++;
            }
            start = (int)reader.BytesConsumed;
            state = reader.CurrentState;
        }
        return tokens;
    }

    private static async Task<long> ParseSequentialAsync(string file)
    {
        await using var stream = File.OpenRead(file);
        long rows = 0;
        await foreach (var batch in new ResponseReader(stream).ReadBatchesAsync())
        {
            rows += batch.Length;
            batch.Dispose();
        }
        return rows;
    }

    private static async Task<long> ParseParallelAsync(string file)
    {
        long rows = 0;
        var reader = new ParallelResponseReader(file, new ResponseReaderOptions());
        await foreach (var batch in reader.ReadBatchesAsync())
        {
            rows += batch.Length;
            batch.Dispose();
        }
        return rows;
    }

    private static async Task<long> WritePartAsync(List<RecordBatch> batches, PartCompression codec)
    {
        string path = Path.Combine(Path.GetTempPath(), $"pages-stage-{Environment.ProcessId}.parquet");
        await using (var writer = await PartWriter.CreateAsync(path, new PartWriterOptions { Compression = codec }))
        {
            foreach (var batch in batches)
            {
                await writer.WriteAsync(batch);
            }
            await writer.CompleteAsync();
        }
        long size = new FileInfo(path).Length;
        Console.Error.WriteLine($"  part size {codec}: {size / 1e6:F1} MB");
        File.Delete(path);
        return size;
    }

    private static async Task<long> IngestAsync(string file, int threads)
    {
        string store = Path.Combine(Path.GetTempPath(), $"pages-stage-store-{Environment.ProcessId}");
        if (Directory.Exists(store))
        {
            Directory.Delete(store, recursive: true);
        }
        var summary = await Ingestor.RunAsync(PagesStore.Open(store), [InputSource.FromFile(file)], new IngestOptions { Threads = threads });
        Directory.Delete(store, recursive: true);
        return summary.Rows;
    }
}
