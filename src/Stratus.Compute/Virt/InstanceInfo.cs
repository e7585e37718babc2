namespace Stratus.Compute.Virt;

/// <summary>Nova's <c>InstanceInfo</c>: the power state as the hypervisor sees it.</summary>
public sealed record InstanceInfo(Guid Uuid, PowerState State);
