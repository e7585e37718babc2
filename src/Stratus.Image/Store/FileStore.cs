using System.Buffers.Binary;
using System.Security.Cryptography;
using Stratus.Core.IO;

namespace Stratus.Image.Store;

/// <summary>What a completed write left in the store.</summary>
public sealed record StoredData(string Path, long Size, string Md5, string Sha512, long? VirtualSize);

/// <summary>
/// Glance's file store (<c>[glance_store] filesystem_store_datadir</c>): image data in one file per
/// image. Data streams through in fixed buffers (a 2 GiB image needs no more memory than a small one),
/// its md5 and sha512 are computed on the way, on two cores at once, and the file appears under its
/// final name only when complete and synced, so a broken upload never leaves wrong bytes behind.
/// Files are written and read with O_DIRECT where the file system has it (<see cref="DirectIo"/>).
/// </summary>
/// <param name="directIo">false: through the page cache even where O_DIRECT works (for tests of that path).</param>
public sealed class FileStore(string directory, bool directIo = true)
{
    public string Directory { get; } = directory;

    public string PathFor(string imageId) => System.IO.Path.Combine(Directory, imageId);

    /// <summary>Writes <paramref name="body"/> as the data of <paramref name="imageId"/>.</summary>
    /// <exception cref="ImageTooLargeException">More than <paramref name="sizeCap"/> bytes arrived.</exception>
    public async Task<StoredData> WriteAsync(string imageId, Stream body, long sizeCap, CancellationToken ct)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var final = PathFor(imageId);
        var temp = final + ".partial-" + Guid.NewGuid().ToString("N")[..8];
        var header = new byte[512];
        var headerLength = 0;
        long size = 0;
        try
        {
            var (file, direct) = DirectIo.Create(temp, directIo);
            using var _ = file;
            // md5, sha512 and the disk each take every chunk on a thread of their own, so the three
            // (and the socket) overlap; a small ring of buffers bounds the memory.
            using var pipeline = new ChunkPipeline(file, direct);
            try
            {
                while (true)
                {
                    var chunk = await pipeline.RentAsync(ct);
                    var read = await ReadChunkAsync(body, chunk.Buffer, ct);
                    if (read == 0)
                    {
                        pipeline.Return(chunk);
                        break;
                    }
                    size += read;
                    if (size > sizeCap) throw new ImageTooLargeException(sizeCap);
                    if (headerLength < header.Length)
                    {
                        var n = Math.Min(header.Length - headerLength, read);
                        chunk.Buffer.Span[..n].CopyTo(header.AsSpan(headerLength));
                        headerLength += n;
                    }
                    pipeline.Publish(chunk, read);
                }
            }
            finally
            {
                await pipeline.CompleteAsync();
            }
            // Durable before it is visible: an active image's bytes survive a crash.
            RandomAccess.FlushToDisk(file);
            file.Dispose();
            File.Move(temp, final, overwrite: true);
            return new StoredData(final, size, pipeline.Md5, pipeline.Sha512, VirtualSize(header.AsSpan(0, headerLength)));
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Fills <paramref name="buffer"/>; less only at the end of the body.</summary>
    static async Task<int> ReadChunkAsync(Stream body, Memory<byte> buffer, CancellationToken ct)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = await body.ReadAsync(buffer[total..], ct);
            if (n == 0) break;
            total += n;
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

    /// <summary>Opens the data file at <paramref name="path"/> for <see cref="ImageReader.CopyAsync"/>.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public ImageReader OpenReader(string path)
    {
        var (handle, direct) = DirectIo.OpenRead(path, directIo);
        return new ImageReader(handle, direct);
    }

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
