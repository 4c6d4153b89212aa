using System.Text;
using Apache.Arrow;
using PagesAnalytics.Ingest;
using PagesAnalytics.Schema;
using PagesAnalytics.Tests.Support;
using Xunit;

namespace PagesAnalytics.Tests.Ingest;

/// <summary>
/// <see cref="PageBatchBuilder"/> starts with room for <see cref="PageBatchBuilder.InitialRows"/> rows and doubles
/// up to its capacity, so a small response does not pay for a full batch. Growing must keep every row.
/// </summary>
public sealed class PageBatchBuilderTests
{
    private static void AddRow(PageBatchBuilder builder, int i)
    {
        builder.SetString(PagesSchema.Url, Encoding.UTF8.GetBytes($"http://x/{i}"));
        if (i % 3 == 0)
        {
            builder.SetString(PagesSchema.Title, Encoding.UTF8.GetBytes(new string('t', i % 50)));
        }
        if (i % 5 != 0)
        {
            builder.SetInt32(PagesSchema.HttpCode, 200 + (i % 7));
        }
        builder.SetInt64(PagesSchema.Backlinks, i * 1_000_003L);
        if (i % 4 == 0)
        {
            builder.SetNull(PagesSchema.RedirectUrl);
        }
        builder.SetInt64(PagesSchema.FirstSeen, i * 1_000_000L);
        builder.EndRow(i);
    }

    private static object?[] ExpectedRow(int i, int sourceId)
    {
        var row = new object?[PagesSchema.Columns.Count];
        row[PagesSchema.Url] = $"http://x/{i}";
        row[PagesSchema.Title] = i % 3 == 0 ? new string('t', i % 50) : null;
        row[PagesSchema.HttpCode] = i % 5 != 0 ? 200 + (i % 7) : null;
        row[PagesSchema.Backlinks] = i * 1_000_003L;
        row[PagesSchema.FirstSeen] = DateTimeOffset.UnixEpoch.AddTicks(i * 10_000_000L);
        row[PagesSchema.SourceIdIndex] = sourceId;
        row[PagesSchema.RowOrdinalIndex] = (long)i;
        return row;
    }

    [Theory]
    [InlineData(1, 5)]
    [InlineData(1000, 2500)]
    [InlineData(1024, 1024)]
    [InlineData(1025, 3000)]
    [InlineData(5000, 12_345)]
    [InlineData(65_536, 70_000)]
    public void Rows_survive_growing_and_batches_are_cut_at_the_capacity(int capacity, int rows)
    {
        var builder = new PageBatchBuilder(capacity, sourceId: 9);
        var batches = new List<RecordBatch>();
        for (int i = 0; i < rows; i++)
        {
            AddRow(builder, i);
            if (builder.IsFull)
            {
                batches.Add(builder.Build());
            }
        }
        if (builder.Count > 0)
        {
            batches.Add(builder.Build());
        }
        Assert.All(batches.SkipLast(1), b => Assert.Equal(capacity, b.Length));
        var actual = new List<object?[]>();
        foreach (var batch in batches)
        {
            using (batch)
            {
                actual.AddRange(TestData.ToRows(batch));
            }
        }
        var expected = Enumerable.Range(0, rows).Select(i => ExpectedRow(i, 9)).ToList();
        Assert.Equal(TestData.Dump(expected), TestData.Dump(actual));
    }
}
