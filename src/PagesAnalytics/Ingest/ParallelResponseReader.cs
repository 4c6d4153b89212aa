using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using Apache.Arrow;
using Microsoft.Win32.SafeHandles;
using PagesAnalytics.Schema;

namespace PagesAnalytics.Ingest;

/// <summary>Settings of the parallel parse of one large plain response file.</summary>
internal sealed record ParallelReadOptions
{
    /// <summary>Files smaller than this are read by one <see cref="ResponseReader"/>.</summary>
    public const long DefaultMinFileBytes = 24L << 20;

    /// <summary>Nominal bytes of the "pages" array per segment.</summary>
    public const long DefaultSegmentBytes = 4L << 20;

    /// <summary>Segments parsed at once.</summary>
    public int Workers { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Nominal bytes per segment; segments start at the first record after each multiple of this.</summary>
    public long SegmentBytes { get; init; } = DefaultSegmentBytes;

    /// <summary>A segment that reads this many segment lengths past its nominal end fails (a record that large, or a wrong guess).</summary>
    public int OverrunSegments { get; init; } = 4;

    /// <summary>Read segments with <see cref="SegmentScanner"/> where it can (false: always <see cref="ResponseReader"/>).</summary>
    public bool Scanner { get; init; } = true;

    /// <summary>Bytes read at a time by the scanner (grown only for a record larger than half of it).</summary>
    public int ChunkBytes { get; init; } = 512 * 1024;

    /// <summary>Bytes read from the start of the file to find where the "pages" array begins.</summary>
    public int ProbeBytes { get; init; } = 1 << 20;
}

/// <summary>The parallel parse cannot give the sequential reader's exact answer; read the file sequentially instead.</summary>
internal sealed class ParallelFallbackException(string reason, Exception? inner = null) : Exception(reason, inner);

/// <summary>A segment read far past its nominal end without reaching a record boundary.</summary>
internal sealed class SegmentOverrunException() : Exception("the segment did not reach a record boundary");

/// <summary>
/// Reads one large, uncompressed response file on several cores. The "pages" array is cut into segments of about
/// <see cref="ParallelReadOptions.SegmentBytes"/>: a segment is guessed to start at the first <c>{</c> after its
/// nominal offset that follows <c>}</c> <c>,</c> (whitespace allowed), and is parsed speculatively by a
/// <see cref="ResponseReader"/> in segment mode over <c>[</c> + the file's bytes from there. Each segment stops at
/// the first record starting at or after the next nominal offset. Results are taken in file order: the segment
/// before is authoritative and says where the next record really starts; a segment whose guessed start is that
/// position is taken as is, any other is discarded and the region parsed again from the true position. A guess
/// inside a string (a title holding <c>},{</c>) therefore only costs time, never rows or order.
/// The rest of the file (keys before and after the array, further responses) is read by a sequential reader over
/// the file with the array's content left out. Any error, anywhere, raises <see cref="ParallelFallbackException"/>:
/// the caller then reads the file sequentially, which gives the exact error position and the salvage behaviour.
/// </summary>
internal sealed class ParallelResponseReader
{
    private readonly string _path;
    private readonly ResponseReaderOptions _options;
    private readonly ParallelReadOptions _parallel;
    private readonly IProgress<long>? _progress;
    private readonly Stack<PageBatchBuilder> _builders = new();
    private readonly Stack<byte[]> _chunks = new();
    private long _length;
    private readonly SemaphoreSlim _slots;

    public ParallelResponseReader(string path, ResponseReaderOptions options, ParallelReadOptions? parallel = null,
        IProgress<long>? progress = null)
    {
        _path = path;
        _options = options;
        _parallel = parallel ?? new ParallelReadOptions();
        _progress = progress;
        _slots = new SemaphoreSlim(Math.Max(1, _parallel.Workers));
    }

    /// <summary>Segments between two collections of the young generation.</summary>
    internal const int CollectEverySegments = 8;

    /// <summary>Largest batch a segment yields; a segment with more rows yields several.</summary>
    internal const int SegmentBatchRows = 16_384;

    /// <summary>Rows read so far.</summary>
    public long Rows { get; private set; }

    /// <summary><c>stats.pages</c> of the response, when it has one.</summary>
    public long? StatsPages { get; private set; }

    /// <summary>Unknown keys skipped.</summary>
    public long UnknownKeys { get; private set; }

    /// <summary>Responses found in the file.</summary>
    public int Responses { get; private set; }

    /// <summary>Segments whose speculative start was wrong and were parsed again (for tests and benchmarks).</summary>
    public int Reparsed { get; private set; }

    /// <summary>Segments read by <see cref="SegmentScanner"/> (the rest by <see cref="ResponseReader"/>).</summary>
    public int ScannedSegments => Volatile.Read(ref _scannedSegments);

    private int _scannedSegments;

    /// <summary>Segments taken as parsed speculatively.</summary>
    public int Segments { get; private set; }

    /// <summary>True when the file is worth reading in parallel: plain (not compressed) and large.</summary>
    public static bool ShouldUse(InputSource input, ParallelReadOptions parallel, long minFileBytes)
    {
        if (!input.IsFile || parallel.Workers < 2 || input.Length is not { } length || length < minFileBytes)
        {
            return false;
        }
        Span<byte> head = stackalloc byte[4];
        try
        {
            using var handle = File.OpenHandle(input.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            int n = RandomAccess.Read(handle, head, 0);
            return InputDecoder.Detect(head[..n]) == InputCompression.None;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false; // the sequential path reports it
        }
    }

    /// <summary>
    /// Yields the batches in file order, row ordinals as the sequential reader gives them. Throws
    /// <see cref="ParallelFallbackException"/> when the sequential reader must be used instead; batches already
    /// yielded must then be discarded by the caller.
    /// </summary>
    public async IAsyncEnumerable<RecordBatch> ReadBatchesAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        using var handle = File.OpenHandle(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        long length = RandomAccess.GetLength(handle);
        _length = length;
        long arrayStart = LocatePagesArray(handle, length, _parallel.ProbeBytes)
            ?? throw new ParallelFallbackException("no \"pages\" array near the start of the file");

        var pending = new Queue<Pending>();
        long nextNominal = arrayStart + _parallel.SegmentBytes;
        int lookahead = _parallel.Workers + 1;
        var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        long position = arrayStart;
        long ordinalBase = 0;
        long arrayEnd = -1;
        int taken = 0;
        Task<SegmentResult>? current = RunSegmentAsync(handle, arrayStart, arrayStart, stop.Token);
        try
        {
            while (true)
            {
                while (pending.Count < lookahead && nextNominal < length)
                {
                    long nominal = nextNominal;
                    nextNominal += _parallel.SegmentBytes;
                    pending.Enqueue(new Pending(nominal, RunLimitedAsync(() => RunGuessedSegment(handle, arrayStart, nominal, length, stop.Token), stop.Token)));
                }

                current ??= await TakeAsync(pending, handle, arrayStart, position, stop.Token).ConfigureAwait(false);
                SegmentResult result;
                try
                {
                    result = await current.ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    throw new ParallelFallbackException("a segment was cancelled");
                }
                current = null;
                if (result.Error is { } error)
                {
                    result.Dispose();
                    throw new ParallelFallbackException("a segment failed: " + error.Message, error);
                }
                UnknownKeys += result.UnknownKeys;
                // A segment numbers its records from 0, across all of its batches.
                long segmentBase = ordinalBase;
                foreach (var batch in result.Batches)
                {
                    RebaseOrdinals(batch, segmentBase);
                    ordinalBase += batch.Length;
                    Rows += batch.Length;
                }
                var batches = result.Batches;
                result.Batches = [];
                for (int i = 0; i < batches.Count; i++)
                {
                    var batch = batches[i];
                    batches[i] = null!;
                    yield return batch;
                }
                _progress?.Report(result.End);
                if (++taken % CollectEverySegments == 0)
                {
                    // Left alone, the runtime lets the young generation grow for seconds before collecting it, so
                    // resident memory crept up by a fifth from 1M to 10M rows. Collecting it now and then (well under
                    // a millisecond: little of it is alive) keeps memory that of the first segments.
                    GC.Collect(0, GCCollectionMode.Forced, blocking: true);
                }
                if (result.EndsArray)
                {
                    arrayEnd = result.End;
                    break;
                }
                position = result.End;
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            if (current is not null)
            {
                await DisposeWhenDoneAsync(current).ConfigureAwait(false);
            }
            while (pending.TryDequeue(out var left))
            {
                await DisposeWhenDoneAsync(left.Task).ConfigureAwait(false);
            }
            stop.Dispose();
        }

        // The rest of the file, with the array's content left out: keys around it, further responses.
        var outerOptions = _options with { Salvage = false };
        var outer = new ResponseReader(new RangesStream(handle, [(0, arrayStart), (arrayEnd, length)]), outerOptions,
            builder: null, firstOrdinal: ordinalBase);
        var enumerator = outer.ReadBatchesAsync(ct).GetAsyncEnumerator(ct);
        try
        {
            while (true)
            {
                RecordBatch batch;
                try
                {
                    if (!await enumerator.MoveNextAsync().ConfigureAwait(false))
                    {
                        break;
                    }
                    batch = enumerator.Current;
                }
                catch (Exception ex) when (ex is ResponseFormatException or ApiErrorResponseException)
                {
                    throw new ParallelFallbackException("the response around the array failed: " + ex.Message, ex);
                }
                Rows += batch.Length;
                yield return batch;
            }
        }
        finally
        {
            await enumerator.DisposeAsync().ConfigureAwait(false);
        }
        StatsPages = outer.StatsPages;
        UnknownKeys += outer.UnknownKeys;
        Responses = outer.Responses;
        _progress?.Report(length);
    }

    private readonly record struct Pending(long Nominal, Task<SegmentResult> Task);

    /// <summary>The speculative segment that starts at <paramref name="position"/>, or a new segment parsed from there.</summary>
    private async Task<Task<SegmentResult>> TakeAsync(Queue<Pending> pending, SafeFileHandle handle, long arrayStart,
        long position, CancellationToken ct)
    {
        while (pending.TryPeek(out var next) && next.Nominal <= position)
        {
            pending.Dequeue();
            var result = await next.Task.ConfigureAwait(false);
            if (result.Start == position && result.Error is null)
            {
                Segments++;
                return Task.FromResult(result);
            }
            result.Dispose(); // it started elsewhere, or failed from a wrong start: not part of the answer
        }
        Reparsed++;
        return RunSegmentAsync(handle, arrayStart, position, ct);
    }

    private Task<SegmentResult> RunSegmentAsync(SafeFileHandle handle, long arrayStart, long start, CancellationToken ct)
        => RunLimitedAsync(() => ParseSegment(handle, arrayStart, start, ct), ct);

    /// <summary>
    /// Runs a parse on the thread pool once one of <see cref="ParallelReadOptions.Workers"/> slots is free: more
    /// segments at once would only share the cores, each with its own batch builder in memory.
    /// </summary>
    private async Task<SegmentResult> RunLimitedAsync(Func<SegmentResult> parse, CancellationToken ct)
    {
        await _slots.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return await Task.Run(parse, ct).ConfigureAwait(false);
        }
        finally
        {
            _slots.Release();
        }
    }

    private SegmentResult RunGuessedSegment(SafeFileHandle handle, long arrayStart, long nominal, long length, CancellationToken ct)
    {
        long start = GuessRecordStart(handle, nominal, Math.Min(length, nominal + _parallel.SegmentBytes));
        if (start < 0)
        {
            return new SegmentResult { Start = -1 };
        }
        return ParseSegment(handle, arrayStart, start, ct);
    }

    /// <summary>Parses records from <paramref name="start"/> to the first record at or after the next nominal offset.</summary>
    private SegmentResult ParseSegment(SafeFileHandle handle, long arrayStart, long start, CancellationToken ct)
    {
        long segment = _parallel.SegmentBytes;
        long stopAt = arrayStart + (((start - arrayStart) / segment) + 1) * segment;
        long readLimit = stopAt + (_parallel.OverrunSegments * segment);
        var builder = RentBuilder();
        var result = new SegmentResult { Start = start };
        try
        {
            if (_parallel.Scanner && TryScanSegment(handle, start, stopAt, readLimit, builder, result))
            {
                Interlocked.Increment(ref _scannedSegments);
                return result;
            }
            var reader = new ResponseReader(new RangesStream(handle, [(start, long.MaxValue)], prefix: (byte)'['),
                _options with { Salvage = false }, builder, start, stopAt, readLimit);
            var enumerator = reader.ReadBatchesAsync(ct).GetAsyncEnumerator(ct);
            try
            {
                // The stream completes synchronously, so this never blocks on I/O completion.
                while (enumerator.MoveNextAsync().AsTask().GetAwaiter().GetResult())
                {
                    result.Batches.Add(enumerator.Current);
                }
            }
            finally
            {
                enumerator.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            result.End = reader.SegmentEnd;
            result.EndsArray = reader.SegmentEndsArray;
            result.UnknownKeys = reader.UnknownKeys;
            if (result.End < 0)
            {
                throw new InvalidOperationException("the segment ended without a boundary");
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            result.Dispose();
            result.Error = ex;
        }
        finally
        {
            ReturnBuilder(builder);
        }
        return result;
    }

    /// <summary>
    /// Reads the segment with <see cref="SegmentScanner"/>, in chunks of <see cref="ParallelReadOptions.ChunkBytes"/>.
    /// False (with the builder and <paramref name="result"/> left empty) when the scanner does not handle what it
    /// finds, or the bytes are not all UTF-8: <see cref="ResponseReader"/> then reads the segment.
    /// </summary>
    private bool TryScanSegment(SafeFileHandle handle, long start, long stopAt, long readLimit, PageBatchBuilder builder,
        SegmentResult result)
    {
        var buffer = RentChunk();
        try
        {
            var scanner = new SegmentScanner(builder, result.Batches);
            long origin = start;
            // Like ResponseReader in segment mode, read no further than the read limit (a wrong guess, or a record
            // that large, is handed back).
            long limit = Math.Min(_length, readLimit);
            int filled = ReadFully(handle, buffer.AsSpan(0, (int)Math.Min(buffer.Length, limit - origin)), origin);
            while (true)
            {
                var data = buffer.AsSpan(0, filled);
                var outcome = scanner.Scan(data, origin, stopAt);
                if (outcome == SegmentScanner.Outcome.Ended)
                {
                    // Everything taken lies before the end offset, which is at a '{' or ']' (ASCII).
                    if (!System.Text.Unicode.Utf8.IsValid(data[..(int)(scanner.End - origin)]))
                    {
                        break;
                    }
                    scanner.Flush();
                    result.End = scanner.End;
                    result.EndsArray = scanner.EndsArray;
                    return true;
                }
                int keep = filled - scanner.Position;
                if (outcome == SegmentScanner.Outcome.Unsupported
                    || !System.Text.Unicode.Utf8.IsValid(data[..scanner.Position])
                    || origin + filled >= limit)
                {
                    break;
                }
                origin += scanner.Position;
                if (keep > buffer.Length / 2)
                {
                    // One record larger than half a chunk: grow (the read limit bounds it).
                    var grown = new byte[checked(buffer.Length * 2)];
                    data[scanner.Position..].CopyTo(grown);
                    buffer = grown;
                }
                else
                {
                    data[scanner.Position..].CopyTo(buffer);
                }
                filled = keep + ReadFully(handle, buffer.AsSpan(keep, (int)Math.Min(buffer.Length - keep, limit - origin - keep)), origin + keep);
            }
        }
        finally
        {
            ReturnChunk(buffer);
        }
        result.Dispose();
        builder.AbandonRow();
        builder.Clear();
        return false;
    }

    private byte[] RentChunk()
    {
        lock (_chunks)
        {
            if (_chunks.TryPop(out var chunk))
            {
                return chunk;
            }
        }
        return new byte[_parallel.ChunkBytes];
    }

    private void ReturnChunk(byte[] chunk)
    {
        if (chunk.Length != _parallel.ChunkBytes)
        {
            return; // grown for one large record: let it go
        }
        lock (_chunks)
        {
            _chunks.Push(chunk);
        }
    }

    private PageBatchBuilder RentBuilder()
    {
        lock (_builders)
        {
            if (_builders.TryPop(out var builder))
            {
                return builder;
            }
        }
        // A segment holds about SegmentBytes / 430 rows; batches need not be larger (row groups are cut by the
        // part writer), and a smaller builder keeps the memory of each worker small.
        return new PageBatchBuilder(Math.Min(_options.BatchRows, SegmentBatchRows), _options.SourceId);
    }

    private void ReturnBuilder(PageBatchBuilder builder)
    {
        builder.AbandonRow();
        builder.Clear();
        lock (_builders)
        {
            _builders.Push(builder);
        }
    }

    private static async Task DisposeWhenDoneAsync(Task<SegmentResult> task)
    {
        try
        {
            (await task.ConfigureAwait(false)).Dispose();
        }
        catch (Exception)
        {
            // Cancelled or failed: it holds nothing.
        }
    }

    /// <summary>Adds <paramref name="ordinalBase"/> to the row ordinals of a batch this reader built (it owns the memory).</summary>
    private static void RebaseOrdinals(RecordBatch batch, long ordinalBase)
    {
        if (ordinalBase == 0)
        {
            return;
        }
        var ordinals = (Int64Array)batch.Column(PagesSchema.RowOrdinalIndex);
        var memory = MemoryMarshal.AsMemory(ordinals.ValueBuffer.Memory);
        var values = MemoryMarshal.Cast<byte, long>(memory.Span).Slice(ordinals.Offset, ordinals.Length);
        for (int i = 0; i < values.Length; i++)
        {
            values[i] += ordinalBase;
        }
    }

    /// <summary>
    /// The offset just after the <c>[</c> of the first response's "pages" array, when the keys before it fit in the
    /// probe; null otherwise (then the file is read sequentially).
    /// </summary>
    internal static long? LocatePagesArray(SafeFileHandle handle, long length, int probeBytes)
    {
        var probe = new byte[(int)Math.Min(length, probeBytes)];
        int n = RandomAccess.Read(handle, probe, 0);
        var span = probe.AsSpan(0, n);
        int bom = span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
        var reader = new Utf8JsonReader(span[bom..], isFinalBlock: n == length, default);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool pages = reader.ValueTextEquals("pages"u8);
                if (!reader.Read())
                {
                    return null;
                }
                if (pages)
                {
                    return reader.TokenType == JsonTokenType.StartArray ? bom + reader.BytesConsumed : null;
                }
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && !reader.TrySkip())
                {
                    return null;
                }
            }
        }
        catch (JsonException)
        {
            // Malformed before the array: the sequential reader says where.
        }
        return null;
    }

    /// <summary>
    /// The first offset in [<paramref name="from"/>, <paramref name="to"/>) holding <c>{</c> whose previous
    /// non-whitespace bytes are <c>,</c> and <c>}</c>: where a record probably starts. -1 when there is none.
    /// </summary>
    internal static long GuessRecordStart(SafeFileHandle handle, long from, long to)
    {
        const int Back = 256;
        const int Window = 64 * 1024;
        var buffer = new byte[Back + Window];
        for (long at = from; at < to; at += Window)
        {
            long readFrom = Math.Max(0, at - Back);
            int lead = (int)(at - readFrom);
            int want = lead + (int)Math.Min(Window, to - at);
            int n = ReadFully(handle, buffer.AsSpan(0, want), readFrom);
            var span = buffer.AsSpan(0, n);
            for (int i = lead; i < n; i++)
            {
                int next = span[i..].IndexOf((byte)'{');
                if (next < 0)
                {
                    break;
                }
                i += next;
                int j = SkipWhitespaceBack(span, i - 1);
                if (j >= 0 && span[j] == ',')
                {
                    j = SkipWhitespaceBack(span, j - 1);
                    if (j >= 0 && span[j] == '}')
                    {
                        return readFrom + i;
                    }
                }
            }
        }
        return -1;
    }

    private static int SkipWhitespaceBack(ReadOnlySpan<byte> span, int i)
    {
        while (i >= 0 && span[i] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
        {
            i--;
        }
        return i;
    }

    private static int ReadFully(SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = RandomAccess.Read(handle, buffer[total..], offset + total);
            if (n == 0)
            {
                break;
            }
            total += n;
        }
        return total;
    }

    private sealed class SegmentResult : IDisposable
    {
        public long Start { get; init; }
        public long End { get; set; } = -1;
        public bool EndsArray { get; set; }
        public long UnknownKeys { get; set; }
        public Exception? Error { get; set; }
        public List<RecordBatch> Batches { get; set; } = [];

        public void Dispose()
        {
            foreach (var batch in Batches)
            {
                batch?.Dispose();
            }
            Batches = [];
        }
    }

    /// <summary>Reads byte ranges of a file back to back (optionally after one prefix byte), synchronously.</summary>
    private sealed class RangesStream : Stream
    {
        private readonly SafeFileHandle _handle;
        private readonly (long Start, long End)[] _ranges;
        private int _range;
        private long _position;
        private int _prefix;

        public RangesStream(SafeFileHandle handle, (long Start, long End)[] ranges, int prefix = -1)
        {
            _handle = handle;
            _ranges = ranges;
            _prefix = prefix;
            _position = ranges.Length > 0 ? ranges[0].Start : 0;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(Span<byte> buffer)
        {
            if (buffer.IsEmpty)
            {
                return 0;
            }
            if (_prefix >= 0)
            {
                buffer[0] = (byte)_prefix;
                _prefix = -1;
                return 1 + Read(buffer[1..]);
            }
            while (_range < _ranges.Length)
            {
                long end = _ranges[_range].End;
                if (_position < end)
                {
                    int want = (int)Math.Min(buffer.Length, end - _position);
                    int n = RandomAccess.Read(_handle, buffer[..want], _position);
                    if (n > 0)
                    {
                        _position += n;
                        return n;
                    }
                }
                _range++;
                if (_range < _ranges.Length)
                {
                    _position = _ranges[_range].Start;
                }
            }
            return 0;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return ValueTask.FromResult(Read(buffer.Span));
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
