using System.Text;
using System.Text.RegularExpressions;

namespace PagesAnalytics.Ingest;

/// <summary>Shell-style file patterns: <c>*</c> and <c>?</c> within one path segment, <c>**</c> across segments, <c>[abc]</c> sets.</summary>
public static class Glob
{
    /// <summary>True when the text holds a wildcard.</summary>
    public static bool IsPattern(string text) => text.AsSpan().IndexOfAny("*?[") >= 0;

    /// <summary>Files matching the pattern (relative patterns from the current directory).</summary>
    public static IReadOnlyList<string> Match(string pattern)
    {
        string normalized = pattern.Replace('\\', '/');
        var segments = normalized.Split('/');
        int firstWild = System.Array.FindIndex(segments, IsPattern);
        string root = string.Join('/', segments[..firstWild]);
        if (root.Length == 0)
        {
            root = normalized.StartsWith('/') ? "/" : ".";
        }
        if (!Directory.Exists(root))
        {
            return [];
        }
        string rest = string.Join('/', segments[firstWild..]);
        var regex = new Regex("^" + ToRegex(rest) + "$", RegexOptions.CultureInvariant);
        bool deep = rest.Contains('/') || rest.Contains("**", StringComparison.Ordinal);
        var matches = new List<string>();
        foreach (var file in Directory.EnumerateFiles(root, "*", deep ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly))
        {
            string relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            if (regex.IsMatch(relative))
            {
                matches.Add(root == "." && !normalized.StartsWith("./", StringComparison.Ordinal) ? relative : Path.Combine(root, relative));
            }
        }
        return matches;
    }

    private static string ToRegex(string pattern)
    {
        var regex = new StringBuilder();
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            switch (c)
            {
                case '*' when i + 1 < pattern.Length && pattern[i + 1] == '*':
                    i++;
                    if (i + 1 < pattern.Length && pattern[i + 1] == '/')
                    {
                        i++;
                        regex.Append("(?:.*/)?"); // "**/" : any number of directories, including none
                    }
                    else
                    {
                        regex.Append(".*");
                    }
                    break;
                case '*':
                    regex.Append("[^/]*");
                    break;
                case '?':
                    regex.Append("[^/]");
                    break;
                case '[':
                    int close = pattern.IndexOf(']', i + 1);
                    if (close < 0)
                    {
                        regex.Append(@"\[");
                    }
                    else
                    {
                        var set = pattern[(i + 1)..close];
                        regex.Append('[').Append(set.StartsWith('!') ? "^" + Regex.Escape(set[1..]) : Regex.Escape(set)).Append(']');
                        i = close;
                    }
                    break;
                default:
                    regex.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }
        return regex.ToString();
    }
}
