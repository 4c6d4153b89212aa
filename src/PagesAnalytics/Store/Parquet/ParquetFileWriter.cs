using Apache.Arrow;
using PagesAnalytics.Schema;

namespace PagesAnalytics.Store.Parquet;

/// <summary>
/// Writes record batches of <see cref="PagesSchema.ArrowSchema"/> as a Parquet file: <c>PAR1</c>, row groups of
/// column chunks of data pages, the Thrift compact footer, its length, <c>PAR1</c>.
/// </summary>
/// <remarks>
/// Batches are encoded into compressed pages as they arrive, in segments of <c>minRowGroupRows</c> rows (a page
/// never crosses a segment). A row group is written once two segments are full, leaving the newer one behind so
/// that a short tail can still join it: every group has exactly <c>minRowGroupRows</c> rows except the last, which
/// has up to twice that many. Only compressed pages are held, about two row groups' worth. The batches are
/// validated by the caller. Not thread-safe.
/// </remarks>
internal sealed class ParquetFileWriter : IDisposable
{
    /// <summary>The footer's created_by, in the format the specification asks for.</summary>
    public const string CreatedBy = "PagesAnalytics version 1.0.0";

    private const int FormatVersion = 1;

    private readonly Stream _stream;
    private readonly int _minRowGroupRows;
    private readonly EncoderScratch _scratch;
    private readonly ColumnEncoder[] _encoders;
    private readonly ChunkStatistics[] _chunkStatistics;
    private readonly List<Segment> _full = [];
    private readonly Stack<Segment> _spare = new();
    private readonly List<RowGroupMetadata> _rowGroups = [];
    private readonly ByteBuffer _buffer = new();
    private Segment _open;
    private long _position;
    private long _rows;

    private ParquetFileWriter(Stream stream, int minRowGroupRows, PageCompressor compressor)
    {
        _stream = stream;
        _minRowGroupRows = minRowGroupRows;
        _scratch = new EncoderScratch(compressor);
        var columns = PagesSchema.Columns;
        _encoders = new ColumnEncoder[columns.Count];
        _chunkStatistics = new ChunkStatistics[columns.Count];
        for (int c = 0; c < columns.Count; c++)
        {
            _encoders[c] = ColumnEncoder.Create(columns[c], _scratch);
            _chunkStatistics[c] = new ChunkStatistics(_encoders[c].Order);
        }
        _open = NewSegment();
    }

    /// <summary>Starts a Parquet file at the current position of <paramref name="stream"/> (written from its start).</summary>
    public static async Task<ParquetFileWriter> CreateAsync(Stream stream, int minRowGroupRows, PartCompression compression,
        int zstdLevel, CancellationToken ct)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("the Parquet writer copies Arrow buffers as little-endian values.");
        }
        var writer = new ParquetFileWriter(stream, minRowGroupRows, PageCompressor.Create(compression, zstdLevel));
        try
        {
            await writer.WriteAsync("PAR1"u8.ToArray(), ct).ConfigureAwait(false);
        }
        catch
        {
            writer.Dispose();
            throw;
        }
        return writer;
    }

    /// <summary>Encodes the rows of <paramref name="batch"/> and writes every row group that is due.</summary>
    public async Task WriteAsync(RecordBatch batch, CancellationToken ct)
    {
        int length = batch.Length;
        int offset = 0;
        while (offset < length)
        {
            int take = Math.Min(length - offset, _minRowGroupRows - _open.Rows);
            for (int c = 0; c < _encoders.Length; c++)
            {
                _encoders[c].Encode((Apache.Arrow.Array)batch.Column(c), offset, take, _open.Columns[c]);
            }
            _open.Rows += take;
            _rows += take;
            offset += take;
            if (_open.Rows == _minRowGroupRows)
            {
                _full.Add(_open);
                _open = _spare.Count > 0 ? _spare.Pop() : NewSegment();
                if (_full.Count == 2)
                {
                    await WriteRowGroupAsync(1, ct).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>Writes the remaining rows as the last row group, then the footer. Does not flush or close the stream.</summary>
    public async Task CompleteAsync(CancellationToken ct)
    {
        if (_open.Rows > 0)
        {
            _full.Add(_open);
            _open = _spare.Count > 0 ? _spare.Pop() : NewSegment();
        }
        if (_full.Count > 0)
        {
            await WriteRowGroupAsync(_full.Count, ct).ConfigureAwait(false);
        }
        _buffer.Clear();
        var thrift = _scratch.Thrift;
        thrift.Retarget(_buffer);
        WriteFileMetaData(thrift);
        _buffer.WriteInt32LittleEndian(_buffer.Length);
        _buffer.Write("PAR1"u8);
        await WriteAsync(_buffer.WrittenMemory, ct).ConfigureAwait(false);
    }

    public void Dispose()
    {
        foreach (var segment in _full)
        {
            segment.Release();
        }
        _full.Clear();
        while (_spare.Count > 0)
        {
            _spare.Pop().Release();
        }
        _open.Release();
        foreach (var encoder in _encoders)
        {
            encoder.Release();
        }
        foreach (var statistics in _chunkStatistics)
        {
            statistics.Release();
        }
        _buffer.Release();
        _scratch.Compressor.Dispose();
        _scratch.Dispose();
    }

    private Segment NewSegment()
    {
        var columns = new ColumnPages[_encoders.Length];
        for (int c = 0; c < columns.Length; c++)
        {
            columns[c] = new ColumnPages(_encoders[c].Order);
        }
        return new Segment(columns);
    }

    /// <summary>Writes the first <paramref name="segmentCount"/> full segments as one row group and recycles them.</summary>
    private async Task WriteRowGroupAsync(int segmentCount, CancellationToken ct)
    {
        var group = new RowGroupMetadata(_encoders.Length) { FileOffset = _position };
        for (int s = 0; s < segmentCount; s++)
        {
            group.NumRows += _full[s].Rows;
        }
        for (int c = 0; c < _encoders.Length; c++)
        {
            var encoder = _encoders[c];
            var statistics = _chunkStatistics[c];
            statistics.Reset();
            long chunkStart = _position;
            long uncompressed = 0;
            bool dictionaryPages = false;
            bool plainPages = false;
            for (int s = 0; s < segmentCount; s++)
            {
                dictionaryPages |= _full[s].Columns[c].HasDictionaryPages;
                plainPages |= _full[s].Columns[c].HasPlainPages;
            }

            long dictionaryOffset = -1;
            if (dictionaryPages)
            {
                dictionaryOffset = _position;
                uncompressed += BuildDictionaryPage(encoder.Dictionary!);
                await WriteAsync(_buffer.WrittenMemory, ct).ConfigureAwait(false);
            }
            long dataOffset = _position;
            for (int s = 0; s < segmentCount; s++)
            {
                var pages = _full[s].Columns[c];
                await WriteAsync(pages.Bytes.WrittenMemory, ct).ConfigureAwait(false);
                uncompressed += pages.UncompressedBytes;
                statistics.Merge(pages.Statistics);
            }

            var (min, max) = statistics.ToBytes();
            group.Columns[c] = new ColumnChunkMetadata
            {
                Column = encoder.Column,
                PhysicalType = encoder.PhysicalType,
                Codec = _scratch.Compressor.Codec,
                NumValues = group.NumRows,
                TotalUncompressedSize = uncompressed,
                TotalCompressedSize = _position - chunkStart,
                DataPageOffset = dataOffset,
                DictionaryPageOffset = dictionaryOffset,
                PlainEncoded = plainPages || dictionaryPages, // a dictionary page is PLAIN too
                DictionaryEncoded = dictionaryPages,
                NullCount = statistics.NullCount,
                Min = min,
                Max = max,
            };
            group.TotalByteSize += uncompressed;
        }
        group.TotalCompressedSize = _position - group.FileOffset;
        _rowGroups.Add(group);
        // A written row group reaches the OS at once (not only the stream's buffer), as with the previous writer.
        await _stream.FlushAsync(ct).ConfigureAwait(false);

        for (int s = 0; s < segmentCount; s++)
        {
            var segment = _full[s];
            segment.Reset();
            _spare.Push(segment);
        }
        _full.RemoveRange(0, segmentCount);
        for (int c = 0; c < _encoders.Length; c++)
        {
            bool pending = _open.Columns[c].HasDictionaryPages;
            foreach (var segment in _full)
            {
                pending |= segment.Columns[c].HasDictionaryPages;
            }
            _encoders[c].RowGroupWritten(pending);
        }
    }

    /// <summary>Puts the dictionary page (header + compressed PLAIN entries) in <see cref="_buffer"/>; returns its uncompressed size.</summary>
    private int BuildDictionaryPage(Utf8Dictionary dictionary)
    {
        ReadOnlySpan<byte> body = dictionary.PlainBytes;
        var compressor = _scratch.Compressor;
        ReadOnlySpan<byte> compressed = body;
        if (compressor.Codec != CompressionCodec.Uncompressed)
        {
            Span<byte> destination = _scratch.Compressed.GetSpan(compressor.MaxCompressedLength(body.Length));
            compressed = destination[..compressor.Compress(body, destination)];
        }
        _buffer.Clear();
        var thrift = _scratch.Thrift;
        thrift.Retarget(_buffer);
        thrift.BeginStruct();
        thrift.I32Field(ThriftField.PageHeader.Type, (int)PageType.DictionaryPage);
        thrift.I32Field(ThriftField.PageHeader.UncompressedPageSize, body.Length);
        thrift.I32Field(ThriftField.PageHeader.CompressedPageSize, compressed.Length);
        thrift.StructField(ThriftField.PageHeader.DictionaryPageHeader);
        thrift.I32Field(ThriftField.DictionaryPageHeader.NumValues, dictionary.Count);
        thrift.I32Field(ThriftField.DictionaryPageHeader.Encoding, (int)ParquetEncoding.Plain);
        thrift.EndStruct();
        thrift.EndStruct();
        int headerLength = _buffer.Length;
        _buffer.Write(compressed);
        return headerLength + body.Length;
    }

    private void WriteFileMetaData(ThriftCompactWriter thrift)
    {
        var columns = PagesSchema.Columns;
        thrift.BeginStruct();
        thrift.I32Field(ThriftField.FileMetaData.Version, FormatVersion);

        thrift.ListField(ThriftField.FileMetaData.Schema, ThriftCompactWriter.TypeStruct, columns.Count + 1);
        thrift.BeginStruct();
        thrift.StringField(ThriftField.SchemaElement.Name, "schema");
        thrift.I32Field(ThriftField.SchemaElement.NumChildren, columns.Count);
        thrift.EndStruct();
        for (int c = 0; c < columns.Count; c++)
        {
            WriteSchemaElement(thrift, columns[c], _encoders[c].PhysicalType);
        }

        thrift.I64Field(ThriftField.FileMetaData.NumRows, _rows);

        thrift.ListField(ThriftField.FileMetaData.RowGroups, ThriftCompactWriter.TypeStruct, _rowGroups.Count);
        for (int g = 0; g < _rowGroups.Count; g++)
        {
            WriteRowGroup(thrift, _rowGroups[g], g);
        }

        thrift.StringField(ThriftField.FileMetaData.CreatedBy, CreatedBy);

        // TypeDefinedOrder for every leaf: without column_orders, min_value/max_value have no defined meaning.
        thrift.ListField(ThriftField.FileMetaData.ColumnOrders, ThriftCompactWriter.TypeStruct, columns.Count);
        for (int c = 0; c < columns.Count; c++)
        {
            thrift.BeginStruct();
            thrift.EmptyStructField(ThriftField.ColumnOrder.TypeOrder);
            thrift.EndStruct();
        }
        thrift.EndStruct();
    }

    private static void WriteSchemaElement(ThriftCompactWriter thrift, PageColumn column, PhysicalType type)
    {
        thrift.BeginStruct();
        thrift.I32Field(ThriftField.SchemaElement.Type, (int)type);
        thrift.I32Field(ThriftField.SchemaElement.RepetitionType,
            (int)(column.Nullable ? FieldRepetition.Optional : FieldRepetition.Required));
        thrift.StringField(ThriftField.SchemaElement.Name, column.Name);
        switch (column.Kind)
        {
            case ColumnKind.Utf8:
                thrift.I32Field(ThriftField.SchemaElement.ConvertedType, (int)ConvertedType.Utf8);
                thrift.StructField(ThriftField.SchemaElement.LogicalType);
                thrift.EmptyStructField(ThriftField.LogicalType.String);
                thrift.EndStruct();
                break;
            case ColumnKind.Timestamp:
                // TIMESTAMP(isAdjustedToUTC=true, MILLIS): DuckDB reads it as TIMESTAMP WITH TIME ZONE.
                thrift.I32Field(ThriftField.SchemaElement.ConvertedType, (int)ConvertedType.TimestampMillis);
                thrift.StructField(ThriftField.SchemaElement.LogicalType);
                thrift.StructField(ThriftField.LogicalType.Timestamp);
                thrift.BoolField(ThriftField.TimestampType.IsAdjustedToUtc, true);
                thrift.StructField(ThriftField.TimestampType.Unit);
                thrift.EmptyStructField(ThriftField.TimeUnit.Millis);
                thrift.EndStruct();
                thrift.EndStruct();
                thrift.EndStruct();
                break;
        }
        thrift.EndStruct();
    }

    private static void WriteRowGroup(ThriftCompactWriter thrift, RowGroupMetadata group, int ordinal)
    {
        thrift.BeginStruct();
        thrift.ListField(ThriftField.RowGroup.Columns, ThriftCompactWriter.TypeStruct, group.Columns.Length);
        foreach (var chunk in group.Columns)
        {
            WriteColumnChunk(thrift, chunk);
        }
        thrift.I64Field(ThriftField.RowGroup.TotalByteSize, group.TotalByteSize);
        thrift.I64Field(ThriftField.RowGroup.NumRows, group.NumRows);
        thrift.I64Field(ThriftField.RowGroup.FileOffset, group.FileOffset);
        thrift.I64Field(ThriftField.RowGroup.TotalCompressedSize, group.TotalCompressedSize);
        if (ordinal <= short.MaxValue)
        {
            thrift.I16Field(ThriftField.RowGroup.Ordinal, (short)ordinal);
        }
        thrift.EndStruct();
    }

    private static void WriteColumnChunk(ThriftCompactWriter thrift, ColumnChunkMetadata chunk)
    {
        thrift.BeginStruct();
        // 0: no ColumnMetaData is written outside the footer (the field is deprecated; the pages' positions are in
        // data_page_offset / dictionary_page_offset).
        thrift.I64Field(ThriftField.ColumnChunk.FileOffset, 0);
        thrift.StructField(ThriftField.ColumnChunk.MetaData);
        thrift.I32Field(ThriftField.ColumnMetaData.Type, (int)chunk.PhysicalType);
        int encodings = 1 + (chunk.PlainEncoded ? 1 : 0) + (chunk.DictionaryEncoded ? 1 : 0);
        thrift.ListField(ThriftField.ColumnMetaData.Encodings, ThriftCompactWriter.TypeI32, encodings);
        if (chunk.PlainEncoded)
        {
            thrift.I32Value((int)ParquetEncoding.Plain);
        }
        thrift.I32Value((int)ParquetEncoding.Rle); // definition levels
        if (chunk.DictionaryEncoded)
        {
            thrift.I32Value((int)ParquetEncoding.RleDictionary);
        }
        thrift.ListField(ThriftField.ColumnMetaData.PathInSchema, ThriftCompactWriter.TypeBinary, 1);
        thrift.StringValue(chunk.Column.Name);
        thrift.I32Field(ThriftField.ColumnMetaData.Codec, (int)chunk.Codec);
        thrift.I64Field(ThriftField.ColumnMetaData.NumValues, chunk.NumValues);
        thrift.I64Field(ThriftField.ColumnMetaData.TotalUncompressedSize, chunk.TotalUncompressedSize);
        thrift.I64Field(ThriftField.ColumnMetaData.TotalCompressedSize, chunk.TotalCompressedSize);
        thrift.I64Field(ThriftField.ColumnMetaData.DataPageOffset, chunk.DataPageOffset);
        if (chunk.DictionaryPageOffset >= 0)
        {
            thrift.I64Field(ThriftField.ColumnMetaData.DictionaryPageOffset, chunk.DictionaryPageOffset);
        }
        ChunkStatistics.Write(thrift, ThriftField.ColumnMetaData.Statistics, chunk.NullCount, chunk.Min is not null,
            chunk.Min, chunk.Max);
        thrift.EndStruct();
        thrift.EndStruct();
    }

    private async Task WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        await _stream.WriteAsync(bytes, ct).ConfigureAwait(false);
        _position += bytes.Length;
    }

    /// <summary>Up to <c>minRowGroupRows</c> rows of every column, encoded.</summary>
    private sealed class Segment(ColumnPages[] columns)
    {
        public ColumnPages[] Columns { get; } = columns;

        public int Rows { get; set; }

        public void Reset()
        {
            Rows = 0;
            foreach (var column in Columns)
            {
                column.Reset();
            }
        }

        public void Release()
        {
            Rows = 0;
            foreach (var column in Columns)
            {
                column.Release();
            }
        }
    }

    private sealed class RowGroupMetadata(int columns)
    {
        public ColumnChunkMetadata[] Columns { get; } = new ColumnChunkMetadata[columns];

        public long NumRows { get; set; }

        public long FileOffset { get; init; }

        public long TotalByteSize { get; set; }

        public long TotalCompressedSize { get; set; }
    }

    private sealed class ColumnChunkMetadata
    {
        public required PageColumn Column { get; init; }

        public required PhysicalType PhysicalType { get; init; }

        public required CompressionCodec Codec { get; init; }

        public required long NumValues { get; init; }

        public required long TotalUncompressedSize { get; init; }

        public required long TotalCompressedSize { get; init; }

        public required long DataPageOffset { get; init; }

        /// <summary>-1 without a dictionary page.</summary>
        public required long DictionaryPageOffset { get; init; }

        public required bool PlainEncoded { get; init; }

        public required bool DictionaryEncoded { get; init; }

        public required long NullCount { get; init; }

        public required byte[]? Min { get; init; }

        public required byte[]? Max { get; init; }
    }
}
