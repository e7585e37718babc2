namespace Stratus.Compute.Api;

/// <summary><c>/limits</c> (a project's absolute limits and usage) and <c>/os-quota-sets</c>.</summary>
public static class LimitsApi
{
    public static RouteGroupBuilder MapLimits(this RouteGroupBuilder v21)
    {
        v21.MapGet("/limits", Limits);
        v21.MapGet("/os-quota-sets/{project}/defaults", (string project, HttpContext http) => new JsonResponse(new JsonObject { ["quota_set"] = QuotaSet(project, Quotas.Defaults, http) }));
        v21.MapGet("/os-quota-sets/{project}", ShowQuotas);
        v21.MapGet("/os-quota-sets/{project}/detail", ShowQuotas);
        v21.MapPut("/os-quota-sets/{project}", UpdateQuotas);
        v21.MapDelete("/os-quota-sets/{project}", DeleteQuotas);
        return v21;
    }

    static async Task<IResult> Limits(HttpContext http, CellDb db, ApiDb apiDb, CancellationToken ct)
    {
        var caller = http.Caller();
        var project = caller.IsAdmin && http.Request.Query["tenant_id"].FirstOrDefault() is { } t ? t : caller.ProjectId!;
        var limits = await Quotas.LimitsAsync(apiDb, project, ct);
        var (instances, cores, ram) = await Quotas.UsageAsync(db, project, ct);
        var absolute = new JsonObject
        {
            ["maxTotalInstances"] = limits["instances"], ["maxTotalCores"] = limits["cores"], ["maxTotalRAMSize"] = limits["ram"],
            ["maxServerMeta"] = limits["metadata_items"], ["maxTotalKeypairs"] = limits["key_pairs"],
            ["maxServerGroups"] = limits["server_groups"], ["maxServerGroupMembers"] = limits["server_group_members"],
            ["totalInstancesUsed"] = instances, ["totalCoresUsed"] = cores, ["totalRAMUsed"] = ram, ["totalServerGroupsUsed"] = 0,
        };
        if (!Microversion.Of(http).AtLeast(57))
        {
            absolute["maxPersonality"] = limits["injected_files"];
            absolute["maxPersonalitySize"] = limits["injected_file_content_bytes"];
        }
        if (!Microversion.Of(http).AtLeast(36))
        {
            absolute["maxImageMeta"] = 128;
            absolute["maxSecurityGroups"] = 10;
            absolute["maxSecurityGroupRules"] = 20;
            absolute["maxTotalFloatingIps"] = 10;
            absolute["totalSecurityGroupsUsed"] = 0;
            absolute["totalFloatingIpsUsed"] = 0;
        }
        return new JsonResponse(new JsonObject { ["limits"] = new JsonObject { ["rate"] = new JsonArray(), ["absolute"] = absolute } });
    }

    static JsonObject QuotaSet(string project, Dictionary<string, int> limits, HttpContext http)
    {
        var o = new JsonObject { ["id"] = project };
        foreach (var (k, v) in limits.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            if (Microversion.Of(http).AtLeast(57) && k.StartsWith("injected_file", StringComparison.Ordinal)) continue;
            o[k] = v;
        }
        return o;
    }

    static async Task<IResult> ShowQuotas(string project, HttpContext http, ApiDb db, CellDb cells, CancellationToken ct)
    {
        var caller = http.Caller();
        if (!caller.IsAdmin && caller.ProjectId != project) throw OpenStackError.Forbidden("Policy doesn't allow os_compute_api:os-quota-sets:show to be performed.");
        var limits = await Quotas.LimitsAsync(db, project, ct);
        if (!http.Request.Path.Value!.EndsWith("/detail", StringComparison.Ordinal))
            return new JsonResponse(new JsonObject { ["quota_set"] = QuotaSet(project, limits, http) });
        var (instances, cores, ram) = await Quotas.UsageAsync(cells, project, ct);
        var used = new Dictionary<string, int> { ["instances"] = instances, ["cores"] = cores, ["ram"] = ram };
        var detail = new JsonObject { ["id"] = project };
        foreach (var (k, v) in limits.OrderBy(l => l.Key, StringComparer.Ordinal))
            detail[k] = new JsonObject { ["limit"] = v, ["in_use"] = used.GetValueOrDefault(k), ["reserved"] = 0 };
        return new JsonResponse(new JsonObject { ["quota_set"] = detail });
    }

    static async Task<IResult> UpdateQuotas(string project, HttpContext http, ApiDb db, CancellationToken ct)
    {
        http.RequireAdmin("os_compute_api:os-quota-sets:update");
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("quota_set");
        foreach (var (key, value) in body)
        {
            if (key == "force") continue;
            if (!Quotas.Defaults.ContainsKey(key)) throw OpenStackError.BadRequest($"Bad key(s) {key} in quota_set");
            if (!int.TryParse(value?.ToString(), out var limit) || limit < -1)
                throw OpenStackError.BadRequest($"Invalid input for field/attribute {key}. Value: {value?.ToJsonString()}. It must be an integer >= -1.");
            var existing = await db.Quotas.FindAsync([project, key], ct);
            if (existing is null) db.Quotas.Add(new QuotaLimit { ProjectId = project, Resource = key, HardLimit = limit });
            else existing.HardLimit = limit;
        }
        await db.SaveChangesAsync(ct);
        var set = QuotaSet(project, await Quotas.LimitsAsync(db, project, ct), http);
        set.Remove("id");
        return new JsonResponse(new JsonObject { ["quota_set"] = set });
    }

    static async Task<IResult> DeleteQuotas(string project, HttpContext http, ApiDb db, CancellationToken ct)
    {
        http.RequireAdmin("os_compute_api:os-quota-sets:delete");
        await db.Quotas.Where(q => q.ProjectId == project).ExecuteDeleteAsync(ct);
        return Results.StatusCode(202);
    }
}
