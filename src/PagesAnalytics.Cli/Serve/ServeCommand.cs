using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using PagesAnalytics.Store;

namespace PagesAnalytics.Cli.Serve;

/// <summary><c>pages serve</c>: a local, offline stand-in for the retired v2 endpoint, answering from the store.</summary>
internal static class ServeCommand
{
    public static Command Create(CliContext context, Option<string?> storeOption)
    {
        var host = new Option<string>("--host")
        {
            Description = "Address to bind: 127.0.0.1 (default), ::1, 0.0.0.0 (every interface), localhost",
            DefaultValueFactory = _ => ServeOptions.DefaultHost,
        };
        var port = new Option<int>("--port")
        {
            Description = "TCP port; 0 picks a free one (the URL is printed on stderr)",
            DefaultValueFactory = _ => ServeOptions.DefaultPort,
        };
        var token = new Option<string?>("--token") { Description = "Require token=T on every request (401 otherwise); without it any token is accepted" };
        var maxLimit = new Option<long>("--max-limit")
        {
            Description = "Largest limit served; larger requests get this many rows and an X-Limit-Capped header",
            DefaultValueFactory = _ => ServeOptions.DefaultMaxLimit,
        };
        var maxQueries = new Option<int>("--max-queries")
        {
            Description = "Requests that run DuckDB at the same time, others wait (default: the number of cores; 0: no limit)",
            DefaultValueFactory = _ => Environment.ProcessorCount,
        };
        var command = new Command("serve", "Answer v2-style HTTP requests (GET /?from=pages_extended&target=...&output=json|xml|php) from the store")
        {
            host, port, token, maxLimit, maxQueries,
        };
        command.SetAction(async (parse, ct) =>
        {
            var options = new ServeOptions
            {
                Host = parse.GetValue(host) ?? ServeOptions.DefaultHost,
                Port = parse.GetValue(port),
                Token = parse.GetValue(token),
                MaxLimit = parse.GetValue(maxLimit),
                MaxQueries = parse.GetValue(maxQueries),
            };
            options.Validate();
            var store = PagesStore.Open(parse.GetValue(storeOption));
            var log = TextWriter.Synchronized(context.Stderr);
            await using var server = await PagesServer.StartAsync(store, options, log, ct).ConfigureAwait(false);
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"pages serve: listening on {server.Url} (store {store.Directory}; max limit {options.MaxLimit}; token {(options.Token is null ? "not required" : "required")}); Ctrl+C stops"));
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            using (PosixSignalRegistration.Create(PosixSignal.SIGINT, signal => Stop(signal, stop)))
            using (PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal => Stop(signal, stop)))
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    // Ctrl+C, SIGTERM or the caller's token: the normal way to stop.
                }
            }
            log.WriteLine("pages serve: stopping");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Stop(PosixSignalContext signal, CancellationTokenSource stop)
    {
        signal.Cancel = true; // stop in order (requests in flight finish) instead of the runtime's abrupt exit
        stop.Cancel();
    }
}
