using PagesAnalytics.Ingest;
using PagesAnalytics.Tests.Support;
using Xunit;

namespace PagesAnalytics.Tests.Ingest;

public sealed class ReadAheadStreamTests
{
    /// <summary>A stream that yields its bytes in small pieces, then fails (or ends).</summary>
    private sealed class FailingStream(byte[] data, int piece, Exception? failure) : Stream
    {
        private int _position;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_position == data.Length)
            {
                return failure is null ? 0 : throw failure;
            }
            int n = Math.Min(Math.Min(piece, buffer.Length), data.Length - _position);
            data.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => ValueTask.FromResult(Read(buffer.Span));

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static byte[] Data(int length) => Enumerable.Range(0, length).Select(i => (byte)(i * 31 + 7)).ToArray();

    [Theory]
    [InlineData(0, 7, 16)]
    [InlineData(1000, 7, 16)]
    [InlineData(100_000, 333, 4096)]
    [InlineData(100_000, 5000, 1000)]
    public async Task The_consumer_sees_every_byte_in_order(int length, int piece, int block)
    {
        var data = Data(length);
        await using var ahead = new ReadAheadStream(new FailingStream(data, piece, null), block, depth: 2);
        var copy = new MemoryStream();
        var buffer = new byte[977];
        int n;
        while ((n = await ahead.ReadAsync(buffer)) > 0)
        {
            copy.Write(buffer, 0, n);
        }
        Assert.Equal(data, copy.ToArray());
    }

    [Fact]
    public async Task An_error_comes_after_every_byte_before_it()
    {
        var data = Data(10_000);
        await using var ahead = new ReadAheadStream(new FailingStream(data, 100, new InvalidDataException("corrupt")), 4096, depth: 2);
        long read = 0;
        var buffer = new byte[1000];
        var error = await Assert.ThrowsAsync<InvalidDataException>(async () =>
        {
            int n;
            while ((n = await ahead.ReadAsync(buffer)) > 0)
            {
                read += n;
            }
        });
        Assert.Equal("corrupt", error.Message);
        Assert.Equal(data.Length, read);
    }

    [Fact]
    public async Task Stopping_early_releases_the_task()
    {
        var data = Data(1_000_000);
        var ahead = new ReadAheadStream(new FailingStream(data, 1000, null), 4096, depth: 2);
        var buffer = new byte[10];
        Assert.Equal(10, await ahead.ReadAsync(buffer));
        await ahead.StopAsync();
        Assert.Equal(0, await ahead.ReadAsync(buffer));
        await ahead.DisposeAsync();
    }
}
