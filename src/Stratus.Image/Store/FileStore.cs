using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Stratus.Image.Store;

/// <summary>What a completed write left in the store.</summary>
public sealed record StoredData(string Path, long Size, string Md5, string Sha512, long? VirtualSize);

/// <summary>
/// Glance's file store (<c>[glance_store] filesystem_store_datadir</c>): image data in one file per
/// image. Data streams through in fixed buffers (a 2 GiB image needs no more memory than a small one),
/// its md5 and sha512 are computed on the way, on two cores at once, and the file appears under its
/// final name only when complete and synced, so a broken upload never leaves wrong bytes behind.
/// </summary>
public sealed class FileStore(string directory)
{
    const int ChunkSize = 1 << 20;

    public string Directory { get; } = directory;

    public string PathFor(string imageId) => System.IO.Path.Combine(Directory, imageId);

    /// <summary>Writes <paramref name="body"/> as the data of <paramref name="imageId"/>.</summary>
    /// <exception cref="ImageTooLargeException">More than <paramref name="sizeCap"/> bytes arrived.</exception>
    public async Task<StoredData> WriteAsync(string imageId, Stream body, long sizeCap, CancellationToken ct)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var final = PathFor(imageId);
        var temp = final + ".partial-" + Guid.NewGuid().ToString("N")[..8];
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        using var sha512 = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        var buffers = new[] { ArrayPool<byte>.Shared.Rent(ChunkSize), ArrayPool<byte>.Shared.Rent(ChunkSize) };
        var header = new byte[512];
        var headerLength = 0;
        long size = 0;
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                var current = 0;
                var read = await ReadChunkAsync(body, buffers[current], ct);
                while (read > 0)
                {
                    size += read;
                    if (size > sizeCap) throw new ImageTooLargeException(sizeCap);
                    var chunk = buffers[current].AsMemory(0, read);
                    if (headerLength < header.Length)
                    {
                        var n = Math.Min(header.Length - headerLength, read);
                        chunk.Span[..n].CopyTo(header.AsSpan(headerLength));
                        headerLength += n;
                    }
                    // Hash on the thread pool and write, while the next chunk arrives into the other buffer.
                    var md5Task = Task.Run(() => md5.AppendData(chunk.Span), ct);
                    var shaTask = Task.Run(() => sha512.AppendData(chunk.Span), ct);
                    var writeTask = file.WriteAsync(chunk, ct).AsTask();
                    current ^= 1;
                    var next = ReadChunkAsync(body, buffers[current], ct);
                    await Task.WhenAll(md5Task, shaTask, writeTask);
                    read = await next;
                }
                await file.FlushAsync(ct);
                // Durable before it is visible: an active image's bytes survive a crash.
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, final, overwrite: true);
            return new StoredData(final, size, Convert.ToHexStringLower(md5.GetHashAndReset()),
                Convert.ToHexStringLower(sha512.GetHashAndReset()), VirtualSize(header.AsSpan(0, headerLength)));
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        finally
        {
            foreach (var b in buffers) ArrayPool<byte>.Shared.Return(b);
        }
    }

    static async Task<int> ReadChunkAsync(Stream body, byte[] buffer, CancellationToken ct)
    {
        // Fill most of the buffer: hashing many tiny reads would waste the thread hops.
        var total = 0;
        while (total < ChunkSize)
        {
            var n = await body.ReadAsync(buffer.AsMemory(total, ChunkSize - total), ct);
            if (n == 0) break;
            total += n;
            if (total >= ChunkSize / 4) break;
        }
        return total;
    }

    /// <summary>The disk size a guest sees, from a qcow2 header (the API uses the size for raw data).</summary>
    static long? VirtualSize(ReadOnlySpan<byte> header)
    {
        if (header.Length >= 32 && header is [(byte)'Q', (byte)'F', (byte)'I', 0xFB, ..]) return BinaryPrimitives.ReadInt64BigEndian(header[24..]);
        return null;
    }

    public FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);

    public static void TryDelete(string? path)
    {
        if (path is null) return;
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Removes what a crash mid-upload left behind.</summary>
    public void RemovePartialFiles()
    {
        if (!System.IO.Directory.Exists(Directory)) return;
        foreach (var f in System.IO.Directory.EnumerateFiles(Directory, "*.partial-*")) TryDelete(f);
    }
}

public sealed class ImageTooLargeException(long cap) : Exception($"Image exceeds the storage quota: the limit is {cap} bytes.");
