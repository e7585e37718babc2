using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stratus.Compute.Network;
using Stratus.Compute.Placement;
using Stratus.Compute.Rpc;
using Stratus.Core.Messaging;
using Stratus.Core.Services;

namespace Stratus.Compute.Conductor;

/// <summary>
/// nova-conductor: drives builds (ask the scheduler, hand the server to the chosen host's agent,
/// reschedule elsewhere when a host fails it, ERROR with a fault when no host can), and is the compute
/// agents' only way to the database: their heartbeats, hypervisor reports and instance updates come
/// here. It also notices builds stranded on a host that went down.
/// </summary>
public sealed class ConductorService(IMessageBus bus, IServiceScopeFactory scopes, PlacementClient placement, SchedulerApi scheduler, ComputeApi compute,
    ServiceGroup group, NovaOptions options, ILogger<ConductorService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        var rpc = new RpcDispatcher(NovaOptions.Conductor, ComputeRpcJson.Default)
            .On(WithDb<BuildInstance>((db, m, ct) => BuildAsync(db, m.Uuid, m.Token, m.InjectedFiles, ct)))
            .On(WithDb<MigrateServer>((db, m, ct) => ResizeAsync(db, m.Uuid, m.Flavor, ct), reapply: true))
            .On(WithDb<RevertResize>((db, m, ct) => ResizeAsync(db, m.Uuid, null, ct), reapply: true))
            .On(WithDb<BuildFailed>(BuildFailedAsync, reapply: true))
            .On(WithDb<InstanceUpdate>(UpdateInstanceAsync, reapply: true))
            .On(WithDb<InstanceDestroyed>((db, m, ct) => DestroyedAsync(db, m.Uuid, ct), reapply: true))
            .On(WithDb<BlockDeviceReady, bool>(async (db, m, ct) => await db.BlockDeviceMappings.Where(b => b.Uuid == m.BdmUuid)
                .ExecuteUpdateAsync(u => u.SetProperty(b => b.VolumeId, m.VolumeId).SetProperty(b => b.AttachmentId, m.AttachmentId)
                    .SetProperty(b => b.ConnectionInfoJson, m.ConnectionInfoJson), ct) > 0))
            .On(WithDb<VolumeDetached>((db, m, ct) => db.BlockDeviceMappings.Where(b => b.InstanceUuid == m.Uuid && b.VolumeId == m.VolumeId).ExecuteDeleteAsync(ct)))
            .On(WithDb<ServiceReport>(ReportServiceAsync))
            .On(WithDb<ComputeNodeUpdate, string>(UpdateComputeNodeAsync))
            .On(WithDb<InstancesOnHost, List<HostInstance>>(async (db, m, ct) =>
                await db.Instances.Where(i => i.Host == m.Host && !i.Deleted).Select(i => new HostInstance(i.Uuid, i.VmState, i.TaskState, i.PowerState)).ToListAsync(ct)));
        await using var serving = await bus.ServeAsync(ComputeRpc.ConductorTopic, options.Host, rpc.DispatchAsync, stop);
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

    /// <summary>
    /// A handler with a database of its own. One that <paramref name="reapply"/>s runs again when the API
    /// wrote the server meanwhile (its version moved on): the report applies to what is there now.
    /// </summary>
    Func<T, CancellationToken, Task> WithDb<T>(Func<CellDb, T, CancellationToken, Task> handle, bool reapply = false) => async (message, ct) =>
    {
        for (var attempt = 0; ; attempt++)
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await handle(scope.ServiceProvider.GetRequiredService<CellDb>(), message, ct);
                return;
            }
            catch (DbUpdateConcurrencyException) when (reapply && attempt < 10)
            {
            }
    };

    Func<T, CancellationToken, Task<TResult>> WithDb<T, TResult>(Func<CellDb, T, CancellationToken, Task<TResult>> handle) => async (message, ct) =>
    {
        await using var scope = scopes.CreateAsyncScope();
        return await handle(scope.ServiceProvider.GetRequiredService<CellDb>(), message, ct);
    };

    async Task BuildAsync(CellDb db, string uuid, string? token, IReadOnlyList<InjectedFile> injectedFiles, CancellationToken ct)
    {
        var instance = await db.Instances.FirstOrDefaultAsync(i => i.Uuid == uuid && !i.Deleted, ct);
        if (instance is null || instance.VmState != VmStates.Building) return;
        var flavor = InstanceFlavor.Parse(instance.FlavorJson);
        var tried = JsonSerializer.Deserialize<List<string>>(instance.TriedHostsJson) ?? [];
        Destination destination;
        try
        {
            destination = await scheduler.CallAsync(new SelectDestination(uuid, flavor, instance.ProjectId, instance.UserId, instance.RequestedAvailabilityZone, tried), ct);
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
            i.Host = destination.Host;
            i.Node = destination.Node;
            i.AvailabilityZone = destination.Zone;
            i.BuildAttempts = attempts;
            i.Touch();
        }, ct);
        if (instance.Deleted) return;
        await compute.CastAsync(instance.Host, new BuildAndRunInstance(uuid, instance.DisplayName, flavor, instance.ImageRef, token)
        {
            ProjectId = instance.ProjectId, Zone = instance.AvailabilityZone ?? "nova", Networks = ServerNetworks.Requested(instance.RequestedNetworksJson),
            ConfigDrive = instance.ConfigDrive, MetaDataJson = Metadata.MetadataApi.MetaData(instance).ToJsonString(), UserData = instance.UserData,
            InjectedFiles = injectedFiles,
            BlockDevices = [.. (await db.BlockDeviceMappings.Where(b => b.InstanceUuid == uuid).OrderBy(b => b.DeviceName).ToListAsync(ct))
                .Select(Servers.BlockDevices.ToBuild)],
        }, ct);
    }

    /// <summary>
    /// A same-host resize to <paramref name="flavor"/>, or (null) its revert: the server's placement allocation
    /// becomes the new flavor's on its host (409: the host has no room), then its agent resizes the guest.
    /// </summary>
    async Task ResizeAsync(CellDb db, string uuid, InstanceFlavor? flavor, CancellationToken ct)
    {
        var instance = await db.Instances.FirstOrDefaultAsync(i => i.Uuid == uuid && !i.Deleted, ct);
        if (instance?.Host is null) return;
        var revert = flavor is null;
        flavor ??= InstanceFlavor.Parse(instance.OldFlavorJson ?? instance.FlavorJson);
        var node = await db.ComputeNodes.FirstOrDefaultAsync(n => n.Host == instance.Host, ct);
        var resources = new JsonObject { ["VCPU"] = flavor.Vcpus, ["MEMORY_MB"] = flavor.MemoryMb };
        if (flavor.DiskGb != 0) resources["DISK_GB"] = flavor.DiskGb;
        var claim = new JsonObject
        {
            ["allocations"] = new JsonObject { [node?.Uuid ?? ""] = new JsonObject { ["resources"] = resources } },
            ["project_id"] = instance.ProjectId, ["user_id"] = instance.UserId, ["consumer_generation"] = null,
        };
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
            instance.FlavorJson = flavor.ToJson();
        }
        instance.Touch();
        await db.SaveChangesAsync(ct);
        await compute.CastAsync(instance.Host, new ResizeInstance(uuid, flavor,
            TaskState: revert ? TaskStates.ResizeReverting : TaskStates.ResizePrep,
            VmState: revert ? (instance.PowerState == 1 ? VmStates.Active : VmStates.Stopped) : VmStates.Resized,
            MigrationStatus: revert ? "reverted" : "finished"), ct);
    }

    async Task BuildFailedAsync(CellDb db, BuildFailed failed, CancellationToken ct)
    {
        var uuid = failed.Uuid;
        var instance = await db.Instances.FirstOrDefaultAsync(i => i.Uuid == uuid && !i.Deleted, ct);
        if (instance is null) return;
        await ReleaseAsync(uuid, ct);
        var tried = JsonSerializer.Deserialize<List<string>>(instance.TriedHostsJson) ?? [];
        tried.Add(failed.Host);
        instance.TriedHostsJson = JsonSerializer.Serialize(tried);
        if (failed.Reschedule && instance.BuildAttempts < options.MaxBuildAttempts)
        {
            log.LogWarning("Build of {Uuid} failed on {Host} ({Message}); rescheduling", uuid, failed.Host, failed.Message);
            instance.Host = null;
            instance.Node = null;
            instance.TaskState = TaskStates.Scheduling;
            instance.Touch();
            await db.SaveChangesAsync(ct);
            await BuildAsync(db, uuid, failed.Token, failed.InjectedFiles, ct);
            return;
        }
        await FailAsync(db, instance, failed.Message, failed.Code, ct);
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

    async Task UpdateInstanceAsync(CellDb db, InstanceUpdate update, CancellationToken ct)
    {
        var uuid = update.Uuid;
        var instance = await db.Instances.FirstOrDefaultAsync(i => i.Uuid == uuid && !i.Deleted, ct);
        if (instance is null) return;
        if (update.ExpectedTaskState is { } expected && !expected.Contains(instance.TaskState)) return;
        if (update.VmState is { } vm) instance.VmState = vm;
        if (update.NetworkInfo is { } vifs) instance.NetworkInfoJson = ServerNetworks.ToJson(vifs);
        instance.TaskState = update.TaskState;
        if (update.PowerState is { } power) instance.PowerState = power;
        if (update.Launched) instance.LaunchedAt = DateTime.UtcNow;
        if (update.MigrationStatus is { } migrationStatus)
            foreach (var m in await db.Migrations.Where(m => m.InstanceUuid == uuid && (m.Status == "pre-migrating" || m.Status == "reverting")).ToListAsync(ct))
            {
                m.Status = migrationStatus;
                m.UpdatedAt = DateTime.UtcNow;
            }
        if (update.Fault is { } fault)
            db.Faults.Add(new InstanceFault { InstanceUuid = uuid, Code = fault.Code, Message = fault.Message, Host = instance.Host, CreatedAt = DateTime.UtcNow });
        if (instance.TaskState is null) await FinishActionAsync(db, uuid, update.Fault is null ? "Success" : "Error", ct);
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
            instance.MarkDeleted();
            await FinishActionAsync(db, uuid, "Success", ct);
            await db.SaveChangesAsync(ct);
        }
        // The agent released the volumes with the guest: the server's mappings go with it.
        await db.BlockDeviceMappings.Where(b => b.InstanceUuid == uuid).ExecuteDeleteAsync(ct);
        await ReleaseAsync(uuid, ct);
    }

    async Task ReportServiceAsync(CellDb db, ServiceReport report, CancellationToken ct)
    {
        await db.RecordHeartbeatAsync(report.Host, report.Binary, report.Topic, options.DefaultAvailabilityZone, group.UtcNow, ct);
        await db.SaveChangesAsync(ct);
    }

    static async Task<string> UpdateComputeNodeAsync(CellDb db, ComputeNodeUpdate update, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        var node = await db.ComputeNodes.FirstOrDefaultAsync(n => n.Host == update.Host, ct);
        if (node is null)
        {
            node = new ComputeNode { Uuid = Guid.NewGuid().ToString(), Host = update.Host, HypervisorHostname = update.HypervisorHostname, CreatedAt = now };
            db.ComputeNodes.Add(node);
        }
        node.HypervisorType = update.HypervisorType;
        node.HostIp = update.HostIp;
        node.Vcpus = update.Vcpus;
        node.MemoryMb = update.MemoryMb;
        node.LocalGb = update.LocalGb;
        node.UpdatedAt = now;
        await db.SaveChangesAsync(ct);
        return node.Uuid;
    }

    /// <summary>A host that stopped heartbeating will never finish its builds: they go to ERROR, and their claims are released.</summary>
    async Task FailBuildsOnDownHostsAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CellDb>();
        var down = (await db.Services.Where(s => s.Binary == NovaOptions.Compute).ToListAsync(ct)).Where(s => !group.IsUp(s)).Select(s => s.Host).ToList();
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
