using System.Text.RegularExpressions;
using Microsoft.Extensions.Primitives;
using Stratus.Network.Ipam;
using Stratus.Network.Policy;

namespace Stratus.Network.Api;

/// <summary>
/// <c>/v2.0/ports</c>: a port's MAC and fixed IPs (IPAM), its device, its binding to a host (ML2 with
/// linuxbridge), security groups, allowed address pairs and extra DHCP options.
/// </summary>
static partial class PortsApi
{
    public static readonly Collection Ports = new("port", "ports", Standard.Attributes(
        ("network_id", Access.Post), ("admin_state_up", Access.Both), ("mac_address", Access.Both), ("fixed_ips", Access.Both),
        ("device_id", Access.Both), ("device_owner", Access.Both), ("status", Access.None), ("security_groups", Access.Both),
        ("port_security_enabled", Access.Both), ("allowed_address_pairs", Access.Both), ("extra_dhcp_opts", Access.Both),
        ("binding:host_id", Access.Both), ("binding:vnic_type", Access.Both), ("binding:profile", Access.Both),
        ("binding:vif_type", Access.None), ("binding:vif_details", Access.None), ("propagate_uplink_status", Access.Both)));

    static readonly Dictionary<string, JsonNode?> Defaults = new()
    {
        ["admin_state_up"] = true, ["device_owner"] = "", ["device_id"] = "", ["binding:vnic_type"] = "normal", ["binding:host_id"] = "",
        ["binding:profile"] = new JsonObject(),
    };

    static readonly string[] VnicTypes = ["normal", "direct", "macvtap", "baremetal", "direct-physical", "virtio-forwarder", "smart-nic", "vdpa", "remote-managed"];
    const int Attempts = 10;

    [GeneratedRegex("^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$")]
    private static partial Regex MacPattern();

    public static IEndpointRouteBuilder MapPorts(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v2.0/ports", ListAsync);
        app.MapGet("/v2.0/ports/{id}", ShowAsync);
        app.MapPost("/v2.0/ports", CreateAsync);
        app.MapPut("/v2.0/ports/{id}", UpdateAsync);
        app.MapDelete("/v2.0/ports/{id}", DeleteAsync);
        return app;
    }

    public static JsonObject View(PortRow p, IEnumerable<IpAllocation> ips, IEnumerable<string> groups, IReadOnlyDictionary<string, List<string>> tags)
    {
        var v = new JsonObject
        {
            ["id"] = p.Id, ["name"] = p.Name, ["network_id"] = p.NetworkId, ["mac_address"] = p.MacAddress, ["admin_state_up"] = p.AdminStateUp,
            ["status"] = p.Status, ["device_id"] = p.DeviceId, ["device_owner"] = p.DeviceOwner,
            ["fixed_ips"] = new JsonArray([.. ips.Select(a => (JsonNode)new JsonObject { ["subnet_id"] = a.SubnetId, ["ip_address"] = a.IpAddress })]),
            ["allowed_address_pairs"] = Standard.Parse(p.AllowedAddressPairs), ["extra_dhcp_opts"] = Standard.Parse(p.ExtraDhcpOpts),
            ["security_groups"] = new JsonArray([.. groups.Select(g => (JsonNode)g)]), ["port_security_enabled"] = p.PortSecurityEnabled,
            ["binding:vnic_type"] = p.VnicType, ["binding:profile"] = Standard.Parse(p.Profile), ["binding:host_id"] = p.HostId,
            ["binding:vif_type"] = p.VifType, ["binding:vif_details"] = Standard.Parse(p.VifDetails),
            ["propagate_uplink_status"] = p.PropagateUplinkStatus,
        };
        Standard.Write(v, p, tags);
        return v;
    }

    /// <summary>A port's view: with its addresses (IPv4 first), security groups and tags.</summary>
    static async Task<JsonObject> ViewAsync(NetworkStore store, PortRow p, CancellationToken ct) =>
        View(p, (await store.AllocationsOfAsync(p.Id, ct)).OrderBy(a => a.IpAddress.Contains(':')), await store.GroupsOfAsync(p.Id, ct),
            await store.TagsOfAsync([p.Id], ct));

    static JsonObject Shown(HttpContext http, JsonObject view, NetworkRow? network) =>
        NeutronPolicy.Visible(http, "port", view, NeutronPolicy.Target(view, network));

    static async Task<IResult> ListAsync(HttpContext http, NetworkStore store, CancellationToken ct)
    {
        var filter = new NetworkStore.PortFilter(NetworkStore.VisibleTo(http.Caller()), Given(http.Request.Query["network_id"]), Given(http.Request.Query["device_id"]));
        var networks = await store.NetworksOfAsync(filter, ct);
        var tags = await store.TagsOfAsync(filter, ct);
        NetworkRow? NetworkOf(JsonObject v) => networks.GetValueOrDefault((string)v["network_id"]!);
        // Each port is read, shown and let go as the answer is written (the rows come with the answer, not before).
        async IAsyncEnumerable<JsonObject> Views()
        {
            await foreach (var (port, addresses, groups) in store.StreamPortsAsync(filter, ct))
            {
                var view = View(port, addresses.OrderBy(a => a.IpAddress.Contains(':')), groups, tags);
                if (NeutronPolicy.CanSee(http, "port", NeutronPolicy.Target(view, NetworkOf(view)))) yield return view;
            }
        }
        return await Ports.ListAsync(http, Views(), v => NeutronPolicy.Visible(http, "port", v, NeutronPolicy.Target(v, NetworkOf(v))));
    }

    static string[] Given(StringValues values) => [.. values.Where(v => v is not null).Select(v => v!)];

    /// <summary>The port and its network as the caller finds them; 404 when the caller may not see the port.</summary>
    public static async Task<(PortRow Port, NetworkRow Network)> FindAsync(HttpContext http, NetworkDb db, string id, CancellationToken ct)
    {
        var p = await db.Ports.FindAsync([id], ct) ?? throw NeutronErrors.NotFound("Port", id);
        return Seen(http, p, (await db.Networks.FindAsync([p.NetworkId], ct))!);
    }

    /// <summary>As above, read without EF Core.</summary>
    static async Task<(PortRow Port, NetworkRow Network)> FindAsync(HttpContext http, NetworkStore store, string id, CancellationToken ct)
    {
        var p = await store.PortAsync(id, ct) ?? throw NeutronErrors.NotFound("Port", id);
        return Seen(http, p, (await store.NetworkAsync(p.NetworkId, ct))!);
    }

    static (PortRow, NetworkRow) Seen(HttpContext http, PortRow p, NetworkRow n) =>
        NeutronPolicy.CanSee(http, "port", NeutronPolicy.Target(View(p, [], [], new Dictionary<string, List<string>>()), n))
            ? (p, n)
            : throw NeutronErrors.NotFound("Port", p.Id);

    static async Task<IResult> ShowAsync(string id, HttpContext http, NetworkStore store, CancellationToken ct)
    {
        var (p, n) = await FindAsync(http, store, id, ct);
        return Ports.Show(http, Shown(http, await ViewAsync(store, p, ct), n));
    }

    /// <summary>A port about to be made: its row, its addresses and its security groups.</summary>
    sealed record NewPort(PortRow Port, NetworkRow Network, List<IpAllocation> Addresses, List<string> Groups);

    static async Task<IResult> CreateAsync(HttpContext http, NetworkStore store, NetworkOptions options, PortBinding binding, TimeProvider time, CancellationToken ct)
    {
        var caller = http.Caller();
        var (items, bulk) = await Ports.ReadCreateAsync(http.Request, ct);
        for (var attempt = 1; ; attempt++)
        {
            var now = time.GetUtcNow().UtcDateTime;
            var created = new List<NewPort>();
            foreach (var body in items) created.Add(await NewPortAsync(http, store, options, binding, caller, body, created, now, ct));
            await QuotasApi.EnforceAsync(http, store, created.Select(c => ("port", c.Port.ProjectId)), null, ct);
            var rows = created.SelectMany(c => ((IEnumerable<object>)[c.Port]).Concat(c.Addresses)
                .Concat(c.Groups.Select(g => new PortSecurityGroup { PortId = c.Port.Id, SecurityGroupId = g })));
            // A concurrent create may take an address or MAC we picked: then pick again from what is free now.
            if (!await RacedSave.AddAsync(store, rows, attempt < Attempts, () => NeutronErrors.Conflict("IpAddressGenerationFailure", $"No more IP addresses available on network {created[0].Network.Id}."), ct)) continue;
            var shown = created.Select(c => Shown(http, View(c.Port, c.Addresses.OrderBy(a => a.IpAddress.Contains(':')), c.Groups, new Dictionary<string, List<string>>()), c.Network)).ToList();
            return bulk
                ? new JsonResponse(new JsonObject { ["ports"] = new JsonArray([.. shown]) }, 201)
                : Ports.Show(http, shown[0], 201);
        }
    }

    static async Task<NewPort> NewPortAsync(HttpContext http, NetworkStore store, NetworkOptions options, PortBinding binding, Caller caller,
        JsonObject body, List<NewPort> pending, DateTime now, CancellationToken ct)
    {
        var networkId = Standard.Text(body, "network_id") ?? throw NeutronErrors.BadRequest("Failed to parse request. Required attribute 'network_id' not specified");
        var network = await NetworksApi.FindAsync(http, store, networkId, ct);
        var project = Standard.ProjectOf(body, caller);
        var target = NeutronPolicy.Target(body, network);
        target["project_id"] = target["tenant_id"] = project;
        NeutronPolicy.Enforce(http, "create", "port", body, target, Defaults);
        var port = new PortRow
        {
            Id = Guid.NewGuid().ToString(), ProjectId = project, NetworkId = networkId, Name = Standard.Text(body, "name") ?? "",
            Description = Standard.Text(body, "description") ?? "", AdminStateUp = Standard.Bool(body, "admin_state_up") ?? true,
            DeviceId = Standard.Text(body, "device_id") ?? "", DeviceOwner = Standard.Text(body, "device_owner") ?? "",
            PortSecurityEnabled = Standard.Bool(body, "port_security_enabled") ?? network.PortSecurityEnabled,
            PropagateUplinkStatus = Standard.Bool(body, "propagate_uplink_status") ?? false,
            MacAddress = "", CreatedAt = now, UpdatedAt = now, RevisionNumber = 1,
        };
        port.MacAddress = await MacAsync(store, options, body, networkId, ct);
        SetBindingRequest(port, body);
        // Addresses other ports of a bulk request picked are taken too.
        var addresses = await AllocateAsync(store, port, network, Standard.Array(body, "fixed_ips"), [], pending.SelectMany(p => p.Addresses), ct);
        SetAddressPairs(port, body);
        port.ExtraDhcpOpts = Standard.Json(DhcpOptions(Standard.Array(body, "extra_dhcp_opts") ?? [], []));
        var groups = await GroupsAsync(store, port, body, isNew: true, now, ct) ?? [];
        await binding.BindPortAsync(port, network, ct);
        return new(port, network, addresses, groups);
    }

    static async Task<string> MacAsync(NetworkStore store, NetworkOptions options, JsonObject body, string networkId, CancellationToken ct)
    {
        if (Standard.Text(body, "mac_address") is { } given)
        {
            if (!MacPattern().IsMatch(given) || given.Replace('-', ':').ToLowerInvariant() is "00:00:00:00:00:00" or "ff:ff:ff:ff:ff:ff")
                throw NeutronErrors.InvalidAttribute("mac_address", $"'{given}' is not a valid MAC address");
            var mac = given.Replace('-', ':').ToLowerInvariant();
            if (await store.MacInUseAsync(networkId, mac, ct))
                throw NeutronErrors.Conflict("MacAddressInUse", $"Unable to complete operation for network {networkId}. The mac address {mac} is in use.");
            return mac;
        }
        return AddressAllocator.NewMac(options.BaseMac);
    }

    static void SetBindingRequest(PortRow port, JsonObject body)
    {
        if (body.ContainsKey("binding:host_id")) port.HostId = Standard.Text(body, "binding:host_id") ?? "";
        if (Standard.Text(body, "binding:vnic_type") is { } vnic)
        {
            if (!VnicTypes.Contains(vnic)) throw NeutronErrors.InvalidAttribute("binding:vnic_type", $"'{vnic}' is not in [{string.Join(", ", VnicTypes)}]");
            port.VnicType = vnic;
        }
        if (body.ContainsKey("binding:profile"))
            port.Profile = body["binding:profile"] switch
            {
                null => "{}",
                JsonObject o => o.ToJsonString(),
                var other => throw NeutronErrors.InvalidAttribute("binding:profile", $"'{other.ToJsonString()}' is not a dictionary"),
            };
    }

    /// <summary>
    /// The port's addresses in the context of an EF Core request (a router's or a DHCP port): picked as
    /// below, those dropped removed and those new added to <paramref name="db"/>.
    /// </summary>
    internal static async Task AllocateAsync(NetworkDb db, PortRow port, NetworkRow network, JsonArray? requested, List<IpAllocation> keep, CancellationToken ct)
    {
        var subnets = await db.Subnets.AsNoTracking().Where(s => s.NetworkId == network.Id).OrderBy(s => s.CreatedAt).ThenBy(s => s.Id).ToListAsync(ct);
        var result = await AllocateAsync(subnets, async subnetId => (await db.IpAllocations.AsNoTracking().Where(a => a.SubnetId == subnetId).Select(a => a.IpAddress).ToListAsync(ct)).ToHashSet(),
            subnetId => db.Subnets.AnyAsync(s => s.Id == subnetId, ct), port, network, requested, keep, ct);
        db.IpAllocations.RemoveRange(keep.Where(k => !result.Contains(k)));
        db.IpAllocations.AddRange(result.Where(r => !keep.Contains(r)));
    }

    /// <summary>As below, read without EF Core; <paramref name="taken"/> are the addresses other ports of the request picked.</summary>
    static async Task<List<IpAllocation>> AllocateAsync(NetworkStore store, PortRow port, NetworkRow network, JsonArray? requested, List<IpAllocation> keep,
        IEnumerable<IpAllocation> taken, CancellationToken ct) =>
        await AllocateAsync(await store.SubnetsOfAsync(network.Id, ct), async subnetId =>
        {
            var used = await store.AddressesInUseAsync(subnetId, ct);
            used.UnionWith(taken.Where(a => a.SubnetId == subnetId).Select(a => a.IpAddress));
            return used;
        }, subnetId => store.SubnetExistsAsync(subnetId, ct), port, network, requested, keep, ct);

    /// <summary>
    /// The port's fixed IPs: those asked for (by subnet, by address, or both), else one address of the
    /// network's first IPv4 subnet with room and of each IPv6 subnet (SLAAC ones from the MAC).
    /// <paramref name="keep"/> are addresses the port already holds that it keeps.
    /// </summary>
    static async Task<List<IpAllocation>> AllocateAsync(List<SubnetRow> subnets, Func<string, Task<HashSet<string>>> addressesInUseAsync,
        Func<string, Task<bool>> subnetExistsAsync, PortRow port, NetworkRow network, JsonArray? requested, List<IpAllocation> keep, CancellationToken ct)
    {
        var byId = subnets.ToDictionary(s => s.Id);
        // The addresses in use of each subnet, read at most once for this port: on a big subnet the read is most of a create.
        var inUse = new Dictionary<string, HashSet<string>>();
        async Task<HashSet<string>> UsedAsync(SubnetRow s) => inUse.TryGetValue(s.Id, out var u) ? u : inUse[s.Id] = await addressesInUseAsync(s.Id);
        var wanted = new List<(SubnetRow Subnet, string? Address)>();
        if (requested is null)
        {
            if (subnets.FirstOrDefault(s => s.IpVersion == 4) is { } v4 && subnets.Where(s => s.IpVersion == 4).ToList() is var all4)
                wanted.Add((all4.Count == 1 ? v4 : await FirstWithRoomAsync(all4, UsedAsync) ?? v4, null));
            foreach (var v6 in subnets.Where(s => s.IpVersion == 6 && (AddressAllocator.IsAutoAddress(s) || s.Ipv6AddressMode is not null)))
                wanted.Add((v6, null));
            if (!wanted.Any(w => w.Subnet.IpVersion == 6) && subnets.FirstOrDefault(s => s.IpVersion == 6) is { } plain6) wanted.Add((plain6, null));
        }
        else
        {
            if (requested.Count > 5)
                throw NeutronErrors.Conflict("InvalidInput", "Invalid input for operation: Exceeded maximum amount of fixed ips per port.");
            foreach (var r in requested)
            {
                if (r is not JsonObject o) throw NeutronErrors.InvalidAttribute("fixed_ips", $"'{r?.ToJsonString()}' is not a dictionary");
                foreach (var (k, _) in o)
                    if (k is not ("subnet_id" or "ip_address")) throw NeutronErrors.InvalidAttribute("fixed_ips", $"Unrecognized key '{k}' in fixed_ips");
                var subnetId = (string?)o["subnet_id"];
                var addressText = (string?)o["ip_address"];
                var address = addressText is null ? null : Ip.Normalize(addressText) ?? throw NeutronErrors.InvalidAttribute("fixed_ips", $"'{addressText}' is not a valid IP address");
                SubnetRow subnet;
                if (subnetId is not null)
                {
                    subnet = byId.GetValueOrDefault(subnetId) ?? (await subnetExistsAsync(subnetId)
                        ? throw NeutronErrors.InvalidInput($"Failed to create port on network {network.Id}, because fixed_ips included invalid subnet {subnetId}")
                        : throw NeutronErrors.NotFound("Subnet", subnetId));
                    if (address is not null && !(IpNetwork.TryParse(subnet.Cidr, out var c, out _) && c.Contains(address)))
                        throw new OpenStackError(400, "InvalidIpForSubnet", $"IP address {address} is not a valid IP for the specified subnet.");
                }
                else if (address is not null)
                {
                    subnet = subnets.FirstOrDefault(s => IpNetwork.TryParse(s.Cidr, out var c, out _) && c.Contains(address))
                        ?? throw new OpenStackError(400, "InvalidIpForNetwork", $"IP address {address} is not a valid IP for any of the subnets on the specified network.");
                }
                else throw NeutronErrors.InvalidInput("fixed_ips entry needs a subnet_id or an ip_address");
                wanted.Add((subnet, address));
            }
        }
        var result = new List<IpAllocation>();
        foreach (var (subnet, address) in wanted)
        {
            if (keep.FirstOrDefault(k => k.SubnetId == subnet.Id && (address is null || k.IpAddress == address)) is { } kept && !result.Contains(kept))
            {
                result.Add(kept);
                continue;
            }
            var used = new HashSet<string>(await UsedAsync(subnet));
            used.UnionWith(result.Where(r => r.SubnetId == subnet.Id).Select(r => r.IpAddress));
            string ip;
            if (address is not null)
            {
                if (used.Contains(address))
                    throw NeutronErrors.Conflict("IpAddressAlreadyAllocated", $"IP address {address} already allocated in subnet {subnet.Id}");
                ip = address;
            }
            else if (AddressAllocator.IsAutoAddress(subnet)) ip = AddressAllocator.Eui64(subnet, port.MacAddress);
            else
            {
                if (subnet.GatewayIp is not null) used.Add(subnet.GatewayIp);
                ip = AddressAllocator.Next(subnet, used)
                    ?? throw NeutronErrors.Conflict("IpAddressGenerationFailure", $"No more IP addresses available on network {network.Id}.");
            }
            result.Add(new IpAllocation { SubnetId = subnet.Id, IpAddress = ip, PortId = port.Id, NetworkId = network.Id });
        }
        return result;
    }

    static async Task<SubnetRow?> FirstWithRoomAsync(List<SubnetRow> subnets, Func<SubnetRow, Task<HashSet<string>>> usedAsync)
    {
        foreach (var s in subnets)
        {
            var used = new HashSet<string>(await usedAsync(s));
            if (s.GatewayIp is not null) used.Add(s.GatewayIp);
            if (AddressAllocator.Next(s, used) is not null) return s;
        }
        return null;
    }

    static void SetAddressPairs(PortRow port, JsonObject body)
    {
        if (!body.ContainsKey("allowed_address_pairs")) return;
        var pairs = Standard.Array(body, "allowed_address_pairs") ?? [];
        if (pairs.Count > 0 && !port.PortSecurityEnabled)
            throw NeutronErrors.Conflict("AddressPairAndPortSecurityRequired", "Port Security must be enabled in order to have allowed address pairs on a port.");
        var result = new JsonArray();
        var seen = new HashSet<string>();
        foreach (var p in pairs)
        {
            if (p is not JsonObject o || o["ip_address"] is null)
                throw NeutronErrors.InvalidAttribute("allowed_address_pairs", "AllowedAddressPair must contain ip_address");
            var ipText = (string?)o["ip_address"];
            if (!IpNetwork.TryParse(ipText, out _, out var norm, strict: false))
                throw NeutronErrors.InvalidAttribute("allowed_address_pairs", $"'{ipText}' is not a valid IP address or CIDR");
            var ip = ipText!.Contains('/') ? norm! : Ip.Normalize(ipText)!;
            var mac = (string?)o["mac_address"] ?? port.MacAddress;
            if (!MacPattern().IsMatch(mac)) throw NeutronErrors.InvalidAttribute("allowed_address_pairs", $"'{mac}' is not a valid MAC address");
            if (!seen.Add(ip + "|" + mac.ToLowerInvariant()))
                throw NeutronErrors.BadRequest("Request contains duplicate address pair: mac_address " + mac + " ip_address " + ip + ".");
            result.Add(new JsonObject { ["ip_address"] = ip, ["mac_address"] = mac.ToLowerInvariant() });
        }
        if (result.Count > 10) throw new OpenStackError(400, "AllowedAddressPairExhausted", "The number of allowed address pair exceeds the maximum 10.");
        port.AllowedAddressPairs = result.ToJsonString();
    }

    /// <summary>extra_dhcp_opts: added or replaced by (opt_name, ip_version); an option with a null value is removed.</summary>
    static JsonArray DhcpOptions(JsonArray given, JsonArray current)
    {
        var result = current.Select(o => o!.DeepClone().AsObject()).ToList();
        foreach (var item in given)
        {
            if (item is not JsonObject o || (string?)o["opt_name"] is not { Length: > 0 } name)
                throw NeutronErrors.InvalidAttribute("extra_dhcp_opts", $"'{item?.ToJsonString()}' is not a valid extra DHCP option (opt_name, opt_value)");
            var version = o["ip_version"] is null ? 4 : Standard.Int(o, "ip_version") ?? 4;
            if (version is not (4 or 6)) throw NeutronErrors.InvalidAttribute("extra_dhcp_opts", $"'{version}' is not in [4, 6]");
            result.RemoveAll(r => (string?)r["opt_name"] == name && ((int?)r["ip_version"] ?? 4) == version);
            if (o["opt_value"] is null) continue;
            result.Add(new JsonObject { ["opt_name"] = name, ["opt_value"] = (string?)o["opt_value"]?.ToString(), ["ip_version"] = version });
        }
        return [.. result];
    }

    /// <summary>The port's security groups as the body sets them (a new port gets its project's default group); null when unchanged.</summary>
    static async Task<List<string>?> GroupsAsync(NetworkStore store, PortRow port, JsonObject body, bool isNew, DateTime now, CancellationToken ct)
    {
        List<string> groups;
        if (body.ContainsKey("security_groups"))
        {
            groups = (Standard.Array(body, "security_groups") ?? []).Select(g => (string?)g ?? "").Distinct().ToList();
            foreach (var g in groups)
                if (!await store.SecurityGroupExistsAsync(g, ct))
                    throw new OpenStackError(404, "SecurityGroupNotFound", $"Security group {g} does not exist");
        }
        else if (isNew && port.PortSecurityEnabled && !port.DeviceOwner.StartsWith("network:", StringComparison.Ordinal))
            groups = [await DefaultGroup.EnsureAsync(store, port.ProjectId, now, ct)];
        else if (isNew) groups = [];
        else
        {
            if (!port.PortSecurityEnabled && (await store.GroupsOfAsync(port.Id, ct)).Count > 0)
                throw NeutronErrors.Conflict("PortSecurityPortHasSecurityGroup", "Port has security group associated. Cannot disable port security or ip address until security group is removed");
            return null;
        }
        if (groups.Count > 0 && !port.PortSecurityEnabled)
            throw NeutronErrors.BadRequest("Port security must be enabled and port must have an IP address in order to use security groups.");
        return groups;
    }

    static async Task<IResult> UpdateAsync(string id, HttpContext http, NetworkStore store, PortBinding binding, NetworkOptions options, TimeProvider time, CancellationToken ct)
    {
        var body = await Ports.ReadUpdateAsync(http.Request, ct);
        var (port, network) = await FindAsync(http, store, id, ct);
        NeutronPolicy.Enforce(http, "update", "port", body, NeutronPolicy.Target(await ViewAsync(store, port, ct), network));
        var now = time.GetUtcNow().UtcDateTime;
        if (body.ContainsKey("name")) port.Name = Standard.Text(body, "name") ?? "";
        if (body.ContainsKey("description")) port.Description = Standard.Text(body, "description") ?? "";
        if (Standard.Bool(body, "admin_state_up") is { } up) port.AdminStateUp = up;
        if (body.ContainsKey("device_id")) port.DeviceId = Standard.Text(body, "device_id") ?? "";
        if (body.ContainsKey("device_owner")) port.DeviceOwner = Standard.Text(body, "device_owner") ?? "";
        if (Standard.Bool(body, "propagate_uplink_status") is { } propagate) port.PropagateUplinkStatus = propagate;
        if (body.ContainsKey("mac_address"))
        {
            if (port.VifType is not ("unbound" or "binding_failed"))
                throw NeutronErrors.Conflict("PortBound", $"Unable to complete operation on port {id}, port is already bound, port type: {port.VifType}, old_mac {port.MacAddress}, new_mac {body["mac_address"]}.");
            port.MacAddress = await MacAsync(store, options, body, port.NetworkId, ct);
        }
        if (Standard.Bool(body, "port_security_enabled") is { } ps)
        {
            if (!ps && !body.ContainsKey("security_groups") && (await store.GroupsOfAsync(id, ct)).Count > 0)
                throw NeutronErrors.Conflict("PortSecurityPortHasSecurityGroup", "Port has security group associated. Cannot disable port security or ip address until security group is removed");
            if (!ps && port.AllowedAddressPairs != "[]" && !body.ContainsKey("allowed_address_pairs"))
                throw NeutronErrors.Conflict("AddressPairAndPortSecurityRequired", "Port Security must be enabled in order to have allowed address pairs on a port.");
            port.PortSecurityEnabled = ps;
        }
        List<IpAllocation>? current = null, addresses = null;
        if (body.ContainsKey("fixed_ips"))
        {
            current = await store.AllocationsOfAsync(id, ct);
            addresses = await AllocateAsync(store, port, network, Standard.Array(body, "fixed_ips") ?? [], current, [], ct);
        }
        SetAddressPairs(port, body);
        if (body.ContainsKey("extra_dhcp_opts"))
            port.ExtraDhcpOpts = Standard.Json(DhcpOptions(Standard.Array(body, "extra_dhcp_opts") ?? [], Standard.Parse(port.ExtraDhcpOpts) as JsonArray ?? []));
        var groups = await GroupsAsync(store, port, body, isNew: false, now, ct);
        var rebind = body.ContainsKey("binding:host_id") || body.ContainsKey("binding:profile") || body.ContainsKey("binding:vnic_type");
        SetBindingRequest(port, body);
        if (rebind) await binding.BindPortAsync(port, network, ct);
        Standard.Touch(port, now);
        try
        {
            await store.UpdatePortAsync(port, current is null ? null : (current.Where(c => !addresses!.Contains(c)), addresses!.Where(a => !current.Contains(a))), groups, ct);
        }
        catch (DbException e) when (SqlDatabase.IsDuplicate(e))
        {
            throw NeutronErrors.Conflict("IpAddressAlreadyAllocated", $"An address asked for port {id} was taken by another port meanwhile; try again.");
        }
        return Ports.Show(http, Shown(http, await ViewAsync(store, port, ct), network));
    }

    static async Task<IResult> DeleteAsync(string id, HttpContext http, NetworkStore store, Notifications.NovaNotifier nova, TimeProvider time, CancellationToken ct)
    {
        var (port, network) = await FindAsync(http, store, id, ct);
        NeutronPolicy.Enforce(http, "delete_port", NeutronPolicy.Target(View(port, [], [], new Dictionary<string, List<string>>()), network));
        if (port.DeviceOwner is "network:router_interface" or "network:router_gateway" or "network:floatingip")
            throw NeutronErrors.Conflict("ServicePortInUse", $"Port {id} cannot be deleted directly via the port API: has device owner {port.DeviceOwner}.");
        await store.DeletePortAsync(id, time.GetUtcNow().UtcDateTime, ct);
        // Nova hears of it after the fact; a slow or absent compute service does not hold up the delete.
        if (nova.ForDeletion(port) is { } deleted) _ = nova.SendAsync([deleted], CancellationToken.None);
        return Results.NoContent();
    }

    /// <summary>Removes a port with its addresses, group bindings and tags (saved by the caller, in one transaction).</summary>
    public static async Task RemoveAsync(NetworkDb db, PortRow port, CancellationToken ct)
    {
        db.IpAllocations.RemoveRange(await db.IpAllocations.Where(a => a.PortId == port.Id).ToListAsync(ct));
        db.PortSecurityGroups.RemoveRange(await db.PortSecurityGroups.Where(g => g.PortId == port.Id).ToListAsync(ct));
        await Tags.RemoveAsync(db, port.Id, ct);
        db.Ports.Remove(port);
    }
}
