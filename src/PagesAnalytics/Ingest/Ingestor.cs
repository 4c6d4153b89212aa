using System.Diagnostics;
using System.Runtime;
using PagesAnalytics.Store;

namespace PagesAnalytics.Ingest;

/// <summary>Where an ingest run is: which input, and how many of its bytes have been read.</summary>
/// <param name="InputIndex">0-based index of the current input.</param>
/// <param name="InputCount">Number of inputs of the run.</param>
/// <param name="Current">Display name of the current input.</param>
/// <param name="CurrentBytes">Bytes of the current input read so far.</param>
/// <param name="CurrentLength">Size of the current input, when known.</param>
public readonly record struct IngestProgress(int InputIndex, int InputCount, string Current, long CurrentBytes, long? CurrentLength);

/// <summary>The result of one ingest run.</summary>
public sealed record IngestSummary(IReadOnlyList<SourceOutcome> Outcomes, TimeSpan Elapsed)
{
    /// <summary>With --strict: the rejection that stopped the run (its input has no record); null otherwise.</summary>
    public IngestStoppedException? StoppedBy { get; init; }

    /// <summary>Inputs whose rows were added (ok or partial).</summary>
    public int Ingested => Count(SourceStatus.Ok) + Count(SourceStatus.Partial);

    /// <summary>Inputs already in the store.</summary>
    public int Skipped => Count(SourceStatus.Skipped);

    /// <summary>Inputs refused as a whole.</summary>
    public int Rejected => Count(SourceStatus.Rejected);

    /// <summary>Rows added by the run.</summary>
    public long Rows
    {
        get
        {
            long rows = 0;
            foreach (var outcome in Outcomes)
            {
                rows += outcome.Rows;
            }
            return rows;
        }
    }

    /// <summary>Rows per second of wall time.</summary>
    public double RowsPerSecond => Elapsed.TotalSeconds > 0 ? Rows / Elapsed.TotalSeconds : 0;

    /// <summary>Rows added per http_code (-1 for NULL), ascending by code.</summary>
    public IReadOnlyList<KeyValuePair<int, long>> HttpCodes
    {
        get
        {
            var merged = new SortedDictionary<int, long>();
            foreach (var outcome in Outcomes)
            {
                foreach (var (code, rows) in outcome.HttpCodes)
                {
                    merged[code] = merged.GetValueOrDefault(code) + rows;
                }
            }
            return [.. merged];
        }
    }

    private int Count(string status)
    {
        int n = 0;
        foreach (var outcome in Outcomes)
        {
            if (outcome.Status == status)
            {
                n++;
            }
        }
        return n;
    }
}

/// <summary>Ingests a list of inputs into a store, one commit per input.</summary>
public static class Ingestor
{
    private const long CompactAfterRows = 250_000;

    /// <summary>
    /// Takes the store's writer lock, then ingests every input; outcomes and commits are in input order. With two
    /// threads or more, two inputs that are parsed sequentially (small or compressed files) are parsed at once,
    /// the second while the first is finishing; a large plain file, which is parsed on all cores by itself, runs
    /// alone. A rejected input does not stop the run (unless --strict); each outcome is in the summary.
    /// </summary>
    public static async Task<IngestSummary> RunAsync(PagesStore store, IReadOnlyList<InputSource> inputs,
        IngestOptions? options = null, IProgress<IngestProgress>? progress = null, CancellationToken ct = default)
    {
        options ??= new IngestOptions();
        options.Validate();
        var clock = Stopwatch.StartNew();
        var outcomes = new List<SourceOutcome>(inputs.Count);
        using var writer = store.OpenWriter();
        int maxInFlight = options.Threads >= 2 ? 2 : 1;
        var inFlight = new Queue<(int Index, Task<StoreWriter.PreparedInput> Prepared)>();

        async Task CommitOldestAsync()
        {
            var (index, task) = inFlight.Dequeue();
            var prepared = await task.ConfigureAwait(false);
            var outcome = writer.Commit(prepared);
            outcomes.Add(outcome);
            if (outcome.Rows >= CompactAfterRows && index < inputs.Count - 1)
            {
                // A large input leaves large buffers behind; compacting once keeps peak memory that of one input
                // instead of creeping up over an archive of big files.
                GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            }
        }

        try
        {
            for (int i = 0; i < inputs.Count; i++)
            {
                var input = inputs[i];
                int index = i;
                var bytes = progress is null ? null
                    : new InlineProgress<long>(read => progress.Report(new IngestProgress(index, inputs.Count, input.DisplayName, read, input.Length)));
                bool alone = maxInFlight == 1 || StoreWriter.UsesAllCores(input, options);
                while (inFlight.Count > 0 && (alone || inFlight.Count >= maxInFlight))
                {
                    await CommitOldestAsync().ConfigureAwait(false);
                }
                progress?.Report(new IngestProgress(i, inputs.Count, input.DisplayName, 0, input.Length));
                inFlight.Enqueue((i, writer.PrepareAsync(input, options, bytes, ct)));
                if (alone)
                {
                    await CommitOldestAsync().ConfigureAwait(false);
                }
            }
            while (inFlight.Count > 0)
            {
                await CommitOldestAsync().ConfigureAwait(false);
            }
        }
        catch (Exception failure)
        {
            // Inputs parsed ahead are not committed: wait for them and drop their temp folders.
            while (inFlight.TryDequeue(out var left))
            {
                try
                {
                    writer.Discard(await left.Prepared.ConfigureAwait(false));
                }
                catch (Exception)
                {
                    // It failed too (it cleaned up after itself); the first failure is the one reported.
                }
            }
            if (failure is IngestStoppedException stopped)
            {
                return new IngestSummary(outcomes, clock.Elapsed) { StoppedBy = stopped };
            }
            throw;
        }
        return new IngestSummary(outcomes, clock.Elapsed);
    }

    /// <summary>Reports synchronously on the calling thread (Progress&lt;T&gt; would post to a context).</summary>
    private sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
