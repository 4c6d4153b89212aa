namespace PagesAnalytics.Store.Parquet;

// Enum values of the Parquet format (parquet.thrift), as written to page headers and the footer.

internal enum PhysicalType
{
    Int32 = 1,
    Int64 = 2,
    ByteArray = 6,
}

internal enum FieldRepetition
{
    Required = 0,
    Optional = 1,
}

internal enum ConvertedType
{
    Utf8 = 0,
    TimestampMillis = 9,
}

internal enum ParquetEncoding
{
    Plain = 0,
    Rle = 3,
    RleDictionary = 8,
}

internal enum CompressionCodec
{
    Uncompressed = 0,
    Snappy = 1,
    Zstd = 6,
}

internal enum PageType
{
    DataPage = 0,
    DictionaryPage = 2,
}

/// <summary>Field ids of the structs written, named as in parquet.thrift.</summary>
internal static class ThriftField
{
    public static class FileMetaData
    {
        public const short Version = 1, Schema = 2, NumRows = 3, RowGroups = 4, CreatedBy = 6, ColumnOrders = 7;
    }

    public static class SchemaElement
    {
        public const short Type = 1, RepetitionType = 3, Name = 4, NumChildren = 5, ConvertedType = 6, LogicalType = 10;
    }

    public static class LogicalType
    {
        public const short String = 1, Timestamp = 8;
    }

    public static class TimestampType
    {
        public const short IsAdjustedToUtc = 1, Unit = 2;
    }

    public static class TimeUnit
    {
        public const short Millis = 1;
    }

    public static class RowGroup
    {
        public const short Columns = 1, TotalByteSize = 2, NumRows = 3, FileOffset = 5, TotalCompressedSize = 6, Ordinal = 7;
    }

    public static class ColumnChunk
    {
        public const short FileOffset = 2, MetaData = 3;
    }

    public static class ColumnMetaData
    {
        public const short Type = 1, Encodings = 2, PathInSchema = 3, Codec = 4, NumValues = 5, TotalUncompressedSize = 6,
            TotalCompressedSize = 7, DataPageOffset = 9, DictionaryPageOffset = 11, Statistics = 12;
    }

    public static class Statistics
    {
        public const short NullCount = 3, MaxValue = 5, MinValue = 6;
    }

    public static class ColumnOrder
    {
        public const short TypeOrder = 1;
    }

    public static class PageHeader
    {
        public const short Type = 1, UncompressedPageSize = 2, CompressedPageSize = 3, DataPageHeader = 5,
            DictionaryPageHeader = 7;
    }

    public static class DataPageHeader
    {
        public const short NumValues = 1, Encoding = 2, DefinitionLevelEncoding = 3, RepetitionLevelEncoding = 4,
            Statistics = 5;
    }

    public static class DictionaryPageHeader
    {
        public const short NumValues = 1, Encoding = 2;
    }
}
