using System.Globalization;

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
        AddDisk(args, "disk0", dir.Disk, "qcow2", bootIndex: 0);
        for (var i = 0; i < spec.Disks.Count; i++)
            AddDisk(args, $"disk{i + 1}", spec.Disks[i].Path, spec.Disks[i].Format, bootIndex: null);
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

    /// <summary>A NIC's QEMU ids (net-ID for its netdev, nic-ID for its device), from its tap: the same at boot and at hot-plug.</summary>
    public static string NicId(NicSpec nic) => nic.TapDevice.StartsWith("tap", StringComparison.Ordinal) ? nic.TapDevice[3..] : nic.TapDevice;

    /// <summary>A comma inside a QEMU option value is written twice.</summary>
    static string Escape(string value) => value.Replace(",", ",,", StringComparison.Ordinal);
}
