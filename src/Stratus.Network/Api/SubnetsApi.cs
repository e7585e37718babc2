using Microsoft.Extensions.DependencyInjection;
using Stratus.Network.Ipam;
using Stratus.Network.Policy;

namespace Stratus.Network.Api;

/// <summary><c>/v2.0/subnets</c>: IPv4 and IPv6 subnets of a network, their pools, gateway, DNS servers, host routes and DHCP.</summary>
static class SubnetsApi
{
    public static readonly Collection Subnets = new("subnet", "subnets", Standard.Attributes(
        ("network_id", Access.Post), ("ip_version", Access.Post), ("cidr", Access.Post), ("gateway_ip", Access.Both),
        ("allocation_pools", Access.Both), ("dns_nameservers", Access.Both), ("host_routes", Access.Both), ("enable_dhcp", Access.Both),
        ("ipv6_ra_mode", Access.Post), ("ipv6_address_mode", Access.Post), ("subnetpool_id", Access.Post), ("prefixlen", Access.Post),
        ("use_default_subnetpool", Access.Post), ("segment_id", Access.Both), ("service_types", Access.Both), ("dns_publish_fixed_ip", Access.Both)));

    static readonly string[] Ipv6Modes = ["slaac", "dhcpv6-stateful", "dhcpv6-stateless"];
    const int MaxDnsNameservers = 5;
    const int MaxHostRoutes = 20;

    public static IEndpointRouteBuilder MapSubnets(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v2.0/subnets", ListAsync);
        app.MapGet("/v2.0/subnets/{id}", ShowAsync);
        app.MapPost("/v2.0/subnets", CreateAsync);
        app.MapPut("/v2.0/subnets/{id}", UpdateAsync);
        app.MapDelete("/v2.0/subnets/{id}", DeleteAsync);
        return app;
    }

    public static JsonObject View(SubnetRow s, IReadOnlyDictionary<string, List<string>> tags)
    {
        var v = new JsonObject
        {
            ["id"] = s.Id, ["name"] = s.Name, ["network_id"] = s.NetworkId, ["ip_version"] = s.IpVersion, ["subnetpool_id"] = s.SubnetPoolId,
            ["enable_dhcp"] = s.EnableDhcp, ["ipv6_ra_mode"] = s.Ipv6RaMode, ["ipv6_address_mode"] = s.Ipv6AddressMode,
            ["gateway_ip"] = s.GatewayIp, ["cidr"] = s.Cidr, ["allocation_pools"] = Standard.Parse(s.AllocationPools),
            ["host_routes"] = Standard.Parse(s.HostRoutes), ["dns_nameservers"] = Standard.Parse(s.DnsNameservers),
            ["service_types"] = Standard.Parse(s.ServiceTypes), ["segment_id"] = s.SegmentId, ["dns_publish_fixed_ip"] = s.DnsPublishFixedIp,
        };
        Standard.Write(v, s, tags);
        return v;
    }

    static JsonObject Shown(HttpContext http, SubnetRow s, NetworkRow? n, IReadOnlyDictionary<string, List<string>> tags)
    {
        var v = View(s, tags);
        return NeutronPolicy.Visible(http, "subnet", v, NeutronPolicy.Target(v, n));
    }

    static async Task<IResult> ListAsync(HttpContext http, NetworkDb db, CancellationToken ct)
    {
        var caller = http.Caller();
        var networks = await NetworksApi.Visible(db, caller).AsNoTracking().ToDictionaryAsync(n => n.Id, ct);
        var ids = networks.Keys.ToList();
        var rows = caller.IsAdmin
            ? await db.Subnets.AsNoTracking().OrderBy(s => s.CreatedAt).ThenBy(s => s.Id).ToListAsync(ct)
            : await db.Subnets.AsNoTracking().Where(s => s.ProjectId == caller.ProjectId || ids.Contains(s.NetworkId)).OrderBy(s => s.CreatedAt).ThenBy(s => s.Id).ToListAsync(ct);
        var tags = await Tags.OfAsync(db, rows.Select(r => r.Id).ToList(), ct);
        var views = rows.Where(s => NeutronPolicy.CanSee(http, "subnet", NeutronPolicy.Target(View(s, tags), networks.GetValueOrDefault(s.NetworkId))))
            .Select(s => View(s, tags));
        return Subnets.List(http, views, v => NeutronPolicy.Visible(http, "subnet", v, NeutronPolicy.Target(v, networks.GetValueOrDefault((string)v["network_id"]!))));
    }

    public static async Task<(SubnetRow Subnet, NetworkRow Network)> FindAsync(HttpContext http, NetworkDb db, string id, CancellationToken ct)
    {
        var s = await db.Subnets.FindAsync([id], ct) ?? throw NeutronErrors.NotFound("Subnet", id);
        var n = (await db.Networks.FindAsync([s.NetworkId], ct))!;
        if (!NeutronPolicy.CanSee(http, "subnet", NeutronPolicy.Target(View(s, new Dictionary<string, List<string>>()), n)))
            throw NeutronErrors.NotFound("Subnet", id);
        return (s, n);
    }

    static async Task<IResult> ShowAsync(string id, HttpContext http, NetworkDb db, CancellationToken ct)
    {
        var (s, n) = await FindAsync(http, db, id, ct);
        return Subnets.Show(http, Shown(http, s, n, await Tags.OfAsync(db, [s.Id], ct)));
    }

    static async Task<IResult> CreateAsync(HttpContext http, NetworkStore store, TimeProvider time, CancellationToken ct)
    {
        var caller = http.Caller();
        var (items, bulk) = await Subnets.ReadCreateAsync(http.Request, ct);
        var now = time.GetUtcNow().UtcDateTime;
        var created = new List<(SubnetRow Subnet, NetworkRow Network)>();
        foreach (var body in items)
        {
            var networkId = Standard.Text(body, "network_id") ?? throw NeutronErrors.BadRequest("Failed to parse request. Required attribute 'network_id' not specified");
            var network = await NetworksApi.FindAsync(http, store, networkId, ct);
            var project = Standard.ProjectOf(body, caller);
            var target = NeutronPolicy.Target(body, network);
            target["project_id"] = target["tenant_id"] = project;
            NeutronPolicy.Enforce(http, "create", "subnet", body, target);
            var version = Standard.Int(body, "ip_version") ?? throw NeutronErrors.BadRequest("Failed to parse request. Required attribute 'ip_version' not specified");
            if (version is not (4 or 6)) throw NeutronErrors.InvalidAttribute("ip_version", $"'{version}' is not in [4, 6]");
            var cidrText = Standard.Text(body, "cidr");
            // Subnet pools are EF Core's (the context only when a pool is named).
            var db = body.ContainsKey("subnetpool_id") || body.ContainsKey("use_default_subnetpool") ? http.RequestServices.GetRequiredService<NetworkDb>() : null;
            var pool = db is null ? null : await PoolOfAsync(http, db, body, version, ct);
            IpNetwork cidr;
            if (pool is not null) cidr = await SubnetPoolsApi.AllocateAsync(db!, pool, created.Select(c => c.Subnet), version, cidrText, Standard.Int(body, "prefixlen"), ct);
            else if (cidrText is null) throw NeutronErrors.InvalidInput("A cidr must be specified in the absence of a subnet pool");
            else if (!IpNetwork.TryParse(cidrText, out cidr, out var normalized))
                throw NeutronErrors.InvalidAttribute("cidr", normalized is null ? $"'{cidrText}' is not a valid IP subnet" : $"'{cidrText}' isn't a recognized IP subnet cidr, '{normalized}' is recommended");
            if (cidr.Version != version) throw NeutronErrors.InvalidInput($"Cidr {cidrText} does not match the IP version {version}");
            if (version == 4 && cidr.PrefixLength > 30 || version == 6 && cidr.PrefixLength > 126)
                throw NeutronErrors.InvalidInput($"Invalid CIDR {cidrText} for IP version {version}: the prefix is too small for any address");
            var ra = Standard.Text(body, "ipv6_ra_mode");
            var mode = Standard.Text(body, "ipv6_address_mode");
            ValidateIpv6Modes(version, cidr, ra, mode);
            var siblings = await store.SubnetsOfAsync(networkId, ct);
            foreach (var other in siblings.Concat(created.Where(c => c.Network.Id == networkId).Select(c => c.Subnet)))
                if (IpNetwork.TryParse(other.Cidr, out var o, out _) && o.Overlaps(cidr))
                    throw NeutronErrors.InvalidInput($"Requested subnet with cidr: {cidr} for network: {networkId} overlaps with another subnet");
            var s = new SubnetRow
            {
                Id = Guid.NewGuid().ToString(), ProjectId = project, NetworkId = networkId, Name = Standard.Text(body, "name") ?? "",
                Description = Standard.Text(body, "description") ?? "", IpVersion = version, Cidr = cidr.ToString(),
                EnableDhcp = Standard.Bool(body, "enable_dhcp") ?? true, Ipv6RaMode = ra, Ipv6AddressMode = mode,
                SegmentId = Standard.Text(body, "segment_id"), SubnetPoolId = pool?.Id, CreatedAt = now, UpdatedAt = now, RevisionNumber = 0,
                DnsPublishFixedIp = Standard.Bool(body, "dns_publish_fixed_ip") ?? false,
            };
            s.GatewayIp = body.ContainsKey("gateway_ip") ? Gateway(body, cidr) : Ip.Format(cidr.First + 1, version);
            var pools = body.ContainsKey("allocation_pools") && body["allocation_pools"] is not null
                ? Pools(body, cidr, s.GatewayIp)
                : DefaultPools(cidr, s.GatewayIp);
            s.AllocationPools = Standard.Json(PoolsJson(pools, version));
            s.DnsNameservers = Standard.Json(Nameservers(body, version));
            s.HostRoutes = Standard.Json(HostRoutes(body, version));
            s.ServiceTypes = Standard.Json(Standard.Array(body, "service_types") ?? []);
            Standard.Touch(network, now);
            created.Add((s, network));
        }
        await QuotasApi.EnforceAsync(http, store, created.Select(c => ("subnet", c.Subnet.ProjectId)), null, ct);
        await store.Sql.InTransactionAsync(async s =>
        {
            await NetworkStore.AddAsync(s, created.Select(c => c.Subnet));
            foreach (var (_, network) in created) await NetworkStore.TouchAsync(s, "networks", network.Id, now);
            return true;
        }, ct);
        var tags = new Dictionary<string, List<string>>();
        var views = created.Select(c => Shown(http, c.Subnet, c.Network, tags)).ToList();
        return bulk
            ? new JsonResponse(new JsonObject { ["subnets"] = new JsonArray([.. views]) }, 201)
            : Subnets.Show(http, views[0], 201);
    }

    /// <summary>The pool a subnet is carved from: <c>subnetpool_id</c>, or the default pool of its version with <c>use_default_subnetpool</c>.</summary>
    static async Task<SubnetPoolRow?> PoolOfAsync(HttpContext http, NetworkDb db, JsonObject body, int version, CancellationToken ct)
    {
        if (Standard.Text(body, "subnetpool_id") is { } id) return await SubnetPoolsApi.FindAsync(http, db, id, ct);
        if (Standard.Bool(body, "use_default_subnetpool") != true) return null;
        return await db.SubnetPools.FirstOrDefaultAsync(p => p.IsDefault && p.IpVersion == version, ct)
            ?? throw NeutronErrors.BadRequest($"No default subnetpool found for IPv{version}");
    }

    static void ValidateIpv6Modes(int version, IpNetwork cidr, string? ra, string? mode)
    {
        if (ra is not null && !Ipv6Modes.Contains(ra)) throw NeutronErrors.InvalidAttribute("ipv6_ra_mode", $"'{ra}' is not in {string.Join(", ", Ipv6Modes)}");
        if (mode is not null && !Ipv6Modes.Contains(mode)) throw NeutronErrors.InvalidAttribute("ipv6_address_mode", $"'{mode}' is not in {string.Join(", ", Ipv6Modes)}");
        if (version == 4 && (ra is not null || mode is not null))
            throw NeutronErrors.InvalidInput("ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False or ip_version is 4");
        if (ra is not null && mode is not null && ra != mode)
            throw NeutronErrors.InvalidInput($"ipv6_ra_mode set to '{ra}' with ipv6_address_mode set to '{mode}' is not valid. If both attributes are set, they must be the same value");
        if ((mode ?? ra) is "slaac" or "dhcpv6-stateless" && cidr.PrefixLength != 64)
            throw NeutronErrors.InvalidInput("Invalid CIDR " + cidr + " for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64");
    }

    static string? Gateway(JsonObject body, IpNetwork cidr)
    {
        var text = Standard.Text(body, "gateway_ip");
        if (text is null) return null;
        var ip = Ip.Normalize(text) ?? throw NeutronErrors.InvalidAttribute("gateway_ip", $"'{text}' is not a valid IP address");
        Ip.TryParse(ip, out var v, out var ver);
        if (ver != cidr.Version) throw NeutronErrors.InvalidInput($"Gateway ip {ip} is not of IP version {cidr.Version}");
        if (cidr.Version == 4 && (v == cidr.First || v == cidr.Last))
            throw NeutronErrors.InvalidInput($"Gateway is not valid on subnet: {ip} is the network or broadcast address of {cidr}");
        return ip;
    }

    /// <summary>Neutron's default pool: the subnet's addresses but the network, broadcast (IPv4) and gateway ones.</summary>
    static List<(UInt128 Start, UInt128 End)> DefaultPools(IpNetwork cidr, string? gateway)
    {
        var first = cidr.First + 1;
        var last = cidr.Version == 4 ? cidr.Last - 1 : cidr.Last;
        var pools = new List<(UInt128, UInt128)>();
        if (gateway is not null && Ip.TryParse(gateway, out var g, out _) && g >= first && g <= last)
        {
            if (g > first) pools.Add((first, g - 1));
            if (g < last) pools.Add((g + 1, last));
        }
        else pools.Add((first, last));
        return pools;
    }

    static List<(UInt128 Start, UInt128 End)> Pools(JsonObject body, IpNetwork cidr, string? gateway)
    {
        var pools = new List<(UInt128 Start, UInt128 End)>();
        foreach (var p in Standard.Array(body, "allocation_pools")!)
        {
            if (p is not JsonObject o || Ip.Normalize((string?)o["start"]) is not { } start || Ip.Normalize((string?)o["end"]) is not { } end)
                throw NeutronErrors.InvalidAttribute("allocation_pools", $"'{p?.ToJsonString()}' is not a valid allocation pool (start and end addresses)");
            Ip.TryParse(start, out var a, out var va);
            Ip.TryParse(end, out var b, out var vb);
            var text = $"{start}-{end}";
            if (va != cidr.Version || vb != cidr.Version || a > b)
                throw NeutronErrors.BadRequest($"The allocation pool {text} is not valid.");
            if (!cidr.Contains(a) || !cidr.Contains(b) || cidr.Version == 4 && (a == cidr.First || b == cidr.Last))
                throw new OpenStackError(400, "OutOfBoundsAllocationPool", $"The allocation pool {text} spans beyond the subnet cidr {cidr}.");
            pools.Add((a, b));
        }
        var sorted = pools.OrderBy(p => p.Start).ToList();
        for (var i = 1; i < sorted.Count; i++)
            if (sorted[i].Start <= sorted[i - 1].End)
                throw new OpenStackError(400, "OverlappingAllocationPools",
                    $"Found overlapping allocation pools: {Ip.Format(sorted[i - 1].Start, cidr.Version)}-{Ip.Format(sorted[i - 1].End, cidr.Version)} and {Ip.Format(sorted[i].Start, cidr.Version)}-{Ip.Format(sorted[i].End, cidr.Version)} for subnet {cidr}.");
        if (gateway is not null && Ip.TryParse(gateway, out var g, out _))
            foreach (var (a, b) in pools)
                if (g >= a && g <= b)
                    throw new OpenStackError(409, "GatewayConflictWithAllocationPools",
                        $"Gateway ip {gateway} conflicts with allocation pool {Ip.Format(a, cidr.Version)}-{Ip.Format(b, cidr.Version)}.");
        return pools;
    }

    static JsonArray PoolsJson(List<(UInt128 Start, UInt128 End)> pools, int version) =>
        [.. pools.Select(p => (JsonNode)new JsonObject { ["start"] = Ip.Format(p.Start, version), ["end"] = Ip.Format(p.End, version) })];

    static JsonArray Nameservers(JsonObject body, int version)
    {
        var list = Standard.Array(body, "dns_nameservers") ?? [];
        if (list.Count > MaxDnsNameservers)
            throw new OpenStackError(400, "DNSNameServersExhausted", $"Unable to complete operation for {(string?)body["network_id"] ?? "subnet"}. The number of DNS nameservers exceeds the limit {MaxDnsNameservers}.");
        var seen = new HashSet<string>();
        var result = new JsonArray();
        foreach (var d in list)
        {
            var ip = Ip.Normalize(d is JsonValue v && v.TryGetValue<string>(out var s) ? s : null)
                ?? throw NeutronErrors.InvalidAttribute("dns_nameservers", $"'{d?.ToJsonString()}' is not a valid nameserver");
            if (!seen.Add(ip)) throw NeutronErrors.InvalidAttribute("dns_nameservers", $"Duplicate nameserver '{ip}'");
            if (Ip.TryParse(ip, out _, out var ver) && ver != version)
                throw NeutronErrors.InvalidInput($"Error parsing dns address {ip}");
            result.Add(ip);
        }
        return result;
    }

    static JsonArray HostRoutes(JsonObject body, int version)
    {
        var list = Standard.Array(body, "host_routes") ?? [];
        if (list.Count > MaxHostRoutes)
            throw new OpenStackError(400, "HostRoutesExhausted", $"Unable to complete operation for subnet. The number of host routes exceeds the limit {MaxHostRoutes}.");
        var result = new JsonArray();
        var seen = new HashSet<string>();
        foreach (var r in list)
        {
            if (r is not JsonObject o || !IpNetwork.TryParse((string?)o["destination"], out var dest, out var norm, strict: false) || Ip.Normalize((string?)o["nexthop"]) is not { } hop)
                throw NeutronErrors.InvalidAttribute("host_routes", $"'{r?.ToJsonString()}' is not a valid host route (destination and nexthop)");
            if (dest.Version != version || Ip.TryParse(hop, out _, out var hv) && hv != version)
                throw NeutronErrors.InvalidInput($"Invalid route: {r.ToJsonString()}: the route is not of IP version {version}");
            if (!seen.Add(norm + hop)) throw NeutronErrors.InvalidAttribute("host_routes", $"Duplicate hostroute '{r.ToJsonString()}'");
            result.Add(new JsonObject { ["destination"] = norm, ["nexthop"] = hop });
        }
        return result;
    }

    static async Task<IResult> UpdateAsync(string id, HttpContext http, NetworkDb db, TimeProvider time, CancellationToken ct)
    {
        var body = await Subnets.ReadUpdateAsync(http.Request, ct);
        var (s, n) = await FindAsync(http, db, id, ct);
        NeutronPolicy.Enforce(http, "update", "subnet", body, NeutronPolicy.Target(View(s, new Dictionary<string, List<string>>()), n));
        IpNetwork.TryParse(s.Cidr, out var cidr, out _);
        if (body.ContainsKey("name")) s.Name = Standard.Text(body, "name") ?? "";
        if (body.ContainsKey("description")) s.Description = Standard.Text(body, "description") ?? "";
        if (Standard.Bool(body, "enable_dhcp") is { } dhcp) s.EnableDhcp = dhcp;
        if (Standard.Bool(body, "dns_publish_fixed_ip") is { } publish) s.DnsPublishFixedIp = publish;
        if (body.ContainsKey("gateway_ip"))
        {
            var gw = Gateway(body, cidr);
            if (gw is not null && Ip.TryParse(gw, out var g, out _) && !body.ContainsKey("allocation_pools"))
                foreach (var p in Standard.Parse(s.AllocationPools)!.AsArray())
                    if (Ip.TryParse((string?)p!["start"], out var a, out _) && Ip.TryParse((string?)p["end"], out var b, out _) && g >= a && g <= b)
                        throw new OpenStackError(409, "GatewayConflictWithAllocationPools", $"Gateway ip {gw} conflicts with allocation pool {p["start"]}-{p["end"]}.");
            if (gw is not null && await db.IpAllocations.AnyAsync(a => a.SubnetId == id && a.IpAddress == gw, ct))
                throw NeutronErrors.Conflict("IpAddressInUse", $"Unable to complete operation for network {s.NetworkId}. The IP address {gw} is in use.");
            s.GatewayIp = gw;
        }
        if (body.ContainsKey("allocation_pools"))
        {
            var pools = Pools(body, cidr, s.GatewayIp);
            s.AllocationPools = Standard.Json(PoolsJson(pools, s.IpVersion));
        }
        if (body.ContainsKey("dns_nameservers")) s.DnsNameservers = Standard.Json(Nameservers(body, s.IpVersion));
        if (body.ContainsKey("host_routes")) s.HostRoutes = Standard.Json(HostRoutes(body, s.IpVersion));
        if (body.ContainsKey("service_types")) s.ServiceTypes = Standard.Json(Standard.Array(body, "service_types") ?? []);
        if (body.ContainsKey("segment_id")) s.SegmentId = Standard.Text(body, "segment_id");
        Standard.Touch(s, time.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync(ct);
        return Subnets.Show(http, Shown(http, s, n, await Tags.OfAsync(db, [s.Id], ct)));
    }

    static async Task<IResult> DeleteAsync(string id, HttpContext http, NetworkDb db, TimeProvider time, CancellationToken ct)
    {
        var (s, n) = await FindAsync(http, db, id, ct);
        NeutronPolicy.Enforce(http, "delete_subnet", NeutronPolicy.Target(View(s, new Dictionary<string, List<string>>()), n));
        // Addresses of DHCP ports go with the subnet, and so do the addresses ports made themselves (SLAAC);
        // any other port's address keeps it in use.
        var allocations = await db.IpAllocations.Where(a => a.SubnetId == id).ToListAsync(ct);
        var portIds = allocations.Select(a => a.PortId).Distinct().ToList();
        var owners = await db.Ports.Where(p => portIds.Contains(p.Id)).ToDictionaryAsync(p => p.Id, p => p.DeviceOwner, ct);
        if (!AddressAllocator.IsAutoAddress(s) && allocations.Any(a => owners.GetValueOrDefault(a.PortId) != "network:dhcp"))
            throw NeutronErrors.InUse("Subnet", id, "One or more ports have an IP allocation from this subnet.");
        db.IpAllocations.RemoveRange(allocations);
        await Tags.RemoveAsync(db, id, ct);
        db.Subnets.Remove(s);
        Standard.Touch(n, time.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }
}
