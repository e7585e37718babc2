namespace Stratus.Compute.Virt.Qemu;

/// <summary>The QEMU driver's settings, named after the nova.conf keys they stand for.</summary>
public sealed record QemuDriverOptions
{
    /// <summary><c>[DEFAULT] instances_path</c>: one directory per instance, beside the host's image cache (<c>_base/</c>).</summary>
    public required string InstancesPath { get; init; }

    /// <summary><c>[libvirt] virt_type</c>: <c>kvm</c> or <c>qemu</c> (TCG) to force one; null to probe.</summary>
    public Accelerator? VirtType { get; init; }

    /// <summary>The Linux kernel the accelerator probe boots under KVM; without one the driver uses TCG.</summary>
    public string? ProbeKernel { get; init; }

    public string QemuBinary { get; init; } = "qemu-system-x86_64";

    public string QemuImgBinary { get; init; } = "qemu-img";

    /// <summary><c>[DEFAULT] mkisofs_cmd</c>: what makes config drives.</summary>
    public string MkisofsCmd { get; init; } = "genisoimage";

    /// <summary>How long QEMU may take to save or restore a suspended guest's memory.</summary>
    public TimeSpan SuspendTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary><c>[DEFAULT] shutdown_timeout</c>: how long a soft reboot waits for the guest to stop.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
