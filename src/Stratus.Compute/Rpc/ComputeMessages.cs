using Stratus.Compute.Network;
using Stratus.Compute.Virt;
using Stratus.Core.Messaging;

namespace Stratus.Compute.Rpc;

/// <summary>From the conductor: build the server here, its image fetched with the user's token.</summary>
public sealed record BuildAndRunInstance(string Uuid, string Name, InstanceFlavor Flavor, string ImageRef, string? Token) : IRpcCast
{
    /// <summary>The server's project and zone, which the ports made for it belong to.</summary>
    public string ProjectId { get; init; } = "";
    public string Zone { get; init; } = "nova";
    /// <summary>The networks and ports the create asked for: the agent makes and binds the ports here.</summary>
    public IReadOnlyList<RequestedNetwork> Networks { get; init; } = [];
    /// <summary>Whether the server asked for a config drive, and what the drive carries besides its network_data.json.</summary>
    public bool ConfigDrive { get; init; }
    public string MetaDataJson { get; init; } = "{}";
    /// <summary>The server's user data, base64 as the API took it.</summary>
    public string? UserData { get; init; }
    /// <summary>The create's personality files, which go on the config drive.</summary>
    public IReadOnlyList<InjectedFile> InjectedFiles { get; init; } = [];
    /// <summary>The server's volumes: made here when they do not exist yet, connected and plugged; the boot one replaces the image's root disk.</summary>
    public IReadOnlyList<BlockDevice> BlockDevices { get; init; } = [];
}

/// <summary>A block device mapping as the building host needs it (nova's DriverVolumeBlockDevice and its kin).</summary>
public sealed record BlockDevice(string BdmUuid, string Source, string? VolumeId, string? ImageId, string? SnapshotId, int? VolumeSize, string? VolumeType,
    string? AttachmentId, bool Boot)
{
    public string? DeviceName { get; init; }
}

/// <summary>From the API: a new root disk from the (new) image; a stopped server stays stopped.</summary>
public sealed record RebuildInstance(string Uuid, string Name, InstanceFlavor Flavor, string ImageRef, string? Token, bool Stopped) : IRpcCast
{
    /// <summary>The server's NICs and attached volumes, which the new guest keeps.</summary>
    public IReadOnlyList<Vif> NetworkInfo { get; init; } = [];
    public IReadOnlyList<DiskSpec> Disks { get; init; } = [];
    /// <summary>The config drive made afresh, as Nova's rebuild does: with the server's metadata now and the rebuild's personality files.</summary>
    public bool ConfigDrive { get; init; }
    public string MetaDataJson { get; init; } = "{}";
    public string? UserData { get; init; }
    public IReadOnlyList<InjectedFile> InjectedFiles { get; init; } = [];
}

/// <summary>From the conductor: give the guest <paramref name="Flavor"/>, then report the server in these states.</summary>
public sealed record ResizeInstance(string Uuid, InstanceFlavor Flavor, string TaskState, string VmState, string MigrationStatus) : IRpcCast;

public sealed record TerminateInstance(string Uuid) : IRpcCast
{
    /// <summary>The server's volumes: their attachments are deleted once the guest is gone, and those marked so deleted too.</summary>
    public IReadOnlyList<VolumeAttachment> Volumes { get; init; } = [];

    /// <summary>Who deleted the server (the volumes are theirs to release).</summary>
    public string? Token { get; init; }
    public string ProjectId { get; init; } = "";

    /// <summary>The server's NICs: their ports are deleted (Nova's) or unbound (the user's) once the guest is gone.</summary>
    public IReadOnlyList<Vif> NetworkInfo { get; init; } = [];

    /// <summary>The ports the user gave the create: unbound, not deleted, also when the info cache does not have them yet.</summary>
    public IReadOnlyList<string> UserPorts { get; init; } = [];

    /// <summary>The server asked for networks or has NICs: its ports are looked for in the network service too.</summary>
    public bool Networked { get; init; }
}

public sealed record StopInstance(string Uuid) : IRpcCast;

public sealed record StartInstance(string Uuid) : IRpcCast;

public sealed record RebootInstance(string Uuid, RebootType Type) : IRpcCast;

public sealed record PauseInstance(string Uuid) : IRpcCast;

public sealed record UnpauseInstance(string Uuid) : IRpcCast;

public sealed record SuspendInstance(string Uuid) : IRpcCast;

public sealed record ResumeInstance(string Uuid) : IRpcCast;

/// <summary>From the API: an external event about a server of this host (network-vif-plugged...), with its port as tag.</summary>
public sealed record ExternalInstanceEvent(string Uuid, string Name, string? Tag, string Status) : IRpcCast;

/// <summary>From the API: make and bind a port as asked and hot-plug it into the guest; answered with the NIC.</summary>
public sealed record AttachInterface(string Uuid, string ProjectId, string Zone, RequestedNetwork Requested) : IRpcCall<Vif>;

/// <summary>From the API: unplug the NIC from the guest, then delete (Nova's) or unbind (the user's) its port.</summary>
public sealed record DetachInterface(string Uuid, Vif Vif) : IRpcCast;

/// <summary>The tail of the guest's console log.</summary>
public sealed record GetConsoleOutput(string Uuid) : IRpcCall<string>;

/// <summary>A volume's attachment to a server, as the server's block device mapping holds it.</summary>
public sealed record VolumeAttachment(string VolumeId, string AttachmentId, bool DeleteOnTermination);

/// <summary>
/// From the API: connect the reserved attachment from this host (its connector), hot-plug the disk, complete
/// the attachment; answered with the connection info. A failure deletes the attachment (the volume is free again).
/// </summary>
public sealed record AttachVolume(string Uuid, string VolumeId, string AttachmentId, string ProjectId, string Token) : IRpcCall<string>
{
    /// <summary>The device the guest was promised (/dev/vdb), which block storage records as the attachment's mountpoint.</summary>
    public string? Mountpoint { get; init; }
}

/// <summary>From the API (the volume is detaching): unplug the disk, then delete the attachment; the guest refusing rolls the volume back to in-use.</summary>
public sealed record DetachVolume(string Uuid, string VolumeId, string AttachmentId, string ProjectId, string Token) : IRpcCast;

/// <summary>The host's uptime line, as uptime(1) prints it.</summary>
public sealed record GetHostUptime : IRpcCall<string>;
