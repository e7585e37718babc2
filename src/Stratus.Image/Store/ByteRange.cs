using System.Globalization;
using Stratus.Core.Http;

namespace Stratus.Image.Store;

/// <summary>HTTP byte ranges for downloads (one range, as Glance serves them).</summary>
public static class ByteRange
{
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
}
