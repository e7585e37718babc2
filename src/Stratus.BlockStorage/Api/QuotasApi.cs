namespace Stratus.BlockStorage.Api;

/// <summary><c>/os-quota-sets</c> (show, defaults, usage, update, delete) and <c>/limits</c>: Cinder's per-project quotas.</summary>
public static class QuotasApi
{
    public static void MapQuotas(this RouteGroupBuilder project)
    {
        project.MapGet("/os-quota-sets/{target}", Show);
        project.MapGet("/os-quota-sets/{target}/defaults", Defaults);
        project.MapPut("/os-quota-sets/{target}", Update);
        project.MapDelete("/os-quota-sets/{target}", Delete);
        project.MapGet("/limits", Limits);
    }

    static JsonObject Set(string projectId, IReadOnlyDictionary<string, int> limits, IReadOnlyDictionary<string, int>? usage = null)
    {
        var o = new JsonObject { ["id"] = projectId };
        foreach (var r in QuotaDefaults.Resources)
            o[r] = usage is null ? limits[r] : new JsonObject { ["limit"] = limits[r], ["in_use"] = usage[r], ["reserved"] = 0, ["allocated"] = 0 };
        // Cinder adds a quota per volume type; the default type's are unlimited.
        foreach (var r in new[] { "volumes", "snapshots", "gigabytes" })
            o[$"{r}_{CinderOptions.DefaultTypeName}"] = usage is null ? -1 : new JsonObject { ["limit"] = -1, ["in_use"] = 0, ["reserved"] = 0, ["allocated"] = 0 };
        return o;
    }

    static async Task<IResult> Show(string target, HttpContext http, CinderDb db, Quotas quotas, CancellationToken ct)
    {
        http.Authorize("volume_extension:quotas:show", target);
        var usage = http.Request.Query["usage"].FirstOrDefault() is "true" or "True" or "1";
        var limits = await quotas.LimitsAsync(db, target, ct);
        return new JsonResponse(new JsonObject { ["quota_set"] = Set(target, limits, usage ? await quotas.UsageAsync(db, target, ct) : null) });
    }

    static IResult Defaults(string target, HttpContext http, CinderOptions options)
    {
        http.Authorize("volume_extension:quotas:show", target);
        return new JsonResponse(new JsonObject { ["quota_set"] = Set(target, options.Quotas.Defaults) });
    }

    static async Task<IResult> Update(string target, HttpContext http, CinderDb db, Quotas quotas, CancellationToken ct)
    {
        http.Authorize("volume_extension:quotas:update", target);
        var body = await http.BodyAsync("quota_set");
        var usage = await quotas.UsageAsync(db, target, ct);
        foreach (var (key, node) in body)
        {
            if (key is "tenant_id" or "id") continue;
            if (!QuotaDefaults.Resources.Contains(key) && !key.Contains("_" + CinderOptions.DefaultTypeName, StringComparison.Ordinal))
                throw OpenStackError.BadRequest($"Invalid input received: Bad key(s) in quota set: {key}");
            int value;
            if (node?.GetValueKind() == System.Text.Json.JsonValueKind.Number && node.AsValue().TryGetValue(out int n)) value = n;
            else if (node?.GetValueKind() == System.Text.Json.JsonValueKind.String && int.TryParse(node.GetValue<string>(), out n)) value = n;
            else throw OpenStackError.BadRequest($"Invalid input received: Quota '{key}' must be an integer.");
            if (value < -1) throw OpenStackError.BadRequest($"Invalid input received: Quota limit {value} for {key} must be -1 or greater.");
            if (!QuotaDefaults.Resources.Contains(key)) continue;
            if (value >= 0 && key != "per_volume_gigabytes" && usage[key] > value)
                throw OpenStackError.BadRequest($"Invalid input received: Quota limit {value} for {key} must be greater than or equal to already used and reserved {usage[key]}.");
            var row = await db.Quotas.FirstOrDefaultAsync(q => q.ProjectId == target && q.Resource == key, ct);
            if (row is null) db.Quotas.Add(new Quota { ProjectId = target, Resource = key, HardLimit = value });
            else row.HardLimit = value;
        }
        await db.SaveChangesAsync(ct);
        var set = Set(target, await quotas.LimitsAsync(db, target, ct));
        set.Remove("id");
        return new JsonResponse(new JsonObject { ["quota_set"] = set });
    }

    static async Task<IResult> Delete(string target, HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Authorize("volume_extension:quotas:delete", target);
        db.Quotas.RemoveRange(db.Quotas.Where(q => q.ProjectId == target));
        await db.SaveChangesAsync(ct);
        return Results.Ok();
    }

    static async Task<IResult> Limits(HttpContext http, CinderDb db, Quotas quotas, CancellationToken ct)
    {
        var project = http.IsAdmin() && http.Version().AtLeast(39) && http.Request.Query["project_id"].FirstOrDefault() is { } p ? p : http.ProjectId();
        http.Authorize("limits_extension:used_limits", project);
        var limits = await quotas.LimitsAsync(db, project, ct);
        var usage = await quotas.UsageAsync(db, project, ct);
        return new JsonResponse(new JsonObject
        {
            ["limits"] = new JsonObject
            {
                ["rate"] = new JsonArray(),
                ["absolute"] = new JsonObject
                {
                    ["totalSnapshotsUsed"] = usage["snapshots"],
                    ["maxTotalBackups"] = limits["backups"],
                    ["maxTotalVolumeGigabytes"] = limits["gigabytes"],
                    ["maxTotalSnapshots"] = limits["snapshots"],
                    ["maxTotalBackupGigabytes"] = limits["backup_gigabytes"],
                    ["totalBackupGigabytesUsed"] = usage["backup_gigabytes"],
                    ["maxTotalVolumes"] = limits["volumes"],
                    ["totalVolumesUsed"] = usage["volumes"],
                    ["totalBackupsUsed"] = usage["backups"],
                    ["totalGigabytesUsed"] = usage["gigabytes"],
                },
            },
        });
    }
}
