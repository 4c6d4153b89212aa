using System.Text;
using Apache.Arrow;
using PagesAnalytics.Ingest;
using PagesAnalytics.Schema;

namespace PagesAnalytics.Tests.Support;

/// <summary>Shared helpers: sample files, reading responses into plain rows, temp directories.</summary>
internal static class TestData
{
    public static string SamplePath(string name) => Path.Combine(AppContext.BaseDirectory, "sample-responses", name);

    public static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", name);

    public static byte[] Utf8(string json) => Encoding.UTF8.GetBytes(json);

    /// <summary>Reads a whole response into rows of boxed values (tests only; the product never does this).</summary>
    public static async Task<(List<object?[]> Rows, List<int> BatchSizes, ResponseReader Reader)> ReadAllAsync(
        Stream input, ResponseReaderOptions? options = null)
    {
        var reader = new ResponseReader(input, options);
        var rows = new List<object?[]>();
        var sizes = new List<int>();
        await foreach (var batch in reader.ReadBatchesAsync())
        {
            using (batch)
            {
                sizes.Add(batch.Length);
                rows.AddRange(ToRows(batch));
            }
        }
        return (rows, sizes, reader);
    }

    public static Task<(List<object?[]> Rows, List<int> BatchSizes, ResponseReader Reader)> ReadAllAsync(
        byte[] json, ResponseReaderOptions? options = null) => ReadAllAsync(new MemoryStream(json), options);

    public static List<object?[]> ToRows(RecordBatch batch)
    {
        var rows = new List<object?[]>(batch.Length);
        for (int r = 0; r < batch.Length; r++)
        {
            var row = new object?[PagesSchema.Columns.Count];
            for (int c = 0; c < row.Length; c++)
            {
                row[c] = batch.Column(c) switch
                {
                    StringArray s => s.IsNull(r) ? null : s.GetString(r),
                    TimestampArray t => t.IsNull(r) ? null : t.GetTimestamp(r),
                    Int32Array i => i.GetValue(r),
                    Int64Array l => l.GetValue(r),
                    var other => throw new InvalidOperationException($"unexpected array {other.GetType()}"),
                };
            }
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>One line per row, for comparing whole results in one assertion.</summary>
    public static string Dump(IEnumerable<object?[]> rows)
    {
        var text = new StringBuilder();
        foreach (var row in rows)
        {
            text.AppendJoin('|', row.Select(v => v switch
            {
                null => "NULL",
                DateTimeOffset d => d.ToUniversalTime().ToString("O"),
                _ => v.ToString(),
            })).Append('\n');
        }
        return text.ToString();
    }
}

/// <summary>A read-only stream that hands out its bytes in chunks no larger than given sizes.</summary>
internal sealed class ChunkedStream(byte[] data, params int[] chunkLimits) : Stream
{
    private int _position;
    private int _call;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int limit = chunkLimits.Length == 0 ? int.MaxValue : chunkLimits[Math.Min(_call, chunkLimits.Length - 1)];
        _call++;
        int n = Math.Min(Math.Min(buffer.Length, limit), data.Length - _position);
        data.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        => ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => Task.FromResult(Read(buffer.AsSpan(offset, count)));

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

/// <summary>A directory under the system temp folder, deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "pages-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
