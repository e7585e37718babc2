using Stratus.Core.Services;
using Stratus.Network.Agents;
using Stratus.Network.Policy;

namespace Stratus.Network.Api;

/// <summary>
/// Neutron's L3 agent scheduler for legacy routers (LeastRoutersScheduler with zone hints): a router is
/// hosted by one alive, admin-up L3 agent in legacy or dvr_snat mode, the one with the fewest routers.
/// Routers are scheduled when they change (an interface, a gateway, an update) and, when an agent starts,
/// every router no agent hosts goes to it (auto_schedule_routers).
/// </summary>
sealed class L3Scheduler(ServiceGroup group)
{
    static readonly string[] HostingModes = ["legacy", "dvr_snat"];

    static JsonObject Configurations(AgentRow a) => JsonNode.Parse(a.Configurations) as JsonObject ?? [];

    static string ModeOf(AgentRow a) => (string?)Configurations(a)["agent_mode"] ?? "legacy";

    /// <summary>
    /// Neutron's get_l3_agent_candidates for one router: the agent's mode and whether it handles routers without
    /// a gateway; the zone scheduler's hints too, unless an admin places the router by hand.
    /// </summary>
    public static bool CanHost(AgentRow agent, RouterRow router, bool zoneHints = true)
    {
        if (agent.AgentType != L3Agent.Type || !HostingModes.Contains(ModeOf(agent))) return false;
        if (router.GatewayPortId is null && (bool?)Configurations(agent)["handle_internal_only_routers"] == false) return false;
        if (!zoneHints) return true;
        var hints = Standard.Parse(router.AvailabilityZoneHints)?.AsArray().Select(h => (string?)h).ToList() ?? [];
        return hints.Count == 0 || hints.Contains(agent.AvailabilityZone);
    }

    public bool IsAlive(AgentRow agent) => group.IsUp(new AgentMember(agent));

    /// <summary>The router bound to the least busy candidate, when no agent hosts it yet (added to the context, saved by the caller).</summary>
    public async Task ScheduleAsync(NetworkDb db, RouterRow router, CancellationToken ct)
    {
        if (router.Distributed || router.Ha) return;
        if (await db.RouterL3AgentBindings.AnyAsync(b => b.RouterId == router.Id, ct)
            || db.RouterL3AgentBindings.Local.Any(b => b.RouterId == router.Id)) return;
        var agents = await db.Agents.AsNoTracking().Where(a => a.AgentType == L3Agent.Type && a.AdminStateUp).ToListAsync(ct);
        var candidates = agents.Where(a => IsAlive(a) && CanHost(a, router)).ToList();
        if (candidates.Count == 0) return;
        var ids = candidates.Select(a => a.Id).ToList();
        var load = (await db.RouterL3AgentBindings.AsNoTracking().Where(b => ids.Contains(b.L3AgentId)).ToListAsync(ct))
            .GroupBy(b => b.L3AgentId).ToDictionary(g => g.Key, g => g.Count());
        var chosen = candidates.OrderBy(a => load.GetValueOrDefault(a.Id)).ThenBy(a => a.Id, StringComparer.Ordinal).First();
        db.RouterL3AgentBindings.Add(new RouterL3AgentBinding { RouterId = router.Id, L3AgentId = chosen.Id });
    }

    /// <summary>auto_schedule_routers: every router no agent hosts that this agent can host, bound to it (each saved; one another server bound meanwhile is left to it).</summary>
    public async Task AutoScheduleAsync(NetworkDb db, AgentRow agent, CancellationToken ct)
    {
        if (!agent.AdminStateUp || !HostingModes.Contains(ModeOf(agent))) return;
        var hosted = db.RouterL3AgentBindings.Select(b => b.RouterId);
        var unhosted = await db.Routers.AsNoTracking().Where(r => !hosted.Contains(r.Id) && !r.Distributed && !r.Ha).ToListAsync(ct);
        foreach (var router in unhosted.Where(r => CanHost(agent, r)))
        {
            db.RouterL3AgentBindings.Add(new RouterL3AgentBinding { RouterId = router.Id, L3AgentId = agent.Id });
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException)
            {
                db.ChangeTracker.Clear();
            }
        }
    }
}

/// <summary>
/// The l3_agent_scheduler extension's resources: <c>/v2.0/agents/{id}/l3-routers</c> (the routers an L3
/// agent hosts; an admin adds or removes one) and <c>/v2.0/routers/{id}/l3-agents</c> (the agents hosting a router).
/// </summary>
static class L3AgentSchedulerApi
{
    public static IEndpointRouteBuilder MapL3AgentScheduler(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v2.0/agents/{id}/l3-routers", ListRoutersAsync);
        app.MapPost("/v2.0/agents/{id}/l3-routers", AddRouterAsync);
        app.MapDelete("/v2.0/agents/{id}/l3-routers/{routerId}", RemoveRouterAsync);
        app.MapGet("/v2.0/routers/{id}/l3-agents", ListAgentsAsync);
        return app;
    }

    static readonly Dictionary<string, string?> NoTarget = [];

    static async Task<AgentRow> AgentAsync(NetworkDb db, string id, CancellationToken ct) =>
        await db.Agents.FindAsync([id], ct) ?? throw NeutronErrors.NotFound("Agent", id);

    static async Task<IResult> ListRoutersAsync(string id, HttpContext http, NetworkDb db, CancellationToken ct)
    {
        NeutronPolicy.Enforce(http, "get_l3-routers", NoTarget);
        await AgentAsync(db, id, ct);
        var routerIds = db.RouterL3AgentBindings.Where(b => b.L3AgentId == id).Select(b => b.RouterId);
        var rows = await db.Routers.AsNoTracking().Where(r => routerIds.Contains(r.Id)).OrderBy(r => r.CreatedAt).ThenBy(r => r.Id).ToListAsync(ct);
        return new JsonResponse(new JsonObject { ["routers"] = new JsonArray([.. await RoutersApi.ViewsAsync(db, rows, ct)]) });
    }

    /// <summary>Neutron answers the action's None as JSON: the clients parse the body.</summary>
    static JsonResponse Added() => JsonResponse.FromBytes("null"u8.ToArray(), 201);

    /// <summary>Neutron's add_router_to_l3_agent: an L3 agent that can host the router; none if it already does, 409 if another one does.</summary>
    static async Task<IResult> AddRouterAsync(string id, HttpContext http, NetworkDb db, CancellationToken ct)
    {
        NeutronPolicy.Enforce(http, "create_l3-router", NoTarget);
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var routerId = Standard.Text(body, "router_id") ?? throw NeutronErrors.BadRequest("Failed to parse request. Required attribute 'router_id' not specified");
        var router = await db.Routers.FindAsync([routerId], ct) ?? throw new OpenStackError(404, "RouterNotFound", $"Router {routerId} could not be found");
        var agent = await AgentAsync(db, id, ct);
        if (agent.AgentType != L3Agent.Type || !agent.AdminStateUp || !L3Scheduler.CanHost(agent, router, zoneHints: false))
            throw new OpenStackError(404, "InvalidL3Agent", $"Agent {id} is not a L3 Agent or has been disabled");
        var bound = await db.RouterL3AgentBindings.AsNoTracking().Where(b => b.RouterId == routerId).ToListAsync(ct);
        if (bound.Any(b => b.L3AgentId == id)) return Added();
        if (bound.Count > 0)
            throw NeutronErrors.Conflict("RouterHostedByL3Agent", $"The router {routerId} has been already hosted by the L3 Agent {bound[0].L3AgentId}.");
        db.RouterL3AgentBindings.Add(new RouterL3AgentBinding { RouterId = routerId, L3AgentId = id });
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            throw NeutronErrors.Conflict("RouterSchedulingFailed", $"Failed scheduling router {routerId} to the L3 Agent {id}.");
        }
        return Added();
    }

    /// <summary>Neutron's remove_router_from_l3_agent: the router is hosted nowhere until it changes or an agent starts.</summary>
    static async Task<IResult> RemoveRouterAsync(string id, string routerId, HttpContext http, NetworkDb db, CancellationToken ct)
    {
        NeutronPolicy.Enforce(http, "delete_l3-router", NoTarget);
        await AgentAsync(db, id, ct);
        db.RouterL3AgentBindings.RemoveRange(await db.RouterL3AgentBindings.Where(b => b.RouterId == routerId && b.L3AgentId == id).ToListAsync(ct));
        if (await db.Routers.FindAsync([routerId], ct) is null) throw new OpenStackError(404, "RouterNotFound", $"Router {routerId} could not be found");
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    static async Task<IResult> ListAgentsAsync(string id, HttpContext http, NetworkDb db, ServiceGroup group, CancellationToken ct)
    {
        NeutronPolicy.Enforce(http, "get_l3-agents", NoTarget);
        var agentIds = db.RouterL3AgentBindings.Where(b => b.RouterId == id).Select(b => b.L3AgentId);
        var agents = await db.Agents.AsNoTracking().Where(a => agentIds.Contains(a.Id)).ToListAsync(ct);
        return new JsonResponse(new JsonObject { ["agents"] = new JsonArray([.. agents.Select(a => (JsonNode)AgentsApi.View(a, group))]) });
    }
}
