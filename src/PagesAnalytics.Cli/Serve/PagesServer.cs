using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PagesAnalytics.Store;

namespace PagesAnalytics.Cli.Serve;

/// <summary>
/// <c>pages serve</c>'s Kestrel host: one endpoint, <c>GET /</c>, answered by <see cref="ServeHandler"/> from the store.
/// Bare Kestrel (no configuration files, environment variables or logging providers), so what it does is what the
/// options say; the handler writes the only log, one line per request.
/// </summary>
internal sealed class PagesServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ServeHandler _handler;

    private PagesServer(WebApplication app, ServeHandler handler, Uri url)
    {
        _app = app;
        _handler = handler;
        Url = url;
    }

    /// <summary>The base address actually bound (the free port when 0 was asked for), ending in <c>/</c>.</summary>
    public Uri Url { get; }

    /// <summary>Requests being answered right now.</summary>
    public int ActiveRequests => _handler.ActiveRequests;

    /// <summary>DuckDB sessions opened so far; every other request reused one.</summary>
    public int SessionsOpened => _handler.SessionsOpened;

    /// <summary>Requests whose <c>stats.pages</c> came from the cache, and those that ran the count.</summary>
    public (long Hits, long Misses) StatsCacheCounts => _handler.StatsCacheCounts;

    /// <summary>Binds and starts answering; throws <see cref="PagesUsageException"/> for bad options, <see cref="IOException"/> when the port is taken.</summary>
    public static async Task<PagesServer> StartAsync(PagesStore store, ServeOptions options, TextWriter log, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        var address = options.Validate();
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "pages" });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(address, options.Port);
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(5));
        // The default console lifetime would take SIGINT/SIGTERM and stop the host behind the command's back (leaving the
        // process waiting); `pages serve` handles the signals itself and disposes the server.
        builder.Services.AddSingleton<IHostLifetime, CallerOwnedLifetime>();
        var handler = new ServeHandler(options, new SessionPool(store, options.MaxIdleSessions), log);
        WebApplication? app = null;
        try
        {
            app = builder.Build();
            app.Run(handler.HandleAsync);
            await app.StartAsync(ct).ConfigureAwait(false);
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            var url = new Uri(addresses.First().TrimEnd('/') + "/");
            return new PagesServer(app, handler, url);
        }
        catch
        {
            if (app is not null)
            {
                await app.DisposeAsync().ConfigureAwait(false);
            }
            handler.Dispose();
            throw;
        }
    }

    /// <summary>Stops accepting, lets requests in flight finish (up to 5 s) and closes the sessions.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
            _handler.Dispose();
        }
    }
}

/// <summary>A host lifetime that listens to no signals: whoever started the server stops it.</summary>
internal sealed class CallerOwnedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
