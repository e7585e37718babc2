using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Stratus.Core.IO;

/// <summary>
/// Image and volume files opened with O_DIRECT: their data goes between our buffers and the disk without the
/// page cache (as Cinder's qemu-img runs with <c>-t none</c>). They are large and read or written whole; through
/// the page cache a GiB costs about 2 s of system CPU to write here (page allocation, dirty tracking, writeback),
/// directly 0.2 s, which is the CPU the md5 and sha512 of an upload need. Where the file system refuses O_DIRECT
/// (or off Linux) the files are opened the ordinary way, and the same code works through the cache.
/// </summary>
public static class DirectIo
{
    /// <summary>O_DIRECT wants buffers, offsets and lengths in multiples of the logical block size; 4 KiB covers every disk.</summary>
    public const int Alignment = 4096;

    public static long AlignDown(long n) => n & ~(long)(Alignment - 1);

    public static int AlignUp(int n) => (n + Alignment - 1) & ~(Alignment - 1);

    /// <summary>A pinned buffer of <paramref name="size"/> bytes starting at an aligned address.</summary>
    public static Memory<byte> AlignedBuffer(int size)
    {
        var array = GC.AllocateUninitializedArray<byte>(size + Alignment, pinned: true);
        var address = (long)Marshal.UnsafeAddrOfPinnedArrayElement(array, 0);
        var skip = (int)(AlignDown(address + Alignment - 1) - address);
        return array.AsMemory(skip, size);
    }

    /// <summary>Creates <paramref name="path"/> (which must not exist) for writing; <c>Direct</c> says whether O_DIRECT took.</summary>
    public static (SafeFileHandle Handle, bool Direct) Create(string path, bool tryDirect)
    {
        if (tryDirect && TryOpen(path, O_WRONLY | O_CREAT | O_EXCL, out var handle)) return (handle, true);
        return (File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.None), false);
    }

    /// <summary>Opens <paramref name="path"/> for reading; <c>Direct</c> says whether O_DIRECT took.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static (SafeFileHandle Handle, bool Direct) OpenRead(string path, bool tryDirect)
    {
        if (tryDirect && TryOpen(path, O_RDONLY, out var handle)) return (handle, true);
        return (File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete), false);
    }

    const int O_RDONLY = 0, O_WRONLY = 1, O_CREAT = 0x40, O_EXCL = 0x80, O_CLOEXEC = 0x80000, ENOENT = 2;

    // The one flag whose value differs between Linux's architectures.
    static readonly int O_DIRECT = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x10000 : 0x4000;

    static bool TryOpen(string path, int flags, out SafeFileHandle handle)
    {
        handle = null!;
        if (!OperatingSystem.IsLinux()) return false;
        var fd = Open(path, flags | O_DIRECT | O_CLOEXEC, 0b110_110_110); // 0666 less the umask, as File.OpenHandle creates
        if (fd < 0)
        {
            // A missing file is the caller's answer; anything else (EINVAL: no O_DIRECT here) falls back.
            if (Marshal.GetLastPInvokeError() == ENOENT) throw new FileNotFoundException("No such file.", path);
            return false;
        }
        handle = new SafeFileHandle(fd, ownsHandle: true);
        return true;
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mode);
}
