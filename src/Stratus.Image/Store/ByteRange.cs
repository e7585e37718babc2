using System.Buffers;
using System.Globalization;
using Stratus.Core.Http;

namespace Stratus.Image.Store;

/// <summary>HTTP byte ranges for downloads (one range, as Glance serves them), and the copy loop.</summary>
public static class ByteRange
{
    const int BufferSize = 1 << 20;

    /// <summary>(offset, count) of <c>Range: bytes=a-b</c> (or <c>a-</c>, <c>-n</c>); the whole file without one; 416 when unsatisfiable.</summary>
    public static (long Offset, long Count) Parse(string header, long size)
    {
        if (string.IsNullOrEmpty(header)) return (0, size);
        if (!header.StartsWith("bytes=", StringComparison.Ordinal) || header.Contains(',', StringComparison.Ordinal)) throw NotSatisfiable(size);
        var spec = header["bytes=".Length..].Trim();
        var dash = spec.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0) throw NotSatisfiable(size);
        var first = spec[..dash];
        var last = spec[(dash + 1)..];
        long start, end;
        if (first.Length == 0)
        {
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var suffix) || suffix == 0) throw NotSatisfiable(size);
            start = Math.Max(0, size - suffix);
            end = size - 1;
        }
        else
        {
            if (!long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out start)) throw NotSatisfiable(size);
            end = size - 1;
            if (last.Length > 0 && (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out end) || end < start)) throw NotSatisfiable(size);
            end = Math.Min(end, size - 1);
        }
        if (start >= size) throw NotSatisfiable(size);
        return (start, end - start + 1);
    }

    static OpenStackError NotSatisfiable(long size)
    {
        var e = new OpenStackError(416, "Requested Range Not Satisfiable", "The requested range is not satisfiable for this image.");
        e.Headers["Content-Range"] = $"bytes */{size}";
        return e;
    }

    public static async Task CopyAsync(Stream from, Stream to, long count, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (count > 0)
            {
                var n = await from.ReadAsync(buffer.AsMemory(0, (int)Math.Min(BufferSize, count)), ct);
                if (n == 0) throw new IOException("the image file is shorter than its recorded size");
                await to.WriteAsync(buffer.AsMemory(0, n), ct);
                count -= n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
