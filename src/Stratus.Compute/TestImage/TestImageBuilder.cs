using System.IO.Compression;
using Stratus.Compute.Virt;
using Stratus.Core.Processes;

namespace Stratus.Compute.TestImage;

/// <summary>
/// Builds a small bootable qcow2, our CirrOS, from Debian packages and without root: Debian's kernel and
/// virtio modules, a busybox initramfs (<see cref="GuestFiles"/>), SYSLINUX on a FAT partition written with
/// mtools, converted with qemu-img. The downloaded .debs are kept in a cache directory.
/// </summary>
public sealed class TestImageBuilder(string cacheDirectory)
{
    /// <summary>The line the guest prints on its serial console once it is up and its shell is offered.</summary>
    public const string ReadyMarker = "login: stratus test image ready";

    const long DiskMiB = 32;
    const long PartitionStartSector = 2048;
    const string SyslinuxMbr = "/usr/lib/syslinux/mbr/mbr.bin";

    /// <summary>The image, and the kernel inside it (which also serves the accelerator probe).</summary>
    public sealed record Result(string ImagePath, string KernelPath);

    public static string DefaultCacheDirectory()
    {
        var data = Environment.GetEnvironmentVariable("STRATUS_DATA");
        return data is { Length: > 0 }
            ? Path.Combine(data, "cache", "test-image")
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "stratus", "test-image");
    }

    public async Task<Result> BuildAsync(string output, CancellationToken ct = default)
    {
        var packages = new DebianPackages(cacheDirectory);
        var kernelPackage = await DebianPackages.ResolveAsync("linux-image-amd64", "linux-image-", ct);
        var kernelDeb = await packages.DownloadAsync(kernelPackage, ct);
        var busyboxDeb = await packages.DownloadAsync("busybox-static", ct);

        var work = Directory.CreateTempSubdirectory("stratus-test-image-");
        try
        {
            var root = Path.Combine(work.FullName, "root");
            await DebianPackages.ExtractAsync(kernelDeb, root, ct);
            await DebianPackages.ExtractAsync(busyboxDeb, root, ct);
            var kernel = KeepKernel(root);

            var initrd = Path.Combine(work.FullName, "initrd.gz");
            WriteInitramfs(root, initrd);

            var raw = Path.Combine(work.FullName, "disk.raw");
            await WriteBootDiskAsync(raw, kernel, initrd, work.FullName, ct);

            var temp = output + ".part";
            await HostCommand.RunAsync("qemu-img", ["convert", "-q", "-f", "raw", "-O", "qcow2", raw, temp], ct);
            File.Move(temp, output, overwrite: true);
            return new Result(Path.GetFullPath(output), kernel);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    /// <summary>Copies the kernel out of the unpacked package into the cache, where it outlives the build.</summary>
    string KeepKernel(string root)
    {
        var vmlinuz = Directory.EnumerateFiles(Path.Combine(root, "boot"), "vmlinuz-*").Single();
        var kept = Path.Combine(cacheDirectory, Path.GetFileName(vmlinuz));
        if (!File.Exists(kept))
        {
            File.Copy(vmlinuz, kept + ".part", overwrite: true);
            File.Move(kept + ".part", kept, overwrite: true);
        }
        return kept;
    }

    static void WriteInitramfs(string root, string initrd)
    {
        using var file = File.Create(initrd);
        using var gzip = new GZipStream(file, CompressionLevel.SmallestSize);
        var cpio = new CpioWriter(gzip);
        foreach (var dir in (string[])["bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "run", "tmp", "root",
                     "etc", "etc/acpi", "etc/acpi/PWRF", "lib", "lib/modules", "var", "var/log", "var/run"])
            cpio.AddDirectory(dir);
        // The kernel opens /dev/console for init before devtmpfs is mounted.
        cpio.AddCharDevice("dev/console", 5, 1);
        cpio.AddFile("bin/busybox", File.ReadAllBytes(Path.Combine(root, "bin", "busybox")), 0x1ED);
        cpio.AddSymlink("init", "/bin/busybox");
        cpio.AddText("etc/inittab", GuestFiles.Inittab);
        cpio.AddText("etc/rc", GuestFiles.Rc, 0x1ED);
        cpio.AddText("etc/udhcpc.script", GuestFiles.UdhcpcScript, 0x1ED);
        cpio.AddText("etc/acpi/PWRF/00000080", GuestFiles.PowerButton, 0x1ED);
        cpio.AddText("etc/hostname", "stratus\n");
        var modules = Directory.EnumerateFiles(Path.Combine(root, "lib", "modules"), "*.ko", SearchOption.AllDirectories)
            .ToDictionary(path => Path.GetFileNameWithoutExtension(path), StringComparer.Ordinal);
        foreach (var module in GuestFiles.Modules)
        {
            if (!modules.TryGetValue(module, out var path)) throw new VirtException($"the kernel package has no {module}.ko");
            cpio.AddFile($"lib/modules/{module}.ko", File.ReadAllBytes(path));
        }
        cpio.Finish();
    }

    /// <summary>A raw disk: SYSLINUX's MBR, then one FAT partition holding the kernel, the initramfs and SYSLINUX.</summary>
    static async Task WriteBootDiskAsync(string raw, string kernel, string initrd, string work, CancellationToken ct)
    {
        if (!File.Exists(SyslinuxMbr)) throw new VirtException($"{SyslinuxMbr} is missing: install the syslinux-common package");
        await using (var disk = File.Create(raw)) disk.SetLength(DiskMiB << 20);
        var partitionSectors = (DiskMiB << 20) / BootSector.SectorSize - PartitionStartSector;
        var offset = PartitionStartSector * BootSector.SectorSize;

        await HostCommand.RunAsync("/sbin/mkfs.fat", ["-F", "16", "-n", "STRATUS", $"--offset={PartitionStartSector}", raw,
            (partitionSectors * BootSector.SectorSize / 1024).ToString(System.Globalization.CultureInfo.InvariantCulture)], ct);
        var config = Path.Combine(work, "syslinux.cfg");
        await File.WriteAllTextAsync(config, GuestFiles.SyslinuxConfig, ct);
        var fat = $"{raw}@@{offset}";
        await HostCommand.RunAsync("mcopy", ["-i", fat, kernel, "::/vmlinuz"], ct);
        await HostCommand.RunAsync("mcopy", ["-i", fat, initrd, "::/initrd.gz"], ct);
        await HostCommand.RunAsync("mcopy", ["-i", fat, config, "::/syslinux.cfg"], ct);
        await HostCommand.RunAsync("syslinux", ["--offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture), "--install", raw], ct);
        BootSector.Write(raw, await File.ReadAllBytesAsync(SyslinuxMbr, ct), PartitionStartSector, partitionSectors);
    }
}
