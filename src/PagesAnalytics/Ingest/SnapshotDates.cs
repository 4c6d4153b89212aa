using System.Globalization;
using System.Text.RegularExpressions;

namespace PagesAnalytics.Ingest;

/// <summary>Finds the date a response was fetched in its path: <c>YYYY-MM-DD</c> or <c>YYYYMMDD</c>.</summary>
public static partial class SnapshotDates
{
    [GeneratedRegex(@"(?<![0-9])((?:19|20)[0-9]{2})(-?)([01][0-9])\2([0-3][0-9])(?![0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex DatePattern();

    /// <summary>The last valid date in the path (file name first, then folders), or null.</summary>
    public static DateOnly? FromPath(string path)
    {
        DateOnly? found = null;
        foreach (Match match in DatePattern().Matches(path.Replace('\\', '/')))
        {
            if (DateOnly.TryParseExact(match.Groups[1].Value + match.Groups[3].Value + match.Groups[4].Value, "yyyyMMdd",
                CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                found = date;
            }
        }
        return found;
    }
}
