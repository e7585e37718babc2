using Stratus.Network.Policy;

namespace Stratus.Network.Api;

/// <summary><c>/v2.0/networks</c>: networks with ML2's provider segments, shared and external flags, MTU and port security.</summary>
static class NetworksApi
{
    public static readonly Collection Networks = new("network", "networks", Standard.Attributes(
        ("admin_state_up", Access.Both), ("status", Access.None), ("subnets", Access.None), ("shared", Access.Both),
        ("router:external", Access.Both), ("is_default", Access.Both), ("mtu", Access.Both), ("port_security_enabled", Access.Both),
        ("provider:network_type", Access.Both), ("provider:physical_network", Access.Both), ("provider:segmentation_id", Access.Both),
        ("availability_zone_hints", Access.Post), ("availability_zones", Access.None), ("ipv4_address_scope", Access.None),
        ("ipv6_address_scope", Access.None), ("l2_adjacency", Access.None), ("dns_domain", Access.Both)));

    static readonly Dictionary<string, JsonNode?> Defaults = new()
    {
        ["shared"] = false, ["router:external"] = false, ["is_default"] = false, ["port_security_enabled"] = true, ["admin_state_up"] = true,
    };

    public static IEndpointRouteBuilder MapNetworks(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v2.0/networks", ListAsync);
        app.MapGet("/v2.0/networks/{id}", ShowAsync);
        app.MapPost("/v2.0/networks", CreateAsync);
        app.MapPut("/v2.0/networks/{id}", UpdateAsync);
        app.MapDelete("/v2.0/networks/{id}", DeleteAsync);
        return app;
    }

    public static JsonObject View(NetworkRow n, IEnumerable<string> subnets, IReadOnlyDictionary<string, List<string>> tags)
    {
        var v = new JsonObject
        {
            ["id"] = n.Id, ["name"] = n.Name, ["admin_state_up"] = n.AdminStateUp, ["status"] = n.Status,
            ["subnets"] = new JsonArray([.. subnets.Select(s => (JsonNode)s)]), ["shared"] = n.Shared,
            ["router:external"] = n.External, ["is_default"] = n.IsDefault, ["mtu"] = n.Mtu, ["port_security_enabled"] = n.PortSecurityEnabled,
            ["provider:network_type"] = n.NetworkType,
            ["provider:physical_network"] = n.PhysicalNetwork is { Length: > 0 } p ? p : null,
            ["provider:segmentation_id"] = n.NetworkType is "flat" or "local" ? null : n.SegmentationId,
            ["availability_zone_hints"] = Standard.Parse(n.AvailabilityZoneHints), ["availability_zones"] = new JsonArray(),
            ["ipv4_address_scope"] = null, ["ipv6_address_scope"] = null, ["l2_adjacency"] = true, ["dns_domain"] = n.DnsDomain ?? "",
        };
        Standard.Write(v, n, tags);
        return v;
    }

    /// <summary>The networks a caller may see: an admin's are all; others see their own, shared and external ones.</summary>
    public static IQueryable<NetworkRow> Visible(NetworkDb db, Caller caller) =>
        caller.IsAdmin ? db.Networks : db.Networks.Where(n => n.ProjectId == caller.ProjectId || n.Shared || n.External);

    /// <summary>The networks' views, each made when enumerated (a list writes and drops them one by one).</summary>
    static async Task<IEnumerable<JsonObject>> ViewsAsync(NetworkStore store, List<NetworkRow> rows, CancellationToken ct)
    {
        var ids = rows.Select(r => r.Id).ToList();
        var subnets = await store.SubnetIdsAsync(ids, ct);
        var tags = await store.TagsOfAsync(ids, ct);
        return rows.Select(r => View(r, subnets[r.Id], tags));
    }

    static async Task<IResult> ListAsync(HttpContext http, NetworkStore store, CancellationToken ct)
    {
        var rows = await store.NetworksAsync(NetworkStore.VisibleTo(http.Caller()), ct);
        var views = (await ViewsAsync(store, rows, ct)).Where(v => NeutronPolicy.CanSee(http, "network", NeutronPolicy.Target(v)));
        return Networks.List(http, views, v => NeutronPolicy.Visible(http, "network", v, NeutronPolicy.Target(v)));
    }

    /// <summary>The network as its owner or an admin finds it; 404 when the caller may not see it.</summary>
    public static async Task<NetworkRow> FindAsync(HttpContext http, NetworkDb db, string id, CancellationToken ct) =>
        Seen(http, await db.Networks.FindAsync([id], ct), id);

    /// <summary>As above, read without EF Core (the paths of <see cref="NetworkStore"/>).</summary>
    public static async Task<NetworkRow> FindAsync(HttpContext http, NetworkStore store, string id, CancellationToken ct) =>
        Seen(http, await store.NetworkAsync(id, ct), id);

    static NetworkRow Seen(HttpContext http, NetworkRow? n, string id) =>
        n is not null && NeutronPolicy.CanSee(http, "network", NeutronPolicy.Target(View(n, [], new Dictionary<string, List<string>>())))
            ? n
            : throw NeutronErrors.NotFound("Network", id);

    static async Task<IResult> ShowAsync(string id, HttpContext http, NetworkStore store, CancellationToken ct)
    {
        var n = await FindAsync(http, store, id, ct);
        var view = (await ViewsAsync(store, [n], ct)).Single();
        return Networks.Show(http, NeutronPolicy.Visible(http, "network", view, NeutronPolicy.Target(view)));
    }

    static async Task<IResult> CreateAsync(HttpContext http, NetworkStore store, Segments segments, TimeProvider time, CancellationToken ct)
    {
        var caller = http.Caller();
        var (items, bulk) = await Networks.ReadCreateAsync(http.Request, ct);
        for (var attempt = 1; ; attempt++)
        {
            var now = time.GetUtcNow().UtcDateTime;
            var created = new List<NetworkRow>();
            foreach (var body in items) created.Add(await NewNetworkAsync(http, store, segments, caller, body, created, now, ct));
            await QuotasApi.EnforceAsync(http, store, created.Select(n => ("network", n.ProjectId)), null, ct);
            // A concurrent create may take the segment we were given: then take the next free one (not when the admin named it).
            if (!await RacedSave.AddAsync(store, created, attempt < 5 && items.All(b => !b.ContainsKey("provider:segmentation_id")), () => NeutronErrors.Conflict("TunnelIdInUse", "Unable to create the network. The segment it was given is in use."), ct)) continue;
            var views = (await ViewsAsync(store, created, ct)).Select(v => NeutronPolicy.Visible(http, "network", v, NeutronPolicy.Target(v))).ToList();
            return bulk
                ? new JsonResponse(new JsonObject { ["networks"] = new JsonArray([.. views]) }, 201)
                : Networks.Show(http, views[0], 201);
        }
    }

    static async Task<NetworkRow> NewNetworkAsync(HttpContext http, NetworkStore store, Segments segments, Caller caller, JsonObject body,
        List<NetworkRow> pending, DateTime now, CancellationToken ct)
    {
        var project = Standard.ProjectOf(body, caller);
        var target = NeutronPolicy.Target(body);
        target["project_id"] = target["tenant_id"] = project;
        NeutronPolicy.Enforce(http, "create", "network", body, target, Defaults);
        var type = Standard.Text(body, "provider:network_type");
        var physnet = Standard.Text(body, "provider:physical_network");
        var segId = Standard.Int(body, "provider:segmentation_id");
        var segment = type is null
            ? physnet is not null || segId is not null
                ? throw NeutronErrors.InvalidInput("provider:network_type required")
                : await segments.AllocateAsync(store, null, pending, ct)
            : segments.Requested(type, physnet, segId);
        if (segment.Type == "vxlan" && segment.SegmentationId is null) segment = await segments.AllocateAsync(store, "vxlan", pending, ct);
        // A segment the admin named is checked here, with Neutron's words; one given from the ranges is kept unique by the database.
        if ((segId is not null || segment.Type == "flat") && segment.SegmentationId is { } taken
            && await store.SegmentTakenAsync(segment.Type, segment.PhysicalNetwork, taken, ct))
            throw Segments.InUse(segment);
        var mtu = Standard.Int(body, "mtu") ?? segment.Mtu;
        if (mtu > segment.Mtu) throw NeutronErrors.InvalidInput($"Requested MTU is too big, maximum is {segment.Mtu}");
        if (mtu < 68) throw NeutronErrors.InvalidAttribute("mtu", $"'{mtu}' is too small - must be at least '68'");
        var hints = Standard.Array(body, "availability_zone_hints") ?? [];
        foreach (var h in hints)
            if ((string?)h != "nova") throw new OpenStackError(404, "AvailabilityZoneNotFound", $"AvailabilityZone {h?.ToJsonString()} could not be found.");
        var n = new NetworkRow
        {
            Id = Guid.NewGuid().ToString(), ProjectId = project, Name = Standard.Text(body, "name") ?? "",
            Description = Standard.Text(body, "description", 255) ?? "", AdminStateUp = Standard.Bool(body, "admin_state_up") ?? true,
            Shared = Standard.Bool(body, "shared") ?? false, External = Standard.Bool(body, "router:external") ?? false,
            IsDefault = Standard.Bool(body, "is_default") ?? false, Mtu = mtu, NetworkType = segment.Type,
            PhysicalNetwork = segment.PhysicalNetwork, SegmentationId = segment.SegmentationId,
            PortSecurityEnabled = Standard.Bool(body, "port_security_enabled") ?? true,
            AvailabilityZoneHints = Standard.Json(hints), DnsDomain = Standard.Text(body, "dns_domain"),
            CreatedAt = now, UpdatedAt = now, RevisionNumber = 1,
        };
        return n;
    }

    static async Task<IResult> UpdateAsync(string id, HttpContext http, NetworkStore store, Segments segments, TimeProvider time, CancellationToken ct)
    {
        var body = await Networks.ReadUpdateAsync(http.Request, ct);
        var n = await FindAsync(http, store, id, ct);
        var target = NeutronPolicy.Target(View(n, [], new Dictionary<string, List<string>>()));
        NeutronPolicy.Enforce(http, "update", "network", body, target);
        if (body.ContainsKey("provider:network_type") && Standard.Text(body, "provider:network_type") != n.NetworkType
            || body.ContainsKey("provider:physical_network") && (Standard.Text(body, "provider:physical_network") ?? "") != n.PhysicalNetwork
            || body.ContainsKey("provider:segmentation_id") && Standard.Int(body, "provider:segmentation_id") != n.SegmentationId)
            throw NeutronErrors.InvalidInput("Plugin does not support updating provider attributes");
        if (body.ContainsKey("name")) n.Name = Standard.Text(body, "name") ?? "";
        if (body.ContainsKey("description")) n.Description = Standard.Text(body, "description") ?? "";
        if (Standard.Bool(body, "admin_state_up") is { } up) n.AdminStateUp = up;
        if (Standard.Bool(body, "shared") is { } shared)
        {
            if (!shared && n.Shared && (await store.PortsAsync(new(null, [id], []), ct)).Any(p => p.ProjectId != n.ProjectId && p.DeviceOwner != "network:dhcp"))
                throw NeutronErrors.Conflict("InvalidSharedSetting", $"Unable to reconfigure sharing settings for network {id}. Multiple tenants are using it.");
            n.Shared = shared;
        }
        if (Standard.Bool(body, "router:external") is { } external)
        {
            if (!external && n.External && (await store.PortsAsync(new(null, [id], []), ct)).Any(p => p.DeviceOwner == PortsApi.RouterGateway))
                throw NeutronErrors.Conflict("ExternalNetworkInUse", $"External network {id} cannot be updated to be made non-external, since it has existing gateway ports.");
            n.External = external;
        }
        if (Standard.Bool(body, "is_default") is { } isDefault) n.IsDefault = isDefault;
        if (Standard.Bool(body, "port_security_enabled") is { } ps) n.PortSecurityEnabled = ps;
        if (body.ContainsKey("dns_domain")) n.DnsDomain = Standard.Text(body, "dns_domain");
        if (Standard.Int(body, "mtu") is { } mtu)
        {
            var max = segments.MaxMtu(n.NetworkType);
            if (mtu > max) throw NeutronErrors.InvalidInput($"Requested MTU is too big, maximum is {max}");
            if (mtu < 68) throw NeutronErrors.InvalidAttribute("mtu", $"'{mtu}' is too small - must be at least '68'");
            n.Mtu = mtu;
        }
        Standard.Touch(n, time.GetUtcNow().UtcDateTime);
        await store.UpdateAsync(n, ct);
        var view = (await ViewsAsync(store, [n], ct)).Single();
        return Networks.Show(http, NeutronPolicy.Visible(http, "network", view, NeutronPolicy.Target(view)));
    }

    static async Task<IResult> DeleteAsync(string id, HttpContext http, NetworkStore store, Agents.AgentNotifier agents, CancellationToken ct)
    {
        var n = await FindAsync(http, store, id, ct);
        NeutronPolicy.Enforce(http, "delete_network", NeutronPolicy.Target(View(n, [], new Dictionary<string, List<string>>())));
        // Neutron deletes the network's own DHCP ports with it, and (the L3 plugin) its floating IPs; any other port keeps it in use.
        if ((await store.PortsAsync(new(null, [id], []), ct)).Any(p => p.DeviceOwner is not ("network:dhcp" or "network:floatingip")))
            throw NeutronErrors.InUse("Network", id, "There are one or more ports still in use on the network.");
        await store.DeleteNetworkAsync(id, ct);
        await agents.NetworkDeleteAsync(id, ct);
        return Results.NoContent();
    }
}
