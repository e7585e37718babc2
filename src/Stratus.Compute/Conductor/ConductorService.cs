using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stratus.Compute.Placement;
using Stratus.Compute.Rpc;
using Stratus.Core.Messaging;

namespace Stratus.Compute.Conductor;

/// <summary>
/// nova-conductor: drives builds (ask the scheduler, hand the server to the chosen host's agent,
/// reschedule elsewhere when a host fails it, ERROR with a fault when no host can), and is the compute
/// agents' only way to the database: their heartbeats, hypervisor reports and instance updates come
/// here. It also notices builds stranded on a host that went down.
/// </summary>
public sealed class ConductorService(IMessageBus bus, IServiceScopeFactory scopes, PlacementClient placement, NovaOptions options,
    ILogger<ConductorService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        await using var serving = await bus.ServeAsync(ComputeRpc.ConductorTopic, options.Host, HandleAsync, stop);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.ReportInterval, stop);
                await FailBuildsOnDownHostsAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                log.LogError("Checking builds on down hosts failed: {Error}", e.Message);
            }
        }
    }

    async Task<JsonNode?> HandleAsync(string method, JsonObject args, CancellationToken ct)
    {
        // A server written meanwhile by the API (its version moved on): apply the report again on what is there now.
        for (var attempt = 0; ; attempt++)
            try
            {
                return await HandleOnceAsync(method, args, ct);
            }
            catch (DbUpdateConcurrencyException) when (attempt < 10 && method is "instance_update" or "build_failed" or "instance_destroyed" or "resize_instance" or "revert_resize")
            {
            }
    }

    async Task<JsonNode?> HandleOnceAsync(string method, JsonObject args, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CellDb>();
        switch (method)
        {
            case "build_instance":
                await BuildAsync(db, args, ct);
                return null;
            case "resize_instance":
                await ResizeAsync(db, args, revert: false, ct);
                return null;
            case "revert_resize":
                await ResizeAsync(db, args, revert: true, ct);
                return null;
            case "build_failed":
                await BuildFailedAsync(db, args, ct);
                return null;
            case "instance_update":
                await UpdateInstanceAsync(db, args, ct);
                return null;
            case "instance_destroyed":
                await DestroyedAsync(db, (string)args["uuid"]!, ct);
                return null;
            case "service_report":
                return await ReportServiceAsync(db, args, ct);
            case "compute_node_update":
                return await UpdateComputeNodeAsync(db, args, ct);
            case "instances_on_host":
                var host = (string)args["host"]!;
                var list = await db.Instances.Where(i => i.Host == host && !i.Deleted).ToListAsync(ct);
                return new JsonArray([.. list.Select(i => (JsonNode)new JsonObject
                {
                    ["uuid"] = i.Uuid, ["vm_state"] = i.VmState, ["task_state"] = i.TaskState, ["power_state"] = i.PowerState,
                })]);
            default:
                throw new InvalidOperationException($"nova-conductor has no method {method}");
        }
    }

    async Task BuildAsync(CellDb db, JsonObject args, CancellationToken ct)
    {
        var uuid = (string)args["uuid"]!;
        var instance = await db.Instances.FirstOrDefaultAsync(i => i.Uuid == uuid && !i.Deleted, ct);
        if (instance is null || instance.VmState != VmStates.Building) return;
        var flavor = JsonNode.Parse(instance.FlavorJson)!;
        var tried = JsonSerializer.Deserialize<List<string>>(instance.TriedHostsJson) ?? [];
        JsonNode? destination;
        try
        {
            destination = await bus.CallAsync(ComputeRpc.SchedulerTopic, null, "select_destination", new JsonObject
            {
                ["uuid"] = uuid,
                ["vcpus"] = (long)flavor["vcpus"]!,
                ["memory_mb"] = (long)flavor["ram"]!,
                ["disk_gb"] = (long)flavor["disk"]! + (long)flavor["ephemeral"]!,
                ["project_id"] = instance.ProjectId,
                ["user_id"] = instance.UserId,
                ["availability_zone"] = instance.AvailabilityZone,
                ["excluded_hosts"] = new JsonArray([.. tried.Select(h => (JsonNode)h)]),
            }, ComputeRpc.CallTimeout, ct);
        }
        catch (Exception e) when (e is RpcRemoteException or RpcTimeoutException)
        {
            await FailAsync(db, instance, e is RpcRemoteException r && r.RemoteType.EndsWith("NoValidHostException", StringComparison.Ordinal)
                ? "No valid host was found. There are not enough hosts available."
                : $"Scheduling failed: {e.Message}", 500, ct);
            return;
        }
        var attempts = instance.BuildAttempts + 1;
        await db.SaveInstanceAsync(instance, i =>
        {
            i.Host = (string)destination!["host"]!;
            i.Node = (string)destination["node"]!;
            i.BuildAttempts = attempts;
            i.Touch();
        }, ct);
        if (instance.Deleted) return;
        await bus.CastAsync(ComputeRpc.ComputeTopic, instance.Host, "build_and_run_instance", new JsonObject
        {
            ["uuid"] = uuid,
            ["name"] = instance.DisplayName,
            ["vcpus"] = (long)flavor["vcpus"]!,
            ["memory_mb"] = (long)flavor["ram"]!,
            ["root_gb"] = (long)flavor["disk"]!,
            ["image_ref"] = instance.ImageRef,
            ["token"] = (string?)args["token"],
        }, ct);
    }

    /// <summary>
    /// A same-host resize (or its revert): the server's placement allocation becomes the new flavor's on
    /// its host (409: the host has no room), then its agent resizes the guest.
    /// </summary>
    async Task ResizeAsync(CellDb db, JsonObject args, bool revert, CancellationToken ct)
    {
        var uuid = (string)args["uuid"]!;
        var instance = await db.Instances.FirstOrDefaultAsync(i => i.Uuid == uuid && !i.Deleted, ct);
        if (instance?.Host is null) return;
        var flavor = revert ? JsonNode.Parse(instance.OldFlavorJson ?? instance.FlavorJson)! : args["flavor"]!;
        var node = await db.ComputeNodes.FirstOrDefaultAsync(n => n.Host == instance.Host, ct);
        var claim = new JsonObject
        {
            ["allocations"] = new JsonObject
            {
                [node?.Uuid ?? ""] = new JsonObject
                {
                    ["resources"] = new JsonObject
                    {
                        ["VCPU"] = (int)flavor["vcpus"]!, ["MEMORY_MB"] = (int)flavor["ram"]!, ["DISK_GB"] = (int)flavor["disk"]! + ((int?)flavor["ephemeral"] ?? 0),
                    },
                },
            },
            ["project_id"] = instance.ProjectId, ["user_id"] = instance.UserId, ["consumer_generation"] = null,
        };
        if (claim["allocations"]![node?.Uuid ?? ""]!["resources"]!["DISK_GB"]!.GetValue<int>() == 0) claim["allocations"]![node?.Uuid ?? ""]!["resources"]!.AsObject().Remove("DISK_GB");
        var current = await placement.GetAsync($"/allocations/{uuid}", ct);
        claim["consumer_generation"] = current?["consumer_generation"]?.DeepClone();
        var (status, _, text) = await placement.SendAsync(HttpMethod.Put, $"/allocations/{uuid}", claim, ct);
        if ((int)status >= 300)
        {
            instance.TaskState = null;
            instance.Touch();
            db.Faults.Add(new InstanceFault { InstanceUuid = uuid, Code = 500, Message = $"No valid host was found. {instance.Host} cannot hold the new flavor: {text}", Host = instance.Host, CreatedAt = DateTime.UtcNow });
            foreach (var m in await db.Migrations.Where(m => m.InstanceUuid == uuid && (m.Status == "pre-migrating" || m.Status == "reverting")).ToListAsync(ct)) m.Status = "error";
            await FinishActionAsync(db, uuid, "Error", ct);
            await db.SaveChangesAsync(ct);
            return;
        }
        if (revert)
        {
            instance.FlavorJson = instance.OldFlavorJson ?? instance.FlavorJson;
            instance.OldFlavorJson = null;
        }
        else
        {
            instance.OldFlavorJson = instance.FlavorJson;
            instance.FlavorJson = flavor.ToJsonString();
        }
        instance.Touch();
        await db.SaveChangesAsync(ct);
        await bus.CastAsync(ComputeRpc.ComputeTopic, instance.Host, "resize_instance", new JsonObject
        {
            ["uuid"] = uuid, ["vcpus"] = (int)flavor["vcpus"]!, ["memory_mb"] = (int)flavor["ram"]!, ["root_gb"] = (int)flavor["disk"]!,
            ["task_state"] = revert ? TaskStates.ResizeReverting : TaskStates.ResizePrep,
            ["vm_state"] = revert ? (instance.PowerState == 1 ? VmStates.Active : VmStates.Stopped) : VmStates.Resized,
            ["migration_status"] = revert ? "reverted" : "finished",
        }, ct);
    }

    async Task BuildFailedAsync(CellDb db, JsonObject args, CancellationToken ct)
    {
        var uuid = (string)args["uuid"]!;
        var instance = await db.Instances.FirstOrDefaultAsync(i => i.Uuid == uuid && !i.Deleted, ct);
        if (instance is null) return;
        await ReleaseAsync(uuid, ct);
        var message = (string?)args["message"] ?? "Build failed";
        var tried = JsonSerializer.Deserialize<List<string>>(instance.TriedHostsJson) ?? [];
        if ((string?)args["host"] is { } host) tried.Add(host);
        instance.TriedHostsJson = JsonSerializer.Serialize(tried);
        if ((bool?)args["reschedule"] == true && instance.BuildAttempts < options.MaxBuildAttempts)
        {
            log.LogWarning("Build of {Uuid} failed on {Host} ({Message}); rescheduling", uuid, args["host"], message);
            instance.Host = null;
            instance.Node = null;
            instance.TaskState = TaskStates.Scheduling;
            instance.Touch();
            await db.SaveChangesAsync(ct);
            await BuildAsync(db, new JsonObject { ["uuid"] = uuid, ["token"] = (string?)args["token"] }, ct);
            return;
        }
        await FailAsync(db, instance, message, (int?)args["code"] ?? 500, ct);
    }

    /// <summary>ERROR with a fault that says what failed, and nothing left claimed in placement.</summary>
    async Task FailAsync(CellDb db, Instance instance, string message, int code, CancellationToken ct)
    {
        instance.VmState = VmStates.Error;
        instance.TaskState = null;
        instance.Touch();
        db.Faults.Add(new InstanceFault { InstanceUuid = instance.Uuid, Code = code, Message = message, Host = instance.Host, CreatedAt = DateTime.UtcNow });
        await FinishActionAsync(db, instance.Uuid, "Error", ct);
        await db.SaveChangesAsync(ct);
        await ReleaseAsync(instance.Uuid, ct);
    }

    async Task ReleaseAsync(string uuid, CancellationToken ct)
    {
        try
        {
            await placement.DeleteAllocationsAsync(uuid, ct);
        }
        catch (PlacementException e)
        {
            log.LogError("Could not release the placement allocations of {Uuid}: {Error}", uuid, e.Message);
        }
    }

    async Task UpdateInstanceAsync(CellDb db, JsonObject args, CancellationToken ct)
    {
        var uuid = (string)args["uuid"]!;
        var instance = await db.Instances.FirstOrDefaultAsync(i => i.Uuid == uuid && !i.Deleted, ct);
        if (instance is null) return;
        // An update for a task that is no longer under way (the server was deleted meanwhile...) is stale.
        if (args.TryGetPropertyValue("expected_task_state", out var expected) && (string?)expected != instance.TaskState) return;
        if (args.TryGetPropertyValue("vm_state", out var vm)) instance.VmState = (string)vm!;
        if (args.TryGetPropertyValue("task_state", out var task)) instance.TaskState = (string?)task;
        if (args.TryGetPropertyValue("power_state", out var power)) instance.PowerState = (int)power!;
        if ((bool?)args["launched"] == true) instance.LaunchedAt = DateTime.UtcNow;
        if ((string?)args["migration_status"] is { } migrationStatus)
            foreach (var m in await db.Migrations.Where(m => m.InstanceUuid == uuid && (m.Status == "pre-migrating" || m.Status == "reverting")).ToListAsync(ct))
            {
                m.Status = migrationStatus;
                m.UpdatedAt = DateTime.UtcNow;
            }
        if (args["fault"] is JsonObject fault)
            db.Faults.Add(new InstanceFault
            {
                InstanceUuid = uuid, Code = (int?)fault["code"] ?? 500, Message = (string)fault["message"]!, Details = (string?)fault["details"] ?? "",
                Host = instance.Host, CreatedAt = DateTime.UtcNow,
            });
        if (instance.TaskState is null) await FinishActionAsync(db, uuid, args["fault"] is null ? "Success" : "Error", ct);
        instance.Touch();
        await db.SaveChangesAsync(ct);
    }

    static async Task FinishActionAsync(CellDb db, string uuid, string result, CancellationToken ct)
    {
        var action = await db.Actions.Include(a => a.Events).Where(a => a.InstanceUuid == uuid && a.FinishTime == null)
            .OrderByDescending(a => a.Id).FirstOrDefaultAsync(ct);
        if (action is null) return;
        var now = DateTime.UtcNow;
        action.FinishTime = now;
        action.UpdatedAt = now;
        if (result == "Error") action.Message = "Error";
        foreach (var e in action.Events.Where(e => e.FinishTime is null))
        {
            e.FinishTime = now;
            e.Result = result;
        }
    }

    async Task DestroyedAsync(CellDb db, string uuid, CancellationToken ct)
    {
        var instance = await db.Instances.FirstOrDefaultAsync(i => i.Uuid == uuid && !i.Deleted, ct);
        if (instance is not null)
        {
            MarkDeleted(instance);
            await FinishActionAsync(db, uuid, "Success", ct);
            await db.SaveChangesAsync(ct);
        }
        await ReleaseAsync(uuid, ct);
    }

    public static void MarkDeleted(Instance instance)
    {
        instance.VmState = VmStates.Deleted;
        instance.TaskState = null;
        instance.PowerState = 0;
        instance.Deleted = true;
        instance.DeletedAt = instance.TerminatedAt = DateTime.UtcNow;
        instance.Touch();
    }

    async Task<JsonNode?> ReportServiceAsync(CellDb db, JsonObject args, CancellationToken ct)
    {
        var host = (string)args["host"]!;
        var binary = (string)args["binary"]!;
        var now = DateTime.UtcNow;
        var service = await db.Services.FirstOrDefaultAsync(s => s.Host == host && s.Binary == binary, ct);
        if (service is null)
        {
            service = new ServiceRecord
            {
                Uuid = Guid.NewGuid().ToString(), Host = host, Binary = binary, Topic = (string)args["topic"]!,
                AvailabilityZone = options.DefaultAvailabilityZone, CreatedAt = now,
            };
            db.Services.Add(service);
        }
        service.ReportCount++;
        service.LastSeenUp = now;
        service.UpdatedAt = now;
        await db.SaveChangesAsync(ct);
        return new JsonObject { ["disabled"] = service.Disabled };
    }

    static async Task<JsonNode?> UpdateComputeNodeAsync(CellDb db, JsonObject args, CancellationToken ct)
    {
        var host = (string)args["host"]!;
        var now = DateTime.UtcNow;
        var node = await db.ComputeNodes.FirstOrDefaultAsync(n => n.Host == host, ct);
        if (node is null)
        {
            node = new ComputeNode { Uuid = Guid.NewGuid().ToString(), Host = host, HypervisorHostname = (string)args["hypervisor_hostname"]!, CreatedAt = now };
            db.ComputeNodes.Add(node);
        }
        node.HypervisorType = (string?)args["hypervisor_type"] ?? "QEMU";
        node.HostIp = (string?)args["host_ip"] ?? "";
        node.Vcpus = (int)args["vcpus"]!;
        node.MemoryMb = (long)args["memory_mb"]!;
        node.LocalGb = (long)args["local_gb"]!;
        node.UpdatedAt = now;
        await db.SaveChangesAsync(ct);
        return new JsonObject { ["uuid"] = node.Uuid };
    }

    /// <summary>A host that stopped heartbeating will never finish its builds: they go to ERROR, and their claims are released.</summary>
    async Task FailBuildsOnDownHostsAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CellDb>();
        var downSince = DateTime.UtcNow - options.ServiceDownTime;
        var down = await db.Services.Where(s => s.Binary == NovaOptions.Compute && (s.LastSeenUp < downSince || s.ForcedDown))
            .Select(s => s.Host).ToListAsync(ct);
        if (down.Count == 0) return;
        var stranded = await db.Instances.Where(i => !i.Deleted && i.VmState == VmStates.Building && i.Host != null && down.Contains(i.Host))
            .ToListAsync(ct);
        foreach (var instance in stranded)
        {
            log.LogWarning("Compute host {Host} went down during the build of {Uuid}", instance.Host, instance.Uuid);
            await FailAsync(db, instance, $"Compute host {instance.Host} went down during the build", 500, ct);
        }
    }
}
