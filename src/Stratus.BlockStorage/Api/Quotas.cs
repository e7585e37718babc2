namespace Stratus.BlockStorage.Api;

/// <summary>
/// Cinder's quotas of a project: its own limits over the defaults of <c>quota_*</c>, usage counted from what
/// the project holds, and the 413s Cinder answers when a create would go over.
/// </summary>
public sealed class Quotas(CinderOptions options)
{
    public async Task<Dictionary<string, int>> LimitsAsync(CinderDb db, string projectId, CancellationToken ct)
    {
        var limits = new Dictionary<string, int>(options.Quotas.Defaults, StringComparer.Ordinal);
        foreach (var q in await db.Quotas.AsNoTracking().Where(q => q.ProjectId == projectId).ToListAsync(ct)) limits[q.Resource] = q.HardLimit;
        return limits;
    }

    public async Task<Dictionary<string, int>> UsageAsync(CinderDb db, string projectId, CancellationToken ct)
    {
        var volumes = await db.Volumes.AsNoTracking().Where(v => v.ProjectId == projectId).Select(v => v.Size).ToListAsync(ct);
        var snapshots = await db.Snapshots.AsNoTracking().Where(s => s.ProjectId == projectId).Select(s => s.VolumeSize).ToListAsync(ct);
        var backups = await db.Backups.AsNoTracking().Where(b => b.ProjectId == projectId).Select(b => b.Size).ToListAsync(ct);
        var groups = await db.Groups.AsNoTracking().CountAsync(g => g.ProjectId == projectId, ct);
        return new(StringComparer.Ordinal)
        {
            ["volumes"] = volumes.Count,
            ["snapshots"] = snapshots.Count,
            ["gigabytes"] = volumes.Sum() + snapshots.Sum(),
            ["backups"] = backups.Count,
            ["backup_gigabytes"] = backups.Sum(),
            ["groups"] = groups,
            ["per_volume_gigabytes"] = 0,
        };
    }

    /// <summary>Checks one more volume (or snapshot) of <paramref name="size"/> GB against the project's quotas.</summary>
    public async Task CheckAsync(CinderDb db, string projectId, string resource, int size, CancellationToken ct)
    {
        var limits = await LimitsAsync(db, projectId, ct);
        var usage = await UsageAsync(db, projectId, ct);
        if (resource == "volumes" && limits["per_volume_gigabytes"] is var per and >= 0 && size > per)
            throw new OpenStackError(413, "Request Entity Too Large", $"Requested volume size {size}G is larger than maximum allowed limit {per}G.");
        if (limits["gigabytes"] is var gb and >= 0 && usage["gigabytes"] + size > gb)
            throw new OpenStackError(413, "Request Entity Too Large",
                $"Requested volume or snapshot exceeds allowed gigabytes quota. Requested {size}G, quota is {gb}G and {usage["gigabytes"]}G has been consumed.");
        if (limits[resource] is var count and >= 0 && usage[resource] + 1 > count)
            throw new OpenStackError(413, "Request Entity Too Large", resource == "volumes"
                ? $"Maximum number of volumes allowed ({count}) exceeded for quota 'volumes'."
                : $"Maximum number of snapshots allowed ({count}) exceeded for quota 'snapshots'.");
    }

    public async Task CheckGroupAsync(CinderDb db, string projectId, CancellationToken ct)
    {
        var limits = await LimitsAsync(db, projectId, ct);
        var usage = await UsageAsync(db, projectId, ct);
        if (limits["groups"] is var count and >= 0 && usage["groups"] + 1 > count)
            throw new OpenStackError(413, "Request Entity Too Large", $"Maximum number of groups allowed ({count}) exceeded for quota 'groups'.");
    }

    /// <summary>Checks one more backup of <paramref name="size"/> GB against <c>backups</c> and <c>backup_gigabytes</c>.</summary>
    public async Task CheckBackupAsync(CinderDb db, string projectId, int size, CancellationToken ct)
    {
        var limits = await LimitsAsync(db, projectId, ct);
        var usage = await UsageAsync(db, projectId, ct);
        if (limits["backup_gigabytes"] is var gb and >= 0 && usage["backup_gigabytes"] + size > gb)
            throw new OpenStackError(413, "Request Entity Too Large",
                $"Requested backup exceeds allowed Backup gigabytes quota. Requested {size}G, quota is {gb}G and {usage["backup_gigabytes"]}G has been consumed.");
        if (limits["backups"] is var count and >= 0 && usage["backups"] + 1 > count)
            throw new OpenStackError(413, "Request Entity Too Large", $"Maximum number of backups allowed ({count}) exceeded");
    }
}
