using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stratus.Core.Messaging;
using Stratus.Network.Api;
using Stratus.Network.DataPlane;
using Stratus.Network.Ipam;

namespace Stratus.Network.Agents;

/// <summary>
/// The L3 agent's questions to neutron-server on <c>q-l3-plugin</c> (Neutron's L3RpcCallback). get_router_ids
/// schedules the routers no agent hosts to the asking agent (auto_schedule_routers) and names those it hosts;
/// the agent asks it when it starts or after a failure (a full sync).
/// </summary>
public sealed record GetRouterIds(string Host) : IRpcCall<List<string>>;

/// <summary>sync_routers: the agent's admin-up routers, their ports bound to its host first.</summary>
public sealed record SyncRouters(string Host) : IRpcCall<List<RouterNamespaces.Router>>;

/// <summary>update_floatingip_statuses: floating IP id to ACTIVE (applied) or DOWN (removed).</summary>
public sealed record UpdateFloatingipStatuses(string RouterId, Dictionary<string, string> FipStatuses) : IRpcCall;

/// <summary>Neutron's answer to an agent the server has no report of (yet): the agent retries its full sync.</summary>
public sealed class AgentNotFoundByTypeHost(string type, string host) : Exception($"Agent with agent_type={type} and host={host} could not be found");

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GetRouterIds))]
[JsonSerializable(typeof(SyncRouters))]
[JsonSerializable(typeof(UpdateFloatingipStatuses))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(List<RouterNamespaces.Router>))]
sealed partial class L3RpcJson : JsonSerializerContext;

/// <summary>The L3 agent's client of <c>q-l3-plugin</c>.</summary>
public sealed class L3PluginApi(IMessageBus bus) : RpcClient(bus, AgentTopics.L3Plugin, L3RpcJson.Default, TimeSpan.FromSeconds(60));

/// <summary>neutron-server's side of <c>q-l3-plugin</c>.</summary>
sealed class L3PluginRpc(IMessageBus bus, IServiceScopeFactory scopes, L3Scheduler scheduler, PortBinding binding, TimeProvider time, NetworkOptions options,
    ILogger<L3PluginRpc> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        var rpc = new RpcDispatcher(NetworkOptions.Server, L3RpcJson.Default)
            .On<GetRouterIds, List<string>>(async (m, ct) =>
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<NetworkDb>();
                var agent = await AgentAsync(db, m.Host, ct);
                await scheduler.AutoScheduleAsync(db, agent, ct);
                return await db.RouterL3AgentBindings.AsNoTracking().Where(b => b.L3AgentId == agent.Id).Select(b => b.RouterId).ToListAsync(ct);
            })
            .On<SyncRouters, List<RouterNamespaces.Router>>(async (m, ct) =>
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<NetworkDb>();
                return await L3Routers.SyncAsync(db, binding, await AgentAsync(db, m.Host, ct), time.GetUtcNow().UtcDateTime, ct);
            })
            .On<UpdateFloatingipStatuses>(async (m, ct) =>
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<NetworkDb>();
                var ids = m.FipStatuses.Keys.ToList();
                var now = time.GetUtcNow().UtcDateTime;
                foreach (var f in await db.FloatingIps.Where(f => ids.Contains(f.Id)).ToListAsync(ct))
                {
                    if (f.Status == m.FipStatuses[f.Id]) continue;
                    log.LogDebug("New status for floating IP {Id}: {Status}", f.Id, m.FipStatuses[f.Id]);
                    f.Status = m.FipStatuses[f.Id];
                    Standard.Touch(f, now);
                }
                await db.SaveChangesAsync(ct);
            });
        await using var serving = await bus.ServeAsync(AgentTopics.L3Plugin, options.Host, rpc.DispatchAsync, stop);
        try
        {
            await Task.Delay(Timeout.Infinite, stop);
        }
        catch (OperationCanceledException)
        {
        }
    }

    static async Task<AgentRow> AgentAsync(NetworkDb db, string host, CancellationToken ct) =>
        await db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.AgentType == L3Agent.Type && a.Host == host, ct)
            ?? throw new AgentNotFoundByTypeHost(L3Agent.Type, host);
}

/// <summary>neutron-server's answer to sync_routers (Neutron's list_active_sync_routers_on_active_l3_agent and get_sync_data).</summary>
static class L3Routers
{
    /// <summary>
    /// The admin-up routers bound to the agent (none while the agent is disabled), with their interfaces,
    /// gateway, routes and associated floating IPs. Their ports are bound to the agent's host first
    /// (_ensure_host_set_on_ports), so that the host's Linux bridge agent wires their taps.
    /// </summary>
    public static async Task<List<RouterNamespaces.Router>> SyncAsync(NetworkDb db, PortBinding binding, AgentRow agent, DateTime now, CancellationToken ct)
    {
        if (!agent.AdminStateUp) return [];
        var bound = db.RouterL3AgentBindings.Where(b => b.L3AgentId == agent.Id).Select(b => b.RouterId);
        var routers = await db.Routers.AsNoTracking().Where(r => bound.Contains(r.Id) && r.AdminStateUp).OrderBy(r => r.Id).ToListAsync(ct);
        var ids = routers.Select(r => r.Id).ToList();
        var ports = await db.Ports.Where(p => ids.Contains(p.DeviceId) && (p.DeviceOwner == PortsApi.RouterInterface || p.DeviceOwner == PortsApi.RouterGateway))
            .OrderBy(p => p.CreatedAt).ThenBy(p => p.Id).ToListAsync(ct);
        var networkIds = ports.Select(p => p.NetworkId).Distinct().ToList();
        var networks = await db.Networks.AsNoTracking().Where(n => networkIds.Contains(n.Id)).ToDictionaryAsync(n => n.Id, ct);
        foreach (var port in ports)
        {
            // A binding that failed (the host's Linux bridge agent not up yet) is tried again once it would succeed.
            var rebind = port.HostId != agent.Host || port.VifType == "unbound"
                || port.VifType == "binding_failed" && await binding.WhyUnboundAsync(agent.Host, networks[port.NetworkId], ct) is null;
            if (!rebind) continue;
            port.HostId = agent.Host;
            await binding.BindPortAsync(port, networks[port.NetworkId], ct);
            Standard.Touch(port, now);
        }
        await db.SaveChangesAsync(ct);

        var portIds = ports.Select(p => p.Id).ToList();
        var ips = (await db.IpAllocations.AsNoTracking().Where(a => portIds.Contains(a.PortId)).ToListAsync(ct)).ToLookup(a => a.PortId);
        var subnets = await db.Subnets.AsNoTracking().Where(s => networkIds.Contains(s.NetworkId)).ToListAsync(ct);
        var fips = (await db.FloatingIps.AsNoTracking().Where(f => f.RouterId != null && ids.Contains(f.RouterId) && f.FixedIpAddress != null)
            .OrderBy(f => f.Id).ToListAsync(ct)).ToLookup(f => f.RouterId!);
        RouterNamespaces.Port Of(PortRow p) => new(p.Id, p.NetworkId, p.MacAddress, networks[p.NetworkId].Mtu,
            [.. ips[p.Id].OrderBy(a => a.IpAddress.Contains(':')).ThenBy(a => a.IpAddress, StringComparer.Ordinal)
                .Select(a => new RouterNamespaces.FixedIp(a.SubnetId, a.IpAddress, PrefixLength(subnets.Single(s => s.Id == a.SubnetId))))],
            // A gateway carries the subnets of its whole network (Neutron's extra_subnets); an interface those it is on.
            [.. subnets.Where(s => p.DeviceOwner == PortsApi.RouterGateway ? s.NetworkId == p.NetworkId : ips[p.Id].Any(a => a.SubnetId == s.Id))
                .OrderBy(s => s.Id, StringComparer.Ordinal).Select(s => new RouterNamespaces.Subnet(s.Id, s.Cidr, s.GatewayIp))]);
        return [.. routers.Select(r => new RouterNamespaces.Router(r.Id, r.EnableSnat,
            ports.FirstOrDefault(p => p.DeviceId == r.Id && p.DeviceOwner == PortsApi.RouterGateway) is { } gw ? Of(gw) : null,
            [.. ports.Where(p => p.DeviceId == r.Id && p.DeviceOwner == PortsApi.RouterInterface).Select(Of)],
            [.. (Standard.Parse(r.Routes) as JsonArray ?? []).Select(x => new RouterNamespaces.Route((string)x!["destination"]!, (string)x["nexthop"]!))],
            [.. fips[r.Id].Select(f => new RouterNamespaces.FloatingIp(f.Id, f.FloatingIpAddress, f.FixedIpAddress!))]))];
    }

    static int PrefixLength(SubnetRow s) =>
        IpNetwork.TryParse(s.Cidr, out var net, out _, strict: false) ? net.PrefixLength : throw new InvalidOperationException($"subnet {s.Id} has an invalid cidr {s.Cidr}");
}
