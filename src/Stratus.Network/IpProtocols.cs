using System.Globalization;

namespace Stratus.Network;

/// <summary>neutron_lib's IP protocol names and numbers, which the API checks rules against and the firewall matches by.</summary>
public static class IpProtocols
{
    /// <summary>IP_PROTOCOL_MAP: the names a rule's protocol may be given by.</summary>
    public static readonly IReadOnlyDictionary<string, int> Numbers = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["ah"] = 51, ["dccp"] = 33, ["egp"] = 8, ["esp"] = 50, ["gre"] = 47, ["hopopt"] = 0, ["icmp"] = 1, ["igmp"] = 2, ["ip"] = 0,
        ["ipip"] = 4, ["ipv6-encap"] = 41, ["ipv6-frag"] = 44, ["ipv6-icmp"] = 58, ["icmpv6"] = 58, ["ipv6-nonxt"] = 59,
        ["ipv6-opts"] = 60, ["ipv6-route"] = 43, ["ospf"] = 89, ["pgm"] = 113, ["rsvp"] = 46, ["sctp"] = 132, ["tcp"] = 6,
        ["udp"] = 17, ["udplite"] = 136, ["vrrp"] = 112,
    };

    public const int Icmp = 1, Tcp = 6, Udp = 17, Icmpv6 = 58;

    /// <summary>SG_PORT_PROTO_NUMS: the protocols with ports (DCCP, SCTP, TCP, UDP, UDP-Lite).</summary>
    public static readonly IReadOnlyList<int> WithPorts = [33, 132, Tcp, Udp, 136];

    /// <summary>A rule's protocol as a number: a name of <see cref="Numbers"/> or a number; null when it is neither.</summary>
    public static int? NumberOf(string protocol) =>
        Numbers.TryGetValue(protocol.ToLowerInvariant(), out var n) ? n
            : int.TryParse(protocol, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i) && i is >= 0 and <= 255 ? i : null;
}
