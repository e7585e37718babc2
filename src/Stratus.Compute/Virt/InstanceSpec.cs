namespace Stratus.Compute.Virt;

/// <summary>
/// What an instance is made of, as the compute agent hands it to <see cref="IVirtDriver.SpawnAsync"/>: a root disk
/// over an image, or none when it boots from a volume (the <see cref="DiskSpec.Boot"/> one of <see cref="Disks"/>).
/// </summary>
public sealed record InstanceSpec(Guid Uuid, string Name, int Vcpus, int MemoryMiB, RootDisk? Root)
{
    /// <summary>Further disks (volumes), attached after the root disk in this order.</summary>
    public IReadOnlyList<DiskSpec> Disks { get; init; } = [];

    /// <summary>Network interfaces: tap devices a network agent has created.</summary>
    public IReadOnlyList<NicSpec> Nics { get; init; } = [];

    /// <summary>The config drive's files by path (<see cref="ConfigDrive"/>), or null for an instance without one.</summary>
    public IReadOnlyDictionary<string, byte[]>? ConfigDriveFiles { get; init; }
}

/// <summary>
/// The root disk: a copy-on-write overlay over the image <paramref name="ImageId"/>, whose copy in the
/// host's <see cref="ImageCache"/> is at <paramref name="ImagePath"/>.
/// <paramref name="SizeGiB"/> grows the overlay beyond the image's own size (a flavor's root_gb).
/// </summary>
public sealed record RootDisk(string ImageId, string ImagePath, int? SizeGiB = null);

/// <summary>
/// A disk that already exists on the host, such as a volume: a file or block device. <paramref name="Serial"/>
/// (a volume's id, as Nova sets it) names it to the guest (<c>/sys/block/vdX/serial</c>) and to QEMU.
/// </summary>
public sealed record DiskSpec(string Path, string Format, string Serial)
{
    /// <summary>The disk the instance boots from (a server booted from a volume has no root disk of its own).</summary>
    public bool Boot { get; init; }
}

/// <summary>A NIC: a tap device plugged into <paramref name="Bridge"/> (made if missing), with the port's MAC and the network's MTU.</summary>
public sealed record NicSpec(string TapDevice, string MacAddress, string? Bridge = null, int? Mtu = null);
