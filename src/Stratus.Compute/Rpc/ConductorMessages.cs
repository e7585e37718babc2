using Stratus.Compute.Network;
using Stratus.Core.Messaging;

namespace Stratus.Compute.Rpc;

/// <summary>From the API: schedule a new server and hand it to the chosen host (Nova's build_instances).</summary>
public sealed record BuildInstance(string Uuid, string? Token) : IRpcCast
{
    /// <summary>The personality files of the create: as in Nova, they travel with the build and are never stored.</summary>
    public IReadOnlyList<InjectedFile> InjectedFiles { get; init; } = [];
}

/// <summary>A personality file: its path in the guest and its contents, base64 as the API took them.</summary>
public sealed record InjectedFile(string Path, string Contents);

/// <summary>From the API: give a server <paramref name="Flavor"/> on its host (the conductor step of Nova's resize).</summary>
public sealed record MigrateServer(string Uuid, InstanceFlavor Flavor) : IRpcCast;

/// <summary>From the API: give a resized server its old flavor back.</summary>
public sealed record RevertResize(string Uuid) : IRpcCast;

/// <summary>From an agent: the build failed on <paramref name="Host"/>; <paramref name="Reschedule"/> says whether another host may succeed.</summary>
public sealed record BuildFailed(string Uuid, string Host, string Message, bool Reschedule, int Code = 500, string? Token = null) : IRpcCast
{
    /// <summary>The build's personality files, for the next host when it is rescheduled.</summary>
    public IReadOnlyList<InjectedFile> InjectedFiles { get; init; } = [];
}

/// <summary>From an agent building a server: a mapping's volume is made, attached and connected.</summary>
public sealed record BlockDeviceReady(string BdmUuid, string VolumeId, string? AttachmentId, string? ConnectionInfoJson) : IRpcCall<bool>;

/// <summary>From an agent: the volume left the server (its mapping goes).</summary>
public sealed record VolumeDetached(string Uuid, string VolumeId) : IRpcCast;

/// <summary>From an agent: the server's guest is gone from its host.</summary>
public sealed record InstanceDestroyed(string Uuid) : IRpcCast;

/// <summary>
/// From an agent: what the server is now. <paramref name="TaskState"/> is always applied; the other
/// fields only when set. With <see cref="ExpectedTaskState"/> (Nova's expected_task_state) the update
/// applies only while the server's task is one of those: a report on a task that is no longer under
/// way (the server was deleted meanwhile...) is stale.
/// </summary>
public sealed record InstanceUpdate(string Uuid, string? TaskState) : IRpcCall
{
    public IReadOnlyList<string?>? ExpectedTaskState { get; init; }
    public string? VmState { get; init; }
    public int? PowerState { get; init; }
    /// <summary>The guest started: the server's launched_at is now.</summary>
    public bool Launched { get; init; }
    /// <summary>The status the server's migration under way takes (finished, reverted, error).</summary>
    public string? MigrationStatus { get; init; }
    public Fault? Fault { get; init; }
    /// <summary>The server's NICs once its ports are bound (Nova's network info cache).</summary>
    public IReadOnlyList<Vif>? NetworkInfo { get; init; }
}

/// <summary>What went wrong, as the server's fault shows it.</summary>
public sealed record Fault(int Code, string Message);

/// <summary>From an agent: the heartbeat of its service.</summary>
public sealed record ServiceReport(string Host, string Binary, string Topic) : IRpcCall;

/// <summary>From an agent: its hypervisor's capacity; answered with the compute node's uuid (its resource provider's).</summary>
public sealed record ComputeNodeUpdate(string Host, string HypervisorHostname, string HypervisorType, string HostIp, int Vcpus, long MemoryMb, long LocalGb)
    : IRpcCall<string>;

/// <summary>From an agent: the servers the database has on its host.</summary>
public sealed record InstancesOnHost(string Host) : IRpcCall<List<HostInstance>>;

public sealed record HostInstance(string Uuid, string VmState, string? TaskState, int PowerState);
