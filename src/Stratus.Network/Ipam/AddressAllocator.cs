namespace Stratus.Network.Ipam;

/// <summary>
/// Picks addresses for a port's fixed IPs: the asked-for one if the subnet holds it and it is free, else
/// a free one of the subnet's pools (at random among the lowest thousand, so concurrent creates seldom pick
/// the same one), or the EUI-64 address of the port's MAC on a SLAAC subnet. The database's key on
/// (subnet, address) is the guarantee that no address is handed out twice: a create that loses the race
/// is retried by the caller with fresh addresses.
/// </summary>
static class AddressAllocator
{
    // As Neutron's IPAM driver (MAX_WIN): the wider the window, the rarer two concurrent creates pick one address and one is redone.
    const int Window = 1000;

    public static bool IsAutoAddress(SubnetRow s) => s.IpVersion == 6 && (s.Ipv6AddressMode ?? s.Ipv6RaMode) is "slaac" or "dhcpv6-stateless";

    public static List<(UInt128 Start, UInt128 End)> Pools(SubnetRow s) =>
        [.. (JsonNode.Parse(s.AllocationPools) as JsonArray ?? []).OfType<JsonObject>()
            .Select(p => (Ip.TryParse((string?)p["start"], out var a, out _) ? a : 0, Ip.TryParse((string?)p["end"], out var b, out _) ? b : 0))];

    /// <summary>A free address of the subnet's pools, or null when they are exhausted.</summary>
    public static string? Next(SubnetRow s, IReadOnlySet<string> used)
    {
        var free = new List<UInt128>(Window);
        foreach (var (start, end) in Pools(s))
        {
            for (var a = start; a <= end && free.Count < Window; a++)
                if (!used.Contains(Ip.Format(a, s.IpVersion))) free.Add(a);
            if (free.Count == Window) break;
        }
        return free.Count == 0 ? null : Ip.Format(free[Random.Shared.Next(free.Count)], s.IpVersion);
    }

    public static string Eui64(SubnetRow s, string mac)
    {
        IpNetwork.TryParse(s.Cidr, out var cidr, out _);
        return Ip.Format(Ip.Eui64(cidr, mac), 6);
    }

    /// <summary>A MAC with the configured base's prefix (fa:16:3e by default) and random rest, as Neutron makes them.</summary>
    public static string NewMac(string baseMac)
    {
        var parts = baseMac.Split(':');
        // Not a secret, as Neutron's (Python's random): uniqueness is the database's; OpenSSL's generator would cost 4-5 MiB resident.
        var bytes = new byte[6];
        Random.Shared.NextBytes(bytes);
        for (var i = 0; i < 6; i++)
            if (i < parts.Length && parts[i] != "00") bytes[i] = Convert.ToByte(parts[i], 16);
        return string.Join(":", bytes.Select(b => b.ToString("x2")));
    }
}
