using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Stratus.Core.Messaging;
using Stratus.Network.Ipam;

namespace Stratus.Network.Agents;

/// <summary>
/// The metadata agent's question to neutron-server on <c>q-plugin</c> (Neutron's MetadataPluginAPI
/// get_ports, with the filters its proxy handler uses): the ports with an address (or MAC) on some
/// networks, or a router's interface ports.
/// </summary>
public sealed record GetPorts : IRpcCall<List<MetadataPort>>
{
    public IReadOnlyList<string>? NetworkId { get; init; }
    public string? IpAddress { get; init; }
    public string? MacAddress { get; init; }
    public string? RouterId { get; init; }
}

/// <summary>What the proxy needs of a port: whose it is (device_id is the instance).</summary>
public sealed record MetadataPort(string Id, string NetworkId, string DeviceId, string TenantId);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GetPorts))]
[JsonSerializable(typeof(List<MetadataPort>))]
sealed partial class MetadataRpcJson : JsonSerializerContext;

/// <summary>The metadata agent's client of <c>q-plugin</c>.</summary>
public sealed class MetadataPluginApi(IMessageBus bus) : RpcClient(bus, AgentTopics.Plugin, MetadataRpcJson.Default, TimeSpan.FromSeconds(60));

/// <summary>neutron-server's answer to the metadata agent.</summary>
static class MetadataPorts
{
    static readonly string[] RouterInterfaceOwners = ["network:router_interface", "network:ha_router_replicated_interface", "network:router_interface_distributed"];

    public static async Task<List<MetadataPort>> ForAsync(NetworkDb db, GetPorts m, CancellationToken ct)
    {
        var ports = db.Ports.AsNoTracking();
        if (m.RouterId is { } router) ports = ports.Where(p => p.DeviceId == router && RouterInterfaceOwners.Contains(p.DeviceOwner));
        if (m.NetworkId is { Count: > 0 } networks) ports = ports.Where(p => networks.Contains(p.NetworkId));
        if (m.MacAddress is { } mac) ports = ports.Where(p => p.MacAddress == mac.ToLowerInvariant());
        else if (m.IpAddress is { } ip)
        {
            var address = Ip.Normalize(ip) ?? ip;
            var holders = db.IpAllocations.AsNoTracking().Where(a => a.IpAddress == address).Select(a => a.PortId);
            ports = ports.Where(p => holders.Contains(p.Id));
        }
        return await ports.Select(p => new MetadataPort(p.Id, p.NetworkId, p.DeviceId, p.ProjectId)).ToListAsync(ct);
    }
}
