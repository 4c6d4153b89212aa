using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace PagesAnalytics.Benchmarks;

/// <summary>
/// The <c>Alloc/row</c> column: managed bytes allocated per operation (the <c>Allocated</c> column of
/// <c>[MemoryDiagnoser]</c>) divided by the benchmark's <c>Rows</c> parameter. Shown for classes that have one.
/// </summary>
internal sealed class AllocatedPerRowColumn : IColumn
{
    public const string RowsParameter = "Rows";

    public static readonly AllocatedPerRowColumn Instance = new();

    public string Id => nameof(AllocatedPerRowColumn);

    public string ColumnName => "Alloc/row";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Metric;

    public int PriorityInCategory => 10; // after Allocated and Alloc Ratio

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Managed bytes allocated per operation divided by the Rows parameter";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        long? allocated = summary[benchmarkCase]?.GcStats.GetBytesAllocatedPerOperation(benchmarkCase);
        if (allocated is not { } bytes || Rows(benchmarkCase) is not { } rows || rows <= 0)
        {
            return "-";
        }
        return (bytes / (double)rows).ToString("F2", CultureInfo.InvariantCulture) + " B";
    }

    public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(c => Rows(c) is not null);

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public override string ToString() => ColumnName;

    private static long? Rows(BenchmarkCase benchmarkCase)
    {
        foreach (var parameter in benchmarkCase.Parameters.Items)
        {
            if (parameter.Name == RowsParameter && parameter.Value is int or long)
            {
                return Convert.ToInt64(parameter.Value, CultureInfo.InvariantCulture);
            }
        }
        return null;
    }
}
