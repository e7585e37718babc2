namespace Stratus.Compute.Virt;

/// <summary>
/// What the compute agent asks of a hypervisor, after Nova's <c>nova.virt.driver.ComputeDriver</c>:
/// the calls that change or report one instance, and the host's capacity. Instances are named by
/// their uuid; a driver keeps what it needs to act on them again after a restart.
/// </summary>
public interface IVirtDriver
{
    /// <summary>
    /// Plugs the instance's NICs into their networks before it starts (libvirt's plug_vifs); true when the
    /// driver does, so the agent waits for the network service's network-vif-plugged (Nova waits with libvirt only).
    /// </summary>
    Task<bool> PlugVifsAsync(InstanceSpec spec, CancellationToken ct = default);

    /// <summary>Undoes <see cref="PlugVifsAsync"/> for a build that did not start (a destroyed instance unplugs with the rest).</summary>
    Task UnplugVifsAsync(InstanceSpec spec, CancellationToken ct = default);

    /// <summary>Hot-plugs a NIC into the instance (its tap plugged into the network's bridge first); it stays across reboots.</summary>
    Task AttachInterfaceAsync(Guid uuid, NicSpec nic, CancellationToken ct = default);

    /// <summary>Unplugs the NIC from the instance and removes its tap.</summary>
    Task DetachInterfaceAsync(Guid uuid, NicSpec nic, CancellationToken ct = default);

    /// <summary>Hot-plugs a disk (a volume's connection on this host) into the instance; it stays across reboots.</summary>
    Task AttachVolumeAsync(Guid uuid, DiskSpec disk, CancellationToken ct = default);

    /// <summary>
    /// Asks the guest to release the disk and waits up to <paramref name="timeout"/> for it to (libvirt's
    /// detach_device_with_retry); a guest that does not is a <see cref="VirtException"/>, the disk still attached.
    /// </summary>
    Task DetachVolumeAsync(Guid uuid, string serial, TimeSpan timeout, CancellationToken ct = default);

    /// <summary>Creates the instance's disks and starts it.</summary>
    /// <exception cref="InstanceExistsException">an instance with this uuid already exists.</exception>
    Task SpawnAsync(InstanceSpec spec, CancellationToken ct = default);

    /// <summary>Stops the instance at once and removes everything it had on this host. Unknown uuids are ignored.</summary>
    Task DestroyAsync(Guid uuid, CancellationToken ct = default);

    Task PowerOnAsync(Guid uuid, CancellationToken ct = default);

    /// <summary>
    /// Asks the guest to shut down (ACPI power button) and waits up to <paramref name="cleanShutdownTimeout"/>;
    /// then stops it hard. A zero timeout stops it hard at once, as Nova's <c>power_off(timeout=0)</c>.
    /// </summary>
    Task PowerOffAsync(Guid uuid, TimeSpan cleanShutdownTimeout, CancellationToken ct = default);

    Task RebootAsync(Guid uuid, RebootType type, CancellationToken ct = default);

    Task PauseAsync(Guid uuid, CancellationToken ct = default);

    Task UnpauseAsync(Guid uuid, CancellationToken ct = default);

    /// <summary>Saves the guest's memory to disk and stops it, freeing the host's memory.</summary>
    Task SuspendAsync(Guid uuid, CancellationToken ct = default);

    Task ResumeAsync(Guid uuid, CancellationToken ct = default);

    /// <exception cref="InstanceNotFoundException">the driver has no such instance.</exception>
    Task<InstanceInfo> GetInfoAsync(Guid uuid, CancellationToken ct = default);

    /// <summary>Every instance this host has, running or not: what reconciliation compares with the database.</summary>
    Task<IReadOnlyList<Guid>> ListInstancesAsync(CancellationToken ct = default);

    /// <summary>The tail of the instance's serial console log.</summary>
    Task<string> GetConsoleOutputAsync(Guid uuid, CancellationToken ct = default);

    HostResources GetHostResources();

    /// <summary>Gives the instance new vCPUs, memory and root disk size on this host (a same-host resize); it keeps its power state.</summary>
    Task ResizeAsync(Guid uuid, int vcpus, int memoryMiB, int? rootGiB, CancellationToken ct = default) =>
        throw new VirtException($"The {GetType().Name} cannot resize instance {uuid}.");
}
