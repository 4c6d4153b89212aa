namespace PagesAnalytics.Store;

/// <summary>
/// A test seam for crash-safety tests: when the environment variable <c>PAGES_TEST_PAUSE_AT</c> names a point
/// (<c>name</c> or <c>name:N</c> for its N-th occurrence), the process announces it on stderr and stops there until it
/// is killed. The points are the steps of the commit protocol: source-start, batch-written, part-complete,
/// parts-moved, record-temp, committed. Without the variable this costs one null check.
/// </summary>
internal static class CrashPoints
{
    public const string EnvironmentVariable = "PAGES_TEST_PAUSE_AT";

    private static readonly (string Name, int Occurrence)? Target = Parse(Environment.GetEnvironmentVariable(EnvironmentVariable));
    private static int _seen;

    public static void Hit(string name)
    {
        if (Target is not { } target || target.Name != name)
        {
            return;
        }
        if (Interlocked.Increment(ref _seen) != target.Occurrence)
        {
            return;
        }
        Console.Error.WriteLine($"{EnvironmentVariable}: paused at {name}:{target.Occurrence}");
        Console.Error.Flush();
        Thread.Sleep(Timeout.Infinite);
    }

    private static (string, int)? Parse(string? spec)
    {
        if (string.IsNullOrWhiteSpace(spec))
        {
            return null;
        }
        int colon = spec.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? (spec, 1) : (spec[..colon], int.Parse(spec[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }
}
