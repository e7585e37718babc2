using Stratus.Network.Ipam;
using Stratus.Network.Notifications;
using Stratus.Network.Policy;

namespace Stratus.Network.Api;

/// <summary>
/// <c>/v2.0/floatingips</c> as Neutron's L3 router service plugin serves them: an address of an
/// external network held by a port of its own (device_owner network:floatingip), associated with a
/// fixed IP of a port that a router connects to that network; <c>port_details</c> (fip-port-details).
/// A floating IP is created DOWN, as Neutron's plugin creates it; the L3 agent hosting its router reports it
/// ACTIVE once it serves it, and DOWN once it no longer does.
/// Also <c>/v2.0/floatingip_pools</c>: the IPv4 subnets of the external networks.
/// </summary>
static class FloatingIpsApi
{
    public static readonly Collection FloatingIps = new("floatingip", "floatingips", Attributes());

    static Dictionary<string, Access> Attributes()
    {
        var a = Standard.Attributes(
            ("floating_ip_address", Access.Post), ("subnet_id", Access.Post), ("floating_network_id", Access.Post), ("router_id", Access.None),
            ("port_id", Access.Both), ("fixed_ip_address", Access.Both), ("status", Access.None), ("port_details", Access.None));
        // A floating IP has no name.
        a.Remove("name");
        return a;
    }

    static readonly Dictionary<string, JsonNode?> Defaults = new()
    {
        ["floating_ip_address"] = null, ["subnet_id"] = null, ["port_id"] = null, ["fixed_ip_address"] = null,
    };

    const int Attempts = 10;

    public static IEndpointRouteBuilder MapFloatingIps(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v2.0/floatingips", ListAsync);
        app.MapGet("/v2.0/floatingips/{id}", ShowAsync);
        app.MapPost("/v2.0/floatingips", CreateAsync);
        app.MapPut("/v2.0/floatingips/{id}", UpdateAsync);
        app.MapDelete("/v2.0/floatingips/{id}", DeleteAsync);
        app.MapGet("/v2.0/floatingip_pools", PoolsAsync);
        return app;
    }

    static OpenStackError NotFound(string id) => new(404, "FloatingIPNotFound", $"Floating IP {id} could not be found");

    public static JsonObject View(FloatingIpRow f, PortRow? fixedPort, IReadOnlyDictionary<string, List<string>> tags)
    {
        var v = new JsonObject
        {
            ["id"] = f.Id, ["floating_ip_address"] = f.FloatingIpAddress, ["floating_network_id"] = f.FloatingNetworkId,
            ["router_id"] = f.RouterId, ["port_id"] = f.FixedPortId, ["fixed_ip_address"] = f.FixedIpAddress, ["status"] = f.Status,
            ["port_details"] = fixedPort is null ? null : new JsonObject
            {
                ["name"] = fixedPort.Name, ["network_id"] = fixedPort.NetworkId, ["mac_address"] = fixedPort.MacAddress,
                ["admin_state_up"] = fixedPort.AdminStateUp, ["status"] = fixedPort.Status, ["device_id"] = fixedPort.DeviceId,
                ["device_owner"] = fixedPort.DeviceOwner,
            },
        };
        Standard.Write(v, f, tags);
        return v;
    }

    static async Task<List<JsonObject>> ViewsAsync(NetworkDb db, IReadOnlyList<FloatingIpRow> rows, CancellationToken ct)
    {
        var portIds = rows.Where(r => r.FixedPortId is not null).Select(r => r.FixedPortId!).Distinct().ToList();
        var ports = await db.Ports.AsNoTracking().Where(p => portIds.Contains(p.Id)).ToDictionaryAsync(p => p.Id, ct);
        var tags = await Tags.OfAsync(db, rows.Select(r => r.Id).ToList(), ct);
        return rows.Select(r => View(r, r.FixedPortId is { } p ? ports.GetValueOrDefault(p) : null, tags)).ToList();
    }

    static JsonObject Shown(HttpContext http, JsonObject view) => NeutronPolicy.Visible(http, "floatingip", view, NeutronPolicy.Target(view));

    static PolicyTarget Target(FloatingIpRow f) => NeutronPolicy.Target(View(f, null, new Dictionary<string, List<string>>()));

    static async Task<IResult> ListAsync(HttpContext http, NetworkDb db, CancellationToken ct)
    {
        var caller = http.Caller();
        var q = caller.IsAdmin ? db.FloatingIps.AsNoTracking() : db.FloatingIps.AsNoTracking().Where(f => f.ProjectId == caller.ProjectId);
        var rows = await q.OrderBy(f => f.CreatedAt).ThenBy(f => f.Id).ToListAsync(ct);
        var views = (await ViewsAsync(db, rows, ct))
            .Select(v => (View: v, Target: NeutronPolicy.Target(v)))
            .Where(x => NeutronPolicy.CanSee(http, "floatingip", x.Target))
            .Select(x => NeutronPolicy.Visible(http, "floatingip", x.View, x.Target));
        return FloatingIps.List(http, views);
    }

    static async Task<FloatingIpRow> FindAsync(HttpContext http, NetworkDb db, string id, CancellationToken ct)
    {
        var f = await db.FloatingIps.FindAsync([id], ct) ?? throw NotFound(id);
        if (!NeutronPolicy.CanSee(http, "floatingip", Target(f))) throw NotFound(id);
        return f;
    }

    static async Task<IResult> ShowAsync(string id, HttpContext http, NetworkDb db, CancellationToken ct)
    {
        var f = await FindAsync(http, db, id, ct);
        return FloatingIps.Show(http, Shown(http, (await ViewsAsync(db, [f], ct))[0]));
    }

    static string? Address(JsonObject body, string name)
    {
        var text = Standard.Text(body, name);
        if (text is null) return null;
        return Ip.Normalize(text) ?? throw NeutronErrors.InvalidAttribute(name, $"'{text}' is not a valid IP address");
    }

    static string? Uuid(JsonObject body, string name)
    {
        var text = Standard.Text(body, name);
        if (text is not null && !Guid.TryParse(text, out _)) throw NeutronErrors.InvalidAttribute(name, $"'{text}' is not a valid UUID");
        return text;
    }

    static async Task<IResult> CreateAsync(HttpContext http, NetworkDb db, NetworkOptions options, NovaNotifier nova, TimeProvider time, CancellationToken ct)
    {
        var caller = http.Caller();
        var (items, bulk) = await FloatingIps.ReadCreateAsync(http.Request, ct);
        for (var attempt = 1; ; attempt++)
        {
            var now = time.GetUtcNow().UtcDateTime;
            var created = new List<FloatingIpRow>();
            foreach (var body in items)
            {
                var networkId = Uuid(body, "floating_network_id")
                    ?? throw NeutronErrors.BadRequest("Failed to parse request. Required attribute 'floating_network_id' not specified");
                var project = Standard.ProjectOf(body, caller);
                var target = NeutronPolicy.Target(body);
                target["project_id"] = target["tenant_id"] = project;
                NeutronPolicy.Enforce(http, "create", "floatingip", body, target, Defaults);
                var address = Address(body, "floating_ip_address");
                var subnetId = Uuid(body, "subnet_id");
                var network = await NetworksApi.FindAsync(http, db, networkId, ct);
                if (!network.External) throw RoutersApi.Bad("floatingip", $"Network {networkId} is not a valid external network");
                if (!await db.Subnets.AnyAsync(s => s.NetworkId == networkId && s.IpVersion == 4, ct))
                    throw RoutersApi.Bad("floatingip", $"Network {networkId} does not contain any IPv4 subnet");
                var f = new FloatingIpRow
                {
                    Id = Guid.NewGuid().ToString(), ProjectId = project, FloatingNetworkId = networkId, FloatingIpAddress = "", FloatingPortId = "",
                    Description = Standard.Text(body, "description") ?? "", Status = "DOWN", CreatedAt = now, UpdatedAt = now, RevisionNumber = 0,
                };
                JsonArray? fixedIps = null;
                if (address is not null || subnetId is not null)
                {
                    var ip = new JsonObject();
                    if (subnetId is not null) ip["subnet_id"] = subnetId;
                    if (address is not null) ip["ip_address"] = address;
                    fixedIps = [ip];
                }
                // The port that holds the address belongs to no project; the floating IP is its device.
                var port = await PortsApi.NewServicePortAsync(db, options, network, "", f.Id, PortsApi.FloatingIp, fixedIps, now, ct, status: "N/A");
                var v4 = db.IpAllocations.Local.Where(a => a.PortId == port.Id && !a.IpAddress.Contains(':')).FirstOrDefault()
                    ?? throw new OpenStackError(400, "ExternalIpAddressExhausted", $"Unable to find any IP address on external network {networkId}.");
                f.FloatingIpAddress = v4.IpAddress;
                f.FloatingPortId = port.Id;
                await AssociateAsync(http, db, f, body, ct);
                db.FloatingIps.Add(f);
                created.Add(f);
            }
            if (!await RacedSave.SaveAsync(db, attempt < Attempts, () => NeutronErrors.Conflict("IpAddressGenerationFailure", $"No more IP addresses available on network {created[0].FloatingNetworkId}."), ct)) continue;
            foreach (var f in created) await NotifyAsync(db, nova, f.FixedPortId, ct);
            var views = (await ViewsAsync(db, created, ct)).Select(v => Shown(http, v)).ToList();
            return bulk
                ? new JsonResponse(new JsonObject { ["floatingips"] = new JsonArray([.. views]) }, 201)
                : FloatingIps.Show(http, views[0], 201);
        }
    }

    /// <summary>
    /// Applies the body's association as Neutron does: <c>port_id</c> (with an optional
    /// <c>fixed_ip_address</c>) associates through a router whose gateway is on the floating network,
    /// <c>port_id: null</c> dissociates, and a body without <c>port_id</c> re-checks the current one.
    /// </summary>
    static async Task AssociateAsync(HttpContext http, NetworkDb db, FloatingIpRow f, JsonObject body, CancellationToken ct)
    {
        var portId = Uuid(body, "port_id");
        var fixedIp = Address(body, "fixed_ip_address");
        if (fixedIp is not null && portId is null) throw RoutersApi.Bad("floatingip", "fixed_ip_address cannot be specified without a port_id");
        if (portId is null && !body.ContainsKey("port_id") && f.FixedPortId is not null)
        {
            portId = f.FixedPortId;
            fixedIp ??= f.FixedIpAddress;
        }
        if (portId is null)
        {
            f.FixedPortId = f.FixedIpAddress = f.RouterId = null;
            return;
        }
        var caller = http.Caller();
        var (port, _) = await PortsApi.FindAsync(http, db, portId, ct);
        if (port.ProjectId != f.ProjectId && !caller.IsAdmin)
            throw RoutersApi.Bad("floatingip", $"Cannot process floating IP association with Port {portId}, since that port is owned by a different tenant");
        if (port.DeviceOwner == "network:dhcp") throw RoutersApi.Bad("floatingip", $"Port {portId} is unable to be assigned a floating IP");
        var ips = await db.IpAllocations.AsNoTracking().Where(a => a.PortId == portId).ToListAsync(ct);
        IpAllocation internalIp;
        if (fixedIp is not null)
        {
            if (fixedIp.Contains(':'))
                throw RoutersApi.Bad("floatingip", $"Cannot process floating IP association with {fixedIp}, since that is not an IPv4 address");
            internalIp = ips.FirstOrDefault(a => a.IpAddress == fixedIp)
                ?? throw RoutersApi.Bad("floatingip", $"Port {portId} does not have fixed ip {fixedIp}");
        }
        else
        {
            var v4 = ips.Where(a => !a.IpAddress.Contains(':')).ToList();
            if (v4.Count == 0) throw RoutersApi.Bad("floatingip", $"Cannot add floating IP to port {portId} that has no fixed IPv4 addresses");
            if (v4.Count > 1)
                throw RoutersApi.Bad("floatingip", $"Port {portId} has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP");
            internalIp = v4[0];
        }
        var routerId = await RouterForAsync(db, port, internalIp.SubnetId, f.FloatingNetworkId, ct);
        if (portId != f.FixedPortId || internalIp.IpAddress != f.FixedIpAddress)
            if (await db.FloatingIps.AnyAsync(o => o.Id != f.Id && o.FixedPortId == portId && o.FloatingNetworkId == f.FloatingNetworkId && o.FixedIpAddress == internalIp.IpAddress, ct))
                throw NeutronErrors.Conflict("FloatingIPPortAlreadyAssociated",
                    $"Cannot associate floating IP {f.FloatingIpAddress} ({f.Id}) with port {portId} using fixed IP {internalIp.IpAddress}, as that fixed IP already has a floating IP on external network {f.FloatingNetworkId}.");
        f.FixedPortId = portId;
        f.FixedIpAddress = internalIp.IpAddress;
        f.RouterId = routerId;
    }

    /// <summary>
    /// The router that joins the port's subnet to the floating network: one with an interface on that
    /// subnet and its gateway on that network, the one whose interface is the subnet's gateway first.
    /// </summary>
    static async Task<string> RouterForAsync(NetworkDb db, PortRow port, string subnetId, string externalNetworkId, CancellationToken ct)
    {
        var candidates = await (
            from p in db.Ports
            join a in db.IpAllocations on p.Id equals a.PortId
            join g in db.Ports on p.DeviceId equals g.DeviceId
            where p.NetworkId == port.NetworkId && p.DeviceOwner == PortsApi.RouterInterface && a.SubnetId == subnetId
                && g.NetworkId == externalNetworkId && g.DeviceOwner == PortsApi.RouterGateway
            orderby p.CreatedAt
            select new { RouterId = p.DeviceId, a.IpAddress }).AsNoTracking().ToListAsync(ct);
        var gateway = (await db.Subnets.AsNoTracking().SingleAsync(s => s.Id == subnetId, ct)).GatewayIp;
        return candidates.FirstOrDefault(c => c.IpAddress == gateway)?.RouterId ?? candidates.FirstOrDefault()?.RouterId
            ?? throw new OpenStackError(404, "ExternalGatewayForFloatingIPNotFound",
                $"External network {externalNetworkId} is not reachable from subnet {subnetId}.  Therefore, cannot associate Port {port.Id} with a Floating IP.");
    }

    static async Task<IResult> UpdateAsync(string id, HttpContext http, NetworkDb db, NovaNotifier nova, TimeProvider time, CancellationToken ct)
    {
        var body = await FloatingIps.ReadUpdateAsync(http.Request, ct);
        var f = await FindAsync(http, db, id, ct);
        NeutronPolicy.Enforce(http, "update", "floatingip", body, Target(f));
        var before = f.FixedPortId;
        await AssociateAsync(http, db, f, body, ct);
        if (body.ContainsKey("description")) f.Description = Standard.Text(body, "description") ?? "";
        Standard.Touch(f, time.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync(ct);
        await NotifyAsync(db, nova, f.FixedPortId ?? before, ct);
        return FloatingIps.Show(http, Shown(http, (await ViewsAsync(db, [f], ct))[0]));
    }

    static async Task<IResult> DeleteAsync(string id, HttpContext http, NetworkDb db, NovaNotifier nova, CancellationToken ct)
    {
        var f = await FindAsync(http, db, id, ct);
        NeutronPolicy.Enforce(http, "delete_floatingip", Target(f));
        if (await db.Ports.FindAsync([f.FloatingPortId], ct) is { } port) await PortsApi.RemoveAsync(db, port, ct);
        await Tags.RemoveAsync(db, id, ct);
        db.FloatingIps.Remove(f);
        await db.SaveChangesAsync(ct);
        await NotifyAsync(db, nova, f.FixedPortId, ct);
        return Results.NoContent();
    }

    /// <summary>Neutron's nova notifier on a floating IP's create, update or delete: <c>network-changed</c> for the server's port it concerns.</summary>
    static async Task NotifyAsync(NetworkDb db, NovaNotifier nova, string? portId, CancellationToken ct)
    {
        if (portId is null) return;
        if (nova.ForNetworkChange(await db.Ports.AsNoTracking().FirstOrDefaultAsync(p => p.Id == portId, ct)) is { } e) _ = nova.SendAsync([e], CancellationToken.None);
    }

    static async Task<IResult> PoolsAsync(HttpContext http, NetworkDb db, CancellationToken ct)
    {
        var caller = http.Caller();
        var external = await NetworksApi.Visible(db, caller).AsNoTracking().Where(n => n.External).Select(n => n.Id).ToListAsync(ct);
        var subnets = await db.Subnets.AsNoTracking().Where(s => external.Contains(s.NetworkId) && s.IpVersion == 4)
            .OrderBy(s => s.CreatedAt).ThenBy(s => s.Id).ToListAsync(ct);
        var views = subnets.Select(s => new JsonObject
        {
            ["subnet_id"] = s.Id, ["subnet_name"] = s.Name, ["tenant_id"] = caller.ProjectId, ["network_id"] = s.NetworkId, ["cidr"] = s.Cidr,
        }).Where(v => NeutronPolicy.CanSee(http, "floatingip_pool", new Dictionary<string, string?> { ["project_id"] = caller.ProjectId, ["tenant_id"] = caller.ProjectId }));
        return PoolsList(http, views);
    }

    // Pools have no id: Collection's paging needs one, so they list whole (Neutron pages them by subnet).
    static IResult PoolsList(HttpContext http, IEnumerable<JsonObject> views) =>
        new JsonResponse(new JsonObject { ["floatingip_pools"] = new JsonArray([.. views.Select(v => (JsonNode)Collection.Fields(v, http.Request.Query["fields"]))]) });
}
