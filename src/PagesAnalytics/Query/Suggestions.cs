namespace PagesAnalytics.Query;

/// <summary>"Did you mean" for unknown names: the nearest candidate by edit distance, else by prefix.</summary>
internal static class Suggestions
{
    /// <summary>
    /// The candidate nearest to <paramref name="name"/> (case-insensitive optimal-string-alignment distance, so a swap of
    /// two neighbours costs 1) when the distance is at most max(2, length/3) and smaller than the name's length;
    /// otherwise the first candidate that starts with a name of 3+ characters; otherwise null. Ties go to the longer
    /// common prefix, then to the earlier candidate.
    /// </summary>
    public static string? Nearest(string name, IReadOnlyList<string> candidates)
    {
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }
        string lower = name.ToLowerInvariant();
        int limit = Math.Max(2, lower.Length / 3);
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            string other = candidate.ToLowerInvariant();
            int distance = Distance(lower, other);
            if (distance < bestDistance
                || (distance == bestDistance && CommonPrefix(lower, other) > CommonPrefix(lower, best!.ToLowerInvariant())))
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        if (best is not null && bestDistance <= limit && bestDistance < lower.Length)
        {
            return best;
        }
        if (lower.Length >= 3)
        {
            foreach (var candidate in candidates)
            {
                if (candidate.StartsWith(lower, StringComparison.OrdinalIgnoreCase))
                {
                    return candidate;
                }
            }
        }
        return null;
    }

    private static int CommonPrefix(string a, string b) => a.AsSpan().CommonPrefixLength(b);

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps cost 1.</summary>
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (int j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                int value = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    value = Math.Min(value, d[i - 2, j - 2] + 1);
                }
                d[i, j] = value;
            }
        }
        return d[a.Length, b.Length];
    }
}
