namespace Stratus.Compute.Virt;

/// <summary>The host's capacity, as the compute agent reports it to placement.</summary>
public sealed record HostResources(int Vcpus, long MemoryMiB, long DiskGiB, string HypervisorType);
