using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stratus.BlockStorage.Api;
using Stratus.BlockStorage.Backends;
using Stratus.BlockStorage.Rpc;
using Stratus.BlockStorage.Volume;
using Stratus.Core.Messaging;
using Stratus.Core.Services;

namespace Stratus.BlockStorage.Scheduler;

/// <summary>
/// cinder-scheduler: places a new volume on a cinder-volume backend that is enabled, up (the service group's
/// rule), in the volume's zone and whose capabilities satisfy the volume type's extra specs (Cinder's
/// CapabilitiesFilter: <c>volume_backend_name</c>, <c>vendor_name</c>, <c>storage_protocol</c>...); among
/// those the one with the most free capacity (Cinder's capacity weigher). No backend: the volume fails with
/// Cinder's "Could not find any available weighted backend." in its messages. The backends' reports of their stats are
/// kept here, as Cinder's HostManager keeps them, and are what <c>get_pools</c> answers with.
/// </summary>
public sealed class SchedulerService(IServiceScopeFactory scopes, CinderStore store, CinderOptions options, IMessageBus bus, ServiceGroup group,
    ILogger<SchedulerService> log) : BackgroundService
{
    readonly ConcurrentDictionary<string, UpdateServiceCapabilities> _reports = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        var volumes = new VolumeApi(bus);
        var dispatcher = new RpcDispatcher(VolumeRpc.SchedulerTopic, VolumeRpcJson.Default)
            .On<CreateVolume>((m, ct) => ScheduleAsync(volumes, m, ct))
            .On<UpdateServiceCapabilities>((m, ct) =>
            {
                _reports[m.Host] = m;
                return Task.CompletedTask;
            })
            .On<GetPools, PoolList>(GetPoolsAsync)
            .On<CreateGroup>((m, ct) => ScheduleGroupAsync(volumes, m, ct));
        await using var serving = await bus.ServeAsync(VolumeRpc.SchedulerTopic, options.Host, dispatcher.DispatchAsync, stop);
        try
        {
            await volumes.FanoutAsync(new PublishServiceCapabilities("scheduler started"), stop);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogWarning(e, "Asking the volume services for their stats failed; their next reports will bring them");
        }
        await RescheduleAsync(volumes, stop);
        await group.HeartbeatAsync(ct => store.RecordHeartbeatAsync(options.Host, CinderOptions.Scheduler, VolumeRpc.SchedulerTopic,
            options.StorageAvailabilityZone, group.UtcNow, ct), log, "cinder-scheduler", stop);
    }

    /// <summary>
    /// Volumes still creating with no backend were cast before a stop and never placed: place them now (one from an
    /// image has lost its user's token with the message, and ends in error saying so), so none stays creating forever.
    /// </summary>
    async Task RescheduleAsync(VolumeApi volumes, CancellationToken ct)
    {
        var ids = await store.VolumesAsync(null, [VolumeStatus.Creating], ct);
        foreach (var id in ids)
        {
            try
            {
                await ScheduleAsync(volumes, new CreateVolume(id), ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogError(e, "Rescheduling volume {Volume} failed", id);
            }
        }
    }

    async Task ScheduleAsync(VolumeApi volumes, CreateVolume m, CancellationToken ct)
    {
        var volume = await store.VolumeAsync(m.VolumeId, ct);
        if (volume is null || volume.Status != VolumeStatus.Creating) return;
        string? backend;
        if (await store.GroupOfAsync(volume.Id, ct) is { } groupId)
        {
            // A volume of a group is made on the group's backend (Cinder's scheduler filters to the group's host).
            var g = await store.GroupAsync(groupId, ct);
            backend = g is not null && await UpServiceAsync(g.Backend, ct) is not null ? g.Host : null;
        }
        else if (volume.SourceVolId is not null || volume.SnapshotId is not null)
        {
            // A clone or a volume from a snapshot is made where its source is, as Cinder's scheduler keeps it.
            var sourceVolumeId = volume.SourceVolId ?? (await store.SnapshotAsync(volume.SnapshotId!, ct))?.VolumeId;
            var source = sourceVolumeId is null ? null : await store.VolumeAsync(sourceVolumeId, ct);
            backend = source is not null && await UpServiceAsync(source.Backend, ct) is { } service ? service.Host + "#" + service.BackendName : null;
        }
        else
        {
            var specs = MetadataColumn.Read((await store.TypeAsync(volume.VolumeTypeId, ct))?.ExtraSpecs);
            var services = (await store.VolumeServicesAsync(ct))
                .Where(s => group.IsUp(s) && s.AvailabilityZone == volume.AvailabilityZone && Satisfies(FileBackend.Capabilities(s.BackendName ?? ""), specs)).ToList();
            var used = await store.UsedByPoolAsync(ct);
            var chosen = services.OrderBy(s => used.Where(u => u.Host!.StartsWith(s.Host + "#", StringComparison.Ordinal)).Sum(u => u.Size)).FirstOrDefault();
            backend = chosen is null ? null : chosen.Host + "#" + chosen.BackendName;
        }
        var message = backend is null
            ? UserMessages.New(volume.ProjectId, "VOLUME", volume.Id, UserMessages.ScheduleAllocateVolume, UserMessages.NoBackendAvailable, group.UtcNow, m.RequestId)
            : null;
        if (backend is null) volume.Status = VolumeStatus.Error;
        else volume.Host = backend;
        // The API deleted it meanwhile (a volume no backend holds goes at once): nothing to place.
        if (!await store.SaveVolumeAsync(volume, group.UtcNow, ct, message) || backend is null) return;
        await volumes.CastAsync(volume.Backend, m, ct);
    }

    /// <summary>The cinder-volume service of a backend (<c>host@backend</c>) when it is enabled and up.</summary>
    async Task<ServiceRecord?> UpServiceAsync(string backend, CancellationToken ct) =>
        await store.ServiceAsync(backend, CinderOptions.Volume, ct) is { Disabled: false } service && group.IsUp(service) ? service : null;

    /// <summary>A group goes to an up backend that every one of its volume types could use; none: the group is in error.</summary>
    async Task ScheduleGroupAsync(VolumeApi volumes, CreateGroup m, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CinderDb>();
        var g = await db.Groups.FirstOrDefaultAsync(x => x.Id == m.GroupId, ct);
        if (g is null || g.Status != "creating" || g.Host is not null) return;
        var typeIds = Api.GroupsApi.VolumeTypes(g);
        var specs = (await db.VolumeTypes.AsNoTracking().Where(t => typeIds.Contains(t.Id)).ToListAsync(ct)).Select(t => MetadataColumn.Read(t.ExtraSpecs)).ToList();
        var chosen = (await db.Services.AsNoTracking().Where(s => s.Binary == CinderOptions.Volume && !s.Disabled).ToListAsync(ct))
            .FirstOrDefault(s => group.IsUp(s) && s.AvailabilityZone == g.AvailabilityZone && specs.All(x => Satisfies(FileBackend.Capabilities(s.BackendName ?? ""), x)));
        g.Touch(group.UtcNow);
        if (chosen is null)
        {
            g.Status = "error";
            UserMessages.Add(db, g.ProjectId, "GROUP", g.Id, UserMessages.ScheduleAllocateVolume, UserMessages.NoBackendAvailable, group.UtcNow);
            await db.SaveChangesAsync(ct);
            return;
        }
        g.Host = chosen.Host + "#" + chosen.BackendName;
        await db.SaveChangesAsync(ct);
        await volumes.CastAsync(g.Backend, m, ct);
    }

    /// <summary>
    /// Cinder's HostManager.get_pools: each pool of each enabled, up backend that has reported, named <c>host@backend#pool</c>,
    /// with the backend's capabilities and the pool's own, and when the report came.
    /// </summary>
    async Task<PoolList> GetPoolsAsync(GetPools m, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CinderDb>();
        var alive = (await db.Services.AsNoTracking().Where(s => s.Binary == CinderOptions.Volume && !s.Disabled).ToListAsync(ct))
            .Where(group.IsUp).Select(s => s.Host).ToHashSet(StringComparer.Ordinal);
        var pools = new List<Pool>();
        foreach (var report in _reports.Values.Where(r => alive.Contains(r.Host)).OrderBy(r => r.Host, StringComparer.Ordinal))
            foreach (var pool in (report.Capabilities["pools"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var capabilities = new JsonObject([.. report.Capabilities.Where(p => p.Key != "pools").Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone()))]);
                foreach (var (k, v) in pool) capabilities[k] = v?.DeepClone();
                capabilities["timestamp"] = CinderApi.Time(report.Timestamp);
                var name = $"{report.Host}#{(string?)pool["pool_name"]}";
                if (m.Name is not null && m.Name != name) continue;
                if (m.TypeSpecs is not null && !Satisfies(AsStrings(capabilities), m.TypeSpecs)) continue;
                pools.Add(new Pool(name, capabilities));
            }
        return new PoolList(pools);
    }

    /// <summary>Capabilities as the extra specs compare them: Python's str() of each value.</summary>
    static Dictionary<string, string> AsStrings(JsonObject capabilities) => capabilities.Where(p => p.Value is JsonValue)
        .ToDictionary(p => p.Key, p => p.Value!.GetValueKind() switch
        {
            System.Text.Json.JsonValueKind.True => "True",
            System.Text.Json.JsonValueKind.False => "False",
            System.Text.Json.JsonValueKind.String => p.Value.GetValue<string>(),
            _ => p.Value.ToJsonString(),
        }, StringComparer.Ordinal);

    /// <summary>
    /// Cinder's CapabilitiesFilter: every extra spec without a scope (or scoped <c>capabilities:</c>) must match the
    /// backend's capability of that name; other scopes (RESKEY:, qos:...) are for other filters. Values match as
    /// Cinder's extra_specs_ops do for the common forms: equal, <c>&lt;is&gt; True</c>, <c>&lt;in&gt; x</c>, <c>&lt;or&gt; a &lt;or&gt; b</c>.
    /// </summary>
    internal static bool Satisfies(IReadOnlyDictionary<string, string> capabilities, IReadOnlyDictionary<string, string> specs)
    {
        foreach (var (key, wanted) in specs)
        {
            var name = key;
            var colon = key.IndexOf(':');
            if (colon >= 0)
            {
                if (key[..colon] != "capabilities") continue;
                name = key[(colon + 1)..];
            }
            if (!capabilities.TryGetValue(name, out var have)) return false;
            var w = wanted.Trim();
            var ok = w.StartsWith("<is>", StringComparison.Ordinal) ? string.Equals(have, w[4..].Trim(), StringComparison.OrdinalIgnoreCase)
                : w.StartsWith("<in>", StringComparison.Ordinal) ? have.Contains(w[4..].Trim(), StringComparison.Ordinal)
                : w.StartsWith("<or>", StringComparison.Ordinal) ? w.Split("<or>", StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Contains(have)
                : have == w;
            if (!ok) return false;
        }
        return true;
    }
}
