using System.Text.Json;
using Stratus.Network.Ipam;
using Stratus.Network.Policy;

namespace Stratus.Network.Api;

/// <summary>
/// <c>/v2.0/routers</c> as Neutron's L3 router service plugin serves them: the external gateway (a
/// port on an external network, with SNAT on or off), interfaces on subnets or ports, extra routes
/// (extraroute, extraroute-atomic), availability zone hints. A router's ports are the ports whose
/// device is the router, with the gateway and interface device owners.
/// </summary>
static class RoutersApi
{
    public static readonly Collection Routers = new("router", "routers", Standard.Attributes(
        ("admin_state_up", Access.Both), ("status", Access.None), ("external_gateway_info", Access.Both), ("routes", Access.Put),
        ("distributed", Access.Both), ("ha", Access.Both), ("availability_zone_hints", Access.Post), ("availability_zones", Access.None),
        ("flavor_id", Access.Post)));

    static readonly Dictionary<string, JsonNode?> Defaults = new()
    {
        ["admin_state_up"] = true, ["external_gateway_info"] = null, ["availability_zone_hints"] = new JsonArray(), ["flavor_id"] = null,
    };

    static readonly HashSet<string> GatewayKeys = ["network_id", "enable_snat", "external_fixed_ips"];
    const int MaxRoutes = 30;
    const int Attempts = 10;
    const string L3AgentType = "L3 agent";

    public static IEndpointRouteBuilder MapRouters(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v2.0/routers", ListAsync);
        app.MapGet("/v2.0/routers/{id}", ShowAsync);
        app.MapPost("/v2.0/routers", CreateAsync);
        app.MapPut("/v2.0/routers/{id}", UpdateAsync);
        app.MapDelete("/v2.0/routers/{id}", DeleteAsync);
        app.MapPut("/v2.0/routers/{id}/add_router_interface", AddInterfaceAsync);
        app.MapPut("/v2.0/routers/{id}/remove_router_interface", RemoveInterfaceAsync);
        app.MapPut("/v2.0/routers/{id}/add_extraroutes", (string id, HttpContext http, NetworkDb db, TimeProvider time, CancellationToken ct) =>
            ChangeRoutesAsync(id, http, db, time, add: true, ct));
        app.MapPut("/v2.0/routers/{id}/remove_extraroutes", (string id, HttpContext http, NetworkDb db, TimeProvider time, CancellationToken ct) =>
            ChangeRoutesAsync(id, http, db, time, add: false, ct));
        return app;
    }

    /// <summary>neutron_lib's BadRequest: "Bad router request: ...".</summary>
    public static OpenStackError Bad(string resource, string message) => new(400, "BadRequest", $"Bad {resource} request: {message}.");

    static OpenStackError GatewayInUse(string routerId, string networkId) => new(409, "RouterExternalGatewayInUseByFloatingIp",
        $"Gateway cannot be updated for router {routerId}, since a gateway to external network {networkId} is required by one or more floating IPs.");

    static OpenStackError NotFound(string id) => new(404, "RouterNotFound", $"Router {id} could not be found");

    public static JsonObject View(RouterRow r, PortRow? gateway, IEnumerable<IpAllocation> gatewayIps, IReadOnlyDictionary<string, List<string>> tags,
        IEnumerable<string>? zones = null)
    {
        var v = new JsonObject
        {
            ["id"] = r.Id, ["name"] = r.Name, ["admin_state_up"] = r.AdminStateUp, ["status"] = r.Status,
            ["external_gateway_info"] = gateway is null ? null : new JsonObject
            {
                ["network_id"] = gateway.NetworkId, ["enable_snat"] = r.EnableSnat,
                ["external_fixed_ips"] = new JsonArray([.. gatewayIps.OrderBy(a => a.IpAddress.Contains(':'))
                    .Select(a => (JsonNode)new JsonObject { ["subnet_id"] = a.SubnetId, ["ip_address"] = a.IpAddress })]),
            },
            ["routes"] = Standard.Parse(r.Routes), ["distributed"] = r.Distributed, ["ha"] = r.Ha,
            ["availability_zone_hints"] = Standard.Parse(r.AvailabilityZoneHints),
            ["availability_zones"] = new JsonArray([.. (zones ?? []).Distinct().Order(StringComparer.Ordinal).Select(z => (JsonNode)z)]),
            ["flavor_id"] = null,
        };
        Standard.Write(v, r, tags);
        return v;
    }

    /// <summary>The routers' views; a router's zones are those of the agents hosting it.</summary>
    public static async Task<List<JsonObject>> ViewsAsync(NetworkDb db, IReadOnlyList<RouterRow> rows, CancellationToken ct)
    {
        var gwIds = rows.Where(r => r.GatewayPortId is not null).Select(r => r.GatewayPortId!).ToList();
        var ports = await db.Ports.AsNoTracking().Where(p => gwIds.Contains(p.Id)).ToDictionaryAsync(p => p.Id, ct);
        var ips = (await db.IpAllocations.AsNoTracking().Where(a => gwIds.Contains(a.PortId)).ToListAsync(ct)).ToLookup(a => a.PortId);
        var ids = rows.Select(r => r.Id).ToList();
        var tags = await Tags.OfAsync(db, ids, ct);
        var zones = (await (from b in db.RouterL3AgentBindings
                            join a in db.Agents on b.L3AgentId equals a.Id
                            where ids.Contains(b.RouterId) && a.AvailabilityZone != null
                            select new { b.RouterId, Zone = a.AvailabilityZone! }).AsNoTracking().ToListAsync(ct)).ToLookup(z => z.RouterId, z => z.Zone);
        return rows.Select(r =>
        {
            var gw = r.GatewayPortId is { } g ? ports.GetValueOrDefault(g) : null;
            return View(r, gw, gw is null ? [] : ips[gw.Id], tags, zones[r.Id]);
        }).ToList();
    }

    static JsonObject Shown(HttpContext http, JsonObject view) => NeutronPolicy.Visible(http, "router", view, NeutronPolicy.Target(view));

    static async Task<IResult> ListAsync(HttpContext http, NetworkDb db, CancellationToken ct)
    {
        var caller = http.Caller();
        var q = caller.IsAdmin ? db.Routers.AsNoTracking() : db.Routers.AsNoTracking().Where(r => r.ProjectId == caller.ProjectId);
        var rows = await q.OrderBy(r => r.CreatedAt).ThenBy(r => r.Id).ToListAsync(ct);
        var views = (await ViewsAsync(db, rows, ct))
            .Select(v => (View: v, Target: NeutronPolicy.Target(v)))
            .Where(x => NeutronPolicy.CanSee(http, "router", x.Target))
            .Select(x => NeutronPolicy.Visible(http, "router", x.View, x.Target));
        return Routers.List(http, views);
    }

    /// <summary>The router if the caller may see it; 404 RouterNotFound otherwise.</summary>
    public static async Task<RouterRow> FindAsync(HttpContext http, NetworkDb db, string id, CancellationToken ct)
    {
        var r = await db.Routers.FindAsync([id], ct) ?? throw NotFound(id);
        if (!NeutronPolicy.CanSee(http, "router", Target(r))) throw NotFound(id);
        return r;
    }

    static PolicyTarget Target(RouterRow r) => NeutronPolicy.Target(View(r, null, [], new Dictionary<string, List<string>>()));

    static async Task<IResult> ShowAsync(string id, HttpContext http, NetworkDb db, CancellationToken ct)
    {
        var r = await FindAsync(http, db, id, ct);
        return Routers.Show(http, Shown(http, (await ViewsAsync(db, [r], ct))[0]));
    }

    static async Task<IResult> CreateAsync(HttpContext http, NetworkDb db, NetworkOptions options, L3Scheduler scheduler, TimeProvider time, CancellationToken ct)
    {
        var caller = http.Caller();
        var (items, bulk) = await Routers.ReadCreateAsync(http.Request, ct);
        for (var attempt = 1; ; attempt++)
        {
            var now = time.GetUtcNow().UtcDateTime;
            var created = new List<RouterRow>();
            foreach (var body in items)
            {
                var project = Standard.ProjectOf(body, caller);
                var target = NeutronPolicy.Target(body);
                target["project_id"] = target["tenant_id"] = project;
                NeutronPolicy.Enforce(http, "create", "router", body, target, Defaults);
                EnforceGatewayRules(http, "create", body, target);
                var r = new RouterRow
                {
                    Id = Guid.NewGuid().ToString(), ProjectId = project, Name = Standard.Text(body, "name") ?? "",
                    Description = Standard.Text(body, "description") ?? "", AdminStateUp = Standard.Bool(body, "admin_state_up") ?? true,
                    Distributed = Unsupported(body, "distributed"), Ha = Unsupported(body, "ha"),
                    CreatedAt = now, UpdatedAt = now, RevisionNumber = 1,
                };
                if (Standard.Text(body, "flavor_id") is { } flavor) throw new OpenStackError(404, "FlavorNotFound", $"Flavor {flavor} could not be found.");
                r.AvailabilityZoneHints = Standard.Json(await ZoneHintsAsync(db, options, body, ct));
                db.Routers.Add(r);
                if (GatewayInfo(body) is { } gw)
                {
                    await SetGatewayAsync(http, db, options, r, gw, now, ct);
                    // As Neutron notifies the agents of a router with a gateway, which schedules it.
                    await scheduler.ScheduleAsync(db, r, ct);
                }
                created.Add(r);
            }
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException) when (attempt < Attempts)
            {
                // A concurrent request took the gateway address we picked: pick again.
                db.ChangeTracker.Clear();
                continue;
            }
            var views = (await ViewsAsync(db, created, ct)).Select(v => Shown(http, v)).ToList();
            return bulk
                ? new JsonResponse(new JsonObject { ["routers"] = new JsonArray([.. views]) }, 201)
                : Routers.Show(http, views[0], 201);
        }
    }

    /// <summary>distributed and ha: stored as false; a router of either kind needs agents this service does not model.</summary>
    static bool Unsupported(JsonObject body, string attribute)
    {
        if (Standard.Bool(body, attribute) == true)
            throw Bad("router", $"{(attribute == "ha" ? "HA" : "distributed")} routers are not supported by this deployment");
        return false;
    }

    static async Task<JsonArray> ZoneHintsAsync(NetworkDb db, NetworkOptions options, JsonObject body, CancellationToken ct)
    {
        var hints = Standard.Array(body, "availability_zone_hints") ?? [];
        var zones = (await db.Agents.AsNoTracking().Where(a => a.AgentType == L3AgentType && a.AvailabilityZone != null)
            .Select(a => a.AvailabilityZone!).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);
        zones.Add(options.DefaultAvailabilityZone);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var h in hints)
        {
            if (h is not JsonValue v || !v.TryGetValue<string>(out var name) || name.Length > 255)
                throw NeutronErrors.InvalidAttribute("availability_zone_hints", $"'{h?.ToJsonString()}' is not a valid string");
            if (!seen.Add(name)) throw NeutronErrors.InvalidAttribute("availability_zone_hints", $"Duplicate items in the list: '{name}'");
            if (!zones.Contains(name)) throw new OpenStackError(404, "AvailabilityZoneNotFound", $"AvailabilityZone {name} could not be found.");
        }
        return hints;
    }

    /// <summary>The gateway the body asks for: null when it has none, {} or null meaning "no gateway" on update.</summary>
    static JsonObject? GatewayInfo(JsonObject body)
    {
        if (!body.TryGetPropertyValue("external_gateway_info", out var n) || n is null) return null;
        if (n is not JsonObject o) throw NeutronErrors.InvalidAttribute("external_gateway_info", $"'{n.ToJsonString()}' is not a dictionary");
        if (o.Count == 0) return null;
        var unknown = o.Select(p => p.Key).Where(k => !GatewayKeys.Contains(k)).ToList();
        if (unknown.Count > 0 || !o.ContainsKey("network_id"))
            throw NeutronErrors.InvalidAttribute("external_gateway_info",
                $"Validation of dictionary's keys failed. Expected keys: {{'network_id'}} Provided keys: {{{string.Join(", ", o.Select(p => $"'{p.Key}'"))}}}");
        return o;
    }

    /// <summary>Neutron checks each key of the gateway dictionary against its own rule (…:external_gateway_info:enable_snat is the admin's).</summary>
    static void EnforceGatewayRules(HttpContext http, string action, JsonObject body, IReadOnlyDictionary<string, string?> target)
    {
        if (body["external_gateway_info"] is not JsonObject gw) return;
        foreach (var (key, _) in gw)
            if (GatewayKeys.Contains(key)) NeutronPolicy.Enforce(http, $"{action}_router:external_gateway_info:{key}", target);
    }

    /// <summary>
    /// Sets, changes or clears the gateway as Neutron's gateway mode does: same network with other
    /// addresses updates the port, another network replaces it (refused while floating IPs use it).
    /// </summary>
    static async Task SetGatewayAsync(HttpContext http, NetworkDb db, NetworkOptions options, RouterRow r, JsonObject? info, DateTime now, CancellationToken ct)
    {
        var current = r.GatewayPortId is { } gid ? await db.Ports.FindAsync([gid], ct) : null;
        var networkId = info is null ? null : Standard.Text(info, "network_id");
        var extIps = info is null ? null : Standard.Array(info, "external_fixed_ips");
        var snat = info is null ? null : Standard.Bool(info, "enable_snat");
        r.EnableSnat = snat ?? true;
        NetworkRow? network = null;
        if (networkId is not null)
        {
            network = await NetworksApi.FindAsync(http, db, networkId, ct);
            if (!network.External) throw Bad("router", $"Network {networkId} is not an external network");
            var gateways = await db.Subnets.AsNoTracking().Where(s => s.NetworkId == networkId && s.GatewayIp != null).Select(s => s.GatewayIp).ToListAsync(ct);
            foreach (var ip in (extIps ?? []).OfType<JsonObject>())
                if ((string?)ip["ip_address"] is { } a && gateways.Contains(Ip.Normalize(a) ?? a))
                    throw Bad("router", $"External IP {a} is the same as the gateway IP");
        }
        var routes = Standard.Parse(r.Routes)!.AsArray();
        if (routes.Count > 0 && (current?.NetworkId != networkId || extIps is { Count: > 0 }))
        {
            // The routes must stay reachable through the interfaces and the new gateway's subnets.
            var (cidrs, ips) = await ConnectedAsync(db, r.Id, exceptPort: current?.Id, ct);
            if (networkId is not null)
                cidrs.AddRange(await db.Subnets.AsNoTracking().Where(s => s.NetworkId == networkId).Select(s => s.Cidr).ToListAsync(ct));
            ValidateRoutes(r.Id, routes, cidrs, ips);
        }
        if (current is not null && network is not null && current.NetworkId == network.Id)
        {
            if (extIps is { Count: > 0 } && await IpsChangeAsync(db, current, extIps, ct)) await PortsApi.ReallocateAsync(db, current, network, extIps, ct);
            return;
        }
        if (current is not null)
        {
            if (await db.FloatingIps.AnyAsync(f => f.RouterId == r.Id, ct))
                throw GatewayInUse(r.Id, current.NetworkId);
            await PortsApi.RemoveAsync(db, current, ct);
            r.GatewayPortId = null;
            r.GatewayNetworkId = null;
        }
        if (network is null) return;
        var subnets = await db.Subnets.AsNoTracking().Where(s => s.NetworkId == network.Id).ToListAsync(ct);
        await CheckDuplicateSubnetsAsync(db, r.Id, subnets, ct);
        // The gateway port belongs to no project: it is the service's, hidden from the router's owner.
        var port = await PortsApi.NewServicePortAsync(db, options, network, "", r.Id, PortsApi.RouterGateway, extIps is { Count: > 0 } ? extIps : null, now, ct);
        r.GatewayPortId = port.Id;
        r.GatewayNetworkId = network.Id;
    }

    static async Task<bool> IpsChangeAsync(NetworkDb db, PortRow port, JsonArray extIps, CancellationToken ct)
    {
        var have = await db.IpAllocations.AsNoTracking().Where(a => a.PortId == port.Id).ToListAsync(ct);
        var wantSubnets = extIps.OfType<JsonObject>().Select(o => (string?)o["subnet_id"]).Where(s => s is not null).ToHashSet();
        if (!wantSubnets.SetEquals(have.Select(a => (string?)a.SubnetId))) return true;
        var wantIps = extIps.OfType<JsonObject>().Select(o => Ip.Normalize((string?)o["ip_address"])).Where(s => s is not null).ToHashSet();
        return !wantIps.SetEquals(have.Select(a => (string?)a.IpAddress));
    }

    /// <summary>
    /// Neutron's check before a router gets more subnets: none it already has a port on, and no CIDR
    /// overlapping one of its subnets (a gateway counts with all the subnets of its network).
    /// </summary>
    static async Task CheckDuplicateSubnetsAsync(NetworkDb db, string routerId, IReadOnlyList<SubnetRow> adding, CancellationToken ct)
    {
        var ports = await RouterPortsAsync(db, routerId, ct);
        var portIds = ports.Select(p => p.Id).ToList();
        var allocations = await db.IpAllocations.AsNoTracking().Where(a => portIds.Contains(a.PortId)).ToListAsync(ct);
        var newIds = adding.Select(s => s.Id).ToHashSet();
        var routerSubnets = new List<string>();
        foreach (var p in ports)
            foreach (var a in allocations.Where(a => a.PortId == p.Id))
            {
                if (newIds.Contains(a.SubnetId)) throw Bad("router", $"Router already has a port on subnet {a.SubnetId}");
                if (p.DeviceOwner == PortsApi.RouterGateway)
                    routerSubnets.AddRange(await db.Subnets.AsNoTracking().Where(s => s.NetworkId == p.NetworkId).Select(s => s.Id).ToListAsync(ct));
                else routerSubnets.Add(a.SubnetId);
            }
        var existing = await db.Subnets.AsNoTracking().Where(s => routerSubnets.Contains(s.Id)).ToListAsync(ct);
        foreach (var sub in existing)
        {
            if (!IpNetwork.TryParse(sub.Cidr, out var have, out _)) continue;
            foreach (var s in adding)
                if (IpNetwork.TryParse(s.Cidr, out var want, out _) && want.Overlaps(have))
                    throw Bad("router", $"Cidr {s.Cidr} of subnet {s.Id} overlaps with cidr {sub.Cidr} of subnet {sub.Id}");
        }
    }

    static Task<List<PortRow>> RouterPortsAsync(NetworkDb db, string routerId, CancellationToken ct) =>
        db.Ports.Where(p => p.DeviceId == routerId && (p.DeviceOwner == PortsApi.RouterInterface || p.DeviceOwner == PortsApi.RouterGateway))
            .OrderBy(p => p.CreatedAt).ToListAsync(ct);

    /// <summary>The CIDRs and addresses of the router's ports (but one): where an extra route's next hop may be.</summary>
    static async Task<(List<string> Cidrs, List<string> Ips)> ConnectedAsync(NetworkDb db, string routerId, string? exceptPort, CancellationToken ct)
    {
        var ports = (await RouterPortsAsync(db, routerId, ct)).Where(p => p.Id != exceptPort).Select(p => p.Id).ToList();
        var allocations = await db.IpAllocations.AsNoTracking().Where(a => ports.Contains(a.PortId)).ToListAsync(ct);
        var subnetIds = allocations.Select(a => a.SubnetId).Distinct().ToList();
        var cidrs = await db.Subnets.AsNoTracking().Where(s => subnetIds.Contains(s.Id)).Select(s => s.Cidr).ToListAsync(ct);
        return (cidrs, allocations.Select(a => a.IpAddress).ToList());
    }

    /// <summary>Neutron's hostroutes validator for the <c>routes</c> attribute: destination CIDR, next-hop address, no duplicates.</summary>
    static JsonArray ParseRoutes(JsonObject body)
    {
        var list = Standard.Array(body, "routes") ?? [];
        var result = new JsonArray();
        var seen = new HashSet<string>();
        foreach (var r in list)
        {
            if (r is not JsonObject o) throw NeutronErrors.InvalidAttribute("routes", $"Invalid data format for hostroute: '{r?.ToJsonString()}'");
            var keys = o.Select(p => p.Key).Order(StringComparer.Ordinal).ToList();
            if (!keys.SequenceEqual(["destination", "nexthop"]))
                throw NeutronErrors.InvalidAttribute("routes", $"Validation of dictionary's keys failed. Expected keys: {{'destination', 'nexthop'}} Provided keys: {{{string.Join(", ", keys.Select(k => $"'{k}'"))}}}");
            var dest = o["destination"] is JsonValue dv && dv.TryGetValue<string>(out var ds) ? ds : null;
            if (!IpNetwork.TryParse(dest, out var net, out var norm))
                throw NeutronErrors.InvalidAttribute("routes", norm is null ? $"'{dest}' is not a valid IP subnet" : $"'{dest}' isn't a recognized IP subnet cidr, '{norm}' is recommended");
            var hopText = o["nexthop"] is JsonValue hv && hv.TryGetValue<string>(out var hs) ? hs : null;
            var hop = Ip.Normalize(hopText) ?? throw NeutronErrors.InvalidAttribute("routes", $"'{hopText}' is not a valid IP address");
            var route = new JsonObject { ["destination"] = net.ToString(), ["nexthop"] = hop };
            if (!seen.Add(route.ToJsonString())) throw NeutronErrors.InvalidAttribute("routes", $"Duplicate hostroute '{PythonRoute(route)}'");
            result.Add(route);
        }
        return result;
    }

    static string PythonRoute(JsonNode? r) => $"{{'destination': '{(string?)r?["destination"]}', 'nexthop': '{(string?)r?["nexthop"]}'}}";

    static void ValidateRoutes(string routerId, JsonArray routes, List<string> cidrs, List<string> ips)
    {
        if (routes.Count > MaxRoutes)
            throw new OpenStackError(400, "RoutesExhausted", $"Unable to complete operation for {routerId}. The number of routes exceeds the maximum {MaxRoutes}.");
        var nets = cidrs.Select(c => IpNetwork.TryParse(c, out var n, out _) ? n : (IpNetwork?)null).Where(n => n is not null).Select(n => n!.Value).ToList();
        var text = "[" + string.Join(", ", routes.Select(PythonRoute)) + "]";
        foreach (var route in routes)
        {
            var hop = (string)route!["nexthop"]!;
            if (!nets.Any(n => n.Contains(hop)))
                throw new OpenStackError(400, "InvalidRoutes", $"Invalid format for routes: {text}, the nexthop is not connected with router.");
            if (ips.Contains(hop))
                throw new OpenStackError(400, "InvalidRoutes", $"Invalid format for routes: {text}, the nexthop is used by router.");
        }
    }

    static async Task<IResult> UpdateAsync(string id, HttpContext http, NetworkDb db, NetworkOptions options, L3Scheduler scheduler, TimeProvider time,
        CancellationToken ct)
    {
        var body = await Routers.ReadUpdateAsync(http.Request, ct);
        for (var attempt = 1; ; attempt++)
        {
            var r = await FindAsync(http, db, id, ct);
            var target = Target(r);
            NeutronPolicy.Enforce(http, "update", "router", body, target);
            EnforceGatewayRules(http, "update", body, target);
            var now = time.GetUtcNow().UtcDateTime;
            if (body.ContainsKey("name")) r.Name = Standard.Text(body, "name") ?? "";
            if (body.ContainsKey("description")) r.Description = Standard.Text(body, "description") ?? "";
            if (Standard.Bool(body, "admin_state_up") is { } up) r.AdminStateUp = up;
            if (body.ContainsKey("distributed")) Unsupported(body, "distributed");
            if (body.ContainsKey("ha")) Unsupported(body, "ha");
            if (body.ContainsKey("routes"))
            {
                var routes = ParseRoutes(body);
                var (cidrs, ips) = await ConnectedAsync(db, id, null, ct);
                ValidateRoutes(id, routes, cidrs, ips);
                r.Routes = routes.ToJsonString();
            }
            if (body.ContainsKey("external_gateway_info")) await SetGatewayAsync(http, db, options, r, GatewayInfo(body), now, ct);
            Standard.Touch(r, now);
            await scheduler.ScheduleAsync(db, r, ct);
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException) when (attempt < Attempts)
            {
                db.ChangeTracker.Clear();
                continue;
            }
            return Routers.Show(http, Shown(http, (await ViewsAsync(db, [r], ct))[0]));
        }
    }

    /// <summary>extraroute-atomic: add or remove routes without replacing the others; the whole set is validated as on update.</summary>
    static async Task<IResult> ChangeRoutesAsync(string id, HttpContext http, NetworkDb db, TimeProvider time, bool add, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var given = body["router"] as JsonObject ?? throw NeutronErrors.BadRequest("Unable to find 'router' in request body");
        if (given.Select(p => p.Key).Any(k => k != "routes") || !given.ContainsKey("routes"))
            throw NeutronErrors.BadRequest("Must specify 'routes' and nothing else in the 'router' body");
        var r = await FindAsync(http, db, id, ct);
        NeutronPolicy.Enforce(http, add ? "add_extraroutes" : "remove_extraroutes", Target(r));
        var changes = ParseRoutes(given).Select(n => n!.ToJsonString()).ToList();
        var old = Standard.Parse(r.Routes)!.AsArray().Select(n => n!.ToJsonString()).ToList();
        var next = add ? old.Concat(changes.Where(c => !old.Contains(c))).ToList() : old.Where(o => !changes.Contains(o)).ToList();
        var routes = new JsonArray([.. next.Select(s => JsonNode.Parse(s))]);
        var (cidrs, ips) = await ConnectedAsync(db, id, null, ct);
        ValidateRoutes(id, routes, cidrs, ips);
        r.Routes = routes.ToJsonString();
        Standard.Touch(r, time.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["router"] = Shown(http, (await ViewsAsync(db, [r], ct))[0]) });
    }

    static async Task<IResult> DeleteAsync(string id, HttpContext http, NetworkDb db, CancellationToken ct)
    {
        var r = await FindAsync(http, db, id, ct);
        NeutronPolicy.Enforce(http, "delete_router", Target(r));
        var ports = await RouterPortsAsync(db, id, ct);
        var interfaces = ports.Where(p => p.DeviceOwner == PortsApi.RouterInterface).Select(p => p.Id).ToList();
        if (interfaces.Count > 0)
            throw new OpenStackError(409, "RouterInUse", $"Router {id} has ports still attached: {string.Join(", ", interfaces)}");
        if (await db.FloatingIps.AnyAsync(f => f.RouterId == id, ct) && ports.FirstOrDefault(p => p.DeviceOwner == PortsApi.RouterGateway) is { } gw)
            throw GatewayInUse(id, gw.NetworkId);
        foreach (var p in ports) await PortsApi.RemoveAsync(db, p, ct);
        await Tags.RemoveAsync(db, id, ct);
        db.RouterL3AgentBindings.RemoveRange(await db.RouterL3AgentBindings.Where(b => b.RouterId == id).ToListAsync(ct));
        db.Routers.Remove(r);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    /// <summary>Reads <c>{"subnet_id"}</c> or <c>{"port_id"}</c> as Neutron validates an interface request.</summary>
    static async Task<(string? PortId, string? SubnetId)> InterfaceInfoAsync(HttpRequest request, bool removal, CancellationToken ct)
    {
        JsonObject body;
        try
        {
            body = await JsonBody.ReadObjectAsync(request, ct);
        }
        catch (OpenStackError e) when (e.Code == 400)
        {
            throw Bad("router", "Either subnet_id or port_id must be specified");
        }
        var hasPort = body.ContainsKey("port_id");
        var hasSubnet = body.ContainsKey("subnet_id");
        if (!hasPort && !hasSubnet) throw Bad("router", "Either subnet_id or port_id must be specified");
        string? Uuid(string key)
        {
            if (!body.ContainsKey(key)) return null;
            var text = body[key] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
            if (text is null || !Guid.TryParse(text, out _)) throw Bad("router", $"'{body[key]?.ToString() ?? "None"}' is not a valid UUID");
            return text;
        }
        var port = Uuid("port_id");
        var subnet = Uuid("subnet_id");
        if (!removal && port is not null && subnet is not null) throw Bad("router", "Cannot specify both subnet-id and port-id");
        return (port, subnet);
    }

    static JsonObject InterfaceInfo(string routerId, PortRow port, IReadOnlyList<string> subnetIds, string subnetId) => new()
    {
        ["id"] = routerId, ["tenant_id"] = port.ProjectId, ["project_id"] = port.ProjectId, ["port_id"] = port.Id,
        ["network_id"] = port.NetworkId, ["subnet_id"] = subnetId, ["subnet_ids"] = new JsonArray([.. subnetIds.Select(s => (JsonNode)s)]),
    };

    static async Task<IResult> AddInterfaceAsync(string id, HttpContext http, NetworkDb db, NetworkOptions options, L3Scheduler scheduler, TimeProvider time,
        CancellationToken ct)
    {
        var (portId, subnetId) = await InterfaceInfoAsync(http.Request, removal: false, ct);
        for (var attempt = 1; ; attempt++)
        {
            var r = await FindAsync(http, db, id, ct);
            NeutronPolicy.Enforce(http, "add_router_interface", Target(r));
            var now = time.GetUtcNow().UtcDateTime;
            var (port, subnets) = portId is not null
                ? await AttachPortAsync(http, db, r, portId, now, ct)
                : await AttachSubnetAsync(http, db, options, r, subnetId!, now, ct);
            Standard.Touch(r, now);
            await scheduler.ScheduleAsync(db, r, ct);
            if (!await RacedSave.SaveAsync(db, attempt < Attempts, () => NeutronErrors.Conflict("IpAddressAlreadyAllocated", $"The address of the interface of router {id} was taken meanwhile; try again."), ct)) continue;
            return new JsonResponse(InterfaceInfo(id, port, [.. subnets.Select(s => s.Id)], subnets[^1].Id));
        }
    }

    static void CheckAddressMode(SubnetRow s)
    {
        if (s.IpVersion == 6 && s.Ipv6RaMode is null && s.Ipv6AddressMode is not null)
            throw Bad("router", $"IPv6 subnet {s.Id} configured to receive RAs from an external router cannot be added to Neutron Router");
    }

    static async Task<(PortRow, List<SubnetRow>)> AttachSubnetAsync(HttpContext http, NetworkDb db, NetworkOptions options, RouterRow r, string subnetId,
        DateTime now, CancellationToken ct)
    {
        var caller = http.Caller();
        var (subnet, network) = await SubnetsApi.FindAsync(http, db, subnetId, ct);
        if (subnet.GatewayIp is null) throw Bad("router", "Subnet for router interface must have a gateway IP");
        if (subnet.ProjectId != caller.ProjectId && !caller.IsAdmin)
            throw Bad("router", $"Cannot add interface to router because subnet {subnetId} is not owned by project making the request");
        CheckAddressMode(subnet);
        await CheckDuplicateSubnetsAsync(db, r.Id, [subnet], ct);
        var fixedIp = new JsonObject { ["ip_address"] = subnet.GatewayIp, ["subnet_id"] = subnet.Id };
        if (subnet.IpVersion == 6)
        {
            // Another IPv6 prefix of a network the router is on joins that network's IPv6 interface.
            var ports = (await RouterPortsAsync(db, r.Id, ct)).Where(p => p.DeviceOwner == PortsApi.RouterInterface && p.NetworkId == network.Id).ToList();
            foreach (var p in ports)
            {
                var ips = await db.IpAllocations.AsNoTracking().Where(a => a.PortId == p.Id).ToListAsync(ct);
                if (!ips.Any(a => a.IpAddress.Contains(':'))) continue;
                var wanted = new JsonArray([.. ips.Select(a => (JsonNode)new JsonObject { ["subnet_id"] = a.SubnetId, ["ip_address"] = a.IpAddress }), fixedIp]);
                await PortsApi.ReallocateAsync(db, p, network, wanted, ct);
                Standard.Touch(p, now);
                return (p, [subnet]);
            }
        }
        var port = await PortsApi.NewServicePortAsync(db, options, network, r.ProjectId, r.Id, PortsApi.RouterInterface, [fixedIp], now, ct);
        port.PortSecurityEnabled = network.PortSecurityEnabled;
        return (port, [subnet]);
    }

    static async Task<(PortRow, List<SubnetRow>)> AttachPortAsync(HttpContext http, NetworkDb db, RouterRow r, string portId, DateTime now, CancellationToken ct)
    {
        var caller = http.Caller();
        var (port, _) = await PortsApi.FindAsync(http, db, portId, ct);
        if (port.DeviceId != "")
            throw NeutronErrors.Conflict("PortInUse", $"Unable to complete operation on port {port.Id} for network {port.NetworkId}. Port already has an attached device {port.DeviceId}.");
        var ips = await db.IpAllocations.AsNoTracking().Where(a => a.PortId == port.Id).ToListAsync(ct);
        if (ips.Count == 0) throw Bad("router", "Router port must have at least one fixed IP");
        var subnetIds = ips.Select(a => a.SubnetId).Distinct().ToList();
        var subnets = await db.Subnets.AsNoTracking().Where(s => subnetIds.Contains(s.Id)).ToListAsync(ct);
        subnets = [.. subnetIds.Select(sid => subnets.Single(s => s.Id == sid))];
        foreach (var s in subnets) CheckAddressMode(s);
        if (ips.Any(a => a.IpAddress.Contains(':')))
        {
            var others = (await RouterPortsAsync(db, r.Id, ct)).Where(p => p.NetworkId == port.NetworkId).Select(p => p.Id).ToList();
            if (await db.IpAllocations.AsNoTracking().Where(a => others.Contains(a.PortId)).AnyAsync(a => a.IpAddress.Contains(':'), ct))
                throw Bad("router", $"Cannot have multiple router ports with the same network id if both contain IPv6 subnets. Existing port {others[0]} has IPv6 subnet(s) and network id {port.NetworkId}");
        }
        await CheckDuplicateSubnetsAsync(db, r.Id, subnets, ct);
        if (subnets.Count(s => s.IpVersion == 4) > 1) throw Bad("router", "Cannot have multiple IPv4 subnets on router port");
        if (!caller.IsAdmin)
            foreach (var a in ips)
            {
                var s = subnets.Single(x => x.Id == a.SubnetId);
                var inPool = Ip.TryParse(a.IpAddress, out var v, out _) && Ipam.AddressAllocator.Pools(s).Any(p => v >= p.Start && v <= p.End);
                if (!inPool && caller.ProjectId != s.ProjectId)
                    throw Bad("router", $"Cannot add interface to router because specified port {port.Id} has an IP address out of the allocation pool of subnet {s.Id}, which is not owned by the project making the request");
            }
        port.DeviceId = r.Id;
        port.DeviceOwner = PortsApi.RouterInterface;
        Standard.Touch(port, now);
        return (port, subnets);
    }

    static async Task<IResult> RemoveInterfaceAsync(string id, HttpContext http, NetworkDb db, TimeProvider time, CancellationToken ct)
    {
        var (portId, subnetId) = await InterfaceInfoAsync(http.Request, removal: true, ct);
        var r = await FindAsync(http, db, id, ct);
        NeutronPolicy.Enforce(http, "remove_router_interface", Target(r));
        var now = time.GetUtcNow().UtcDateTime;
        var interfaces = (await RouterPortsAsync(db, id, ct)).Where(p => p.DeviceOwner == PortsApi.RouterInterface).ToList();
        PortRow port;
        List<SubnetRow> subnets;
        if (portId is not null)
        {
            port = interfaces.FirstOrDefault(p => p.Id == portId)
                ?? throw new OpenStackError(404, "RouterInterfaceNotFound", $"Router {id} does not have an interface with id {portId}");
            var ips = await db.IpAllocations.AsNoTracking().Where(a => a.PortId == port.Id).Select(a => a.SubnetId).ToListAsync(ct);
            if (subnetId is not null && !ips.Contains(subnetId))
                throw new OpenStackError(400, "SubnetMismatchForPort", $"Subnet on port {port.Id} does not match the requested subnet {subnetId}.");
            subnets = await db.Subnets.AsNoTracking().Where(s => ips.Contains(s.Id)).ToListAsync(ct);
            foreach (var s in subnets) await CheckInterfaceUnusedAsync(db, r, s, ct);
            await PortsApi.RemoveAsync(db, port, ct);
        }
        else
        {
            var (subnet, _) = await SubnetsApi.FindAsync(http, db, subnetId!, ct);
            var onNetwork = interfaces.Where(p => p.NetworkId == subnet.NetworkId).ToList();
            if (onNetwork.Count > 0) await CheckInterfaceUnusedAsync(db, r, subnet, ct);
            port = null!;
            foreach (var p in onNetwork)
            {
                var ips = await db.IpAllocations.Where(a => a.PortId == p.Id).ToListAsync(ct);
                if (!ips.Any(a => a.SubnetId == subnet.Id)) continue;
                port = p;
                if (ips.Count > 1)
                {
                    // One prefix of a port with several: only that address goes.
                    db.IpAllocations.RemoveRange(ips.Where(a => a.SubnetId == subnet.Id));
                    Standard.Touch(p, now);
                }
                else await PortsApi.RemoveAsync(db, p, ct);
                break;
            }
            if (port is null) throw new OpenStackError(404, "RouterInterfaceNotFoundForSubnet", $"Router {id} has no interface on subnet {subnet.Id}");
            subnets = [subnet];
        }
        Standard.Touch(r, now);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(InterfaceInfo(id, port, [.. subnets.Select(s => s.Id)], subnets[0].Id));
    }

    /// <summary>An interface stays while a floating IP reaches a port through it, or an extra route's next hop is on its subnet.</summary>
    static async Task CheckInterfaceUnusedAsync(NetworkDb db, RouterRow r, SubnetRow subnet, CancellationToken ct)
    {
        IpNetwork.TryParse(subnet.Cidr, out var cidr, out _);
        var fips = await db.FloatingIps.AsNoTracking().Where(f => f.RouterId == r.Id && f.FixedIpAddress != null).ToListAsync(ct);
        var onSubnet = (await db.IpAllocations.AsNoTracking().Where(a => a.SubnetId == subnet.Id).Select(a => a.PortId).ToListAsync(ct)).ToHashSet();
        if (fips.Any(f => cidr.Contains(f.FixedIpAddress!) && f.FixedPortId is not null && onSubnet.Contains(f.FixedPortId)))
            throw new OpenStackError(409, "RouterInterfaceInUseByFloatingIP",
                $"Router interface for subnet {subnet.Id} on router {r.Id} cannot be deleted, as it is required by one or more floating IPs.");
        if (Standard.Parse(r.Routes)!.AsArray().Any(x => cidr.Contains((string)x!["nexthop"]!)))
            throw new OpenStackError(409, "RouterInterfaceInUseByRoute",
                $"Router interface for subnet {subnet.Id} on router {r.Id} cannot be deleted, as it is required by one or more routes.");
    }
}
