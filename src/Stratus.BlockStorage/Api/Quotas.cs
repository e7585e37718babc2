namespace Stratus.BlockStorage.Api;

/// <summary>
/// Cinder's quotas of a project: its own limits over the defaults (the quota class <c>default</c>, else <c>quota_*</c>),
/// usage counted from what the project holds, and the 413s Cinder answers when a create would go over. Each volume type
/// adds its own <c>volumes_TYPE</c>, <c>snapshots_TYPE</c> and <c>gigabytes_TYPE</c>, unlimited unless set.
/// </summary>
public sealed class Quotas(CinderOptions options, CinderStore store)
{
    public const string DefaultClass = "default";

    static readonly string[] PerType = ["volumes", "snapshots", "gigabytes"];

    /// <summary>Every resource's default: the config's, then the per-type ones, each overridden by the default class.</summary>
    public async Task<Dictionary<string, int>> DefaultsAsync(CancellationToken ct)
    {
        var limits = new Dictionary<string, int>(options.Quotas.Defaults, StringComparer.Ordinal);
        foreach (var type in (await store.TypeNamesAsync(ct)).Values.Order(StringComparer.Ordinal))
            foreach (var r in PerType) limits[$"{r}_{type}"] = -1;
        foreach (var q in await store.QuotaClassAsync(DefaultClass, ct))
            if (limits.ContainsKey(q.Resource)) limits[q.Resource] = q.HardLimit;
        return limits;
    }

    public async Task<Dictionary<string, int>> LimitsAsync(string projectId, CancellationToken ct)
    {
        var limits = await DefaultsAsync(ct);
        foreach (var q in await store.QuotasAsync(projectId, ct))
            if (limits.ContainsKey(q.Resource)) limits[q.Resource] = q.HardLimit;
        return limits;
    }

    public async Task<Dictionary<string, int>> UsageAsync(string projectId, CancellationToken ct)
    {
        var types = await store.TypeNamesAsync(ct);
        var (volumes, snapshots, backups, groups) = await store.UsageAsync(projectId, ct);
        var usage = new Dictionary<string, int>(StringComparer.Ordinal)
        {
            ["volumes"] = volumes.Count,
            ["snapshots"] = snapshots.Count,
            ["gigabytes"] = volumes.Sum(v => v.Size) + snapshots.Sum(s => s.Size),
            ["backups"] = backups.Count,
            ["backup_gigabytes"] = backups.Sum(),
            ["groups"] = groups,
            ["per_volume_gigabytes"] = 0,
        };
        foreach (var name in types.Values)
            foreach (var r in PerType) usage[$"{r}_{name}"] = 0;
        foreach (var v in volumes.Where(v => v.VolumeTypeId is not null && types.ContainsKey(v.VolumeTypeId)))
        {
            usage["volumes_" + types[v.VolumeTypeId!]]++;
            usage["gigabytes_" + types[v.VolumeTypeId!]] += v.Size;
        }
        foreach (var s in snapshots.Where(s => s.VolumeTypeId is not null && types.ContainsKey(s.VolumeTypeId)))
        {
            usage["snapshots_" + types[s.VolumeTypeId!]]++;
            usage["gigabytes_" + types[s.VolumeTypeId!]] += s.Size;
        }
        return usage;
    }

    /// <summary>Checks one more volume (or snapshot) of <paramref name="size"/> GB of a volume of <paramref name="typeId"/> against the project's quotas.</summary>
    public Task CheckAsync(string projectId, string resource, int size, string typeId, CancellationToken ct) => resource == "volumes"
        ? CheckAsync(projectId, volumes: 1, snapshots: 0, gigabytes: size, volumeSize: size, typeId, ct)
        : CheckAsync(projectId, volumes: 0, snapshots: 1, gigabytes: size, volumeSize: null, typeId, ct);

    /// <summary>
    /// Checks that the project can take <paramref name="volumes"/> and <paramref name="snapshots"/> more, of
    /// <paramref name="gigabytes"/> in all, of a volume type (its own quotas first, as Cinder's reserve reports them).
    /// </summary>
    public async Task CheckAsync(string projectId, int volumes, int snapshots, int gigabytes, int? volumeSize, string typeId, CancellationToken ct)
    {
        var limits = await LimitsAsync(projectId, ct);
        var usage = await UsageAsync(projectId, ct);
        if (volumeSize is { } size && limits["per_volume_gigabytes"] is var per and >= 0 && size > per)
            throw new OpenStackError(413, "Request Entity Too Large", $"Requested volume size {size}G is larger than maximum allowed limit {per}G.");
        var type = (await store.TypeNamesAsync(ct)).GetValueOrDefault(typeId);
        var suffixes = type is null ? [""] : new[] { "", "_" + type };
        foreach (var suffix in suffixes)
        {
            if (gigabytes > 0 && limits.GetValueOrDefault("gigabytes" + suffix, -1) is var gb and >= 0 && usage["gigabytes" + suffix] + gigabytes > gb)
                throw new OpenStackError(413, "Request Entity Too Large",
                    $"Requested volume or snapshot exceeds allowed gigabytes{suffix} quota. Requested {gigabytes}G, quota is {gb}G and {usage["gigabytes" + suffix]}G has been consumed.");
            foreach (var (resource, count) in new[] { ("volumes", volumes), ("snapshots", snapshots) })
                if (count > 0 && limits.GetValueOrDefault(resource + suffix, -1) is var max and >= 0 && usage[resource + suffix] + count > max)
                    throw new OpenStackError(413, "Request Entity Too Large", $"Maximum number of {resource} allowed ({max}) exceeded for quota '{resource}{suffix}'.");
        }
    }

    public async Task CheckGroupAsync(string projectId, CancellationToken ct)
    {
        var limits = await LimitsAsync(projectId, ct);
        var usage = await UsageAsync(projectId, ct);
        if (limits["groups"] is var count and >= 0 && usage["groups"] + 1 > count)
            throw new OpenStackError(413, "Request Entity Too Large", $"Maximum number of groups allowed ({count}) exceeded for quota 'groups'.");
    }

    /// <summary>Checks one more backup of <paramref name="size"/> GB against <c>backups</c> and <c>backup_gigabytes</c>.</summary>
    public async Task CheckBackupAsync(string projectId, int size, CancellationToken ct)
    {
        var limits = await LimitsAsync(projectId, ct);
        var usage = await UsageAsync(projectId, ct);
        if (limits["backup_gigabytes"] is var gb and >= 0 && usage["backup_gigabytes"] + size > gb)
            throw new OpenStackError(413, "Request Entity Too Large",
                $"Requested backup exceeds allowed Backup gigabytes quota. Requested {size}G, quota is {gb}G and {usage["backup_gigabytes"]}G has been consumed.");
        if (limits["backups"] is var count and >= 0 && usage["backups"] + 1 > count)
            throw new OpenStackError(413, "Request Entity Too Large", $"Maximum number of backups allowed ({count}) exceeded");
    }
}
