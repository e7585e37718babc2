using System.Globalization;
using Stratus.Core.Services;
using Stratus.Network.Agents;
using Stratus.Network.Policy;

namespace Stratus.Network.Api;

/// <summary>
/// <c>/v2.0/agents</c> (the agent and agent-resources-synced extensions): the agents as their reports made
/// them, alive while their last report is within agent_down_time; an admin may disable, describe or
/// delete one (a live agent's next report brings it back). <c>/v2.0/availability_zones</c>: the zones
/// of the DHCP agents (for networks) and L3 agents (for routers).
/// </summary>
static class AgentsApi
{
    public static readonly Collection Agents = new("agent", "agents", new Dictionary<string, Access>(StringComparer.Ordinal)
    {
        ["id"] = Access.None, ["agent_type"] = Access.None, ["binary"] = Access.None, ["topic"] = Access.None, ["host"] = Access.None,
        ["admin_state_up"] = Access.Put, ["created_at"] = Access.None, ["started_at"] = Access.None, ["heartbeat_timestamp"] = Access.None,
        ["alive"] = Access.None, ["configurations"] = Access.None, ["description"] = Access.Put, ["availability_zone"] = Access.None,
        ["resources_synced"] = Access.None,
    });

    public static readonly Collection Zones = new("availability_zone", "availability_zones", new Dictionary<string, Access>(StringComparer.Ordinal)
    {
        ["name"] = Access.None, ["resource"] = Access.None, ["state"] = Access.None,
    });

    public static IEndpointRouteBuilder MapAgents(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v2.0/agents", ListAsync);
        app.MapGet("/v2.0/agents/{id}", ShowAsync);
        app.MapPut("/v2.0/agents/{id}", UpdateAsync);
        app.MapDelete("/v2.0/agents/{id}", DeleteAsync);
        app.MapGet("/v2.0/availability_zones", ZonesAsync);
        return app;
    }

    /// <summary>Neutron's agent times: the database's datetime as Python prints it, to the second.</summary>
    static string Time(DateTime t) => t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    public static JsonObject View(AgentRow a, ServiceGroup group) => new()
    {
        ["id"] = a.Id, ["agent_type"] = a.AgentType, ["binary"] = a.Binary, ["topic"] = a.Topic, ["host"] = a.Host,
        ["admin_state_up"] = a.AdminStateUp, ["created_at"] = Time(a.CreatedAt), ["started_at"] = Time(a.StartedAt),
        ["heartbeat_timestamp"] = Time(a.HeartbeatTimestamp), ["alive"] = group.IsUp(new AgentMember(a)),
        ["configurations"] = JsonNode.Parse(a.Configurations) as JsonObject ?? [],
        // Agents register with no description; the row keeps "" for none.
        ["description"] = a.Description.Length == 0 ? null : a.Description,
        ["availability_zone"] = a.AvailabilityZone,
        // Set only once an agent's resources are synced to placement, which needs resource_provider_* reports no Stratus agent makes.
        ["resources_synced"] = null,
    };

    /// <summary>What Neutron answers when the caller may not see the agent it names: no hint that it exists.</summary>
    static OpenStackError Hidden() => new(404, "HTTPNotFound", "The resource could not be found.");

    static async Task<IResult> ListAsync(HttpContext http, NetworkDb db, ServiceGroup group, CancellationToken ct)
    {
        http.Caller();
        var rows = await db.Agents.AsNoTracking().ToListAsync(ct);
        var views = rows.OrderBy(a => a.CreatedAt).ThenBy(a => a.Id, StringComparer.Ordinal)
            .Select(a => View(a, group))
            .Where(v => NeutronPolicy.CanSee(http, "agent", NeutronPolicy.Target(v)));
        return Agents.List(http, views);
    }

    static async Task<AgentRow> FindAsync(NetworkDb db, string id, CancellationToken ct) =>
        await db.Agents.FindAsync([id], ct) ?? throw NeutronErrors.NotFound("Agent", id);

    static async Task<IResult> ShowAsync(string id, HttpContext http, NetworkDb db, ServiceGroup group, CancellationToken ct)
    {
        http.Caller();
        var view = View(await FindAsync(db, id, ct), group);
        if (!NeutronPolicy.CanSee(http, "agent", NeutronPolicy.Target(view))) throw Hidden();
        return Agents.Show(http, view);
    }

    /// <summary>An action the caller may not take: 404 when it may not see the agent either, else 403.</summary>
    static void Enforce(HttpContext http, Action enforce, IReadOnlyDictionary<string, string?> target)
    {
        try
        {
            enforce();
        }
        catch (OpenStackError e) when (e.Code == 403 && !NeutronPolicy.CanSee(http, "agent", target))
        {
            throw Hidden();
        }
    }

    static async Task<IResult> UpdateAsync(string id, HttpContext http, NetworkDb db, ServiceGroup group, CancellationToken ct)
    {
        var body = await Agents.ReadUpdateAsync(http.Request, ct);
        if (body.TryGetPropertyValue("admin_state_up", out var upNode) && upNode is null)
            throw NeutronErrors.InvalidAttribute("admin_state_up", "'None' cannot be converted to boolean");
        var up = Standard.Bool(body, "admin_state_up");
        var description = Standard.Text(body, "description");
        var agent = await FindAsync(db, id, ct);
        var target = NeutronPolicy.Target(View(agent, group));
        Enforce(http, () => NeutronPolicy.Enforce(http, "update", "agent", body, target), target);
        if (up is { } u) agent.AdminStateUp = u;
        if (body.ContainsKey("description")) agent.Description = description ?? "";
        await db.SaveChangesAsync(ct);
        return Agents.Show(http, View(agent, group));
    }

    static async Task<IResult> DeleteAsync(string id, HttpContext http, NetworkDb db, ServiceGroup group, CancellationToken ct)
    {
        http.Caller();
        if (http.Request.ContentLength > 0) throw NeutronErrors.BadRequest("Request body is not supported in DELETE.");
        var agent = await FindAsync(db, id, ct);
        var target = NeutronPolicy.Target(View(agent, group));
        Enforce(http, () => NeutronPolicy.Enforce(http, "delete_agent", target), target);
        // Its routers are hosted nowhere until they change or another agent starts (Neutron's bindings cascade).
        db.RouterL3AgentBindings.RemoveRange(await db.RouterL3AgentBindings.Where(b => b.L3AgentId == id).ToListAsync(ct));
        db.Agents.Remove(agent);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    /// <summary>
    /// Neutron's zones of agents: one per zone and resource (DHCP agents: network, L3 agents: router),
    /// available while one of its agents is admin-up, whether or not it is alive (as Neutron Zed has it).
    /// </summary>
    static async Task<IResult> ZonesAsync(HttpContext http, NetworkDb db, CancellationToken ct)
    {
        var caller = http.Caller();
        var agents = await db.Agents.AsNoTracking()
            .Where(a => (a.AgentType == DhcpAgent.Type || a.AgentType == L3Agent.Type) && a.AvailabilityZone != null && a.AvailabilityZone != "")
            .ToListAsync(ct);
        // The target's tenant is the caller's, as Neutron's (zones have no owner).
        var target = new Dictionary<string, string?>(StringComparer.Ordinal) { ["tenant_id"] = caller.ProjectId, ["project_id"] = caller.ProjectId };
        var views = agents
            .GroupBy(a => (Name: a.AvailabilityZone!, Resource: a.AgentType == DhcpAgent.Type ? "network" : "router"))
            .OrderBy(g => g.Key.Name, StringComparer.Ordinal).ThenBy(g => g.Key.Resource, StringComparer.Ordinal)
            .Select(g => new JsonObject
            {
                ["name"] = g.Key.Name, ["resource"] = g.Key.Resource, ["state"] = g.Any(a => a.AdminStateUp) ? "available" : "unavailable",
            })
            .Where(_ => NeutronPolicy.CanSee(http, "availability_zone", target));
        return Zones.List(http, views);
    }
}
