using System.CommandLine;
using System.Globalization;
using System.IO.Compression;
using PagesAnalytics.Ingest;

namespace PagesAnalytics.Cli;

/// <summary><c>pages generate --rows N --out FILE [--seed S] [--pretty]</c></summary>
internal static class GenerateCommand
{
    public static Command Create(CliContext context)
    {
        var rows = new Option<long>("--rows") { Description = "Number of page rows", Required = true };
        var output = new Option<string>("--out") { Description = "File to write (- for stdout)", Required = true };
        var seed = new Option<int>("--seed") { Description = "Random seed", DefaultValueFactory = _ => GeneratorOptions.DefaultSeed };
        var pretty = new Option<bool>("--pretty") { Description = "Indent the JSON (one field per line)" };
        var host = new Option<string>("--host") { Description = "Site the URLs are on", DefaultValueFactory = _ => "example.com" };
        var compress = new Option<string>("--compress")
        {
            Description = "Compress the output: none, gzip, zstd, brotli",
            DefaultValueFactory = _ => "none",
        }.AcceptOnlyFromAmong("none", "gzip", "zstd", "brotli");
        var command = new Command("generate", "Write a realistic synthetic pages_extended response") { rows, output, seed, pretty, host, compress };
        command.SetAction(async (parse, ct) =>
        {
            long count = parse.GetValue(rows);
            if (count < 0)
            {
                throw new PagesUsageException("--rows must not be negative");
            }
            var options = new GeneratorOptions
            {
                Rows = count,
                Seed = parse.GetValue(seed),
                Pretty = parse.GetValue(pretty),
                Host = parse.GetValue(host) ?? "example.com",
            };
            string path = parse.GetValue(output)!;
            string compression = parse.GetValue(compress) ?? "none";
            GeneratorSummary summary;
            if (path == "-" && compression == "none")
            {
                summary = await ResponseGenerator.WriteAsync(context.Stdout, options, ct);
                await context.Stdout.FlushAsync(ct);
            }
            else if (compression == "none")
            {
                summary = await ResponseGenerator.WriteFileAsync(path, options, null, ct);
            }
            else
            {
                var file = path == "-" ? context.Stdout : new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
                try
                {
                    await using (var compressed = Compress(file, compression))
                    {
                        summary = await ResponseGenerator.WriteAsync(compressed, options, ct);
                    }
                }
                finally
                {
                    if (path != "-")
                    {
                        await file.DisposeAsync();
                    }
                }
            }
            context.Stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wrote {summary.Rows:N0} rows, {summary.Bytes:N0} bytes to {path}"));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Stream Compress(Stream output, string compression) => compression switch
    {
        "gzip" => new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true),
        "zstd" => new ZstdSharp.CompressionStream(output, level: 3, leaveOpen: true),
        _ => new BrotliStream(output, CompressionLevel.Fastest, leaveOpen: true),
    };
}
