using System.Data.Common;
using DuckDB.NET.Data;

namespace PagesAnalytics.Query;

/// <summary>Creates commands whose <c>$1</c>.. placeholders are bound, in order, to compiled parameter values.</summary>
internal static class DuckDbCommands
{
    public static DbCommand Create(DbConnection connection, string sql, IReadOnlyList<object?> parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var value in parameters)
        {
            command.Parameters.Add(value is null ? new DuckDBParameter { Value = DBNull.Value } : new DuckDBParameter(value));
        }
        return command;
    }
}
