using Microsoft.Win32.SafeHandles;
using Stratus.Core.IO;

namespace Stratus.Image.Store;

/// <summary>
/// Reads an image's data file onto a response: the next block comes off the disk while the last one
/// goes to the socket. With O_DIRECT (<see cref="DirectIo"/>) reads start at an aligned offset and
/// the bytes before a range's first one are skipped.
/// </summary>
public sealed class ImageReader(SafeFileHandle file, bool direct) : IDisposable
{
    const int BlockSize = 2 << 20;

    public long Length => RandomAccess.GetLength(file);

    /// <summary>Copies <paramref name="count"/> bytes from <paramref name="offset"/> to <paramref name="to"/>.</summary>
    public async Task CopyAsync(long offset, long count, Stream to, CancellationToken ct)
    {
        if (count == 0) return;
        var position = direct ? DirectIo.AlignDown(offset) : offset;
        var skip = (int)(offset - position);
        var size = DirectIo.AlignUp((int)Math.Min(skip + count, BlockSize));
        Memory<byte>[] buffers = [DirectIo.AlignedBuffer(size), DirectIo.AlignedBuffer(size)];
        var current = 0;
        var reading = RandomAccess.ReadAsync(file, buffers[current], position, ct);
        while (count > 0)
        {
            var n = await reading;
            if (n <= skip) throw new IOException("the image file is shorter than its recorded size");
            position += n;
            var block = buffers[current][skip..n];
            if (block.Length > count) block = block[..(int)count];
            count -= block.Length;
            skip = 0;
            current ^= 1;
            if (count > 0) reading = RandomAccess.ReadAsync(file, buffers[current], position, ct);
            await to.WriteAsync(block, ct);
        }
    }

    public void Dispose() => file.Dispose();
}
