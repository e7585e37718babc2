using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Stratus.Core.Messaging;
using Stratus.Network.Api;
using Stratus.Network.DataPlane;
using Stratus.Network.Ipam;

namespace Stratus.Network.Agents;

/// <summary>
/// The DHCP agent's question to neutron-server on <c>q-plugin</c> (Neutron's get_active_networks_info with
/// create_dhcp_port folded in): the networks with a DHCP-enabled subnet, each with its subnets, the agent's
/// own DHCP port (made and bound to the agent's host when missing) and the ports to serve.
/// </summary>
public sealed record GetActiveNetworksInfo(string Host) : IRpcCall<List<DhcpServers.Network>>;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GetActiveNetworksInfo))]
[JsonSerializable(typeof(List<DhcpServers.Network>))]
sealed partial class DhcpRpcJson : JsonSerializerContext;

/// <summary>The DHCP agent's client of <c>q-plugin</c>.</summary>
public sealed class DhcpPluginApi(IMessageBus bus) : RpcClient(bus, AgentTopics.Plugin, DhcpRpcJson.Default, TimeSpan.FromSeconds(60));

/// <summary>neutron-server's answer to the DHCP agent.</summary>
static class DhcpNetworks
{
    /// <summary>Neutron's DHCP port device_id: "dhcp" and a uuid of the agent's host, then the network.</summary>
    public static string DeviceId(string host, string networkId)
    {
        var hash = MD5.HashData(Encoding.UTF8.GetBytes(host));
        return $"dhcp{new Guid(hash)}-{networkId}";
    }

    public static async Task<List<DhcpServers.Network>> ForAsync(NetworkDb db, PortBinding binding, NetworkOptions options, string host, DateTime now, CancellationToken ct)
    {
        var subnets = await db.Subnets.AsNoTracking().ToListAsync(ct);
        var dhcpNetworks = subnets.Where(s => s.EnableDhcp).Select(s => s.NetworkId).Distinct().ToList();
        var result = new List<DhcpServers.Network>();
        foreach (var networkId in dhcpNetworks)
        {
            var network = await db.Networks.FindAsync([networkId], ct);
            if (network is null || !network.AdminStateUp) continue;
            var deviceId = DeviceId(host, networkId);
            var dhcpPort = await db.Ports.FirstOrDefaultAsync(p => p.NetworkId == networkId && p.DeviceOwner == "network:dhcp" && p.DeviceId == deviceId, ct);
            var wanted = subnets.Where(s => s.NetworkId == networkId && s.EnableDhcp).ToList();
            if (dhcpPort is null)
            {
                dhcpPort = new PortRow
                {
                    Id = Guid.NewGuid().ToString(), NetworkId = networkId, ProjectId = network.ProjectId, DeviceId = deviceId, DeviceOwner = "network:dhcp",
                    HostId = host, MacAddress = AddressAllocator.NewMac(options.BaseMac), CreatedAt = now, UpdatedAt = now, RevisionNumber = 1,
                };
                var fixedIps = new JsonArray([.. wanted.Where(s => !AddressAllocator.IsAutoAddress(s)).Select(s => (JsonNode)new JsonObject { ["subnet_id"] = s.Id })]);
                await PortsApi.AllocateAsync(db, dhcpPort, network, fixedIps, [], ct);
                await binding.BindPortAsync(dhcpPort, network, ct);
                db.Ports.Add(dhcpPort);
                await db.SaveChangesAsync(ct);
            }
            var ports = await db.Ports.AsNoTracking().Where(p => p.NetworkId == networkId).ToListAsync(ct);
            var ids = ports.Select(p => p.Id).ToList();
            var ips = (await db.IpAllocations.AsNoTracking().Where(a => a.NetworkId == networkId).ToListAsync(ct)).ToLookup(a => a.PortId);
            DhcpServers.Port Of(PortRow p) => new(p.Id, p.MacAddress, [.. ips[p.Id].Select(a => new DhcpServers.FixedIp(a.SubnetId, a.IpAddress))],
                [.. (JsonNode.Parse(p.ExtraDhcpOpts) as JsonArray ?? []).OfType<JsonObject>()
                    .Select(o => new DhcpServers.ExtraOption((string)o["opt_name"]!, (string?)o["opt_value"] ?? "", (int?)o["ip_version"] ?? 4))],
                p.DeviceOwner);
            result.Add(new DhcpServers.Network(networkId, network.Mtu,
                [.. subnets.Where(s => s.NetworkId == networkId).Select(s => new DhcpServers.Subnet(s.Id, s.Cidr, s.GatewayIp,
                    [.. (JsonNode.Parse(s.DnsNameservers) as JsonArray ?? []).Select(d => (string)d!)],
                    [.. (JsonNode.Parse(s.HostRoutes) as JsonArray ?? []).OfType<JsonObject>().Select(r => new DhcpServers.HostRoute((string)r["destination"]!, (string)r["nexthop"]!))],
                    s.EnableDhcp, s.Ipv6AddressMode, s.Ipv6RaMode))],
                Of(ports.Single(p => p.Id == dhcpPort.Id)),
                [.. ports.Where(p => p.Id != dhcpPort.Id && p.DeviceOwner is not ("network:dhcp" or "network:floatingip" or "network:router_ha_interface")).Select(Of)]));
        }
        return result;
    }
}
