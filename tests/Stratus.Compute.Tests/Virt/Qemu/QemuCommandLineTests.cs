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
            Disks = [new DiskSpec("/dev/mapper/vol-1", "raw", "5a7c8d1e-0f2b-4c3d-9e8f-0123456789ab")],
            Nics = [new NicSpec("tap0a1b2c3d-4e", "fa:16:3e:00:00:01")],
        };
        var args = Args(spec);

        // A volume is a block node named after its id (as hot-plug names it), on a block device here; the guest sees 20 bytes of the id.
        Assert.Equal("""{"driver":"raw","node-name":"vol-5a7c8d1e0f2b4c3d9e8f","file":{"driver":"host_device","filename":"/dev/mapper/vol-1"}}""", After(args, "-blockdev"));
        Assert.Contains("virtio-blk-pci,drive=vol-5a7c8d1e0f2b4c3d9e8f,id=dev-vol-5a7c8d1e0f2b4c3d9e8f,serial=5a7c8d1e-0f2b-4c3d-9", args);
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
