using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using Apache.Arrow;
using PagesAnalytics.Ingest;
using PagesAnalytics.Schema;

namespace PagesAnalytics.Store;

/// <summary>What happened to one input.</summary>
/// <param name="Input">The input.</param>
/// <param name="Status">One of <see cref="SourceStatus"/>.</param>
/// <param name="Record">The record written, or null when ingesting was a no-op (same bytes, same path).</param>
/// <param name="Rows">Rows added to the store.</param>
/// <param name="HttpCodes">Rows added, per http_code (-1 for NULL).</param>
/// <param name="Message">Why the input was rejected or skipped.</param>
public sealed record SourceOutcome(InputSource Input, string Status, SourceRecord? Record, long Rows,
    IReadOnlyDictionary<int, long> HttpCodes, string? Message);

/// <summary>Settings of ingesting into a store.</summary>
public sealed record IngestOptions
{
    /// <summary>Rows per Arrow batch and (at least) per Parquet row group.</summary>
    public int BatchRows { get; init; } = ResponseReaderOptions.DefaultBatchRows;

    /// <summary>Codec of the parts unless told otherwise: Snappy, about twice as fast to write as Zstd for 1.6x the bytes.</summary>
    public const PartCompression DefaultCompression = PartCompression.Snappy;

    /// <summary>Parquet compression of the parts.</summary>
    public PartCompression Compression { get; init; } = DefaultCompression;

    /// <summary>The API request's target, recorded per source.</summary>
    public string? Target { get; init; }

    /// <summary>The API request's mode (exact, domain, subdomains, prefix), recorded per source.</summary>
    public string? Mode { get; init; }

    /// <summary>The date the responses were fetched; when null it comes from the path or the file's mtime.</summary>
    public DateOnly? Snapshot { get; init; }

    /// <summary>Stop at the first rejected input (its record is not written) instead of going on.</summary>
    public bool Strict { get; init; }

    /// <summary>Keep the complete records before the break point of a malformed input, recorded as partial.</summary>
    public bool Salvage { get; init; }

    /// <summary>Threads that parse one large plain file at once; 1 reads every input sequentially.</summary>
    public int Threads { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>How large plain files are cut for the parallel parse (its Workers come from <see cref="Threads"/>).</summary>
    internal ParallelReadOptions Parallel { get; init; } = new();

    /// <summary>Plain files from this size on are parsed in parallel.</summary>
    internal long ParallelMinFileBytes { get; init; } = ParallelReadOptions.DefaultMinFileBytes;

    /// <summary>The API's modes.</summary>
    public static readonly IReadOnlyList<string> Modes = ["exact", "domain", "subdomains", "prefix"];

    internal void Validate()
    {
        if (BatchRows < 1)
        {
            throw new PagesUsageException("the batch size must be at least 1 row");
        }
        if (Mode is not null && !Modes.Contains(Mode))
        {
            throw new PagesUsageException($"unknown mode '{Mode}': use one of {string.Join(", ", Modes)}");
        }
        if (Threads < 1)
        {
            throw new PagesUsageException("--threads must be at least 1");
        }
        if (Strict && Salvage)
        {
            throw new PagesUsageException("--strict and --salvage exclude each other");
        }
    }
}

/// <summary>An input was rejected while ingesting with <see cref="IngestOptions.Strict"/>: the run stops there.</summary>
public sealed class IngestStoppedException : PagesException
{
    /// <summary>Creates the exception with the rejection's message.</summary>
    public IngestStoppedException(string message, Exception inner) : base("stopped (--strict): " + message, inner)
    {
    }
}

/// <summary>
/// The one writer of a store (it holds the lock). Commits each input on its own: parts are written under
/// <c>tmp/&lt;id&gt;/</c>, flushed, the folder moved into <c>parts/</c>, then the record written under a temp name,
/// flushed and renamed — the commit point. A crash before the rename leaves only debris that the next writer removes.
/// </summary>
public sealed class StoreWriter : IDisposable
{
    private readonly PagesStore _store;
    private readonly StoreLock _lock;
    private readonly Dictionary<string, List<SourceRecord>> _bySha = new(StringComparer.Ordinal);
    private readonly HashSet<long> _knownSizes = [];
    private readonly Lock _gate = new(); // guards the three fields here: prepares run concurrently with commits
    private int _nextSourceId;

    internal StoreWriter(PagesStore store, StoreLock storeLock)
    {
        _store = store;
        _lock = storeLock;
        var records = store.ReadRecords();
        foreach (var record in records)
        {
            Remember(record);
            _nextSourceId = Math.Max(_nextSourceId, record.SourceId + 1);
        }
        RemoveDebris(records);
    }

    /// <summary>
    /// Ingests one input and commits it. Malformed and error responses are not thrown: they are recorded as
    /// rejected (none of their rows visible) and returned. Cancellation and I/O failures of the store are thrown,
    /// leaving only debris for the next writer to clear.
    /// </summary>
    public async Task<SourceOutcome> IngestAsync(InputSource input, IngestOptions? options = null,
        IProgress<long>? bytesRead = null, CancellationToken ct = default)
    {
        options ??= new IngestOptions();
        options.Validate();
        var prepared = await PrepareAsync(input, options, bytesRead, ct).ConfigureAwait(false);
        return Commit(prepared);
    }

    /// <summary>True when the input is parsed on all cores by itself (a large plain file): it is best ingested alone.</summary>
    internal static bool UsesAllCores(InputSource input, IngestOptions options)
        => ParallelResponseReader.ShouldUse(input, options.Parallel with { Workers = options.Threads }, options.ParallelMinFileBytes);

    /// <summary>
    /// The first half of an ingest: reserves a source id and parses the input into its temp folder. Several inputs
    /// may be prepared at once; <see cref="Commit"/> (or <see cref="Discard"/>) them one at a time, in input order.
    /// </summary>
    internal async Task<PreparedInput> PrepareAsync(InputSource input, IngestOptions options, IProgress<long>? bytesRead,
        CancellationToken ct)
    {
        // Known bytes can be recognised before parsing: hash first only when a record of that size exists.
        bool knownSize;
        lock (_gate)
        {
            knownSize = input.IsFile && input.Length is { } size && _knownSizes.Contains(size);
        }
        if (knownSize)
        {
            string early = await HashFileAsync(input, ct).ConfigureAwait(false);
            lock (_gate)
            {
                if (_bySha.ContainsKey(early))
                {
                    return new PreparedInput(input, options) { EarlySha = early, EarlyBytes = input.Length!.Value };
                }
            }
        }

        int sourceId;
        lock (_gate)
        {
            sourceId = _nextSourceId++;
        }
        string id = sourceId.ToString(CultureInfo.InvariantCulture);
        string tempFolder = Path.Combine(_store.TempDirectory, id);
        var prepared = new PreparedInput(input, options) { SourceId = sourceId, TempFolder = tempFolder };
        Directory.CreateDirectory(tempFolder);
        CrashPoints.Hit("source-start");
        var readerOptions = new ResponseReaderOptions
        {
            BatchRows = options.BatchRows,
            SourceId = sourceId,
            SourceName = input.DisplayName,
            Salvage = options.Salvage,
        };
        var partOptions = new PartWriterOptions { MinRowGroupRows = options.BatchRows, Compression = options.Compression };
        string partPath = Path.Combine(tempFolder, PartName);
        try
        {
            if (UsesAllCores(input, options))
            {
                prepared.Parsed = await TryParseInParallelAsync(input, readerOptions, options.Parallel with { Workers = options.Threads },
                    partPath, partOptions, prepared.Codes, bytesRead, ct).ConfigureAwait(false);
            }
            prepared.Parsed ??= await ParseSequentiallyAsync(input, readerOptions, partPath, partOptions, prepared.Codes, bytesRead, ct)
                .ConfigureAwait(false);
        }
        catch
        {
            Discard(prepared);
            throw;
        }
        return prepared;
    }

    /// <summary>Drops a prepared input that will not be committed: its temp folder, and its source id when no later one was taken.</summary>
    internal void Discard(PreparedInput prepared)
    {
        if (prepared.TempFolder is { } folder)
        {
            TryDeleteFolder(folder);
        }
        ReleaseId(prepared.SourceId);
    }

    private void ReleaseId(int sourceId)
    {
        lock (_gate)
        {
            if (sourceId >= 0 && _nextSourceId == sourceId + 1)
            {
                _nextSourceId--; // nothing of this id reached the store
            }
        }
    }

    /// <summary>
    /// The second half of an ingest: recognises duplicates, then moves the parts into place and writes the record
    /// (the commit point). With --strict a rejected input is discarded and <see cref="IngestStoppedException"/> thrown.
    /// </summary>
    internal SourceOutcome Commit(PreparedInput prepared)
    {
        var input = prepared.Input;
        var options = prepared.Options;
        var noCodes = new Dictionary<int, long>();
        if (prepared.EarlySha is { } early)
        {
            return Duplicate(input, early, prepared.EarlyBytes, noCodes);
        }
        var parsed = prepared.Parsed!;
        int sourceId = prepared.SourceId;
        string id = sourceId.ToString(CultureInfo.InvariantCulture);
        string tempFolder = prepared.TempFolder!;
        var codes = prepared.Codes;
        var rejection = parsed.Rejection;
        long rows = parsed.Rows;
        string sha = parsed.Sha256;
        if (_bySha.ContainsKey(sha))
        {
            Discard(prepared);
            return Duplicate(input, sha, parsed.Bytes, noCodes);
        }
        if (rejection is not null && options.Strict)
        {
            Discard(prepared);
            throw new IngestStoppedException(rejection.Message, rejection);
        }

        var parts = new List<string>();
        if (rejection is null && rows > 0)
        {
            Directory.Move(tempFolder, Path.Combine(_store.PartsDirectory, id));
            parts.Add(Path.Combine("parts", id, PartName));
            CrashPoints.Hit("parts-moved");
        }
        else
        {
            TryDeleteFolder(tempFolder);
        }

        var salvage = rejection is null ? parsed.SalvageError : null;
        var (snapshot, snapshotFrom) = ResolveSnapshot(input, options);
        var record = new SourceRecord
        {
            SourceId = sourceId,
            Path = input.Path,
            Sha256 = sha,
            Bytes = parsed.Bytes,
            Compression = parsed.Compression.ToString().ToLowerInvariant(),
            Responses = rejection is null ? parsed.Responses : 0,
            Rows = rows,
            StatsPages = rejection is null ? parsed.StatsPages : null,
            UnknownKeys = parsed.UnknownKeys,
            Target = options.Target,
            Mode = options.Mode,
            Snapshot = snapshot,
            SnapshotFrom = snapshotFrom,
            Status = rejection is not null ? SourceStatus.Rejected : salvage is not null ? SourceStatus.Partial : SourceStatus.Ok,
            Error = rejection?.Message ?? salvage?.Message,
            SalvagedToByte = salvage?.BytePosition,
            Parts = parts,
            IngestedAt = DateTimeOffset.UtcNow,
        };
        WriteRecord(record);
        CrashPoints.Hit("committed");
        return new SourceOutcome(input, record.Status, record, rows, rejection is null ? codes : noCodes, record.Error);
    }

    /// <summary>The snapshot date: the option, else a date in the path, else the file's mtime (stdin: today).</summary>
    internal static (string Snapshot, string From) ResolveSnapshot(InputSource input, IngestOptions options)
    {
        if (options.Snapshot is { } given)
        {
            return (given.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "option");
        }
        if (input.IsFile && SnapshotDates.FromPath(input.Path) is { } fromPath)
        {
            return (fromPath.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "path");
        }
        var date = input.IsFile ? File.GetLastWriteTimeUtc(input.Path) : DateTime.UtcNow;
        return (date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), input.IsFile ? "mtime" : "ingest-time");
    }

    /// <summary>Releases the writer lock.</summary>
    public void Dispose() => _lock.Dispose();

    private SourceOutcome Duplicate(InputSource input, string sha, long bytes, Dictionary<int, long> noCodes)
    {
        var earlier = _bySha[sha];
        var same = earlier.Find(r => r.Path == input.Path);
        if (same is not null || !input.IsFile)
        {
            var original = same ?? earlier[0];
            return new SourceOutcome(input, SourceStatus.Skipped, null, 0, noCodes,
                $"already ingested as source {original.SourceId}");
        }
        var first = earlier[0];
        var record = new SourceRecord
        {
            SourceId = NextId(),
            Path = input.Path,
            Sha256 = sha,
            Bytes = bytes,
            Status = SourceStatus.Skipped,
            Error = $"same bytes as source {first.SourceId} ({first.Path})",
            IngestedAt = DateTimeOffset.UtcNow,
        };
        WriteRecord(record);
        return new SourceOutcome(input, SourceStatus.Skipped, record, 0, noCodes, record.Error);
    }

    private void WriteRecord(SourceRecord record)
    {
        string final = Path.Combine(_store.SourcesDirectory, record.SourceId.ToString(CultureInfo.InvariantCulture) + ".json");
        string temp = final + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, record, SourceRecord.Json);
            stream.Flush(flushToDisk: true);
        }
        CrashPoints.Hit("record-temp");
        File.Move(temp, final, overwrite: false);
        Remember(record);
    }

    private void Remember(SourceRecord record)
    {
        lock (_gate)
        {
            RememberLocked(record);
        }
    }

    private void RememberLocked(SourceRecord record)
    {
        if (!_bySha.TryGetValue(record.Sha256, out var list))
        {
            _bySha[record.Sha256] = list = [];
        }
        list.Add(record);
        _knownSizes.Add(record.Bytes);
    }

    /// <summary>Removes work in flight of interrupted writers: tmp/, parts without a record, record temp files.</summary>
    private void RemoveDebris(IReadOnlyList<SourceRecord> records)
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries(_store.TempDirectory))
        {
            if (Directory.Exists(entry))
            {
                Directory.Delete(entry, recursive: true);
            }
            else
            {
                File.Delete(entry);
            }
        }
        var committed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var record in records)
        {
            committed.Add(record.SourceId.ToString(CultureInfo.InvariantCulture));
        }
        foreach (var folder in Directory.EnumerateDirectories(_store.PartsDirectory))
        {
            if (!committed.Contains(Path.GetFileName(folder)))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        foreach (var temp in Directory.EnumerateFiles(_store.SourcesDirectory, "*.tmp"))
        {
            File.Delete(temp);
        }
    }

    private int NextId()
    {
        lock (_gate)
        {
            return _nextSourceId++;
        }
    }

    /// <summary>An input parsed into its temp folder, waiting for <see cref="Commit"/>.</summary>
    internal sealed class PreparedInput(InputSource input, IngestOptions options)
    {
        public InputSource Input { get; } = input;
        public IngestOptions Options { get; } = options;
        public int SourceId { get; init; } = -1;
        public string? TempFolder { get; init; }
        public string? EarlySha { get; init; }
        public long EarlyBytes { get; init; }
        public Parsed? Parsed { get; set; }
        public Dictionary<int, long> Codes { get; } = [];
    }

    /// <summary>What parsing one input gave: its rows are in the temp part (complete when Rows &gt; 0 and no rejection).</summary>
    internal sealed record Parsed(long Rows, PagesException? Rejection, string Sha256, long Bytes, InputCompression Compression,
        int Responses, long? StatsPages, long UnknownKeys, ResponseFormatException? SalvageError);

    private const string PartName = "part-00000.parquet";

    /// <summary>Reads the input with one <see cref="ResponseReader"/>, hashing the bytes as they are read.</summary>
    private static async Task<Parsed> ParseSequentiallyAsync(InputSource input, ResponseReaderOptions readerOptions,
        string partPath, PartWriterOptions partOptions, Dictionary<int, long> codes, IProgress<long>? bytesRead, CancellationToken ct)
    {
        await using var hashing = new HashingStream(input.Open(), bytesRead);
        ResponseReader? reader = null;
        PagesException? rejection = null;
        long rows = 0;
        var (decoded, compression) = await InputDecoder.OpenAsync(hashing, ct).ConfigureAwait(false);
        // Decompressing is one core's work: do it on a task of its own, a few blocks ahead of the parser.
        var source = compression == InputCompression.None ? decoded : new ReadAheadStream(decoded);
        await using (source.ConfigureAwait(false))
        {
            reader = new ResponseReader(source, readerOptions);
            await using var part = await PartWriter.CreateAsync(partPath, partOptions, ct).ConfigureAwait(false);
            try
            {
                await ParseAndWriteAsync(reader.ReadBatchesAsync, part, codes, ct).ConfigureAwait(false);
                rows = reader.Rows;
                if (rows > 0)
                {
                    await part.CompleteAsync(ct).ConfigureAwait(false);
                    CrashPoints.Hit("part-complete");
                }
                if (reader.SalvageError is { } salvaged && rows == 0)
                {
                    rejection = salvaged; // nothing before the break point: nothing to keep
                }
            }
            catch (Exception ex) when (ex is ResponseFormatException or ApiErrorResponseException)
            {
                rejection = (PagesException)ex;
                rows = 0;
            }
            // Read what the reader left (after a rejection) so the hash and size cover the whole input; the
            // read-ahead task must have stopped reading through the same stream first.
            if (source is ReadAheadStream ahead)
            {
                await ahead.StopAsync().ConfigureAwait(false);
            }
            await hashing.CopyToAsync(Stream.Null, ct).ConfigureAwait(false);
        }
        return new Parsed(rows, rejection, hashing.HashHex(), hashing.BytesRead, compression, reader.Responses,
            reader.StatsPages, reader.UnknownKeys, reader.SalvageError);
    }

    /// <summary>
    /// Reads a large plain file on all cores (<see cref="ParallelResponseReader"/>) while another task hashes it.
    /// Null when the parallel read cannot give the exact answer (malformed somewhere, an unusual layout): the
    /// partial part is deleted and the caller reads sequentially.
    /// </summary>
    private static async Task<Parsed?> TryParseInParallelAsync(InputSource input, ResponseReaderOptions readerOptions,
        ParallelReadOptions parallel, string partPath, PartWriterOptions partOptions, Dictionary<int, long> codes,
        IProgress<long>? bytesRead, CancellationToken ct)
    {
        // The parse and the hash read the file separately: if it changes meanwhile (a download still being written,
        // say), they could describe different bytes. Then the sequential read, which hashes what it parses, decides.
        var before = FileStamp.Of(input.Path);
        using var stopHash = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var hash = Task.Run(() => HashAndCountAsync(input, stopHash.Token), stopHash.Token);
        var reader = new ParallelResponseReader(input.Path, readerOptions, parallel, bytesRead);
        var attempt = new Dictionary<int, long>();
        try
        {
            long rows;
            await using (var part = await PartWriter.CreateAsync(partPath, partOptions, ct).ConfigureAwait(false))
            {
                await ParseAndWriteAsync(reader.ReadBatchesAsync, part, attempt, ct).ConfigureAwait(false);
                rows = reader.Rows;
                if (rows > 0)
                {
                    await part.CompleteAsync(ct).ConfigureAwait(false);
                    CrashPoints.Hit("part-complete");
                }
            }
            var (sha, bytes) = await hash.ConfigureAwait(false);
            var after = FileStamp.Of(input.Path);
            if (before != after || bytes != before.Length)
            {
                throw new ParallelFallbackException("the file changed while it was read");
            }
            foreach (var (code, count) in attempt)
            {
                codes[code] = count;
            }
            return new Parsed(rows, null, sha, bytes, InputCompression.None, reader.Responses, reader.StatsPages,
                reader.UnknownKeys, null);
        }
        catch (ParallelFallbackException)
        {
            await stopHash.CancelAsync().ConfigureAwait(false);
            try
            {
                await hash.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopped on purpose.
            }
            if (File.Exists(partPath))
            {
                File.Delete(partPath);
            }
            return null;
        }
    }

    /// <summary>Length and last write time of a file: a change of either means its bytes may have changed.</summary>
    private readonly record struct FileStamp(long Length, DateTime LastWriteUtc)
    {
        public static FileStamp Of(string path)
        {
            var info = new FileInfo(path);
            return new FileStamp(info.Length, info.LastWriteTimeUtc);
        }
    }

    private static async Task<(string Sha256, long Bytes)> HashAndCountAsync(InputSource input, CancellationToken ct)
    {
        await using var hashing = new HashingStream(input.Open(), progress: null);
        await hashing.CopyToAsync(Stream.Null, 1 << 20, ct).ConfigureAwait(false);
        return (hashing.HashHex(), hashing.BytesRead);
    }

    /// <summary>
    /// Parses on one task and encodes Parquet on this one, so the two overlap on two cores. The channel holds at
    /// most two batches, which bounds the memory in flight.
    /// </summary>
    private static async Task ParseAndWriteAsync(Func<CancellationToken, IAsyncEnumerable<RecordBatch>> read, PartWriter part, Dictionary<int, long> codes, CancellationToken ct)
    {
        var channel = Channel.CreateBounded<RecordBatch>(new BoundedChannelOptions(2)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var producer = Task.Run(async () =>
        {
            try
            {
                await foreach (var batch in read(stop.Token).ConfigureAwait(false))
                {
                    CountHttpCodes(batch, codes);
                    try
                    {
                        await channel.Writer.WriteAsync(batch, stop.Token).ConfigureAwait(false);
                    }
                    catch
                    {
                        batch.Dispose();
                        throw;
                    }
                }
            }
            finally
            {
                channel.Writer.TryComplete();
            }
        }, stop.Token);

        try
        {
            while (await channel.Reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                while (channel.Reader.TryRead(out var batch))
                {
                    using (batch)
                    {
                        await part.WriteAsync(batch, ct).ConfigureAwait(false);
                    }
                    CrashPoints.Hit("batch-written");
                }
            }
        }
        catch
        {
            // The writer failed: stop the parser and free what it queued, then report the writer's failure.
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await producer.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Its failure (often the cancellation just requested) is secondary to the writer's.
            }
            while (channel.Reader.TryRead(out var queued))
            {
                queued.Dispose();
            }
            throw;
        }
        // The parser's own failure (malformed input, error response) surfaces here.
        await producer.ConfigureAwait(false);
    }

    private static void CountHttpCodes(RecordBatch batch, Dictionary<int, long> codes)
    {
        var column = (Int32Array)batch.Column(PagesSchema.HttpCode);
        int lastCode = int.MinValue;
        long run = 0;
        for (int i = 0; i < column.Length; i++)
        {
            int code = column.IsNull(i) ? -1 : column.Values[i];
            if (code != lastCode)
            {
                if (run > 0)
                {
                    codes[lastCode] = codes.GetValueOrDefault(lastCode) + run;
                }
                lastCode = code;
                run = 0;
            }
            run++;
        }
        if (run > 0)
        {
            codes[lastCode] = codes.GetValueOrDefault(lastCode) + run;
        }
    }

    private static async Task<string> HashFileAsync(InputSource input, CancellationToken ct)
    {
        await using var stream = input.Open();
        var hash = await SHA256.HashDataAsync(stream, ct).ConfigureAwait(false);
        return Convert.ToHexStringLower(hash);
    }

    private static void TryDeleteFolder(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (IOException)
        {
            // Left for the next writer, which empties tmp/ on open.
        }
    }
}

/// <summary>Passes reads through while hashing (SHA-256) and counting the bytes, reporting progress.</summary>
internal sealed class HashingStream(Stream inner, IProgress<long>? progress) : ReadOnlyStream(inner)
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public long BytesRead { get; private set; }

    /// <summary>The hash of everything read; valid after the stream has been disposed too (decoders own it).</summary>
    public string HashHex() => Convert.ToHexStringLower(_hash.GetHashAndReset());

    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

    public override int Read(Span<byte> buffer)
    {
        int n = Inner.Read(buffer);
        Account(buffer[..n]);
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n = await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Account(buffer.Span[..n]);
        return n;
    }

    private void Account(ReadOnlySpan<byte> data)
    {
        if (data.Length == 0)
        {
            return;
        }
        _hash.AppendData(data);
        BytesRead += data.Length;
        progress?.Report(BytesRead);
    }
}
