using System.Globalization;
using System.Text;
using PagesAnalytics.Query;

namespace PagesAnalytics.Cli.Serve;

/// <summary>
/// The <c>stats.pages</c> count of recent requests, per store state. Old clients ask the same filter again and again: once
/// with <c>limit=1</c> to read the stats, then page by page with growing offsets; all of those share one count, which costs
/// as much as the page itself. Entries belong to one state of the store (see <see cref="SessionPool.Lease.Generation"/>)
/// and are all dropped when it changes; the least recently used entry goes when the cache is full.
/// </summary>
internal sealed class StatsCache(int capacity)
{
    // Requests with huge filters are simply not cached.
    private const int MaxKeyChars = 16 * 1024;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, long Count)>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, long Count)> _recent = new();
    private long _generation = long.MinValue;
    private long _hits;
    private long _misses;

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>The key of a request's count: its count statement and every bound value with its type; null when too long to keep.</summary>
    public static string? Key(CompiledPagesQuery query)
    {
        var key = new StringBuilder(query.CountSql);
        foreach (var value in query.Parameters)
        {
            key.Append('\u0001').Append(value?.GetType().FullName).Append(':').Append(value switch
            {
                null => "",
                DateTime d => d.ToString("O", CultureInfo.InvariantCulture),
                DateTimeOffset d => d.ToString("O", CultureInfo.InvariantCulture),
                double d => d.ToString("R", CultureInfo.InvariantCulture),
                float f => f.ToString("R", CultureInfo.InvariantCulture),
                _ => Convert.ToString(value, CultureInfo.InvariantCulture),
            });
            if (key.Length > MaxKeyChars)
            {
                return null;
            }
        }
        return key.Length > MaxKeyChars ? null : key.ToString();
    }

    public bool TryGet(long generation, string key, out long count)
    {
        lock (_gate)
        {
            if (generation == _generation && _entries.TryGetValue(key, out var node))
            {
                _recent.Remove(node);
                _recent.AddFirst(node);
                count = node.Value.Count;
                _hits++;
                return true;
            }
            _misses++;
            count = 0;
            return false;
        }
    }

    public void Set(long generation, string key, long count)
    {
        if (capacity <= 0)
        {
            return;
        }
        lock (_gate)
        {
            if (generation != _generation)
            {
                _entries.Clear();
                _recent.Clear();
                _generation = generation;
            }
            if (_entries.TryGetValue(key, out var existing))
            {
                _recent.Remove(existing);
                _entries.Remove(key);
            }
            _entries[key] = _recent.AddFirst((key, count));
            while (_entries.Count > capacity)
            {
                _entries.Remove(_recent.Last!.Value.Key);
                _recent.RemoveLast();
            }
        }
    }
}
