using Stratus.Compute.Virt;
using Stratus.Compute.Virt.Qemu;

namespace Stratus.Compute.Tests.Virt.Qemu;

public class QemuCommandLineTests
{
    static readonly Guid Uuid = Guid.Parse("3f0d9a52-63f5-4b1f-9e0f-2f7b0c6f1a11");

    static List<string> Args(InstanceSpec spec, bool restore = false) =>
        QemuCommandLine.For(spec, new InstanceDirectory("/var/lib/stratus/instances", spec.Uuid), Accelerator.Tcg, restore);

    static string After(List<string> args, string option) => args[args.IndexOf(option) + 1];

    [Fact]
    public void Machine_is_headless_daemonized_and_sized_by_the_spec()
    {
        var args = Args(new InstanceSpec(Uuid, "web,1", 2, 512, new RootDisk("img", "/img")));

        Assert.Equal("guest=web,,1", After(args, "-name"));
        Assert.Equal("2", After(args, "-smp"));
        Assert.Equal("512", After(args, "-m"));
        Assert.Equal("tcg", After(args, "-accel"));
        Assert.Equal($"/var/lib/stratus/instances/{Uuid}/qemu.pid", After(args, "-pidfile"));
        Assert.Contains("-nodefaults", args);
        Assert.Contains("-daemonize", args);
        Assert.Equal($"file=/var/lib/stratus/instances/{Uuid}/disk,format=qcow2,if=none,id=disk0", After(args, "-drive"));
        Assert.DoesNotContain("-netdev", args);
        Assert.DoesNotContain("-incoming", args);
    }

    [Fact]
    public void Volumes_and_tap_nics_follow_the_root_disk()
    {
        var spec = new InstanceSpec(Uuid, "vm", 1, 128, new RootDisk("img", "/img"))
        {
            Disks = [new DiskSpec("/dev/mapper/vol-1", "raw")],
            Nics = [new NicSpec("tap0a1b2c3d-4e", "fa:16:3e:00:00:01")],
        };
        var args = Args(spec);

        var drives = args.Select((a, i) => (a, i)).Where(p => p.a == "-drive").Select(p => args[p.i + 1]).ToList();
        Assert.Equal("file=/dev/mapper/vol-1,format=raw,if=none,id=disk1", drives[1]);
        Assert.Contains("virtio-blk-pci,drive=disk1", args);
        Assert.Equal("tap,id=net-0a1b2c3d-4e,ifname=tap0a1b2c3d-4e,script=no,downscript=no", After(args, "-netdev"));
        Assert.Contains("virtio-net-pci,netdev=net-0a1b2c3d-4e,mac=fa:16:3e:00:00:01,id=nic-0a1b2c3d-4e", args);
    }

    [Fact]
    public void Resuming_reads_the_saved_memory()
    {
        var args = Args(new InstanceSpec(Uuid, "vm", 1, 128, new RootDisk("img", "/img")), restore: true);
        Assert.Equal($"exec:cat '/var/lib/stratus/instances/{Uuid}/memory.state'", After(args, "-incoming"));
    }
}
