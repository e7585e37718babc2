using Stratus.Core.Messaging;
using Stratus.Network.DataPlane;
using Stratus.Network.Ipam;
using Rule = Stratus.Network.DataPlane.PortFirewall.Rule;

namespace Stratus.Network.Agents;

/// <summary>
/// The L2 agent's question to neutron-server on <c>q-plugin</c> (Neutron's SecurityGroupServerRpcApi, RPC
/// 1.3): the security groups of its devices' ports, their rules, and the addresses of the remote groups'
/// members. Neutron also pushes changes to the agents (security_group_rule_updated and
/// security_group_member_updated on q-agent-notifier); Stratus' agent asks again on every polling pass
/// instead, and reapplies what changed.
/// </summary>
public sealed record SecurityGroupInfoForDevices(IReadOnlyList<string> Devices) : IRpcCall<PortFirewall.SecurityGroupInfo>;

/// <summary>neutron-server's answer, as Neutron's security_group_info_for_ports builds it.</summary>
static class SecurityGroupInfos
{
    public static async Task<PortFirewall.SecurityGroupInfo> ForAsync(NetworkDb db, IReadOnlyList<string> devices, CancellationToken ct)
    {
        // The network's own ports are trusted and not answered (neutron_lib's is_port_trusted).
        var ports = new Dictionary<string, (PortRow Row, string Device)>(StringComparer.Ordinal);
        foreach (var device in devices)
            if (await PluginRpc.PortOfAsync(db, device, ct) is { } p && !p.DeviceOwner.StartsWith("network:", StringComparison.Ordinal))
                ports[p.Id] = (p, device);
        var ids = ports.Keys.ToList();
        var bindings = await db.PortSecurityGroups.AsNoTracking().Where(b => ids.Contains(b.PortId)).ToListAsync(ct);
        var groupIds = bindings.Select(b => b.SecurityGroupId).Distinct().ToList();
        var stateful = await db.SecurityGroups.AsNoTracking().Where(g => groupIds.Contains(g.Id)).ToDictionaryAsync(g => g.Id, g => g.Stateful, ct);
        var rules = await db.SecurityGroupRules.AsNoTracking().Where(r => groupIds.Contains(r.SecurityGroupId))
            .OrderBy(r => r.CreatedAt).ThenBy(r => r.Id).ToListAsync(ct);
        var groups = groupIds.ToDictionary(g => g, g => (IReadOnlyList<Rule>)[.. rules.Where(r => r.SecurityGroupId == g)
            .Select(r => RuleOf(r, stateful.GetValueOrDefault(g, true))).Distinct()], StringComparer.Ordinal);

        // The remote groups' members: their ports' fixed IPs and allowed address pairs, by ethertype.
        var remote = rules.Where(r => r.RemoteGroupId is not null).Select(r => (Group: r.RemoteGroupId!, r.Ethertype)).Distinct().ToList();
        var remoteIds = remote.Select(r => r.Group).Distinct().ToList();
        var memberBindings = await db.PortSecurityGroups.AsNoTracking().Where(b => remoteIds.Contains(b.SecurityGroupId)).ToListAsync(ct);
        var memberIds = memberBindings.Select(m => m.PortId).Distinct().ToList();
        var allIds = memberIds.Concat(ids).Distinct().ToList();
        var fixedIps = (await db.IpAllocations.AsNoTracking().Where(a => allIds.Contains(a.PortId)).ToListAsync(ct)).ToLookup(a => a.PortId, a => a.IpAddress);
        var memberRows = await db.Ports.AsNoTracking().Where(p => memberIds.Contains(p.Id)).ToDictionaryAsync(p => p.Id, ct);
        var members = remoteIds.ToDictionary(g => g, g =>
        {
            var all = memberBindings.Where(m => m.SecurityGroupId == g && memberRows.ContainsKey(m.PortId))
                .SelectMany(m => fixedIps[m.PortId].Concat(AddressPairs(memberRows[m.PortId]).Select(a => a.Ip))).Distinct().Order(StringComparer.Ordinal).ToList();
            return (IReadOnlyDictionary<string, IReadOnlyList<string>>)remote.Where(r => r.Group == g).ToDictionary(r => r.Ethertype,
                r => (IReadOnlyList<string>)[.. all.Where(a => a.Contains(':') == (r.Ethertype == "IPv6"))], StringComparer.Ordinal);
        }, StringComparer.Ordinal);

        var answer = ports.Values.ToDictionary(p => p.Row.Id, p =>
        {
            var ips = fixedIps[p.Row.Id].ToList();
            return new PortFirewall.Port(p.Device, p.Row.Id, p.Row.NetworkId, p.Row.MacAddress)
            {
                FixedIps = ips,
                AllowedAddressPairs = [.. AddressPairs(p.Row).Select(a => new PortFirewall.AddressPair(a.Ip, a.Mac))],
                SecurityGroups = [.. bindings.Where(b => b.PortId == p.Row.Id).Select(b => b.SecurityGroupId)],
                SecurityGroupRules = ProviderRules(ips),
                PortSecurityEnabled = p.Row.PortSecurityEnabled,
                DeviceOwner = p.Row.DeviceOwner,
            };
        }, StringComparer.Ordinal);
        return new PortFirewall.SecurityGroupInfo(answer, groups, members);
    }

    /// <summary>The rule dict: remote_ip_prefix, normalized (host bits cleared), as the source (ingress) or destination (egress) prefix.</summary>
    static Rule RuleOf(SecurityGroupRuleRow r, bool stateful)
    {
        var prefix = IpNetwork.TryParse(r.RemoteIpPrefix, out _, out var normalized, strict: false) ? normalized : null;
        return new Rule(r.Direction, r.Ethertype)
        {
            Protocol = r.Protocol, PortRangeMin = r.PortRangeMin, PortRangeMax = r.PortRangeMax, RemoteGroupId = r.RemoteGroupId, Stateful = stateful,
            SourceIpPrefix = r.Direction == "ingress" ? prefix : null, DestIpPrefix = r.Direction == "egress" ? prefix : null,
        };
    }

    /// <summary>
    /// The provider rules every port gets (_apply_provider_rule): router advertisements in when it has an IPv6
    /// address, and DHCP answers only to its own addresses (and IPv4 broadcast, IPv6 link-local).
    /// </summary>
    static IReadOnlyList<Rule> ProviderRules(IReadOnlyList<string> fixedIps)
    {
        var rules = new List<Rule>();
        if (fixedIps.Any(ip => ip.Contains(':'))) rules.Add(new Rule("ingress", "IPv6") { Protocol = "ipv6-icmp", SourcePortRangeMin = 134 });
        foreach (var (v6, server, client) in new[] { (false, 67, 68), (true, 547, 546) })
        {
            var destinations = fixedIps.Where(ip => ip.Contains(':') == v6).Select(ip => ip + (v6 ? "/128" : "/32")).Append(v6 ? "fe80::/64" : "255.255.255.255/32");
            rules.AddRange(destinations.Select(d => new Rule("ingress", v6 ? "IPv6" : "IPv4")
            {
                Protocol = "udp", PortRangeMin = client, PortRangeMax = client, SourcePortRangeMin = server, SourcePortRangeMax = server, DestIpPrefix = d,
            }));
        }
        return rules;
    }

    static IEnumerable<(string Ip, string Mac)> AddressPairs(PortRow p) =>
        (JsonNode.Parse(p.AllowedAddressPairs) as JsonArray ?? []).OfType<JsonObject>()
            .Select(o => ((string?)o["ip_address"] ?? "", (string?)o["mac_address"] ?? p.MacAddress));
}
