namespace Stratus.Network.Api;

/// <summary>
/// ML2's type drivers: what a network's segment may be (flat on a listed physical network, vlan in a
/// configured range, vxlan with a VNI), the segment a project network is given from
/// <c>tenant_network_types</c>, and its MTU. A segment's uniqueness is the database's (one flat network
/// per physical network, a VLAN or VNI once), so two concurrent creates cannot both get it.
/// </summary>
sealed class Segments(NetworkOptions options)
{
    const int VxlanOverhead = 50;

    public sealed record Segment(string Type, string PhysicalNetwork, int? SegmentationId, int Mtu);

    Ml2Options Ml2 => options.Ml2;

    public int MaxMtu(string type) => type is "vxlan" or "geneve" or "gre" ? options.GlobalPhysnetMtu - VxlanOverhead : options.GlobalPhysnetMtu;

    /// <summary>The segment an admin asked for with provider:* attributes, validated as ML2 validates it.</summary>
    public Segment Requested(string type, string? physnet, int? segId)
    {
        if (!Ml2.TypeDrivers.Contains(type))
            throw NeutronErrors.InvalidInput($"network_type value '{type}' not supported");
        switch (type)
        {
            case "flat":
                if (physnet is null) throw NeutronErrors.InvalidInput("physical_network required for flat provider network");
                if (segId is not null) throw NeutronErrors.InvalidInput($"segmentation_id specified for flat provider network");
                if (!Ml2.FlatNetworks.Contains("*") && !Ml2.FlatNetworks.Contains(physnet))
                    throw NeutronErrors.InvalidInput($"physical_network '{physnet}' unknown for flat provider network");
                return new(type, physnet, 0, MaxMtu(type));
            case "vlan":
                if (physnet is null) throw NeutronErrors.InvalidInput("physical_network required for VLAN provider network");
                var ranges = Ml2.VlanRanges.Select(r => r.Split(':')[0]).ToHashSet();
                if (!ranges.Contains(physnet)) throw NeutronErrors.InvalidInput($"physical_network '{physnet}' unknown for VLAN provider network");
                if (segId is null) segId = 1;
                if (segId is < 1 or > 4094) throw NeutronErrors.InvalidInput($"segmentation_id out of range (1 through 4094)");
                return new(type, physnet, segId, MaxMtu(type));
            case "vxlan":
                if (physnet is not null) throw NeutronErrors.InvalidInput("provider:physical_network specified for VXLAN network");
                if (segId is < 1 or > 16_777_215) throw NeutronErrors.InvalidInput("segmentation_id out of range (1 through 16777215)");
                return new(type, "", segId, MaxMtu(type));
            case "local":
                if (physnet is not null || segId is not null) throw NeutronErrors.InvalidInput("provider:physical_network and segmentation_id specified for local network");
                return new(type, "", null, MaxMtu(type));
            default:
                throw NeutronErrors.InvalidInput($"network_type value '{type}' not supported");
        }
    }

    /// <summary>A vxlan segment given by an admin without a VNI, or a project network: a free VNI of the ranges.</summary>
    public async Task<Segment> AllocateAsync(NetworkStore store, string? type, IEnumerable<NetworkRow> pending, CancellationToken ct)
    {
        foreach (var t in type is null ? Ml2.TenantNetworkTypes : [type])
        {
            switch (t)
            {
                case "local":
                    return new("local", "", null, MaxMtu("local"));
                case "vxlan" when Ml2.TypeDrivers.Contains("vxlan"):
                    // Also the networks of this request not saved yet (a bulk create).
                    var used = (await store.VxlanIdsAsync(ct)).Concat(pending.Where(n => n.NetworkType == "vxlan").Select(n => n.SegmentationId)).ToHashSet();
                    if (FreeVni(used) is { } vni) return new("vxlan", "", vni, MaxMtu("vxlan"));
                    break;
            }
        }
        throw new OpenStackError(503, "NoNetworkAvailable", "Unable to create the network. No tenant network is available for allocation.");
    }

    /// <summary>
    /// A free VNI of the ranges, from a random place in them as Neutron picks among the unallocated ones: concurrent
    /// creates then rarely pick the same one (the database refuses the second, which picks again).
    /// </summary>
    int? FreeVni(HashSet<int?> used)
    {
        var ranges = Ml2.VniRanges.Select(r => (r.Min, Count: r.Max - r.Min + 1)).Where(r => r.Count > 0).ToList();
        var total = ranges.Sum(r => (long)r.Count);
        if (total == 0) return null;
        var start = Random.Shared.NextInt64(total);
        for (long i = 0; i < total; i++)
        {
            var index = (start + i) % total;
            foreach (var (min, count) in ranges)
            {
                if (index < count)
                {
                    var vni = min + (int)index;
                    if (!used.Contains(vni)) return vni;
                    break;
                }
                index -= count;
            }
        }
        return null;
    }

    /// <summary>The conflict a taken segment gets, in Neutron's words.</summary>
    public static OpenStackError InUse(Segment s) => s.Type switch
    {
        "flat" => NeutronErrors.Conflict("FlatNetworkInUse", $"Unable to create the flat network. Physical network {s.PhysicalNetwork} is in use."),
        "vlan" => NeutronErrors.Conflict("VlanIdInUse", $"Unable to create the network. The VLAN {s.SegmentationId} on physical network {s.PhysicalNetwork} is in use."),
        _ => NeutronErrors.Conflict("TunnelIdInUse", $"Unable to create the network. The tunnel ID {s.SegmentationId} is in use."),
    };
}
