using Apache.Arrow;
using Apache.Arrow.Ipc;
using BenchmarkDotNet.Attributes;
using PagesAnalytics.Store;

namespace PagesAnalytics.Benchmarks;

/// <summary>
/// Arrow batches -> one Parquet part with <see cref="PartWriter"/>: the default Zstd (level 3) against Snappy and
/// no compression, with an Arrow IPC file of the same batches as the floor (no encoding, no compression).
/// Each benchmark writes a fresh temp file, includes the fsync + rename of <see cref="PartWriter.CompleteAsync"/>,
/// returns the file's size and deletes it.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
public class PartWriterBenchmarks
{
    private List<RecordBatch> _batches = [];
    private string _directory = "";

    [Params(100_000)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _batches = BenchmarkInput.Batches(Rows);
        _directory = Path.Combine(Path.GetTempPath(), "pages-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var batch in _batches)
        {
            batch.Dispose();
        }
        _batches = [];
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public Task<long> Zstd() => WritePartAsync(new PartWriterOptions());

    [Benchmark]
    public Task<long> Snappy() => WritePartAsync(new PartWriterOptions { Compression = PartCompression.Snappy });

    /// <summary>Encoding alone: the same pages without a codec.</summary>
    [Benchmark]
    public Task<long> Uncompressed() => WritePartAsync(new PartWriterOptions { Compression = PartCompression.None });

    [Benchmark]
    public async Task<long> ArrowIpcFile()
    {
        string path = NewPath(".arrow");
        try
        {
            await using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16,
                FileOptions.Asynchronous))
            {
                using var writer = new ArrowFileWriter(stream, _batches[0].Schema, leaveOpen: true);
                foreach (var batch in _batches)
                {
                    await writer.WriteRecordBatchAsync(batch);
                }
                await writer.WriteEndAsync();
                await stream.FlushAsync();
                stream.Flush(flushToDisk: true);
            }
            return new FileInfo(path).Length;
        }
        finally
        {
            File.Delete(path);
        }
    }

    private async Task<long> WritePartAsync(PartWriterOptions options)
    {
        string path = NewPath(".parquet");
        try
        {
            await using (var writer = await PartWriter.CreateAsync(path, options))
            {
                foreach (var batch in _batches)
                {
                    await writer.WriteAsync(batch);
                }
                await writer.CompleteAsync();
            }
            return new FileInfo(path).Length;
        }
        finally
        {
            File.Delete(path);
        }
    }

    private string NewPath(string extension) => Path.Combine(_directory, Guid.NewGuid().ToString("N") + extension);
}
