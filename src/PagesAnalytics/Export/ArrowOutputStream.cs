namespace PagesAnalytics.Export;

/// <summary>
/// A write-only, buffered view of a caller-owned output stream whose <see cref="Position"/> counts the bytes written
/// through it. File writers record offsets from <see cref="Stream.Position"/> (Parquet column chunks, Arrow IPC
/// footer blocks) and <c>ArrowFileWriter</c> refuses streams that cannot seek; this wrapper gives both of them offsets
/// that start at 0 whatever the inner stream is (a pipe, stdout, or a file that already holds bytes).
/// Disposing it flushes, but never closes the inner stream.
/// </summary>
internal sealed class ArrowOutputStream : Stream
{
    /// <summary>Writes at least this large bypass the buffer.</summary>
    internal const int BufferSize = 1 << 16;

    private readonly Stream _inner;
    private byte[] _buffer = new byte[BufferSize];
    private int _buffered;
    private long _written;

    public ArrowOutputStream(Stream inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (!inner.CanWrite)
        {
            throw new ArgumentException("the output stream is not writable.", nameof(inner));
        }
        _inner = inner;
    }

    public override bool CanRead => false;

    // True only so writers accept it: Position works, Seek does not (writers never seek back).
    public override bool CanSeek => true;

    public override bool CanWrite => true;

    public override long Length => _written;

    public override long Position
    {
        get => _written;
        set => throw new NotSupportedException("the export output only moves forward.");
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_buffered + buffer.Length > _buffer.Length)
        {
            FlushBuffer();
        }
        if (buffer.Length >= _buffer.Length)
        {
            _inner.Write(buffer);
        }
        else
        {
            buffer.CopyTo(_buffer.AsSpan(_buffered));
            _buffered += buffer.Length;
        }
        _written += buffer.Length;
    }

    public override void WriteByte(byte value)
    {
        if (_buffered == _buffer.Length)
        {
            FlushBuffer();
        }
        _buffer[_buffered++] = value;
        _written++;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_buffered + buffer.Length > _buffer.Length)
        {
            await FlushBufferAsync(cancellationToken).ConfigureAwait(false);
        }
        if (buffer.Length >= _buffer.Length)
        {
            await _inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            buffer.Span.CopyTo(_buffer.AsSpan(_buffered));
            _buffered += buffer.Length;
        }
        _written += buffer.Length;
    }

    public override void Flush()
    {
        FlushBuffer();
        _inner.Flush();
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await FlushBufferAsync(cancellationToken).ConfigureAwait(false);
        await _inner.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public override int Read(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("the export output is write-only.");

    public override long Seek(long offset, SeekOrigin origin) =>
        throw new NotSupportedException("the export output only moves forward.");

    public override void SetLength(long value) =>
        throw new NotSupportedException("the export output only moves forward.");

    /// <summary>Drops the buffer without writing it: used when an export is abandoned.</summary>
    public void Abandon()
    {
        _buffered = 0;
        _buffer = [];
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && _buffer.Length > 0)
        {
            FlushBuffer();
            _buffer = [];
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (_buffer.Length > 0)
        {
            await FlushBufferAsync(CancellationToken.None).ConfigureAwait(false);
            _buffer = [];
        }
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private void FlushBuffer()
    {
        if (_buffered > 0)
        {
            _inner.Write(_buffer, 0, _buffered);
            _buffered = 0;
        }
    }

    private async ValueTask FlushBufferAsync(CancellationToken cancellationToken)
    {
        if (_buffered > 0)
        {
            await _inner.WriteAsync(_buffer.AsMemory(0, _buffered), cancellationToken).ConfigureAwait(false);
            _buffered = 0;
        }
    }
}
