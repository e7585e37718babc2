using System.Buffers;

namespace Stratus.Core.Http;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over segments of 32 KiB rented from the shared pool, given back on dispose.
/// A response of a megabyte (a list of 1,000 ports) takes no large-object-heap array, neither a new one per request
/// (resident until the next full collection) nor a pooled one (the pool keeps its megabyte arrays for good), and it
/// is sent a segment at a time, so the server's pinned write buffers hold a segment rather than the whole body.
/// </summary>
sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    /// <summary>Under the large-object threshold (85,000 bytes), a size the shared pool keeps a bucket for.</summary>
    const int SegmentSize = 32 * 1024;

    readonly List<(byte[] Array, int Written)> _full = [];
    byte[] _current = ArrayPool<byte>.Shared.Rent(SegmentSize);
    int _written;

    public long Length => _full.Sum(s => (long)s.Written) + _written;

    /// <summary>The bytes written, segment by segment.</summary>
    public IEnumerable<ReadOnlyMemory<byte>> Segments =>
        _full.Select(s => (ReadOnlyMemory<byte>)s.Array.AsMemory(0, s.Written)).Append(_current.AsMemory(0, _written));

    public void Advance(int count) => _written += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _current.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _current.AsSpan(_written);
    }

    /// <summary>Room for <paramref name="sizeHint"/> more bytes (at least one) in the current segment, else a new one.</summary>
    void Reserve(int sizeHint)
    {
        var needed = Math.Max(sizeHint, 1);
        if (_current.Length - _written >= needed) return;
        _full.Add((_current, _written));
        _current = ArrayPool<byte>.Shared.Rent(Math.Max(needed, SegmentSize));
        _written = 0;
    }

    /// <summary>Forgets what was written (sent), keeping the current segment for what comes next.</summary>
    public void Clear()
    {
        foreach (var (array, _) in _full) ArrayPool<byte>.Shared.Return(array);
        _full.Clear();
        _written = 0;
    }

    public void Dispose()
    {
        foreach (var (array, _) in _full) ArrayPool<byte>.Shared.Return(array);
        _full.Clear();
        if (_current.Length > 0) ArrayPool<byte>.Shared.Return(_current);
        _current = [];
    }
}
