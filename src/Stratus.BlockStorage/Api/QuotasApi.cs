namespace Stratus.BlockStorage.Api;

/// <summary>
/// <c>/os-quota-sets</c> (show, defaults, usage, update, delete), <c>/os-quota-class-sets</c> (the class <c>default</c>
/// sets every project's defaults) and <c>/limits</c>: Cinder's per-project quotas.
/// </summary>
public static class QuotasApi
{
    public static void MapQuotas(this RouteGroupBuilder project)
    {
        project.MapGet("/os-quota-sets/{target}", Show);
        project.MapGet("/os-quota-sets/{target}/defaults", Defaults);
        project.MapPut("/os-quota-sets/{target}", Update);
        project.MapDelete("/os-quota-sets/{target}", Delete);
        project.MapGet("/os-quota-class-sets/{quotaClass}", ShowClass);
        project.MapPut("/os-quota-class-sets/{quotaClass}", UpdateClass);
        project.MapGet("/limits", Limits);
    }

    /// <summary>A quota set: the fixed resources first, then each volume type's, as Cinder lists them.</summary>
    static JsonObject Set(string? id, IReadOnlyDictionary<string, int> limits, IReadOnlyDictionary<string, int>? usage = null)
    {
        var o = new JsonObject();
        if (id is not null) o["id"] = id;
        foreach (var r in QuotaDefaults.Resources.Concat(limits.Keys.Except(QuotaDefaults.Resources)))
            o[r] = usage is null ? limits[r] : new JsonObject { ["limit"] = limits[r], ["in_use"] = usage.GetValueOrDefault(r), ["reserved"] = 0, ["allocated"] = 0 };
        return o;
    }

    static async Task<IResult> Show(string target, HttpContext http, CinderDb db, Quotas quotas, CancellationToken ct)
    {
        http.Authorize("volume_extension:quotas:show", target);
        var usage = http.Request.Query["usage"].FirstOrDefault() is "true" or "True" or "1";
        var limits = await quotas.LimitsAsync(target, ct);
        return new JsonResponse(new JsonObject { ["quota_set"] = Set(target, limits, usage ? await quotas.UsageAsync(target, ct) : null) });
    }

    static async Task<IResult> Defaults(string target, HttpContext http, CinderDb db, Quotas quotas, CancellationToken ct)
    {
        http.Authorize("volume_extension:quotas:show", target);
        return new JsonResponse(new JsonObject { ["quota_set"] = Set(target, await quotas.DefaultsAsync(ct)) });
    }

    /// <summary>A quota limit as Cinder's schema takes it: an integer of -1 or more, or a string of digits.</summary>
    static int Limit(string key, JsonNode? node, string badInput)
    {
        if (node?.GetValueKind() == System.Text.Json.JsonValueKind.Number && node.AsValue().TryGetValue(out int n)) { }
        else if (node?.GetValueKind() == System.Text.Json.JsonValueKind.String && int.TryParse(node.GetValue<string>(), out n)) { }
        else throw OpenStackError.BadRequest(string.Format(System.Globalization.CultureInfo.InvariantCulture, badInput, key));
        return n >= -1 ? n : throw OpenStackError.BadRequest($"Invalid input received: Quota limit {n} for {key} must be -1 or greater.");
    }

    static async Task<IResult> Update(string target, HttpContext http, CinderDb db, Quotas quotas, CancellationToken ct)
    {
        http.Authorize("volume_extension:quotas:update", target);
        var body = await http.BodyAsync("quota_set");
        var known = await quotas.DefaultsAsync(ct);
        var usage = await quotas.UsageAsync(target, ct);
        foreach (var (key, node) in body)
        {
            if (key is "tenant_id" or "id") continue;
            if (!known.ContainsKey(key)) throw OpenStackError.BadRequest($"Invalid input received: Bad key(s) in quota set: {key}");
            var value = Limit(key, node, "Invalid input received: Quota '{0}' must be an integer.");
            if (value >= 0 && key != "per_volume_gigabytes" && usage.GetValueOrDefault(key) > value)
                throw OpenStackError.BadRequest($"Invalid input received: Quota limit {value} for {key} must be greater than or equal to already used and reserved {usage[key]}.");
            var row = await db.Quotas.FirstOrDefaultAsync(q => q.ProjectId == target && q.Resource == key, ct);
            if (row is null) db.Quotas.Add(new Quota { ProjectId = target, Resource = key, HardLimit = value });
            else row.HardLimit = value;
        }
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["quota_set"] = Set(null, await quotas.LimitsAsync(target, ct)) });
    }

    /// <summary>A class's limits over the defaults; the class <c>default</c> is the defaults themselves.</summary>
    static async Task<Dictionary<string, int>> ClassLimitsAsync(CinderDb db, Quotas quotas, string quotaClass, CancellationToken ct)
    {
        var limits = await quotas.DefaultsAsync(ct);
        foreach (var q in await db.QuotaClasses.AsNoTracking().Where(q => q.ClassName == quotaClass).ToListAsync(ct))
            if (limits.ContainsKey(q.Resource)) limits[q.Resource] = q.HardLimit;
        return limits;
    }

    static async Task<IResult> ShowClass(string quotaClass, HttpContext http, CinderDb db, Quotas quotas, CancellationToken ct)
    {
        http.Enforce("volume_extension:quota_classes:get");
        // Cinder's authorize_quota_class_context: a non-admin may read only their own quota class.
        if (!http.IsAdmin() && http.Caller().ProjectId != quotaClass) throw OpenStackError.Forbidden();
        return new JsonResponse(new JsonObject { ["quota_class_set"] = Set(quotaClass, await ClassLimitsAsync(db, quotas, quotaClass, ct)) });
    }

    static async Task<IResult> UpdateClass(string quotaClass, HttpContext http, CinderDb db, Quotas quotas, CancellationToken ct)
    {
        http.Enforce("volume_extension:quota_classes:update");
        if (quotaClass.Length > 255) throw OpenStackError.BadRequest("Invalid input received: quota_class_name has more than 255 characters.");
        var body = await http.BodyAsync("quota_class_set");
        var known = await quotas.DefaultsAsync(ct);
        var bad = body.Select(p => p.Key).Where(k => !known.ContainsKey(k)).ToList();
        if (bad.Count > 0) throw OpenStackError.BadRequest($"Invalid input received: Bad key(s) in quota class set: {string.Join(", ", bad)}");
        foreach (var (key, node) in body)
        {
            var value = Limit(key, node, "Invalid input for field/attribute quota_class_set. Value: {0}. Not an integer of -1 or more.");
            var row = await db.QuotaClasses.FirstOrDefaultAsync(q => q.ClassName == quotaClass && q.Resource == key, ct);
            if (row is null) db.QuotaClasses.Add(new QuotaClass { ClassName = quotaClass, Resource = key, HardLimit = value });
            else row.HardLimit = value;
        }
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["quota_class_set"] = Set(null, await ClassLimitsAsync(db, quotas, quotaClass, ct)) });
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
        var limits = await quotas.LimitsAsync(project, ct);
        var usage = await quotas.UsageAsync(project, ct);
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
