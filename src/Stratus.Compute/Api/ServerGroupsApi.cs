using Stratus.Compute.Servers;

namespace Stratus.Compute.Api;

/// <summary>
/// <c>/os-server-groups</c>: servers kept together (affinity) or apart (anti-affinity) by the scheduler;
/// a server joins one with the <c>group</c> scheduler hint. 2.64 has one policy and rules instead of a list.
/// </summary>
public static class ServerGroupsApi
{
    static readonly string[] Policies = ["affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity"];

    public static RouteGroupBuilder MapServerGroups(this RouteGroupBuilder v21)
    {
        var groups = v21.MapGroup("/os-server-groups");
        groups.MapGet("", List);
        groups.MapPost("", Create).RequirePolicy("os_compute_api:os-server-groups:create");
        groups.MapGet("/{id}", Show);
        groups.MapDelete("/{id}", Delete).RequirePolicy("os_compute_api:os-server-groups:delete");
        return groups;
    }

    static async Task<JsonObject> ViewAsync(HttpContext http, CellDb cells, ServerGroup g, CancellationToken ct)
    {
        var v = Microversion.Of(http);
        var uuids = g.Members.Select(m => m.InstanceUuid).ToList();
        var alive = await cells.Instances.Where(i => uuids.Contains(i.Uuid) && !i.Deleted).Select(i => i.Uuid).ToListAsync(ct);
        var o = new JsonObject { ["id"] = g.Uuid, ["name"] = g.Name };
        if (v.AtLeast(64))
        {
            o["policy"] = g.Policy;
            o["rules"] = JsonNode.Parse(g.RulesJson);
        }
        else
        {
            o["policies"] = new JsonArray(g.Policy);
            o["metadata"] = new JsonObject();
        }
        o["members"] = new JsonArray([.. uuids.Where(alive.Contains).Select(u => (JsonNode)u)]);
        if (v.AtLeast(13))
        {
            o["project_id"] = g.ProjectId;
            o["user_id"] = g.UserId;
        }
        return o;
    }

    static async Task<ServerGroup> FindAsync(HttpContext http, ApiDb db, string id, CancellationToken ct)
    {
        var caller = http.Caller();
        var g = await db.ServerGroups.Include(x => x.Members).FirstOrDefaultAsync(x => x.Uuid == id, ct);
        if (g is null || (!caller.IsAdmin && g.ProjectId != caller.ProjectId)) throw OpenStackError.NotFound($"Instance group {id} could not be found.");
        return g;
    }

    static async Task<IResult> List(HttpContext http, ApiDb db, CellDb cells, CancellationToken ct)
    {
        var caller = http.Caller();
        IQueryable<ServerGroup> query = db.ServerGroups.Include(x => x.Members);
        if (!(caller.IsAdmin && http.Request.Query.ContainsKey("all_projects"))) query = query.Where(g => g.ProjectId == caller.ProjectId);
        var all = await query.OrderBy(g => g.Id).ToListAsync(ct);
        var list = new JsonArray();
        foreach (var g in Paging.Limited(all, http.Request.Query)) list.Add(await ViewAsync(http, cells, g, ct));
        return new JsonResponse(new JsonObject { ["server_groups"] = list });
    }

    static async Task<IResult> Show(string id, HttpContext http, ApiDb db, CellDb cells, CancellationToken ct) =>
        new JsonResponse(new JsonObject { ["server_group"] = await ViewAsync(http, cells, await FindAsync(http, db, id, ct), ct) });

    static async Task<IResult> Delete(string id, HttpContext http, ApiDb db, CancellationToken ct)
    {
        db.ServerGroups.Remove(await FindAsync(http, db, id, ct));
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    static async Task<IResult> Create(HttpContext http, ApiDb db, CellDb cells, CancellationToken ct)
    {
        var caller = http.Caller();
        var v = Microversion.Of(http);
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("server_group");
        var name = ServerFields.ServerName(body);
        string policy;
        var rules = new JsonObject();
        if (v.AtLeast(64))
        {
            body.Only("server_group", "name", "policy", "rules");
            policy = body.OptionalString("policy") ?? throw NovaBody.Invalid("server_group", body, "'policy' is a required property");
            if (!Policies.Contains(policy)) throw NovaBody.Invalid("policy", body["policy"], "is not one of ['anti-affinity', 'affinity', 'soft-anti-affinity', 'soft-affinity']");
            if (body["rules"] is JsonObject r && r.Count > 0)
            {
                if (policy != "anti-affinity") throw OpenStackError.BadRequest("Only anti-affinity policy supports rules.");
                r.Only("rules", "max_server_per_host");
                if (r["max_server_per_host"] is not JsonValue m || !int.TryParse(m.ToString(), out var max) || max < 1)
                    throw NovaBody.Invalid("rules/max_server_per_host", r["max_server_per_host"], "is less than the minimum of 1");
                rules = (JsonObject)r.DeepClone();
            }
        }
        else
        {
            body.Only("server_group", "name", "policies");
            var allowed = v.AtLeast(15) ? Policies : Policies[..2];
            if (body["policies"] is not JsonArray { Count: 1 } list || list[0] is not JsonValue p || !allowed.Contains((string?)p))
                throw NovaBody.Invalid("policies", body["policies"], "is not valid under any of the given schemas");
            policy = (string)p!;
        }
        var limits = await Quotas.LimitsAsync(db, caller.ProjectId!, ct);
        if (limits["server_groups"] >= 0 && await db.ServerGroups.CountAsync(g => g.ProjectId == caller.ProjectId, ct) >= limits["server_groups"])
            throw OpenStackError.Forbidden("Quota exceeded, too many server groups.");
        var group = new ServerGroup
        {
            Uuid = Guid.NewGuid().ToString(), Name = name, ProjectId = caller.ProjectId!, UserId = caller.UserId, Policy = policy,
            RulesJson = rules.ToJsonString(), CreatedAt = DateTime.UtcNow,
        };
        db.ServerGroups.Add(group);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["server_group"] = await ViewAsync(http, cells, group, ct) });
    }

    /// <summary>The group a new server joins (<c>os:scheduler_hints.group</c>), checked against its quota of members.</summary>
    public static async Task<ServerGroup?> FromHintsAsync(ApiDb db, JsonObject request, Caller caller, CancellationToken ct)
    {
        var hints = request["os:scheduler_hints"] ?? request["OS-SCH-HNT:scheduler_hints"];
        if (hints is null) return null;
        if (hints is not JsonObject h) throw NovaBody.Invalid("os:scheduler_hints", hints, "is not of type 'object'");
        if (h["group"] is not { } g) return null;
        var id = g.GetValueKind() == System.Text.Json.JsonValueKind.String ? (string)g! : throw NovaBody.Invalid("os:scheduler_hints/group", g, "is not a 'uuid'");
        if (!Guid.TryParse(id, out _)) throw NovaBody.Invalid("os:scheduler_hints/group", g, "is not a 'uuid'");
        var group = await db.ServerGroups.Include(x => x.Members).FirstOrDefaultAsync(x => x.Uuid == id, ct);
        if (group is null || (!caller.IsAdmin && group.ProjectId != caller.ProjectId)) throw OpenStackError.BadRequest($"Invalid server group {id}: it could not be found.");
        return group;
    }

    public static async Task<List<string>> GroupsOfAsync(ApiDb db, string instanceUuid, CancellationToken ct) =>
        await db.ServerGroupMembers.Where(m => m.InstanceUuid == instanceUuid)
            .Join(db.ServerGroups, m => m.GroupId, g => g.Id, (m, g) => g.Uuid).ToListAsync(ct);
}
