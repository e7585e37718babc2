namespace Stratus.Compute.Api;

/// <summary><c>/limits</c> (a project's absolute limits and usage), <c>/os-quota-sets</c> and <c>/os-quota-class-sets</c>.</summary>
public static class LimitsApi
{
    public static RouteGroupBuilder MapLimits(this RouteGroupBuilder v21)
    {
        v21.MapGet("/limits", Limits);
        v21.MapGet("/os-quota-sets/{project}/defaults", Defaults);
        v21.MapGet("/os-quota-sets/{project}", (string project, HttpContext http, ApiDb db, CellDb cells, CancellationToken ct) => ShowQuotas(project, http, db, cells, false, ct));
        v21.MapGet("/os-quota-sets/{project}/detail", (string project, HttpContext http, ApiDb db, CellDb cells, CancellationToken ct) => ShowQuotas(project, http, db, cells, true, ct));
        v21.MapPut("/os-quota-sets/{project}", UpdateQuotas).RequirePolicy("os_compute_api:os-quota-sets:update");
        v21.MapDelete("/os-quota-sets/{project}", DeleteQuotas).RequirePolicy("os_compute_api:os-quota-sets:delete");
        v21.MapGet("/os-quota-class-sets/{id}", ShowClass).RequirePolicy("os_compute_api:os-quota-class-sets:show");
        v21.MapPut("/os-quota-class-sets/{id}", UpdateClass).RequirePolicy("os_compute_api:os-quota-class-sets:update");
        return v21;
    }

    static async Task<IResult> Limits(HttpContext http, CellDb db, ApiDb apiDb, CancellationToken ct)
    {
        var caller = http.Caller();
        var v = Microversion.Of(http);
        var project = http.Request.Query["tenant_id"].FirstOrDefault() is { } t && caller.IsAdmin ? t : caller.ProjectId!;
        var limits = await Quotas.LimitsAsync(apiDb, project, ct);
        var used = await Quotas.UsageAsync(db, apiDb, project, null, ct);
        var absolute = new JsonObject
        {
            ["maxTotalInstances"] = limits["instances"], ["maxTotalCores"] = limits["cores"], ["maxTotalRAMSize"] = limits["ram"],
            ["maxServerMeta"] = limits["metadata_items"], ["maxTotalKeypairs"] = limits["key_pairs"],
            ["maxServerGroups"] = limits["server_groups"], ["maxServerGroupMembers"] = limits["server_group_members"],
            ["totalInstancesUsed"] = used["instances"], ["totalCoresUsed"] = used["cores"], ["totalRAMUsed"] = used["ram"],
            ["totalServerGroupsUsed"] = used["server_groups"],
        };
        if (!v.AtLeast(57))
        {
            absolute["maxPersonality"] = limits["injected_files"];
            absolute["maxPersonalitySize"] = limits["injected_file_content_bytes"];
        }
        if (!v.AtLeast(39)) absolute["maxImageMeta"] = limits["metadata_items"];
        if (!v.AtLeast(36))
        {
            absolute["maxSecurityGroups"] = limits["security_groups"];
            absolute["maxSecurityGroupRules"] = limits["security_group_rules"];
            absolute["maxTotalFloatingIps"] = limits["floating_ips"];
            absolute["totalSecurityGroupsUsed"] = 0;
            absolute["totalFloatingIpsUsed"] = 0;
        }
        return new JsonResponse(new JsonObject { ["limits"] = new JsonObject { ["rate"] = new JsonArray(), ["absolute"] = absolute } });
    }

    static JsonObject Format(string? id, Dictionary<string, JsonNode?> values, ApiVersionRequest v, int networkGone = 36, bool serverGroups = true)
    {
        var o = new JsonObject();
        if (id is not null) o["id"] = id;
        foreach (var (name, _) in Quotas.Resources)
            if (Quotas.Shown(name, v, networkGone) && (serverGroups || !name.StartsWith("server_group", StringComparison.Ordinal)) && values.TryGetValue(name, out var value))
                o[name] = value;
        return o;
    }

    static Dictionary<string, JsonNode?> Plain(Dictionary<string, int> limits) => limits.ToDictionary(l => l.Key, l => (JsonNode?)l.Value);

    static void CheckProject(HttpContext http, string project, string rule) =>
        http.Enforce($"os_compute_api:os-quota-sets:{rule}", new Dictionary<string, string?> { ["project_id"] = project });

    static async Task<IResult> Defaults(string project, HttpContext http, ApiDb db, CancellationToken ct)
    {
        CheckProject(http, project, "defaults");
        return new JsonResponse(new JsonObject { ["quota_set"] = Format(project, Plain(await Quotas.ClassAsync(db, "default", ct)), Microversion.Of(http)) });
    }

    static async Task<IResult> ShowQuotas(string project, HttpContext http, ApiDb db, CellDb cells, bool detail, CancellationToken ct)
    {
        CheckProject(http, project, detail ? "detail" : "show");
        var limits = await Quotas.LimitsAsync(db, project, ct);
        if (!detail) return new JsonResponse(new JsonObject { ["quota_set"] = Format(project, Plain(limits), Microversion.Of(http)) });
        var used = await Quotas.UsageAsync(cells, db, project, http.Request.Query["user_id"].FirstOrDefault() ?? http.Caller().UserId, ct);
        var values = limits.ToDictionary(l => l.Key, l => (JsonNode?)new JsonObject { ["limit"] = l.Value, ["in_use"] = used.GetValueOrDefault(l.Key), ["reserved"] = 0 });
        return new JsonResponse(new JsonObject { ["quota_set"] = Format(project, values, Microversion.Of(http)) });
    }

    static async Task<IResult> UpdateQuotas(string project, HttpContext http, ApiDb db, CellDb cells, CancellationToken ct)
    {
        var v = Microversion.Of(http);
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("quota_set");
        if (body.ContainsKey("networks") && !v.AtLeast(36)) throw OpenStackError.BadRequest("The networks quota has been removed");
        var force = body.TryGetPropertyValue("force", out var f) && NovaBody.Bool("force", f);
        var used = await Quotas.UsageAsync(cells, db, project, null, ct);
        var updates = new Dictionary<string, int>();
        foreach (var (key, value) in body)
        {
            if (key == "force") continue;
            if (!Quotas.Known(key) || !Quotas.Shown(key, v)) throw OpenStackError.BadRequest($"Invalid input for field/attribute quota_set. Value: {body.ToJsonString()}. Additional properties are not allowed ('{key}' was unexpected)");
            var limit = Quotas.Parse(key, value);
            if (!force && limit != -1 && used.GetValueOrDefault(key) > limit)
                throw OpenStackError.BadRequest($"Quota limit {limit} for {key} must be greater than or equal to already used and reserved {used[key]}.");
            updates[key] = limit;
        }
        foreach (var (key, limit) in updates)
        {
            var existing = await db.Quotas.FindAsync([project, key], ct);
            if (existing is null) db.Quotas.Add(new QuotaLimit { ProjectId = project, Resource = key, HardLimit = limit });
            else existing.HardLimit = limit;
        }
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["quota_set"] = Format(null, Plain(await Quotas.LimitsAsync(db, project, ct)), v) });
    }

    static async Task<IResult> DeleteQuotas(string project, HttpContext http, ApiDb db, CancellationToken ct)
    {
        await db.Quotas.Where(q => q.ProjectId == project).ExecuteDeleteAsync(ct);
        return Results.StatusCode(202);
    }

    static async Task<IResult> ShowClass(string id, HttpContext http, ApiDb db, CancellationToken ct)
    {
        var v = Microversion.Of(http);
        return new JsonResponse(new JsonObject { ["quota_class_set"] = Format(id, Plain(await Quotas.ClassAsync(db, id, ct)), v, 50, v.AtLeast(50)) });
    }

    static async Task<IResult> UpdateClass(string id, HttpContext http, ApiDb db, CancellationToken ct)
    {
        var v = Microversion.Of(http);
        if (id.Length is 0 or > 255) throw OpenStackError.BadRequest("quota_class_name has a length out of 1 to 255.");
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("quota_class_set");
        foreach (var (key, value) in body)
        {
            if (!Quotas.Known(key) || !Quotas.Shown(key, v, 50) || (!v.AtLeast(50) && key.StartsWith("server_group", StringComparison.Ordinal)))
                throw OpenStackError.BadRequest($"Invalid input for field/attribute quota_class_set. Value: {body.ToJsonString()}. Additional properties are not allowed ('{key}' was unexpected)");
            var limit = Quotas.Parse(key, value);
            var existing = await db.QuotaClasses.FindAsync([id, key], ct);
            if (existing is null) db.QuotaClasses.Add(new QuotaClassLimit { ClassName = id, Resource = key, HardLimit = limit });
            else existing.HardLimit = limit;
        }
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["quota_class_set"] = Format(null, Plain(await Quotas.ClassAsync(db, id, ct)), v, 50, v.AtLeast(50)) });
    }
}
