namespace Stratus.Compute.Virt.Qemu;

/// <summary>How QEMU runs guest code: hardware virtualization (KVM) or QEMU's own translator (TCG).</summary>
public enum Accelerator
{
    Tcg,
    Kvm,
}
