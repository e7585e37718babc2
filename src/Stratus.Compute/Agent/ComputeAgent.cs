using System.Collections.Concurrent;
using Stratus.Compute.Metadata;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stratus.Compute.Images;
using Stratus.Compute.Network;
using Stratus.Compute.Placement;
using Stratus.Compute.Rpc;
using Stratus.Compute.Virt;
using Stratus.Compute.Volumes;
using Stratus.Core.Messaging;
using Stratus.Core.Processes;
using Stratus.Core.Services;

namespace Stratus.Compute.Agent;

/// <summary>
/// nova-compute on one host: heartbeats, reports the hypervisor to the conductor and its resource
/// provider and inventory to placement, runs the virt driver for the servers scheduled here, and keeps
/// the database's power states in step with the hypervisor. It reaches the database only through the
/// conductor, as Nova's agents do.
/// </summary>
public sealed class ComputeAgent(IMessageBus bus, ConductorApi conductor, IVirtDriver driver, ImageCache images, ImageClient glance,
    PlacementClient placement, NeutronClient neutron, HostVolumes volumes, InstanceEvents events, ServiceGroup group, NovaOptions options, ILogger<ComputeAgent> log) : BackgroundService
{
    string? _nodeUuid;
    bool _providerReady;

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        var rpc = new RpcDispatcher(NovaOptions.Compute, ComputeRpcJson.Default)
            .On<GetHostUptime, string>((_, _) => Task.FromResult(HostUptime()))
            .On<GetConsoleOutput, string>((m, ct) => driver.GetConsoleOutputAsync(Guid.Parse(m.Uuid), ct))
            .On<BuildAndRunInstance>(BuildAsync)
            .On<RebuildInstance>(RebuildAsync)
            .On<ResizeInstance>(ResizeAsync)
            .On<TerminateInstance>(async (m, ct) =>
            {
                Terminated(m.Uuid);
                await driver.DestroyAsync(Guid.Parse(m.Uuid), ct);
                if (m.Networked) await ServerNetworks.DeallocateServerAsync(neutron, m.Uuid, m.NetworkInfo, m.UserPorts, ct);
                await volumes.ReleaseAsync(m, ct);
                await conductor.CastAsync(new InstanceDestroyed(m.Uuid), ct);
            })
            .On<ExternalInstanceEvent>((m, _) =>
            {
                if (!events.Deliver(m.Uuid, m.Name, m.Tag, m.Status)) log.LogDebug("No build of {Uuid} waits for {Name} {Tag}", m.Uuid, m.Name, m.Tag);
                return Task.CompletedTask;
            })
            .On<AttachInterface, Vif>(AttachInterfaceAsync)
            .On<AttachVolume, string>(volumes.AttachAsync)
            .On<DetachVolume>(volumes.DetachAsync)
            .On<DetachInterface>(async (m, ct) =>
            {
                var vif = m.Vif;
                await driver.DetachInterfaceAsync(Guid.Parse(m.Uuid), new NicSpec(vif.TapDevice, vif.MacAddress, vif.Bridge, vif.Mtu), ct);
                await ServerNetworks.DeallocateAsync(neutron, [vif], ct);
            })
            .On<StopInstance>((m, ct) => PowerAsync(m.Uuid, TaskStates.PoweringOff, VmStates.Stopped, id => driver.PowerOffAsync(id, TimeSpan.FromSeconds(60), ct), ct))
            .On<StartInstance>((m, ct) => PowerAsync(m.Uuid, TaskStates.PoweringOn, VmStates.Active, id => driver.PowerOnAsync(id, ct), ct))
            .On<RebootInstance>((m, ct) => PowerAsync(m.Uuid, m.Type == RebootType.Hard ? TaskStates.RebootingHard : TaskStates.Rebooting, VmStates.Active,
                id => driver.RebootAsync(id, m.Type, ct), ct))
            .On<PauseInstance>((m, ct) => PowerAsync(m.Uuid, TaskStates.Pausing, VmStates.Paused, id => driver.PauseAsync(id, ct), ct))
            .On<UnpauseInstance>((m, ct) => PowerAsync(m.Uuid, TaskStates.Unpausing, VmStates.Active, id => driver.UnpauseAsync(id, ct), ct))
            .On<SuspendInstance>((m, ct) => PowerAsync(m.Uuid, TaskStates.Suspending, VmStates.Suspended, id => driver.SuspendAsync(id, ct), ct))
            .On<ResumeInstance>((m, ct) => PowerAsync(m.Uuid, TaskStates.Resuming, VmStates.Active, id => driver.ResumeAsync(id, ct), ct));
        await using var serving = await bus.ServeAsync(ComputeRpc.ComputeTopic, options.Host, rpc.DispatchAsync, stop);
        var lastSync = DateTime.MinValue;
        var recovered = false;
        await group.HeartbeatAsync(async ct =>
        {
            await ReportAsync(ct);
            if (!recovered)
            {
                await RecoverAsync(ct);
                recovered = true;
            }
            if (DateTime.UtcNow - lastSync > options.ReportInterval * 3)
            {
                await SyncPowerStatesAsync(ct);
                lastSync = DateTime.UtcNow;
            }
        }, log, $"nova-compute on {options.Host}", stop);
    }

    /// <summary>Heartbeat, hypervisor record, and the resource provider with its inventory.</summary>
    async Task ReportAsync(CancellationToken ct)
    {
        await conductor.CallAsync(new ServiceReport(options.Host, NovaOptions.Compute, ComputeRpc.ComputeTopic), ct);
        var resources = driver.GetHostResources();
        _nodeUuid = await conductor.CallAsync(new ComputeNodeUpdate(options.Host, HypervisorHostname: options.Host, resources.HypervisorType, options.MyIp,
            resources.Vcpus, resources.MemoryMiB, resources.DiskGiB), ct);
        if (_providerReady) return;
        try
        {
            // Nova's initial allocation ratios: 4 vCPUs and 1.5 MiB of RAM per physical one, disk 1:1.
            await placement.EnsureProviderAsync(_nodeUuid, options.Host, new JsonObject
            {
                ["VCPU"] = Inventory(resources.Vcpus, 4.0),
                ["MEMORY_MB"] = Inventory(resources.MemoryMiB, 1.5, reserved: Math.Min(512, resources.MemoryMiB / 8)),
                ["DISK_GB"] = Inventory(Math.Max(1, resources.DiskGiB), 1.0),
            }, ct);
            _providerReady = true;
            log.LogInformation("Resource provider {Uuid} ({Host}) and its inventory are in placement", _nodeUuid, options.Host);
        }
        catch (PlacementException e)
        {
            // Seed section 6: the operator needs the cause and the section to fix, not silence.
            log.LogError("ResourceProviderCreationFailed: Failed to create resource provider {Host}. Failed to retrieve resource provider tree " +
                "from placement API for UUID {Uuid}. {Error}", options.Host, _nodeUuid, e.Message);
        }
    }

    /// <summary>The host's uptime as uptime(1) prints it, which is what Nova's os-hypervisors/{id}/uptime shows.</summary>
    static string HostUptime()
    {
        var up = TimeSpan.FromSeconds(double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
        var load = File.ReadAllText("/proc/loadavg").Split(' ');
        var days = up.Days > 0 ? $"{up.Days} day{(up.Days == 1 ? "" : "s")}, " : "";
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $" {DateTime.Now:HH:mm:ss} up {days}{up.Hours,2}:{up.Minutes:00},  1 user,  load average: {load[0]}, {load[1]}, {load[2]}");
    }

    static JsonObject Inventory(long total, double ratio, long reserved = 0) => new()
    {
        ["total"] = total, ["reserved"] = reserved, ["min_unit"] = 1, ["max_unit"] = total, ["step_size"] = 1, ["allocation_ratio"] = ratio,
    };

    async Task PowerAsync(string uuid, string task, string vmState, Func<Guid, Task> work, CancellationToken ct)
    {
        var id = Guid.Parse(uuid);
        try
        {
            await work(id);
            var info = await driver.GetInfoAsync(id, ct);
            await conductor.CallAsync(new InstanceUpdate(uuid, TaskState: null) { VmState = vmState, PowerState = (int)info.State, ExpectedTaskState = [task] }, ct);
        }
        catch (VirtException e)
        {
            log.LogError("{Task} of {Uuid} failed: {Error}", task, uuid, e.Message);
            await conductor.CallAsync(new InstanceUpdate(uuid, TaskState: null) { ExpectedTaskState = [task], Fault = new Fault(500, e.Message) }, ct);
        }
    }

    /// <summary>The config drive's files when the server asked for one or <c>force_config_drive</c> is set; null otherwise.</summary>
    IReadOnlyDictionary<string, byte[]>? ConfigDriveFiles(bool asked, string metaDataJson, string? userData, IReadOnlyList<Vif> vifs, IReadOnlyList<InjectedFile> injectedFiles) =>
        asked || options.ForceConfigDrive
            ? MetadataApi.ConfigDriveFiles(JsonNode.Parse(metaDataJson)!.AsObject(), userData is { } u ? Convert.FromBase64String(u) : null,
                MetadataApi.NetworkData(vifs), injectedFiles)
            : null;

    static InstanceSpec Spec(string uuid, string name, InstanceFlavor flavor, string imageRef, string? imagePath) =>
        new(Guid.Parse(uuid), name, flavor.Vcpus, flavor.MemoryMb, imagePath is null ? null : new RootDisk(imageRef, imagePath, flavor.RootGb > 0 ? flavor.RootGb : null));

    /// <summary>
    /// Servers deleted here lately: a build of one that is under way, or whose message comes after the delete's,
    /// undoes what it made (Nova's build checks for a delete the same way). Kept ten minutes.
    /// </summary>
    readonly ConcurrentDictionary<string, DateTime> _terminated = new();

    void Terminated(string uuid)
    {
        var now = DateTime.UtcNow;
        _terminated[uuid] = now;
        foreach (var (old, at) in _terminated)
            if (now - at > TimeSpan.FromMinutes(10)) _terminated.TryRemove(old, out _);
    }

    bool Deleted(string uuid) => _terminated.ContainsKey(uuid);

    async Task BuildAsync(BuildAndRunInstance build, CancellationToken ct)
    {
        var uuid = build.Uuid;
        if (Deleted(uuid)) return;
        await conductor.CallAsync(new InstanceUpdate(uuid, TaskStates.Spawning), ct);
        // A server booted from a volume has no image of its own to fetch.
        string? imagePath = null;
        try
        {
            if (build.ImageRef.Length > 0) imagePath = await FetchImageAsync(build.ImageRef, build.Token, ct);
        }
        catch (ImageFetchException e)
        {
            // Not this host's fault: another host would fail the same way, so no reschedule.
            await conductor.CastAsync(new BuildFailed(uuid, options.Host, e.Message, Reschedule: false, Code: 400, build.Token), ct);
            return;
        }
        IReadOnlyList<Vif> vifs;
        try
        {
            vifs = await ServerNetworks.AllocateAsync(neutron, uuid, build.ProjectId, options.Host, build.Zone, build.Networks, ct);
        }
        catch (Exception e) when (e is PortBindingFailedException or NeutronException)
        {
            // Nova's compute manager logs it against the instance and the build ends: the server is ERROR with this fault.
            log.LogError("[instance: {Uuid}] {Error}", uuid, e.Message);
            await conductor.CastAsync(new BuildFailed(uuid, options.Host, e.Message, Reschedule: false, Code: 500, build.Token), ct);
            return;
        }
        if (Deleted(uuid))
        {
            await ServerNetworks.DeallocateAsync(neutron, vifs, CancellationToken.None);
            return;
        }
        if (vifs.Count > 0) await conductor.CallAsync(new InstanceUpdate(uuid, TaskStates.Spawning) { NetworkInfo = vifs }, ct);
        IReadOnlyList<DiskSpec> disks;
        try
        {
            disks = await volumes.PrepareAsync(build, ct);
        }
        catch (Exception e) when (e is CinderException or VirtException)
        {
            // Nova's BuildAbortException: no other host would do better.
            log.LogError("[instance: {Uuid}] {Error}", uuid, e.Message);
            await ServerNetworks.DeallocateAsync(neutron, vifs, CancellationToken.None);
            await conductor.CastAsync(new BuildFailed(uuid, options.Host, $"Build of instance {uuid} aborted: {e.Message}", Reschedule: false, Code: 500, build.Token), ct);
            return;
        }
        var spec = Spec(uuid, build.Name, build.Flavor, build.ImageRef, imagePath) with
        {
            Disks = disks,
            Nics = [.. vifs.Select(v => new NicSpec(v.TapDevice, v.MacAddress, v.Bridge, v.Mtu))],
            ConfigDriveFiles = ConfigDriveFiles(build.ConfigDrive, build.MetaDataJson, build.UserData, vifs, build.InjectedFiles),
        };
        try
        {
            await PlugAndWaitAsync(uuid, spec, vifs, ct);
            await driver.SpawnAsync(spec, ct);
        }
        catch (Exception e) when (e is VirtException or IOException or InvalidOperationException or HostCommandException)
        {
            await driver.UnplugVifsAsync(spec, CancellationToken.None);
            await ServerNetworks.DeallocateAsync(neutron, vifs, CancellationToken.None);
            log.LogError("Build of {Uuid} failed on {Host}: {Error}", uuid, options.Host, e.Message);
            try
            {
                await driver.DestroyAsync(spec.Uuid, ct);
            }
            catch (VirtException)
            {
            }
            await conductor.CastAsync(new BuildFailed(uuid, options.Host, $"Build of instance {uuid} was re-scheduled: {e.Message}", Reschedule: true, Code: 500, build.Token)
            {
                InjectedFiles = build.InjectedFiles,
            }, ct);
            return;
        }
        if (Deleted(uuid))
        {
            await driver.DestroyAsync(spec.Uuid, CancellationToken.None);
            await driver.UnplugVifsAsync(spec, CancellationToken.None);
            await ServerNetworks.DeallocateAsync(neutron, vifs, CancellationToken.None);
            return;
        }
        var info = await driver.GetInfoAsync(spec.Uuid, ct);
        await conductor.CallAsync(new InstanceUpdate(uuid, TaskState: null)
        {
            VmState = VmStates.Active, PowerState = (int)info.State, Launched = true, ExpectedTaskState = [TaskStates.Spawning],
        }, ct);
    }

    /// <summary>
    /// libvirt's plug-then-wait: the events of the NICs that are not active yet are expected first, the
    /// NICs plugged, then the build waits up to <c>vif_plugging_timeout</c> for the network service to say
    /// each is plugged; when they do not come and <c>vif_plugging_is_fatal</c>, the build fails as Nova's does.
    /// </summary>
    async Task PlugAndWaitAsync(string uuid, InstanceSpec spec, IReadOnlyList<Vif> vifs, CancellationToken ct)
    {
        var expected = options.VifPluggingTimeout > TimeSpan.Zero
            ? vifs.Where(v => !v.Active).Select(v => (v.PortId, Event: events.Expect(uuid, "network-vif-plugged", v.PortId))).ToList()
            : [];
        try
        {
            if (!await driver.PlugVifsAsync(spec, ct) || expected.Count == 0) return;
            var all = Task.WhenAll(expected.Select(e => e.Event));
            if (await Task.WhenAny(all, Task.Delay(options.VifPluggingTimeout, ct)) != all)
            {
                log.LogWarning("[instance: {Uuid}] Timeout waiting for [{Events}] for instance with vm_state building and task_state spawning",
                    uuid, string.Join(", ", expected.Where(e => !e.Event.IsCompleted).Select(e => "('network-vif-plugged', '" + e.PortId + "')")));
                if (options.VifPluggingIsFatal) throw new VirtException("Virtual Interface creation failed");
                return;
            }
            if (expected.FirstOrDefault(e => e.Event.Result == "failed") is { PortId: { } failed })
                throw new VirtException($"Virtual Interface creation failed: the network service reports port {failed} failed to plug");
        }
        finally
        {
            events.Forget(uuid);
        }
    }

    /// <summary>Nova's attach_interface: the port made or taken over and bound here, then hot-plugged; undone when the plug fails.</summary>
    async Task<Vif> AttachInterfaceAsync(AttachInterface m, CancellationToken ct)
    {
        var vif = (await ServerNetworks.AllocateAsync(neutron, m.Uuid, m.ProjectId, options.Host, m.Zone, [m.Requested], ct))[0];
        try
        {
            await driver.AttachInterfaceAsync(Guid.Parse(m.Uuid), new NicSpec(vif.TapDevice, vif.MacAddress, vif.Bridge, vif.Mtu), ct);
            return vif;
        }
        catch
        {
            await ServerNetworks.DeallocateAsync(neutron, [vif], CancellationToken.None);
            throw;
        }
    }

    /// <summary>Nova's rebuild: the root disk is made again from the (new) image; a stopped server stays stopped.</summary>
    async Task RebuildAsync(RebuildInstance rebuild, CancellationToken ct)
    {
        var uuid = rebuild.Uuid;
        var done = new InstanceUpdate(uuid, TaskState: null) { ExpectedTaskState = [TaskStates.Rebuilding] };
        try
        {
            var imagePath = await FetchImageAsync(rebuild.ImageRef, rebuild.Token, ct);
            await driver.DestroyAsync(Guid.Parse(uuid), ct);
            var vifs = rebuild.NetworkInfo;
            var spec = Spec(uuid, rebuild.Name, rebuild.Flavor, rebuild.ImageRef, imagePath) with
            {
                Nics = [.. vifs.Select(v => new NicSpec(v.TapDevice, v.MacAddress, v.Bridge, v.Mtu))],
                Disks = rebuild.Disks,
                ConfigDriveFiles = ConfigDriveFiles(rebuild.ConfigDrive, rebuild.MetaDataJson, rebuild.UserData, vifs, rebuild.InjectedFiles),
            };
            await driver.PlugVifsAsync(spec, ct);
            await driver.SpawnAsync(spec, ct);
            if (rebuild.Stopped) await driver.PowerOffAsync(Guid.Parse(uuid), TimeSpan.Zero, ct);
            done = done with
            {
                VmState = rebuild.Stopped ? VmStates.Stopped : VmStates.Active, PowerState = (int)(await driver.GetInfoAsync(Guid.Parse(uuid), ct)).State, Launched = true,
            };
        }
        catch (Exception e) when (e is VirtException or ImageFetchException or IOException)
        {
            log.LogError("Rebuild of {Uuid} failed: {Error}", uuid, e.Message);
            done = done with { VmState = VmStates.Error, Fault = new Fault(500, e.Message) };
        }
        await conductor.CallAsync(done, ct);
    }

    async Task ResizeAsync(ResizeInstance resize, CancellationToken ct)
    {
        var uuid = resize.Uuid;
        var done = new InstanceUpdate(uuid, TaskState: null) { ExpectedTaskState = [resize.TaskState], MigrationStatus = resize.MigrationStatus };
        try
        {
            var flavor = resize.Flavor;
            await driver.ResizeAsync(Guid.Parse(uuid), flavor.Vcpus, flavor.MemoryMb, flavor.RootGb > 0 ? flavor.RootGb : null, ct);
            done = done with { VmState = resize.VmState, PowerState = (int)(await driver.GetInfoAsync(Guid.Parse(uuid), ct)).State };
        }
        catch (VirtException e)
        {
            log.LogError("Resize of {Uuid} failed: {Error}", uuid, e.Message);
            done = done with { MigrationStatus = "error", Fault = new Fault(500, e.Message) };
        }
        await conductor.CallAsync(done, ct);
    }

    /// <summary>The image's copy in this host's cache, brought from the image service the first time.</summary>
    async Task<string> FetchImageAsync(string imageId, string? token, CancellationToken ct)
    {
        const string Unusable = "Invalid image identifier or unable to access requested image";
        if (!Guid.TryParse(imageId, out _)) throw new ImageFetchException($"{Unusable}. (image '{imageId}')");
        try
        {
            return await images.EnsureAsync(imageId, (file, ct) => glance.DownloadAsync(imageId, token, file, ct), ct);
        }
        catch (Exception e) when (e is Core.Catalog.EndpointNotFoundException or IdentityUnreachableException or ServiceCredentialsRejectedException)
        {
            throw new ImageFetchException($"{Unusable}: no image service ({e.Message})");
        }
        catch (ImageServiceException e)
        {
            throw new ImageFetchException(e.Status is null
                ? $"{Unusable}: {e.Endpoint} could not be reached ({e.Message})"
                : $"{Unusable}. (HTTP {e.Status} from {e.Endpoint} for image {imageId})");
        }
    }

    /// <summary>
    /// Nova's init_host: work this host was doing when it stopped will not finish by itself. Builds fail
    /// (the conductor puts them in ERROR and releases their claims), deletes are completed, and other
    /// tasks are cleared so the power-state sync can tell the truth.
    /// </summary>
    async Task RecoverAsync(CancellationToken ct)
    {
        foreach (var (uuid, vmState, task, _) in await conductor.CallAsync(new InstancesOnHost(options.Host), ct))
        {
            if (vmState == VmStates.Building)
            {
                log.LogWarning("Build of {Uuid} was interrupted by a restart of nova-compute on {Host}", uuid, options.Host);
                await driver.DestroyAsync(Guid.Parse(uuid), ct);
                await conductor.CastAsync(new BuildFailed(uuid, options.Host,
                    $"Build of instance {uuid} aborted: nova-compute on {options.Host} restarted during the build", Reschedule: false), ct);
            }
            else if (task == TaskStates.Deleting)
            {
                await driver.DestroyAsync(Guid.Parse(uuid), ct);
                await conductor.CastAsync(new InstanceDestroyed(uuid), ct);
            }
            else if (task is not null)
            {
                log.LogWarning("Clearing task {Task} of {Uuid}: nova-compute on {Host} restarted while it ran", task, uuid, options.Host);
                await conductor.CallAsync(new InstanceUpdate(uuid, TaskState: null) { ExpectedTaskState = [task] }, ct);
            }
        }
    }

    /// <summary>
    /// Nova's _sync_power_states: the hypervisor is the truth for idle servers; and guests the database
    /// no longer has (deleted while this agent was down) are destroyed, as running_deleted_instance_action=reap.
    /// </summary>
    async Task SyncPowerStatesAsync(CancellationToken ct)
    {
        var known = await conductor.CallAsync(new InstancesOnHost(options.Host), ct);
        var running = (await driver.ListInstancesAsync(ct)).ToHashSet();
        foreach (var (uuid, vmState, task, powerState) in known)
        {
            if (task is not null || vmState is VmStates.Building or VmStates.Error) continue;
            var id = Guid.Parse(uuid);
            var state = running.Contains(id) ? (await driver.GetInfoAsync(id, ct)).State : PowerState.NoState;
            if ((int)state == powerState) continue;
            log.LogWarning("Power state of {Uuid} is {State} on the hypervisor; updating the database", uuid, state);
            await conductor.CallAsync(new InstanceUpdate(uuid, TaskState: null)
            {
                PowerState = (int)state, ExpectedTaskState = [null],
                VmState = state is PowerState.Shutdown or PowerState.Crashed or PowerState.NoState && vmState == VmStates.Active ? VmStates.Stopped : null,
            }, ct);
        }
        var inDatabase = known.Select(i => Guid.Parse(i.Uuid)).ToHashSet();
        foreach (var orphan in running.Where(r => !inDatabase.Contains(r)))
        {
            log.LogWarning("Destroying guest {Uuid}: the database has no such server on {Host}", orphan, options.Host);
            await driver.DestroyAsync(orphan, ct);
        }
    }
}

/// <summary>The image could not be had from the image service: the build cannot succeed anywhere.</summary>
public sealed class ImageFetchException(string message) : Exception(message);
