using System.Security.Cryptography;
using Stratus.Core.IO;
using Stratus.Image.Store;

namespace Stratus.Image.Tests;

/// <summary>
/// The file store on both of its paths: O_DIRECT (aligned blocks, the short tail padded then cut
/// back) and the page cache. Sizes around the 4 KiB alignment, the 1 MiB upload chunks and the
/// 2 MiB download blocks are where either would go wrong.
/// </summary>
public sealed class FileStoreTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("stratus-filestore-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<int, bool> Sizes()
    {
        var data = new TheoryData<int, bool>();
        foreach (var direct in new[] { true, false })
            foreach (var size in new[] { 0, 1, 4095, 4096, 4097, 1 << 20, (1 << 20) + 1, (3 << 20) + 17 })
                data.Add(size, direct);
        return data;
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task Written_bytes_hashes_and_length_are_exact(int size, bool direct)
    {
        var store = new FileStore(_dir, direct);
        var data = RandomNumberGenerator.GetBytes(size);
        var stored = await store.WriteAsync("image", new MemoryStream(data), long.MaxValue, CancellationToken.None);
        Assert.Equal(size, stored.Size);
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(data)), stored.Md5);
        Assert.Equal(Convert.ToHexStringLower(SHA512.HashData(data)), stored.Sha512);
        Assert.Equal(data, await File.ReadAllBytesAsync(stored.Path));
        Assert.Equal([stored.Path], Directory.GetFiles(_dir));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Reads_return_any_range_byte_exact(bool direct)
    {
        var store = new FileStore(_dir, direct);
        var data = RandomNumberGenerator.GetBytes((5 << 20) + 123);
        var stored = await store.WriteAsync("image", new MemoryStream(data), long.MaxValue, CancellationToken.None);
        (long Offset, long Count)[] ranges =
        [
            (0, data.Length), (0, 0), (0, 1), (1, 100), (4095, 2), (4096, 4096), ((2 << 20) - 10, 100),
            ((1 << 20) - 3, (3 << 20) + 7), (data.Length - 1, 1), (12_345, data.Length - 12_345),
        ];
        using var reader = store.OpenReader(stored.Path);
        Assert.Equal(data.Length, reader.Length);
        foreach (var (offset, count) in ranges)
        {
            var to = new MemoryStream();
            await reader.CopyAsync(offset, count, to, CancellationToken.None);
            Assert.Equal(data.AsSpan((int)offset, (int)count).ToArray(), to.ToArray());
        }
    }

    [Fact]
    public async Task A_file_shorter_than_its_recorded_size_is_an_io_error()
    {
        var store = new FileStore(_dir);
        var stored = await store.WriteAsync("image", new MemoryStream(new byte[10_000]), long.MaxValue, CancellationToken.None);
        using var reader = store.OpenReader(stored.Path);
        await Assert.ThrowsAsync<IOException>(() => reader.CopyAsync(0, 20_000, new MemoryStream(), CancellationToken.None));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_body_that_breaks_mid_upload_leaves_no_file(bool direct)
    {
        var store = new FileStore(_dir, direct);
        await Assert.ThrowsAsync<IOException>(() => store.WriteAsync("image", new BreakingStream(3 << 19), long.MaxValue, CancellationToken.None));
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void A_missing_file_is_not_found()
    {
        Assert.Throws<FileNotFoundException>(() => new FileStore(_dir).OpenReader(Path.Combine(_dir, "none")));
        Assert.Throws<FileNotFoundException>(() => new FileStore(_dir, directIo: false).OpenReader(Path.Combine(_dir, "none")));
    }

    [Fact]
    public void The_test_directory_takes_O_DIRECT_on_Linux_so_the_direct_cases_test_that_path()
    {
        var (handle, direct) = DirectIo.Create(Path.Combine(_dir, "probe"), tryDirect: true);
        handle.Dispose();
        Assert.Equal(OperatingSystem.IsLinux(), direct);
    }

    /// <summary>Random bytes, then an IOException (a client that went away).</summary>
    sealed class BreakingStream(int breakAt) : Stream
    {
        int _sent;

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_sent >= breakAt) throw new IOException("connection reset");
            var n = Math.Min(count, breakAt - _sent);
            RandomNumberGenerator.Fill(buffer.AsSpan(offset, n));
            _sent += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
