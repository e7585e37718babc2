using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Win32.SafeHandles;
using Stratus.Core.IO;

namespace Stratus.Image.Store;

/// <summary>
/// Hands each chunk of an upload to three consumers on threads of their own — md5, sha512 and the
/// file — through a ring of reusable buffers. A buffer goes back to the ring when all three are done
/// with it, so memory stays at <see cref="Buffers"/> chunks however large the image.
/// Chunks are written in order, each at the offset where the last ended.
/// </summary>
sealed class ChunkPipeline : IDisposable
{
    // 16 MiB in flight: an O_DIRECT write waits for the disk, and the ring absorbs its slow moments.
    const int ChunkSize = 1 << 20, Buffers = 16;

    public sealed class Chunk(Memory<byte> buffer)
    {
        /// <summary>Aligned for O_DIRECT (<see cref="DirectIo.AlignedBuffer"/>).</summary>
        public Memory<byte> Buffer { get; } = buffer;
        public int Length;
        public int Pending;
        public ReadOnlySpan<byte> Data => Buffer.Span[..Length];
    }

    readonly Channel<Chunk> _free = Channel.CreateBounded<Chunk>(Buffers);
    readonly ChunkQueue[] _queues = [new(), new(), new()];
    readonly IncrementalHash _md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
    readonly IncrementalHash _sha512 = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
    readonly Task[] _consumers;

    public string Md5 { get; private set; } = "";
    public string Sha512 { get; private set; } = "";

    readonly SafeFileHandle _file;
    readonly bool _direct;

    /// <param name="direct">The file is open with O_DIRECT (<see cref="DirectIo"/>).</param>
    public ChunkPipeline(SafeFileHandle file, bool direct)
    {
        _file = file;
        _direct = direct;
        for (var i = 0; i < Buffers; i++) _free.Writer.TryWrite(new Chunk(DirectIo.AlignedBuffer(ChunkSize)));
        _consumers =
        [
            Consume(_queues[0], c => _md5.AppendData(c.Data)),
            Consume(_queues[1], c => _sha512.AppendData(c.Data)),
            Consume(_queues[2], Write),
        ];
    }

    Task Consume(ChunkQueue queue, Action<Chunk> work) => Task.Factory.StartNew(() =>
    {
        try
        {
            while (queue.Take() is { } chunk)
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
    /// Writes a chunk at the end of the file. Only the last chunk of an upload is short: with O_DIRECT
    /// it goes out padded to the alignment and <see cref="CompleteAsync"/> cuts the file back to size.
    /// Through the page cache the kernel is started writing behind us (sync_file_range), so the fsync
    /// before the image becomes active has only the tail left to wait for.
    /// </summary>
    void Write(Chunk c)
    {
        if (_direct)
        {
            var padded = DirectIo.AlignUp(c.Length);
            c.Buffer.Span[c.Length..padded].Clear();
            RandomAccess.Write(_file, c.Buffer.Span[..padded], _written);
            _written += c.Length;
            return;
        }
        RandomAccess.Write(_file, c.Data, _written);
        _written += c.Length;
        if (_written - _flushed < WriteBehindBytes || !OperatingSystem.IsLinux()) return;
        _ = SyncFileRange(_file, _flushed, _written - _flushed, SyncFileRangeWrite);
        _flushed = _written;
    }

    const long WriteBehindBytes = 16 << 20;
    const uint SyncFileRangeWrite = 2;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    static extern int SyncFileRange(SafeFileHandle fd, long offset, long nbytes, uint flags);

    public ValueTask<Chunk> RentAsync(CancellationToken ct) => _free.Reader.ReadAsync(ct);

    public void Return(Chunk chunk) => _free.Writer.TryWrite(chunk);

    public void Publish(Chunk chunk, int length)
    {
        chunk.Length = length;
        chunk.Pending = _queues.Length;
        foreach (var q in _queues) q.Add(chunk);
    }

    /// <summary>Waits until every published chunk is hashed and written (a failed write surfaces here).</summary>
    public async Task CompleteAsync()
    {
        foreach (var q in _queues) q.Complete();
        await Task.WhenAll(_consumers);
        if (_direct) RandomAccess.SetLength(_file, _written);
        Md5 = Convert.ToHexStringLower(_md5.GetHashAndReset());
        Sha512 = Convert.ToHexStringLower(_sha512.GetHashAndReset());
    }

    /// <summary>
    /// One consumer's chunks. Its thread sleeps in Monitor.Wait when the queue is empty: a channel's
    /// blocking wait spins first (sched_yield), and three spinning consumers on two cores took the
    /// CPU the hashes need (a 1 GiB upload: 3.5 s -> 2.8 s).
    /// </summary>
    sealed class ChunkQueue
    {
        readonly Queue<Chunk> _chunks = new();
        bool _complete;

        public void Add(Chunk chunk)
        {
            lock (_chunks)
            {
                _chunks.Enqueue(chunk);
                Monitor.Pulse(_chunks);
            }
        }

        public void Complete()
        {
            lock (_chunks)
            {
                _complete = true;
                Monitor.Pulse(_chunks);
            }
        }

        /// <summary>The next chunk; null when complete and drained.</summary>
        public Chunk? Take()
        {
            lock (_chunks)
            {
                while (_chunks.Count == 0)
                {
                    if (_complete) return null;
                    Monitor.Wait(_chunks);
                }
                return _chunks.Dequeue();
            }
        }
    }

    public void Dispose()
    {
        _md5.Dispose();
        _sha512.Dispose();
    }
}
