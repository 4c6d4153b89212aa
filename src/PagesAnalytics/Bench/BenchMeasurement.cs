using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace PagesAnalytics.Bench;

/// <summary>
/// What a benchmark child process reports about itself as its last stderr line, in a machine-readable form:
/// <c>BENCH rows=1000000 work_s=1.234 peak_rss_kb=181234 alloc_bytes=5123456 output_bytes=... detail=...</c>
/// (<c>detail</c>, free text, always last).
/// </summary>
/// <param name="Rows">Rows the workload saw (tokens for the token scan).</param>
/// <param name="WorkSeconds">Time of the workload itself, without process start-up.</param>
/// <param name="PeakRssKb">The process's peak resident set (VmHWM), in KiB.</param>
/// <param name="AllocatedBytes">Managed bytes allocated by the process during the workload.</param>
/// <param name="OutputBytes">Bytes written, when the workload writes.</param>
/// <param name="Detail">Free text (e.g. the DuckDB version), or null.</param>
public sealed record BenchMeasurement(long Rows, double WorkSeconds, long PeakRssKb, long AllocatedBytes, long? OutputBytes, string? Detail)
{
    /// <summary>The first word of the line.</summary>
    public const string Prefix = "BENCH ";

    /// <summary>The line to write to stderr.</summary>
    public string Format()
    {
        var line = new StringBuilder(Prefix);
        line.Append(CultureInfo.InvariantCulture, $"rows={Rows} work_s={WorkSeconds:F6} peak_rss_kb={PeakRssKb} alloc_bytes={AllocatedBytes}");
        if (OutputBytes is { } output)
        {
            line.Append(CultureInfo.InvariantCulture, $" output_bytes={output}");
        }
        if (!string.IsNullOrEmpty(Detail))
        {
            line.Append(" detail=").Append(Detail.ReplaceLineEndings(" "));
        }
        return line.ToString();
    }

    /// <summary>Finds the last <c>BENCH</c> line of a child's stderr; null when there is none or it is malformed.</summary>
    public static BenchMeasurement? FindIn(string stderr)
    {
        ArgumentNullException.ThrowIfNull(stderr);
        BenchMeasurement? found = null;
        foreach (var line in stderr.AsSpan().EnumerateLines())
        {
            if (line.StartsWith(Prefix, StringComparison.Ordinal) && TryParse(line.ToString(), out var parsed))
            {
                found = parsed;
            }
        }
        return found;
    }

    /// <summary>Reads one line written by <see cref="Format"/>.</summary>
    public static bool TryParse(string line, out BenchMeasurement measurement)
    {
        ArgumentNullException.ThrowIfNull(line);
        measurement = null!;
        if (!line.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }
        string text = line[Prefix.Length..];
        string? detail = null;
        int at = text.IndexOf(" detail=", StringComparison.Ordinal);
        if (at >= 0)
        {
            detail = text[(at + " detail=".Length)..];
            text = text[..at];
        }
        long? rows = null, peak = null, alloc = null, output = null;
        double? work = null;
        foreach (var pair in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                return false;
            }
            string value = pair[(eq + 1)..];
            switch (pair[..eq])
            {
                case "rows": rows = ParseLong(value); break;
                case "work_s": work = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double w) ? w : null; break;
                case "peak_rss_kb": peak = ParseLong(value); break;
                case "alloc_bytes": alloc = ParseLong(value); break;
                case "output_bytes": output = ParseLong(value); break;
            }
        }
        if (rows is null || work is null || peak is null || alloc is null)
        {
            return false;
        }
        measurement = new BenchMeasurement(rows.Value, work.Value, peak.Value, alloc.Value, output, detail);
        return true;
    }

    private static long? ParseLong(string text) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) ? value : null;
}

/// <summary>The current process's memory, as the kernel counts it.</summary>
public static class ProcessMemory
{
    /// <summary>
    /// Peak resident set size in KiB: <c>VmHWM</c> of <c>/proc/self/status</c> on Linux (the kernel's high-water mark, so
    /// no short spike is missed), else <see cref="Process.PeakWorkingSet64"/>.
    /// </summary>
    public static long PeakResidentKb()
    {
        const string Status = "/proc/self/status";
        if (File.Exists(Status))
        {
            foreach (string line in File.ReadLines(Status))
            {
                if (TryParseStatusLine(line, "VmHWM:", out long kb))
                {
                    return kb;
                }
            }
        }
        using var self = Process.GetCurrentProcess();
        return self.PeakWorkingSet64 / 1024;
    }

    /// <summary>Reads a <c>/proc/*/status</c> line such as <c>VmHWM:	  181234 kB</c>.</summary>
    internal static bool TryParseStatusLine(string line, string key, out long kb)
    {
        kb = 0;
        if (!line.StartsWith(key, StringComparison.Ordinal))
        {
            return false;
        }
        var value = line.AsSpan(key.Length).Trim();
        if (value.EndsWith(" kB", StringComparison.Ordinal))
        {
            value = value[..^3].TrimEnd();
        }
        return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out kb);
    }
}
