using System.Buffers;
using System.Collections.Concurrent;
using System.Numerics;
using Apache.Arrow.Memory;

namespace PagesAnalytics.Ingest;

/// <summary>
/// Memory of the Arrow batches the readers build: arrays kept in a small pool of its own and given back when the
/// batch is disposed. Apache.Arrow's default allocator zero-fills every buffer before the builder overwrites it and
/// goes through malloc for each batch (measured on a 1M-row ingest: about 2% of the CPU time in the zeroing alone).
/// <see cref="ArrayPool{T}.Shared"/> does not suit either: batches are built on the parsing threads and disposed on
/// the writing thread, so its per-core caches keep filling on one side and missing on the other, and resident
/// memory crept up over a 10M-row ingest. This pool keeps at most <see cref="MaxRetainedBytes"/>, whatever the
/// threads; anything above is left to the GC. Only Arrow's padding (the last bytes past the values) is cleared.
/// </summary>
internal sealed class PooledBatchAllocator : MemoryAllocator
{
    /// <summary>Bytes of free arrays the pool keeps for reuse.</summary>
    public const long MaxRetainedBytes = 32L << 20;

    private const int MinBucketBits = 12; // 4 KiB
    private const int MaxBucketBits = 30; // 1 GiB: larger requests are not pooled

    /// <summary>The one instance.</summary>
    public static readonly PooledBatchAllocator Instance = new();

    private readonly ConcurrentStack<byte[]>[] _buckets;
    private long _retained;

    private PooledBatchAllocator()
        : base(DefaultAlignment)
    {
        _buckets = new ConcurrentStack<byte[]>[MaxBucketBits + 1];
        for (int i = 0; i < _buckets.Length; i++)
        {
            _buckets[i] = new ConcurrentStack<byte[]>();
        }
    }

    /// <summary>Bytes of free arrays held right now (for tests).</summary>
    internal long RetainedBytes => Interlocked.Read(ref _retained);

    protected override IMemoryOwner<byte> AllocateInternal(int length, out int bytesAllocated)
    {
        int bits = Math.Max(MinBucketBits, BitOperations.Log2((uint)Math.Max(1, length - 1)) + 1);
        byte[] array;
        if (bits > MaxBucketBits)
        {
            array = GC.AllocateUninitializedArray<byte>(length);
        }
        else if (_buckets[bits].TryPop(out var pooled))
        {
            Interlocked.Add(ref _retained, -pooled.Length);
            array = pooled;
        }
        else
        {
            array = GC.AllocateUninitializedArray<byte>(1 << bits);
        }
        // Arrow builders round buffers up to 64 bytes and copy only the values: keep the padding deterministic.
        int padding = Math.Min(length, DefaultAlignment);
        array.AsSpan(length - padding, padding).Clear();
        bytesAllocated = length;
        return new Rented(this, array, length);
    }

    private void Return(byte[] array)
    {
        int bits = BitOperations.Log2((uint)array.Length);
        if (array.Length != 1 << bits || bits < MinBucketBits || bits > MaxBucketBits)
        {
            return; // not one of ours to keep
        }
        if (Interlocked.Add(ref _retained, array.Length) > MaxRetainedBytes)
        {
            Interlocked.Add(ref _retained, -array.Length);
            return;
        }
        _buckets[bits].Push(array);
    }

    private sealed class Rented(PooledBatchAllocator pool, byte[] array, int length) : IMemoryOwner<byte>
    {
        private byte[]? _array = array;

        public Memory<byte> Memory => _array is { } held
            ? held.AsMemory(0, length)
            : throw new ObjectDisposedException(nameof(PooledBatchAllocator));

        public void Dispose()
        {
            var held = Interlocked.Exchange(ref _array, null);
            if (held is not null)
            {
                pool.Return(held);
            }
        }
    }
}
