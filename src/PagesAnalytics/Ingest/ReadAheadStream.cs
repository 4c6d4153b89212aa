using System.Buffers;
using System.Threading.Channels;

namespace PagesAnalytics.Ingest;

/// <summary>
/// Reads its inner stream on a task of its own, a few blocks ahead of the consumer, so that decompressing an input
/// (gzip, zstd, brotli: one core's work) overlaps with parsing it. The consumer sees exactly the inner stream's
/// bytes, in order, and an exception of the inner stream only after every byte before it, so positions in errors are
/// those of a direct read. <see cref="StopAsync"/> (or disposal) stops the task before the caller touches the inner
/// stream's own source again.
/// </summary>
internal sealed class ReadAheadStream : Stream
{
    private readonly Stream _inner;
    private readonly Channel<Block> _blocks;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _producer;
    private Block _current;
    private int _offset;
    private bool _ended;
    private bool _disposed;

    private readonly record struct Block(byte[]? Buffer, int Length, Exception? Error);

    public ReadAheadStream(Stream inner, int blockBytes = 1 << 20, int depth = 4)
    {
        _inner = inner;
        _blocks = Channel.CreateBounded<Block>(new BoundedChannelOptions(depth)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _producer = Task.Run(() => ProduceAsync(blockBytes));
    }

    private async Task ProduceAsync(int blockBytes)
    {
        var ct = _stop.Token;
        try
        {
            while (true)
            {
                var buffer = ArrayPool<byte>.Shared.Rent(blockBytes);
                int filled = 0;
                Exception? error = null;
                try
                {
                    // Fill the block (decoders return small pieces), but hand over what there is before an error.
                    while (filled < blockBytes)
                    {
                        int n = await _inner.ReadAsync(buffer.AsMemory(filled, blockBytes - filled), ct).ConfigureAwait(false);
                        if (n == 0)
                        {
                            break;
                        }
                        filled += n;
                    }
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return;
                }
                catch (Exception ex)
                {
                    error = ex;
                }
                if (filled > 0)
                {
                    await _blocks.Writer.WriteAsync(new Block(buffer, filled, null), ct).ConfigureAwait(false);
                }
                else
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
                if (error is not null)
                {
                    await _blocks.Writer.WriteAsync(new Block(null, 0, error), ct).ConfigureAwait(false);
                    return;
                }
                if (filled < blockBytes)
                {
                    return; // end of the inner stream
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopped by the consumer.
        }
        finally
        {
            _blocks.Writer.TryComplete();
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }
        while (_current.Buffer is null || _offset == _current.Length)
        {
            if (_current.Buffer is { } done)
            {
                ArrayPool<byte>.Shared.Return(done);
                _current = default;
            }
            if (_ended)
            {
                return 0;
            }
            if (!await _blocks.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                _ended = true;
                return 0;
            }
            var next = await _blocks.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (next.Error is { } error)
            {
                _ended = true;
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
            }
            _current = next;
            _offset = 0;
        }
        int count = Math.Min(buffer.Length, _current.Length - _offset);
        _current.Buffer.AsSpan(_offset, count).CopyTo(buffer.Span);
        _offset += count;
        return count;
    }

    public override int Read(Span<byte> buffer)
    {
        var rented = ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            int n = ReadAsync(rented.AsMemory(0, buffer.Length)).AsTask().GetAwaiter().GetResult();
            rented.AsSpan(0, n).CopyTo(buffer);
            return n;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Stops reading ahead and waits for the reading task; blocks it held are given back.</summary>
    public async Task StopAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }
        try
        {
            await _producer.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Its failure was handed to the consumer, or nobody will read any more.
        }
        while (_blocks.Reader.TryRead(out var left))
        {
            if (left.Buffer is { } buffer)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        if (_current.Buffer is { } current)
        {
            ArrayPool<byte>.Shared.Return(current);
            _current = default;
        }
        _ended = true;
    }

    public override async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        await StopAsync().ConfigureAwait(false);
        await _inner.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            StopAsync().GetAwaiter().GetResult();
            _inner.Dispose();
            _stop.Dispose();
        }
        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
