using System.Globalization;
using System.Text;

namespace Stratus.Compute.TestImage;

/// <summary>
/// Writes the "newc" cpio archive the kernel unpacks as its initramfs. Writing it here, rather than with
/// cpio(1) over a staging tree, lets the archive hold root-owned files and a <c>/dev/console</c> device
/// node without running as root.
/// </summary>
sealed class CpioWriter(Stream output)
{
    const int Directory = 0x4000, RegularFile = 0x8000, Symlink = 0xA000, CharDevice = 0x2000;

    int _inode = 1;

    public void AddDirectory(string path) => Write(path, Directory | 0x1ED, [], 0, 0);

    public void AddFile(string path, byte[] content, int permissions = 0x1A4) => Write(path, RegularFile | permissions, content, 0, 0);

    public void AddText(string path, string content, int permissions = 0x1A4) => AddFile(path, Encoding.UTF8.GetBytes(content), permissions);

    public void AddSymlink(string path, string target) => Write(path, Symlink | 0x1FF, Encoding.UTF8.GetBytes(target), 0, 0);

    public void AddCharDevice(string path, int major, int minor) => Write(path, CharDevice | 0x180, [], major, minor);

    /// <summary>The trailer entry that ends the archive.</summary>
    public void Finish() => Write("TRAILER!!!", 0, [], 0, 0);

    void Write(string path, int mode, byte[] data, int rdevMajor, int rdevMinor)
    {
        var name = Encoding.UTF8.GetBytes(path.TrimStart('/') + "\0");
        var header = new StringBuilder("070701");
        foreach (var field in (int[])[_inode++, mode, 0, 0, 1, 0, data.Length, 0, 0, rdevMajor, rdevMinor, name.Length, 0])
            header.Append(field.ToString("x8", CultureInfo.InvariantCulture));
        var headerBytes = Encoding.ASCII.GetBytes(header.ToString());
        output.Write(headerBytes);
        output.Write(name);
        Pad(headerBytes.Length + name.Length);
        output.Write(data);
        Pad(data.Length);
    }

    void Pad(int written)
    {
        for (var i = written; i % 4 != 0; i++) output.WriteByte(0);
    }
}
