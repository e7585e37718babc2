using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stratus.Compute.Placement;
using Stratus.Compute.Rpc;
using Stratus.Compute.Virt;
using Stratus.Core.Messaging;

namespace Stratus.Compute.Agent;

/// <summary>
/// nova-compute on one host: heartbeats, reports the hypervisor to the conductor and its resource
/// provider and inventory to placement, runs the virt driver for the servers scheduled here, and keeps
/// the database's power states in step with the hypervisor. It reaches the database only through the
/// conductor, as Nova's agents do.
/// </summary>
public sealed class ComputeAgent(IMessageBus bus, IVirtDriver driver, ImageFetcher images, PlacementClient placement,
    NovaOptions options, ILogger<ComputeAgent> log) : BackgroundService
{
    string? _nodeUuid;
    bool _providerReady;

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        await using var serving = await bus.ServeAsync(ComputeRpc.ComputeTopic, options.Host, HandleAsync, stop);
        var lastSync = DateTime.MinValue;
        var recovered = false;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await ReportAsync(stop);
                if (!recovered)
                {
                    await RecoverAsync(stop);
                    recovered = true;
                }
                if (DateTime.UtcNow - lastSync > options.ReportInterval * 3)
                {
                    await SyncPowerStatesAsync(stop);
                    lastSync = DateTime.UtcNow;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                log.LogError("nova-compute on {Host}: {Error}", options.Host, e.Message);
            }
            await Task.Delay(options.ReportInterval, stop).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    Task<JsonNode?> ConductorAsync(string method, JsonObject args, CancellationToken ct) =>
        bus.CallAsync(ComputeRpc.ConductorTopic, null, method, args, ComputeRpc.CallTimeout, ct);

    /// <summary>Heartbeat, hypervisor record, and the resource provider with its inventory.</summary>
    async Task ReportAsync(CancellationToken ct)
    {
        await ConductorAsync("service_report", new JsonObject { ["host"] = options.Host, ["binary"] = NovaOptions.Compute, ["topic"] = ComputeRpc.ComputeTopic }, ct);
        var resources = driver.GetHostResources();
        var node = await ConductorAsync("compute_node_update", new JsonObject
        {
            ["host"] = options.Host,
            ["hypervisor_hostname"] = options.Host,
            ["hypervisor_type"] = resources.HypervisorType,
            ["host_ip"] = options.MyIp,
            ["vcpus"] = resources.Vcpus,
            ["memory_mb"] = resources.MemoryMiB,
            ["local_gb"] = resources.DiskGiB,
        }, ct);
        _nodeUuid = (string)node!["uuid"]!;
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

    async Task<JsonNode?> HandleAsync(string method, JsonObject args, CancellationToken ct)
    {
        if (method == "get_host_uptime") return JsonValue.Create(HostUptime());
        var uuid = (string)args["uuid"]!;
        var id = Guid.Parse(uuid);
        switch (method)
        {
            case "build_and_run_instance":
                await BuildAsync(args, ct);
                return null;
            case "get_console_output":
                return JsonValue.Create(await driver.GetConsoleOutputAsync(id, ct));
            case "rebuild_instance":
                await RebuildAsync(args, ct);
                return null;
            case "resize_instance":
                await ResizeAsync(args, ct);
                return null;
            case "terminate_instance":
                await driver.DestroyAsync(id, ct);
                await bus.CastAsync(ComputeRpc.ConductorTopic, null, "instance_destroyed", new JsonObject { ["uuid"] = uuid }, ct);
                return null;
        }
        var (task, work, vmState) = method switch
        {
            "stop_instance" => (TaskStates.PoweringOff, (Func<Task>)(() => driver.PowerOffAsync(id, TimeSpan.FromSeconds((int?)args["timeout"] ?? 60), ct)), VmStates.Stopped),
            "start_instance" => (TaskStates.PoweringOn, () => driver.PowerOnAsync(id, ct), VmStates.Active),
            "reboot_instance" => ((string?)args["type"] == "HARD" ? TaskStates.RebootingHard : TaskStates.Rebooting,
                () => driver.RebootAsync(id, (string?)args["type"] == "HARD" ? RebootType.Hard : RebootType.Soft, ct), VmStates.Active),
            "pause_instance" => (TaskStates.Pausing, () => driver.PauseAsync(id, ct), VmStates.Paused),
            "unpause_instance" => (TaskStates.Unpausing, () => driver.UnpauseAsync(id, ct), VmStates.Active),
            "suspend_instance" => (TaskStates.Suspending, () => driver.SuspendAsync(id, ct), VmStates.Suspended),
            "resume_instance" => (TaskStates.Resuming, () => driver.ResumeAsync(id, ct), VmStates.Active),
            _ => throw new InvalidOperationException($"nova-compute has no method {method}"),
        };
        try
        {
            await work();
            var info = await driver.GetInfoAsync(id, ct);
            await UpdateAsync(uuid, new JsonObject { ["vm_state"] = vmState, ["task_state"] = null, ["power_state"] = (int)info.State, ["expected_task_state"] = task }, ct);
        }
        catch (VirtException e)
        {
            log.LogError("{Method} of {Uuid} failed: {Error}", method, uuid, e.Message);
            await UpdateAsync(uuid, new JsonObject { ["task_state"] = null, ["expected_task_state"] = task, ["fault"] = Fault(500, e.Message) }, ct);
        }
        return null;
    }

    async Task BuildAsync(JsonObject args, CancellationToken ct)
    {
        var uuid = (string)args["uuid"]!;
        await UpdateAsync(uuid, new JsonObject { ["task_state"] = TaskStates.Spawning }, ct);
        string imagePath;
        try
        {
            imagePath = await images.FetchAsync((string)args["image_ref"]!, (string?)args["token"], ct);
        }
        catch (ImageFetchException e)
        {
            // Not this host's fault: another host would fail the same way, so no reschedule.
            await BuildFailedAsync(args, e.Message, reschedule: false, code: 400, ct);
            return;
        }
        var spec = new InstanceSpec(Guid.Parse(uuid), (string)args["name"]!, (int)args["vcpus"]!, (int)args["memory_mb"]!,
            new RootDisk((string)args["image_ref"]!, imagePath, (int?)args["root_gb"] is > 0 and var gb ? gb : null));
        try
        {
            await driver.SpawnAsync(spec, ct);
        }
        catch (Exception e) when (e is VirtException or IOException or InvalidOperationException)
        {
            log.LogError("Build of {Uuid} failed on {Host}: {Error}", uuid, options.Host, e.Message);
            try
            {
                await driver.DestroyAsync(spec.Uuid, ct);
            }
            catch (VirtException)
            {
            }
            await BuildFailedAsync(args, $"Build of instance {uuid} was re-scheduled: {e.Message}", reschedule: true, code: 500, ct);
            return;
        }
        var info = await driver.GetInfoAsync(spec.Uuid, ct);
        await UpdateAsync(uuid, new JsonObject
        {
            ["vm_state"] = VmStates.Active, ["task_state"] = null, ["power_state"] = (int)info.State, ["launched"] = true,
            ["expected_task_state"] = TaskStates.Spawning,
        }, ct);
    }

    /// <summary>Nova's rebuild: the root disk is made again from the (new) image; a stopped server stays stopped.</summary>
    async Task RebuildAsync(JsonObject args, CancellationToken ct)
    {
        var uuid = (string)args["uuid"]!;
        var done = new JsonObject { ["task_state"] = null, ["expected_task_state"] = TaskStates.Rebuilding };
        try
        {
            var imagePath = await images.FetchAsync((string)args["image_ref"]!, (string?)args["token"], ct);
            await driver.DestroyAsync(Guid.Parse(uuid), ct);
            await driver.SpawnAsync(new InstanceSpec(Guid.Parse(uuid), (string)args["name"]!, (int)args["vcpus"]!, (int)args["memory_mb"]!,
                new RootDisk((string)args["image_ref"]!, imagePath, (int?)args["root_gb"] is > 0 and var gb ? gb : null)), ct);
            if ((bool?)args["stopped"] == true) await driver.PowerOffAsync(Guid.Parse(uuid), TimeSpan.Zero, ct);
            done["vm_state"] = (string?)args["vm_state"] ?? VmStates.Active;
            done["power_state"] = (int)(await driver.GetInfoAsync(Guid.Parse(uuid), ct)).State;
            done["launched"] = true;
        }
        catch (Exception e) when (e is VirtException or ImageFetchException or IOException)
        {
            log.LogError("Rebuild of {Uuid} failed: {Error}", uuid, e.Message);
            done["vm_state"] = VmStates.Error;
            done["fault"] = Fault(500, e.Message);
        }
        await UpdateAsync(uuid, done, ct);
    }

    async Task ResizeAsync(JsonObject args, CancellationToken ct)
    {
        var uuid = (string)args["uuid"]!;
        var task = (string)args["task_state"]!;
        var done = new JsonObject { ["task_state"] = null, ["expected_task_state"] = task, ["migration_status"] = (string?)args["migration_status"] };
        try
        {
            await driver.ResizeAsync(Guid.Parse(uuid), (int)args["vcpus"]!, (int)args["memory_mb"]!, (int?)args["root_gb"] is > 0 and var gb ? gb : null, ct);
            done["vm_state"] = (string?)args["vm_state"];
            done["power_state"] = (int)(await driver.GetInfoAsync(Guid.Parse(uuid), ct)).State;
        }
        catch (VirtException e)
        {
            log.LogError("Resize of {Uuid} failed: {Error}", uuid, e.Message);
            done["migration_status"] = "error";
            done["fault"] = Fault(500, e.Message);
        }
        await UpdateAsync(uuid, done, ct);
    }

    Task BuildFailedAsync(JsonObject args, string message, bool reschedule, int code, CancellationToken ct) =>
        bus.CastAsync(ComputeRpc.ConductorTopic, null, "build_failed", new JsonObject
        {
            ["uuid"] = (string)args["uuid"]!, ["host"] = options.Host, ["message"] = message, ["reschedule"] = reschedule, ["code"] = code,
            ["token"] = (string?)args["token"],
        }, ct);

    Task UpdateAsync(string uuid, JsonObject fields, CancellationToken ct)
    {
        fields["uuid"] = uuid;
        return ConductorAsync("instance_update", fields, ct);
    }

    static JsonObject Fault(int code, string message) => new() { ["code"] = code, ["message"] = message };

    /// <summary>
    /// Nova's init_host: work this host was doing when it stopped will not finish by itself. Builds fail
    /// (the conductor puts them in ERROR and releases their claims), deletes are completed, and other
    /// tasks are cleared so the power-state sync can tell the truth.
    /// </summary>
    async Task RecoverAsync(CancellationToken ct)
    {
        var known = (await ConductorAsync("instances_on_host", new JsonObject { ["host"] = options.Host }, ct)) as JsonArray ?? [];
        foreach (var i in known.OfType<JsonObject>())
        {
            var uuid = (string)i["uuid"]!;
            var task = (string?)i["task_state"];
            if ((string?)i["vm_state"] == VmStates.Building)
            {
                log.LogWarning("Build of {Uuid} was interrupted by a restart of nova-compute on {Host}", uuid, options.Host);
                await driver.DestroyAsync(Guid.Parse(uuid), ct);
                await bus.CastAsync(ComputeRpc.ConductorTopic, null, "build_failed", new JsonObject
                {
                    ["uuid"] = uuid, ["host"] = options.Host, ["reschedule"] = false,
                    ["message"] = $"Build of instance {uuid} aborted: nova-compute on {options.Host} restarted during the build",
                }, ct);
            }
            else if (task == TaskStates.Deleting)
            {
                await driver.DestroyAsync(Guid.Parse(uuid), ct);
                await bus.CastAsync(ComputeRpc.ConductorTopic, null, "instance_destroyed", new JsonObject { ["uuid"] = uuid }, ct);
            }
            else if (task is not null)
            {
                log.LogWarning("Clearing task {Task} of {Uuid}: nova-compute on {Host} restarted while it ran", task, uuid, options.Host);
                await UpdateAsync(uuid, new JsonObject { ["task_state"] = null, ["expected_task_state"] = task }, ct);
            }
        }
    }

    /// <summary>
    /// Nova's _sync_power_states: the hypervisor is the truth for idle servers; and guests the database
    /// no longer has (deleted while this agent was down) are destroyed, as running_deleted_instance_action=reap.
    /// </summary>
    async Task SyncPowerStatesAsync(CancellationToken ct)
    {
        var known = (await ConductorAsync("instances_on_host", new JsonObject { ["host"] = options.Host }, ct)) as JsonArray ?? [];
        var running = (await driver.ListInstancesAsync(ct)).ToHashSet();
        foreach (var i in known.OfType<JsonObject>())
        {
            var uuid = (string)i["uuid"]!;
            if (i["task_state"] is not null || (string?)i["vm_state"] is VmStates.Building or VmStates.Error) continue;
            var id = Guid.Parse(uuid);
            var state = running.Contains(id) ? (await driver.GetInfoAsync(id, ct)).State : PowerState.NoState;
            if ((int)state == (int)i["power_state"]!) continue;
            log.LogWarning("Power state of {Uuid} is {State} on the hypervisor; updating the database", uuid, state);
            var fields = new JsonObject { ["power_state"] = (int)state, ["expected_task_state"] = null };
            if (state is PowerState.Shutdown or PowerState.Crashed or PowerState.NoState && (string?)i["vm_state"] == VmStates.Active)
                fields["vm_state"] = VmStates.Stopped;
            await UpdateAsync(uuid, fields, ct);
        }
        var inDatabase = known.OfType<JsonObject>().Select(i => Guid.Parse((string)i["uuid"]!)).ToHashSet();
        foreach (var orphan in running.Where(r => !inDatabase.Contains(r)))
        {
            log.LogWarning("Destroying guest {Uuid}: the database has no such server on {Host}", orphan, options.Host);
            await driver.DestroyAsync(orphan, ct);
        }
    }
}

/// <summary>The image could not be had from the image service: the build cannot succeed anywhere.</summary>
public sealed class ImageFetchException(string message) : Exception(message);
