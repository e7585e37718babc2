using System.Security.Cryptography;
using System.Threading.Channels;

namespace Stratus.Image.Store;

/// <summary>
/// Hands each chunk of an upload to three consumers on threads of their own — md5, sha512 and the
/// file — through a ring of reusable buffers. A buffer goes back to the ring when all three are done
/// with it, so memory stays at <see cref="Buffers"/> chunks however large the image.
/// </summary>
sealed class ChunkPipeline : IDisposable
{
    const int ChunkSize = 1 << 20, Buffers = 8;

    public sealed class Chunk(byte[] buffer)
    {
        public byte[] Buffer { get; } = buffer;
        public int Length;
        public int Pending;
    }

    readonly Channel<Chunk> _free = Channel.CreateBounded<Chunk>(Buffers);
    readonly Channel<Chunk>[] _queues = [Channel.CreateUnbounded<Chunk>(), Channel.CreateUnbounded<Chunk>(), Channel.CreateUnbounded<Chunk>()];
    readonly IncrementalHash _md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
    readonly IncrementalHash _sha512 = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
    readonly Task[] _consumers;

    public string Md5 { get; private set; } = "";
    public string Sha512 { get; private set; } = "";

    public ChunkPipeline(FileStream file)
    {
        for (var i = 0; i < Buffers; i++) _free.Writer.TryWrite(new Chunk(new byte[ChunkSize]));
        _consumers =
        [
            Consume(_queues[0], c => _md5.AppendData(c.Buffer, 0, c.Length)),
            Consume(_queues[1], c => _sha512.AppendData(c.Buffer, 0, c.Length)),
            Consume(_queues[2], c => WriteBehind(file, c)),
        ];
    }

    Task Consume(Channel<Chunk> queue, Action<Chunk> work) => Task.Factory.StartNew(() =>
    {
        try
        {
            while (queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
                while (queue.Reader.TryRead(out var chunk))
                {
                    work(chunk);
                    if (Interlocked.Decrement(ref chunk.Pending) == 0) _free.Writer.TryWrite(chunk);
                }
        }
        catch (Exception e)
        {
            // A failed write (disk full...) stops the upload: the next RentAsync throws it.
            _free.Writer.TryComplete(e);
            throw;
        }
    }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    long _written, _flushed;

    /// <summary>
    /// Writes a chunk and starts the kernel writing the file to disk behind us (sync_file_range), so
    /// the fsync before the image becomes active has only the tail left to wait for.
    /// </summary>
    void WriteBehind(FileStream file, Chunk c)
    {
        file.Write(c.Buffer, 0, c.Length);
        _written += c.Length;
        if (_written - _flushed < WriteBehindBytes || !OperatingSystem.IsLinux()) return;
        _ = SyncFileRange(file.SafeFileHandle, _flushed, _written - _flushed, SyncFileRangeWrite);
        _flushed = _written;
    }

    const long WriteBehindBytes = 16 << 20;
    const uint SyncFileRangeWrite = 2;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    static extern int SyncFileRange(Microsoft.Win32.SafeHandles.SafeFileHandle fd, long offset, long nbytes, uint flags);

    public ValueTask<Chunk> RentAsync(CancellationToken ct) => _free.Reader.ReadAsync(ct);

    public void Return(Chunk chunk) => _free.Writer.TryWrite(chunk);

    public void Publish(Chunk chunk, int length)
    {
        chunk.Length = length;
        chunk.Pending = _queues.Length;
        foreach (var q in _queues) q.Writer.TryWrite(chunk);
    }

    /// <summary>Waits until every published chunk is hashed and written (a failed write surfaces here).</summary>
    public async Task CompleteAsync()
    {
        foreach (var q in _queues) q.Writer.TryComplete();
        await Task.WhenAll(_consumers);
        Md5 = Convert.ToHexStringLower(_md5.GetHashAndReset());
        Sha512 = Convert.ToHexStringLower(_sha512.GetHashAndReset());
    }

    public void Dispose()
    {
        _md5.Dispose();
        _sha512.Dispose();
    }
}
