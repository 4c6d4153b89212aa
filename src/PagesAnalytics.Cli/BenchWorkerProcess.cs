using System.Diagnostics;
using PagesAnalytics.Bench;

namespace PagesAnalytics.Cli;

/// <summary>Starts <c>pages bench worker ...</c> as a child process of this same build and times it from outside.</summary>
internal static class BenchWorkerProcess
{
    /// <summary>What one child did.</summary>
    public sealed record Outcome(int ExitCode, double WallSeconds, string Stderr)
    {
        /// <summary>The child's own report, or null when it wrote none (it failed).</summary>
        public BenchMeasurement? Measurement => BenchMeasurement.FindIn(Stderr);
    }

    /// <summary>Runs the worker with <paramref name="arguments"/> (after <c>bench worker</c>) and waits for it.</summary>
    public static async Task<Outcome> RunAsync(IReadOnlyList<string> arguments, CancellationToken ct)
    {
        var start = CreateStartInfo();
        start.ArgumentList.Add("bench");
        start.ArgumentList.Add(BenchWorkerCommand.Name);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = true;
        start.UseShellExecute = false;

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new PagesException($"could not start {start.FileName}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        clock.Stop();
        await stdout;
        return new Outcome(process.ExitCode, clock.Elapsed.TotalSeconds, await stderr);
    }

    /// <summary>
    /// The same build of <c>pages</c> as this process: the apphost when that is what runs, else <c>dotnet pages.dll</c>
    /// with the host that runs this process (or <c>$DOTNET_HOST_PATH</c>, or <c>dotnet</c> on the PATH, inside a test host).
    /// </summary>
    private static ProcessStartInfo CreateStartInfo()
    {
        string dll = typeof(BenchWorkerProcess).Assembly.Location;
        string? running = Environment.ProcessPath;
        string apphost = Path.Combine(Path.GetDirectoryName(dll)!, OperatingSystem.IsWindows() ? "pages.exe" : "pages");
        if (running is not null && string.Equals(Path.GetFullPath(running), Path.GetFullPath(apphost), StringComparison.Ordinal))
        {
            return new ProcessStartInfo(apphost);
        }
        string host = running is not null && Path.GetFileNameWithoutExtension(running) == "dotnet"
            ? running
            : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } fromSdk ? fromSdk : "dotnet";
        var start = new ProcessStartInfo(host);
        start.ArgumentList.Add(dll);
        return start;
    }
}
