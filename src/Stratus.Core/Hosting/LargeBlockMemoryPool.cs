using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace Stratus.Core.Hosting;

/// <summary>
/// Kestrel's memory pool with 64 KiB blocks instead of 4 KiB: the socket is read in blocks of the
/// pool's size, so a bulk upload (an image) takes a sixteenth of the system calls. Blocks are pinned
/// (the socket reads into them) and reused.
/// </summary>
public sealed class LargeBlockMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new LargeBlockMemoryPool();
}

sealed class LargeBlockMemoryPool : MemoryPool<byte>
{
    const int BlockSize = 64 * 1024, MaxIdleBlocks = 256;
    readonly ConcurrentBag<byte[]> _idle = [];

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1) =>
        minBufferSize > BlockSize
            ? new Block(null, GC.AllocateUninitializedArray<byte>(minBufferSize, pinned: true))
            : new Block(this, _idle.TryTake(out var b) ? b : GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true));

    protected override void Dispose(bool disposing) => _idle.Clear();

    sealed class Block(LargeBlockMemoryPool? pool, byte[] array) : IMemoryOwner<byte>
    {
        byte[]? _array = array;

        public Memory<byte> Memory => _array ?? throw new ObjectDisposedException(nameof(Block));

        public void Dispose()
        {
            var a = Interlocked.Exchange(ref _array, null);
            if (a is not null && pool is not null && pool._idle.Count < MaxIdleBlocks) pool._idle.Add(a);
        }
    }
}
