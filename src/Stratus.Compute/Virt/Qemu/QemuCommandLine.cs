using System.Globalization;
using System.Text.Json.Nodes;

namespace Stratus.Compute.Virt.Qemu;

/// <summary>
/// The arguments that start one instance's QEMU: a headless machine with no default devices, daemonized
/// with a pidfile, driven over a QMP socket, its first serial port appended to <c>console.log</c>, and
/// virtio disks and NICs from the spec.
/// </summary>
static class QemuCommandLine
{
    public static List<string> For(InstanceSpec spec, InstanceDirectory dir, Accelerator accelerator, bool restoreMemory)
    {
        var args = new List<string>
        {
            "-name", $"guest={Escape(spec.Name)}",
            "-uuid", spec.Uuid.ToString(),
            "-machine", "pc",
            "-accel", accelerator == Accelerator.Kvm ? "kvm" : "tcg",
            "-smp", spec.Vcpus.ToString(CultureInfo.InvariantCulture),
            "-m", spec.MemoryMiB.ToString(CultureInfo.InvariantCulture),
            "-no-user-config", "-nodefaults", "-display", "none",
            "-daemonize", "-pidfile", dir.PidFile,
            "-qmp", $"unix:{Escape(dir.QmpSocket)},server=on,wait=off",
            "-chardev", $"file,id=console,path={Escape(dir.ConsoleLog)},append=on",
            "-serial", "chardev:console",
            // A guest kernel's panic stops the machine where it is, so the driver reports it crashed.
            "-device", "pvpanic", "-action", "panic=pause",
        };
        if (spec.Root is not null) AddDisk(args, "disk0", dir.Disk, "qcow2", bootIndex: 0);
        foreach (var disk in spec.Disks)
        {
            // As at hot-plug (blockdev-add, device_add): one node per volume, so any of them can be unplugged later.
            args.AddRange(["-blockdev", BlockdevOptions(disk).ToJsonString()]);
            args.AddRange(["-device", $"virtio-blk-pci,drive={DiskNode(disk)},id={DiskDevice(disk)},serial={Escape(GuestSerial(disk))}" + (disk.Boot ? ",bootindex=0" : "")]);
        }
        // A virtio disk rather than libvirt's CD-ROM: the guest finds it by its label all the same.
        if (spec.ConfigDriveFiles is not null) AddDisk(args, "config", dir.ConfigDrive, "raw", bootIndex: null, readOnly: true);
        foreach (var nic in spec.Nics)
        {
            var id = NicId(nic);
            args.AddRange(["-netdev", $"tap,id=net-{id},ifname={Escape(nic.TapDevice)},script=no,downscript=no"]);
            args.AddRange(["-device", $"virtio-net-pci,netdev=net-{id},mac={nic.MacAddress},id=nic-{id}"]);
        }
        // QEMU runs this through /bin/sh; InstanceDirectory.EnsureUsable keeps quotes out of the path.
        if (restoreMemory) args.AddRange(["-incoming", $"exec:cat '{dir.MemoryState}'"]);
        return args;
    }

    static void AddDisk(List<string> args, string id, string path, string format, int? bootIndex, bool readOnly = false)
    {
        args.AddRange(["-drive", $"file={Escape(path)},format={format},if=none,id={id}" + (readOnly ? ",readonly=on" : "")]);
        args.AddRange(["-device", $"virtio-blk-pci,drive={id}" + (bootIndex is { } b ? $",bootindex={b}" : "")]);
    }

    /// <summary>A volume's block node: QEMU's node names are at most 31 characters, a volume id 36.</summary>
    public static string DiskNode(DiskSpec disk)
    {
        var id = disk.Serial.Replace("-", "", StringComparison.Ordinal);
        return "vol-" + id[..Math.Min(20, id.Length)];
    }

    public static string DiskDevice(DiskSpec disk) => "dev-" + DiskNode(disk);

    /// <summary>virtio-blk serials are 20 bytes: the guest sees the start of the volume id, as with libvirt.</summary>
    public static string GuestSerial(DiskSpec disk) => disk.Serial.Length > 20 ? disk.Serial[..20] : disk.Serial;

    /// <summary>blockdev-add's arguments: the format over a file (or a block device, such as a logical volume).</summary>
    public static JsonObject BlockdevOptions(DiskSpec disk) => new()
    {
        ["driver"] = disk.Format,
        ["node-name"] = DiskNode(disk),
        ["file"] = new JsonObject
        {
            ["driver"] = disk.Path.StartsWith("/dev/", StringComparison.Ordinal) ? "host_device" : "file", ["filename"] = disk.Path,
        },
    };

    /// <summary>A NIC's QEMU ids (net-ID for its netdev, nic-ID for its device), from its tap: the same at boot and at hot-plug.</summary>
    public static string NicId(NicSpec nic) => nic.TapDevice.StartsWith("tap", StringComparison.Ordinal) ? nic.TapDevice[3..] : nic.TapDevice;

    /// <summary>A comma inside a QEMU option value is written twice.</summary>
    static string Escape(string value) => value.Replace(",", ",,", StringComparison.Ordinal);
}
