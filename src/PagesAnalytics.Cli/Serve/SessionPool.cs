using PagesAnalytics.Store;

namespace PagesAnalytics.Cli.Serve;

/// <summary>
/// Query sessions for the server: each request has an in-memory DuckDB of its own for as long as it runs, so a slow
/// client only ever holds its own session. Finished sessions are kept (up to a bound) and handed to later requests, which
/// saves opening DuckDB and building the views each time. When the store's <c>sources/</c> folder changes (an ingest
/// committed something) idle sessions are dropped and new ones see the new state.
/// </summary>
internal sealed class SessionPool : IDisposable
{
    private static readonly TimeSpan SettledAfter = TimeSpan.FromSeconds(2);

    private readonly PagesStore _store;
    private readonly int _maxIdle;
    private readonly string _sourcesDirectory;
    private readonly Lock _gate = new();
    private readonly Stack<Lease> _idle = new();
    private long _generation = long.MinValue;
    private bool _disposed;
    private int _opened;

    public SessionPool(PagesStore store, int maxIdle)
    {
        _store = store;
        _maxIdle = maxIdle;
        // The store's record folder (DESIGN.md, store layout): every commit renames a record into it.
        _sourcesDirectory = Path.Combine(store.Directory, "sources");
    }

    /// <summary>Sessions opened so far (the rest of the requests reused one).</summary>
    public int SessionsOpened => Volatile.Read(ref _opened);

    /// <summary>A session for one request; return it with <see cref="Return"/>.</summary>
    public Lease Rent()
    {
        long generation = CurrentGeneration();
        List<Lease>? stale = null;
        Lease? lease = null;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (generation != _generation)
            {
                stale = [.. _idle];
                _idle.Clear();
                _generation = generation;
            }
            else if (_idle.Count > 0)
            {
                lease = _idle.Pop();
            }
        }
        if (stale is not null)
        {
            foreach (var old in stale)
            {
                old.Session.Dispose();
            }
        }
        // A folder changed moments ago may change again within the same timestamp tick; such a session serves its
        // request but is not kept, so a later commit with an identical time stamp cannot hide behind it.
        bool settled = generation == 0 || DateTime.UtcNow.Ticks - generation > SettledAfter.Ticks;
        if (lease is not null)
        {
            return lease;
        }
        Interlocked.Increment(ref _opened);
        return new Lease(_store.OpenQuery(), generation, settled);
    }

    /// <summary>Keeps the session for the next request when it is still current and healthy; otherwise closes it.</summary>
    public void Return(Lease lease, bool healthy)
    {
        lock (_gate)
        {
            if (healthy && lease.Settled && !_disposed && lease.Generation == _generation && _idle.Count < _maxIdle)
            {
                _idle.Push(lease);
                return;
            }
        }
        lease.Session.Dispose();
    }

    public void Dispose()
    {
        Lease[] idle;
        lock (_gate)
        {
            _disposed = true;
            idle = [.. _idle];
            _idle.Clear();
        }
        foreach (var lease in idle)
        {
            lease.Session.Dispose();
        }
    }

    /// <summary>The folder's modification time: one stat per request, and it moves whenever a record is renamed into place.</summary>
    private long CurrentGeneration()
    {
        var info = new DirectoryInfo(_sourcesDirectory);
        return info.Exists ? info.LastWriteTimeUtc.Ticks : 0;
    }

    internal sealed record Lease(QuerySession Session, long Generation, bool Settled);
}
