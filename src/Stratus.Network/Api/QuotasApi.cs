using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Network.Policy;

namespace Stratus.Network.Api;

/// <summary>
/// <c>/v2.0/quotas</c> (the quotas and quota_details extensions, with Neutron's DB quota driver): a
/// project's limits are its rows over <c>[quotas]</c>'s defaults; usage is counted from the tables.
/// </summary>
static class QuotasApi
{
    const int Unlimited = -1;

    static Collection Quotas(NetworkOptions options)
    {
        var attributes = options.Quotas.Defaults.Keys.ToDictionary(k => k, _ => Access.Put, StringComparer.Ordinal);
        // Popped by Neutron's controller before the body is validated.
        attributes["force"] = Access.Put;
        attributes["check_limit"] = Access.Put;
        return new Collection("quota", "quotas", attributes);
    }

    public static IEndpointRouteBuilder MapQuotas(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v2.0/quotas", ListAsync);
        app.MapPost("/v2.0/quotas", (HttpContext http) =>
        {
            http.Caller();
            throw new OpenStackError(501, "HTTPNotImplemented", "POST requests are not supported on this resource.");
        });
        app.MapGet("/v2.0/quotas/project", (HttpContext http) => Own(http, "project"));
        app.MapGet("/v2.0/quotas/tenant", (HttpContext http) => Own(http, "tenant"));
        app.MapGet("/v2.0/quotas/{projectId}", ShowAsync);
        app.MapGet("/v2.0/quotas/{projectId}/default", Default);
        app.MapGet("/v2.0/quotas/{projectId}/details", DetailsAsync);
        app.MapPut("/v2.0/quotas/{projectId}", UpdateAsync);
        app.MapDelete("/v2.0/quotas/{projectId}", DeleteAsync);
        return app;
    }

    /// <summary>Neutron checks quota rules against the caller's own project.</summary>
    static void Enforce(HttpContext http, string rule)
    {
        var project = http.Caller().ProjectId;
        NeutronPolicy.Enforce(http, rule, new Dictionary<string, string?> { ["project_id"] = project, ["tenant_id"] = project });
    }

    static IResult Own(HttpContext http, string key)
    {
        var project = http.Caller().ProjectId ?? throw new OpenStackError(400, "QuotaMissingTenant", "Tenant-id was missing from quota request.");
        return new JsonResponse(new JsonObject { [key] = new JsonObject { [key + "_id"] = project } });
    }

    public static async Task<Dictionary<string, int>> LimitsAsync(NetworkStore store, NetworkOptions options, string projectId, CancellationToken ct)
    {
        var limits = new Dictionary<string, int>(options.Quotas.Defaults, StringComparer.Ordinal);
        foreach (var row in await store.QuotasAsync(projectId, ct))
            if (limits.ContainsKey(row.Resource)) limits[row.Resource] = row.Limit;
        return limits;
    }

    static JsonObject View(IReadOnlyDictionary<string, int> limits)
    {
        var o = new JsonObject();
        foreach (var (k, v) in limits.OrderBy(p => p.Key, StringComparer.Ordinal)) o[k] = v;
        return o;
    }

    static async Task<IResult> ListAsync(HttpContext http, NetworkStore store, NetworkOptions options, CancellationToken ct)
    {
        Enforce(http, "get_quota");
        var rows = await store.QuotasAsync(null, ct);
        var quotas = new JsonArray();
        foreach (var project in rows.GroupBy(r => r.ProjectId).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var limits = new Dictionary<string, int>(options.Quotas.Defaults, StringComparer.Ordinal);
            foreach (var r in project)
                if (limits.ContainsKey(r.Resource)) limits[r.Resource] = r.Limit;
            var view = View(limits);
            view["project_id"] = project.Key;
            view["tenant_id"] = project.Key;
            quotas.Add(view);
        }
        return new JsonResponse(new JsonObject { ["quotas"] = quotas });
    }

    static async Task<IResult> ShowAsync(string projectId, HttpContext http, NetworkStore store, NetworkOptions options, CancellationToken ct)
    {
        if (projectId != http.Caller().ProjectId) Enforce(http, "get_quota");
        return new JsonResponse(new JsonObject { ["quota"] = View(await LimitsAsync(store, options, projectId, ct)) });
    }

    static IResult Default(string projectId, HttpContext http, NetworkOptions options)
    {
        if (projectId != http.Caller().ProjectId) Enforce(http, "get_quota");
        return new JsonResponse(new JsonObject { ["quota"] = View(options.Quotas.Defaults) });
    }

    static async Task<IResult> DetailsAsync(string projectId, HttpContext http, NetworkStore store, NetworkOptions options, CancellationToken ct)
    {
        var caller = http.Caller();
        // quotasv2_detail checks the admin flag itself, not a policy rule.
        if (projectId != caller.ProjectId && !caller.IsAdmin)
            throw new OpenStackError(403, "AdminRequired", "User does not have admin privileges: Only admin is authorized to access quotas for another project.");
        var limits = await LimitsAsync(store, options, projectId, ct);
        var details = new JsonObject();
        foreach (var (resource, limit) in limits.OrderBy(p => p.Key, StringComparer.Ordinal))
            details[resource] = new JsonObject { ["limit"] = limit, ["used"] = await UsedAsync(store, projectId, resource, ct), ["reserved"] = 0 };
        return new JsonResponse(new JsonObject { ["quota"] = details });
    }

    static async Task<IResult> UpdateAsync(string projectId, HttpContext http, NetworkStore store, NetworkOptions options, CancellationToken ct)
    {
        Enforce(http, "update_quota");
        var body = await Quotas(options).ReadUpdateAsync(http.Request, ct);
        body.Remove("force");
        var checkLimit = Standard.Bool(body, "check_limit") ?? false;
        body.Remove("check_limit");
        var wanted = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (resource, node) in body) wanted[resource] = Limit(resource, node);
        if (checkLimit)
            foreach (var (resource, limit) in wanted)
                if (limit != Unlimited && await UsedAsync(store, projectId, resource, ct) is var used && used > limit)
                    throw NeutronErrors.BadRequest($"Quota limit {limit} for {resource} must be greater than or equal to already used {used}");
        try
        {
            await store.SetQuotasAsync(projectId, wanted, ct);
        }
        catch (DbException e) when (SqlDatabase.IsDuplicate(e))
        {
            throw NeutronErrors.Conflict("HTTPConflict", $"The quotas of project {projectId} were changed meanwhile; try again.");
        }
        return new JsonResponse(new JsonObject { ["quota"] = View(await LimitsAsync(store, options, projectId, ct)) });
    }

    /// <summary>A limit as Neutron converts and validates it: an integer from -1 (unlimited) up.</summary>
    static int Limit(string resource, JsonNode? node)
    {
        long value;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var n)) value = n;
        else if (node is JsonValue s && s.GetValueKind() == JsonValueKind.String
            && long.TryParse(s.GetValue<string>(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var p)) value = p;
        else throw NeutronErrors.InvalidInput($"'{node switch { null => "None", JsonValue sv when sv.GetValueKind() == JsonValueKind.String => sv.GetValue<string>(), _ => node.ToJsonString() }}' is not an integer");
        if (value < Unlimited) throw NeutronErrors.InvalidAttribute(resource, $"'{value}' is too small - must be at least '{Unlimited}'");
        if (value > int.MaxValue) throw NeutronErrors.InvalidAttribute(resource, $"'{value}' is too large - must be no larger than '{int.MaxValue}'");
        return (int)value;
    }

    static async Task<IResult> DeleteAsync(string projectId, HttpContext http, NetworkStore store, CancellationToken ct)
    {
        Enforce(http, "delete_quota");
        if (await store.DeleteQuotasAsync(projectId, ct) == 0)
            throw new OpenStackError(404, "TenantQuotaNotFound", $"Quota for tenant {projectId} could not be found.");
        return Results.NoContent();
    }

    /// <summary>The table each counted resource's rows are in.</summary>
    static readonly Dictionary<string, string> Tables = new(StringComparer.Ordinal)
    {
        ["network"] = "networks", ["subnet"] = "subnets", ["port"] = "ports", ["security_group"] = "securitygroups",
        ["security_group_rule"] = "securitygrouprules", ["router"] = "routers", ["floatingip"] = "floatingips", ["subnetpool"] = "subnetpools",
    };

    /// <summary>What the project holds of a resource, as Neutron's tracked resources count it.</summary>
    public static Task<int> UsedAsync(NetworkStore store, string projectId, string resource, CancellationToken ct) =>
        Tables.TryGetValue(resource, out var table) ? store.CountAsync(table, projectId, ct) : Task.FromResult(0);

    /// <summary>
    /// The quota check of a create, called just before its SaveChanges: the rows the request adds,
    /// with what each project already holds, must fit the project's limits; else 409 OverQuota
    /// naming the resources over, as Neutron words it.
    /// </summary>
    public static Task EnforceAsync(HttpContext http, NetworkDb db, CancellationToken ct) => EnforceAsync(http, db, null, ct);

    /// <summary>
    /// As above, where a create adds rows of more than one kind (a group and its rules): Neutron
    /// reserves the <paramref name="primary"/> resource first, so when it is over it is named alone.
    /// </summary>
    public static Task EnforceAsync(HttpContext http, NetworkDb db, string? primary, CancellationToken ct) =>
        EnforceAsync(http, http.RequestServices.GetRequiredService<NetworkStore>(), db.ChangeTracker.Entries().Where(e => e.State == EntityState.Added)
            .Select(e => (ResourceOf(e.Entity), ProjectOf(e.Entity))).Where(x => x.Item1 is not null).Select(x => (x.Item1!, x.Item2)).ToList(), primary, ct);

    /// <summary>The check for rows added without EF Core: each (resource, project) one row to add.</summary>
    public static async Task EnforceAsync(HttpContext http, NetworkStore store, IEnumerable<(string Resource, string Project)> added, string? primary, CancellationToken ct)
    {
        var options = http.RequestServices.GetRequiredService<NetworkOptions>();
        foreach (var project in added.GroupBy(x => x.Project))
        {
            var limits = await LimitsAsync(store, options, project.Key, ct);
            var overs = new List<string>();
            foreach (var resource in project.GroupBy(x => x.Resource))
            {
                var limit = limits.GetValueOrDefault(resource.Key, Unlimited);
                if (limit != Unlimited && await UsedAsync(store, project.Key, resource.Key, ct) + resource.Count() > limit) overs.Add(resource.Key);
            }
            if (primary is not null && overs.Contains(primary)) overs = [primary];
            if (overs.Count > 0)
                throw NeutronErrors.Conflict("OverQuota", $"Quota exceeded for resources: [{string.Join(", ", overs.Order(StringComparer.Ordinal).Select(o => $"'{o}'"))}].");
        }
    }

    static string? ResourceOf(object row) => row switch
    {
        NetworkRow => "network", SubnetRow => "subnet", PortRow => "port", SecurityGroupRow => "security_group",
        SecurityGroupRuleRow => "security_group_rule", RouterRow => "router", FloatingIpRow => "floatingip", SubnetPoolRow => "subnetpool",
        _ => null,
    };

    static string ProjectOf(object row) => row switch
    {
        StandardRow s => s.ProjectId,
        SecurityGroupRuleRow r => r.ProjectId,
        _ => "",
    };
}
