using System.Collections.Concurrent;

namespace Stratus.Compute.Virt.Fake;

/// <summary>
/// Instances that exist only in memory, after Nova's <c>nova.virt.fake.FakeDriver</c>: the whole stack
/// above the driver can run thousands of them (scale tests) without starting a machine. It enforces the
/// same state rules as the real drivers so that callers cannot come to rely on it being lax.
/// </summary>
public sealed class FakeDriver(HostResources? host = null, TimeSpan spawnTime = default) : IVirtDriver
{
    readonly ConcurrentDictionary<Guid, FakeInstance> _instances = new();

    readonly HostResources _host = host ?? new HostResources(Vcpus: 1000, MemoryMiB: 800_000, DiskGiB: 600_000, HypervisorType: "fake");

    sealed class FakeInstance(InstanceSpec spec)
    {
        public InstanceSpec Spec { get; set; } = spec;
        public PowerState State { get; set; } = PowerState.Running;
        public int Boots { get; set; } = 1;
    }

    /// <summary>Nova's fake driver plugs nothing and waits for no network event.</summary>
    public Task<bool> PlugVifsAsync(InstanceSpec spec, CancellationToken ct = default) => Task.FromResult(false);

    public Task UnplugVifsAsync(InstanceSpec spec, CancellationToken ct = default) => Task.CompletedTask;

    /// <summary>Records the NIC on the instance (the fake has no guest to hot-plug it into).</summary>
    public Task AttachInterfaceAsync(Guid uuid, NicSpec nic, CancellationToken ct = default)
    {
        var i = Get(uuid);
        i.Spec = i.Spec with { Nics = [.. i.Spec.Nics, nic] };
        return Task.CompletedTask;
    }

    public Task DetachInterfaceAsync(Guid uuid, NicSpec nic, CancellationToken ct = default)
    {
        var i = Get(uuid);
        i.Spec = i.Spec with { Nics = [.. i.Spec.Nics.Where(n => n.TapDevice != nic.TapDevice)] };
        return Task.CompletedTask;
    }

    /// <summary>Records the disk on the instance; detaching an unknown one is an error, as with a real guest.</summary>
    public Task AttachVolumeAsync(Guid uuid, DiskSpec disk, CancellationToken ct = default)
    {
        var i = Get(uuid);
        if (i.Spec.Disks.Any(d => d.Serial == disk.Serial)) throw new VirtException($"Instance {uuid} already has disk {disk.Serial}.");
        i.Spec = i.Spec with { Disks = [.. i.Spec.Disks, disk] };
        return Task.CompletedTask;
    }

    public Task DetachVolumeAsync(Guid uuid, string serial, TimeSpan timeout, CancellationToken ct = default)
    {
        var i = Get(uuid);
        if (!i.Spec.Disks.Any(d => d.Serial == serial)) throw new VirtException($"Instance {uuid} has no disk {serial}.");
        i.Spec = i.Spec with { Disks = [.. i.Spec.Disks.Where(d => d.Serial != serial)] };
        return Task.CompletedTask;
    }

    FakeInstance Get(Guid uuid) => _instances.TryGetValue(uuid, out var i) ? i : throw new InstanceNotFoundException(uuid);

    public async Task SpawnAsync(InstanceSpec spec, CancellationToken ct = default)
    {
        if (_instances.ContainsKey(spec.Uuid)) throw new InstanceExistsException(spec.Uuid);
        if (spawnTime > TimeSpan.Zero) await Task.Delay(spawnTime, ct);
        if (!_instances.TryAdd(spec.Uuid, new FakeInstance(spec))) throw new InstanceExistsException(spec.Uuid);
    }

    public Task DestroyAsync(Guid uuid, CancellationToken ct = default)
    {
        _instances.TryRemove(uuid, out _);
        return Task.CompletedTask;
    }

    public Task PowerOnAsync(Guid uuid, CancellationToken ct = default) =>
        Transition(uuid, "power on", [PowerState.Shutdown, PowerState.Crashed, PowerState.Suspended], PowerState.Running, boots: true);

    public Task PowerOffAsync(Guid uuid, TimeSpan cleanShutdownTimeout, CancellationToken ct = default) =>
        Transition(uuid, "power off", [PowerState.Running, PowerState.Paused, PowerState.Crashed, PowerState.Suspended, PowerState.Shutdown], PowerState.Shutdown);

    public Task RebootAsync(Guid uuid, RebootType type, CancellationToken ct = default) =>
        type == RebootType.Soft
            ? Transition(uuid, "soft reboot", [PowerState.Running], PowerState.Running, boots: true)
            : Transition(uuid, "hard reboot", [PowerState.Running, PowerState.Paused, PowerState.Shutdown, PowerState.Crashed, PowerState.Suspended], PowerState.Running, boots: true);

    public Task PauseAsync(Guid uuid, CancellationToken ct = default) =>
        Transition(uuid, "pause", [PowerState.Running], PowerState.Paused);

    public Task UnpauseAsync(Guid uuid, CancellationToken ct = default) =>
        Transition(uuid, "unpause", [PowerState.Paused], PowerState.Running);

    public Task SuspendAsync(Guid uuid, CancellationToken ct = default) =>
        Transition(uuid, "suspend", [PowerState.Running, PowerState.Paused], PowerState.Suspended);

    public Task ResumeAsync(Guid uuid, CancellationToken ct = default) =>
        Transition(uuid, "resume", [PowerState.Suspended], PowerState.Running);

    public Task<InstanceInfo> GetInfoAsync(Guid uuid, CancellationToken ct = default)
    {
        var instance = Find(uuid);
        lock (instance) return Task.FromResult(new InstanceInfo(uuid, instance.State));
    }

    public Task<IReadOnlyList<Guid>> ListInstancesAsync(CancellationToken ct = default) =>
        Task.FromResult<IReadOnlyList<Guid>>([.. _instances.Keys]);

    /// <summary>Nova's fake console lines once per boot, as a real console grows with each boot.</summary>
    public Task<string> GetConsoleOutputAsync(Guid uuid, CancellationToken ct = default)
    {
        var instance = Find(uuid);
        lock (instance)
            return Task.FromResult(string.Concat(Enumerable.Repeat($"FAKE CONSOLE OUTPUT of {instance.Spec.Name}\nANOTHER\nLAST LINE\n", instance.Boots)));
    }

    public HostResources GetHostResources() => _host;

    public Task ResizeAsync(Guid uuid, int vcpus, int memoryMiB, int? rootGiB, CancellationToken ct = default)
    {
        if (!_instances.TryGetValue(uuid, out var old)) throw new InstanceNotFoundException(uuid);
        _instances[uuid] = new FakeInstance(old.Spec with { Vcpus = vcpus, MemoryMiB = memoryMiB, Root = old.Spec.Root is { } root ? root with { SizeGiB = rootGiB } : null })
        {
            State = old.State, Boots = old.Boots,
        };
        return Task.CompletedTask;
    }

    FakeInstance Find(Guid uuid) =>
        _instances.TryGetValue(uuid, out var instance) ? instance : throw new InstanceNotFoundException(uuid);

    Task Transition(Guid uuid, string action, PowerState[] from, PowerState to, bool boots = false)
    {
        var instance = Find(uuid);
        lock (instance)
        {
            if (!from.Contains(instance.State)) throw new InstanceInvalidStateException(uuid, instance.State, action);
            instance.State = to;
            if (boots) instance.Boots++;
        }
        return Task.CompletedTask;
    }
}
