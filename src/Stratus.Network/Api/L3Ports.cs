using Stratus.Network.Ipam;

namespace Stratus.Network.Api;

/// <summary>
/// The ports the L3 service makes and changes itself (router gateways and interfaces, floating IPs):
/// created as the service (no create_port policy, not through the port API's attribute checks), with
/// addresses from the same IPAM as any port.
/// </summary>
static partial class PortsApi
{
    public const string RouterInterface = "network:router_interface";
    public const string RouterGateway = "network:router_gateway";
    public const string FloatingIp = "network:floatingip";

    /// <summary>A new service port with its addresses (the ones asked for, else IPAM's), added to the context and not saved.</summary>
    public static async Task<PortRow> NewServicePortAsync(NetworkDb db, NetworkOptions options, NetworkRow network, string project,
        string deviceId, string deviceOwner, JsonArray? fixedIps, DateTime now, CancellationToken ct, string status = "DOWN")
    {
        var port = new PortRow
        {
            Id = Guid.NewGuid().ToString(), ProjectId = project, NetworkId = network.Id, DeviceId = deviceId, DeviceOwner = deviceOwner,
            MacAddress = AddressAllocator.NewMac(options.BaseMac), Status = status, PortSecurityEnabled = false,
            CreatedAt = now, UpdatedAt = now, RevisionNumber = 1,
        };
        await AllocateAsync(db, port, network, fixedIps, [], ct);
        db.Ports.Add(port);
        return port;
    }

    /// <summary>Replaces a service port's addresses with those asked for, keeping the ones it holds that are asked again.</summary>
    public static async Task ReallocateAsync(NetworkDb db, PortRow port, NetworkRow network, JsonArray fixedIps, CancellationToken ct)
    {
        var current = await db.IpAllocations.Where(a => a.PortId == port.Id).ToListAsync(ct);
        await AllocateAsync(db, port, network, fixedIps, current, ct);
    }
}
