using System.Globalization;
using System.Net;

namespace PagesAnalytics.Cli.Serve;

/// <summary>Settings of <c>pages serve</c>, validated once by <see cref="Validate"/>.</summary>
internal sealed record ServeOptions
{
    public const string DefaultHost = "127.0.0.1";
    public const int DefaultPort = 8080;

    /// <summary>The largest <c>limit</c> served; larger requests get this many rows (and an <c>X-Limit-Capped</c> header).</summary>
    public const long DefaultMaxLimit = 100_000;

    /// <summary>Idle query sessions kept for reuse.</summary>
    public const int DefaultMaxIdleSessions = 8;

    /// <summary>Recent <c>stats.pages</c> counts kept (see <see cref="StatsCache"/>).</summary>
    public const int DefaultStatsCacheEntries = 1024;

    /// <summary>An IP address to bind, or <c>localhost</c> (127.0.0.1). Loopback unless told otherwise.</summary>
    public string Host { get; init; } = DefaultHost;

    /// <summary>TCP port; 0 picks a free one.</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>When set, every request must carry <c>token=</c> with this value (else 401); when null any token is accepted.</summary>
    public string? Token { get; init; }

    /// <summary>Cap on <c>limit</c>.</summary>
    public long MaxLimit { get; init; } = DefaultMaxLimit;

    /// <summary>Idle sessions kept between requests.</summary>
    public int MaxIdleSessions { get; init; } = DefaultMaxIdleSessions;

    /// <summary>Requests that run DuckDB at the same time (others wait their turn); 0 means no limit.</summary>
    public int MaxQueries { get; init; } = Environment.ProcessorCount;

    /// <summary>Recent counts kept per store state; 0 turns the cache off.</summary>
    public int StatsCacheEntries { get; init; } = DefaultStatsCacheEntries;

    /// <summary>The address to bind; throws <see cref="PagesUsageException"/> naming the bad setting.</summary>
    public IPAddress Validate()
    {
        if (Port is < 0 or > 65535)
        {
            throw new PagesUsageException($"--port {Port.ToString(CultureInfo.InvariantCulture)} is not a TCP port (0-65535; 0 picks a free one)");
        }
        if (MaxLimit < 1)
        {
            throw new PagesUsageException($"--max-limit {MaxLimit.ToString(CultureInfo.InvariantCulture)} must be at least 1");
        }
        if (MaxQueries < 0)
        {
            throw new PagesUsageException($"--max-queries {MaxQueries.ToString(CultureInfo.InvariantCulture)} must not be negative (0: no limit)");
        }
        if (MaxIdleSessions < 0 || StatsCacheEntries < 0)
        {
            throw new PagesUsageException("the idle session and stats cache sizes must not be negative");
        }
        if (Token is { Length: 0 })
        {
            throw new PagesUsageException("--token must not be empty (leave it out to accept any token)");
        }
        string host = Host.Trim();
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }
        if (IPAddress.TryParse(host.Trim('[', ']'), out var address))
        {
            return address;
        }
        throw new PagesUsageException($"--host '{Host}' is not an IP address (e.g. 127.0.0.1, ::1, 0.0.0.0) or localhost");
    }
}
