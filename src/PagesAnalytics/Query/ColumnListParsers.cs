namespace PagesAnalytics.Query;

/// <summary>Reads v2 <c>order_by</c>: <c>column[:asc|:desc]</c> separated by commas.</summary>
public static class OrderByParser
{
    private static readonly string[] Directions = ["asc", "desc"];

    /// <summary>
    /// Reads <paramref name="text"/>, e.g. <c>backlinks:desc,url</c>. Blanks around names, colons and commas are
    /// ignored; names and directions ignore case; the default direction is ascending. Unknown or repeated columns,
    /// unknown directions and empty items are <see cref="FilterException"/>s with clause <c>order_by</c>.
    /// </summary>
    /// <returns>The canonical column names with their direction, in order.</returns>
    public static IReadOnlyList<(string Column, bool Descending)> Parse(string text, FilterColumns columns)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(columns);
        var result = new List<(string Column, bool Descending)>();
        foreach (var item in ListItems.Split(text, "order_by"))
        {
            int colon = item.Text.IndexOf(':');
            string name = (colon < 0 ? item.Text : item.Text[..colon]).TrimEnd();
            if (name.Length == 0)
            {
                throw new FilterException("order_by", text, item.Position, "expected a column before ':'");
            }
            var column = ListItems.Resolve(name, item.Position, columns, text, "order_by");
            bool descending = false;
            if (colon >= 0)
            {
                string rest = item.Text[(colon + 1)..];
                int directionPosition = item.Position + colon + 1 + (rest.Length - rest.TrimStart().Length);
                string direction = rest.Trim();
                if (direction.Equals("desc", StringComparison.OrdinalIgnoreCase))
                {
                    descending = true;
                }
                else if (!direction.Equals("asc", StringComparison.OrdinalIgnoreCase))
                {
                    throw new FilterException("order_by", text, directionPosition,
                        direction.Length == 0 ? "expected asc or desc after ':'" : $"unknown direction '{direction}' (asc or desc)",
                        Suggestions.Nearest(direction, Directions));
                }
            }
            foreach (var (existing, _) in result)
            {
                if (existing == column.Name)
                {
                    throw new FilterException("order_by", text, item.Position, $"column '{column.Name}' is listed twice");
                }
            }
            result.Add((column.Name, descending));
        }
        return result;
    }
}

/// <summary>Reads v2 <c>select</c>: <c>*</c> or columns separated by commas.</summary>
public static class SelectParser
{
    /// <summary>
    /// Reads <paramref name="text"/>: <c>*</c> stands for <see cref="FilterColumns.Star"/> (for pages: the 19 API
    /// columns in the documented order) and may be combined with more columns (<c>*,host</c>). Names ignore case and
    /// come back in their canonical spelling. Unknown, repeated or empty items are <see cref="FilterException"/>s with
    /// clause <c>select</c>.
    /// </summary>
    public static IReadOnlyList<string> Parse(string text, FilterColumns columns)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(columns);
        var result = new List<string>();
        foreach (var item in ListItems.Split(text, "select"))
        {
            if (item.Text == "*")
            {
                foreach (var column in columns.Star)
                {
                    Add(column.Name, item.Position);
                }
                continue;
            }
            Add(ListItems.Resolve(item.Text, item.Position, columns, text, "select").Name, item.Position);
        }
        return result;

        void Add(string name, int position)
        {
            if (result.Contains(name))
            {
                throw new FilterException("select", text, position, $"column '{name}' is listed twice");
            }
            result.Add(name);
        }
    }
}

/// <summary>Comma-separated lists with the position of every trimmed item.</summary>
internal static class ListItems
{
    public readonly record struct Item(string Text, int Position);

    public static List<Item> Split(string text, string clause)
    {
        var items = new List<Item>();
        int start = 0;
        while (true)
        {
            int comma = text.IndexOf(',', start);
            int end = comma < 0 ? text.Length : comma;
            int from = start;
            while (from < end && char.IsWhiteSpace(text[from]))
            {
                from++;
            }
            int to = end;
            while (to > from && char.IsWhiteSpace(text[to - 1]))
            {
                to--;
            }
            if (to == from)
            {
                throw new FilterException(clause, text, from, comma < 0 && items.Count == 0 ? "empty list" : "empty item");
            }
            items.Add(new Item(text[from..to], from));
            if (comma < 0)
            {
                return items;
            }
            start = comma + 1;
        }
    }

    public static FilterColumn Resolve(string name, int position, FilterColumns columns, string text, string clause)
        => columns.Find(name) ?? throw new FilterException(clause, text, position, $"unknown column '{name}'", columns.Suggest(name));
}
