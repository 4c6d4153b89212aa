using PagesAnalytics.Ingest;
using Xunit;

namespace PagesAnalytics.Tests.Ingest;

public sealed class PooledBatchAllocatorTests
{
    [Fact]
    public void Arrays_are_reused_padding_is_zero_and_a_second_dispose_is_harmless()
    {
        var pool = PooledBatchAllocator.Instance;
        var first = pool.Allocate(10_000);
        first.Memory.Span.Fill(0xAB);
        first.Dispose();
        first.Dispose(); // given back once only
        Assert.Throws<ObjectDisposedException>(() => first.Memory);

        using var second = pool.Allocate(9_000);
        Assert.Equal(9_000, second.Memory.Length);
        // The last 64 bytes (Arrow's padding) are cleared even when the array was used before.
        Assert.All(second.Memory.Span[^64..].ToArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void The_pool_keeps_no_more_than_its_cap()
    {
        var pool = PooledBatchAllocator.Instance;
        var owners = Enumerable.Range(0, 40).Select(_ => pool.Allocate(2 << 20)).ToList();
        foreach (var owner in owners)
        {
            owner.Dispose();
        }
        Assert.InRange(pool.RetainedBytes, 1, PooledBatchAllocator.MaxRetainedBytes);
    }
}
