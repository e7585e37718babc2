using Stratus.Compute.Network;

namespace Stratus.Compute.Api;

/// <summary>
/// Nova's proxy to the network service's networks (2.1-2.35), as the caller: <c>/os-networks</c> in
/// nova-network's shape (an id and a label; every other field null, the admin's as well) and
/// <c>/os-tenant-networks</c> (id, label and the "None" cidr Nova has answered since neutron). What only
/// nova-network could do — creating, deleting and associating networks, fixed IPs, floating IP DNS and bulk
/// floating IPs, default security group rules, virtual interfaces — is 410 Gone at every version, as in Nova.
/// </summary>
public static class NetworksApi
{
    static readonly string[] Fields = ["id", "cidr", "netmask", "gateway", "broadcast", "dns1", "dns2", "cidr_v6", "gateway_v6", "label", "netmask_v6"];

    static readonly string[] AdminFields =
    [
        "created_at", "updated_at", "deleted_at", "deleted", "injected", "bridge", "vlan", "vpn_public_address", "vpn_public_port",
        "vpn_private_address", "dhcp_start", "project_id", "host", "bridge_interface", "multi_host", "priority", "rxtx_base", "mtu",
        "dhcp_server", "enable_dhcp", "share_address",
    ];

    public static RouteGroupBuilder MapNetworks(this RouteGroupBuilder v21)
    {
        v21.MapGet("/os-networks", ListAsync).UpTo(Microversion.MaxProxy).RequirePolicy("os_compute_api:os-networks:list");
        v21.MapGet("/os-networks/{id}", ShowAsync).UpTo(Microversion.MaxProxy).RequirePolicy("os_compute_api:os-networks:show");
        v21.MapGet("/os-tenant-networks", TenantListAsync).UpTo(Microversion.MaxProxy).RequirePolicy("os_compute_api:os-tenant-networks:list");
        v21.MapGet("/os-tenant-networks/{id}", TenantShowAsync).UpTo(Microversion.MaxProxy).RequirePolicy("os_compute_api:os-tenant-networks:show");
        MapGone(v21, "POST", "/os-networks", "/os-networks/add", "/os-networks/{id}/action", "/os-tenant-networks", "/os-fixed-ips/{id}/action",
            "/os-security-group-default-rules", "/os-floating-ips-bulk");
        MapGone(v21, "DELETE", "/os-networks/{id}", "/os-tenant-networks/{id}", "/os-security-group-default-rules/{id}", "/os-floating-ip-dns/{id}",
            "/os-floating-ip-dns/{domain}/entries/{id}");
        MapGone(v21, "GET", "/os-fixed-ips/{id}", "/os-security-group-default-rules", "/os-security-group-default-rules/{id}", "/os-floating-ips-bulk",
            "/os-floating-ips-bulk/{id}", "/os-floating-ip-dns", "/os-floating-ip-dns/{domain}/entries/{id}", "/servers/{id}/os-virtual-interfaces");
        MapGone(v21, "PUT", "/os-floating-ips-bulk/{id}", "/os-floating-ip-dns/{id}", "/os-floating-ip-dns/{domain}/entries/{id}");
        return v21;
    }

    static void MapGone(RouteGroupBuilder v21, string method, params string[] paths)
    {
        foreach (var path in paths)
            v21.MapMethods(path, [method], () => { throw Gone(); });
    }

    /// <summary>webob's HTTPGone, which Nova answers for the APIs that left with nova-network.</summary>
    static OpenStackError Gone() => new(410, "Gone", "This resource is no longer available.  No forwarding address is given.");

    static async Task<IResult> ListAsync(HttpContext http, NeutronClient neutron, CancellationToken ct)
    {
        var caller = http.Caller();
        var networks = await neutron.ListAsync("networks", "", caller.Token, ct).OrUnexpected();
        return new JsonResponse(new JsonObject { ["networks"] = new JsonArray([.. networks.Select(n => (JsonNode)View(n, caller.IsAdmin))]) });
    }

    static async Task<IResult> ShowAsync(string id, HttpContext http, NeutronClient neutron, CancellationToken ct)
    {
        var caller = http.Caller();
        return new JsonResponse(new JsonObject { ["network"] = View(await GetAsync(neutron, id, caller, ct), caller.IsAdmin) });
    }

    static async Task<IResult> TenantListAsync(HttpContext http, NeutronClient neutron, CancellationToken ct)
    {
        var caller = http.Caller();
        var networks = await neutron.ListAsync("networks", "", caller.Token, ct).OrUnexpected();
        return new JsonResponse(new JsonObject { ["networks"] = new JsonArray([.. networks.Select(n => (JsonNode)TenantView(n))]) });
    }

    static async Task<IResult> TenantShowAsync(string id, HttpContext http, NeutronClient neutron, CancellationToken ct) =>
        new JsonResponse(new JsonObject { ["network"] = TenantView(await GetAsync(neutron, id, http.Caller(), ct)) });

    static async Task<JsonObject> GetAsync(NeutronClient neutron, string id, Caller caller, CancellationToken ct) =>
        (await neutron.GetAsync($"/v2.0/networks/{Uri.EscapeDataString(id)}", caller.Token, ct).OrUnexpected())?["network"] as JsonObject
            ?? throw OpenStackError.NotFound("Network not found");

    /// <summary>nova's networks.network_dict: of nova-network's thirty fields, two are left.</summary>
    static JsonObject View(JsonObject network, bool admin)
    {
        var o = new JsonObject();
        foreach (var field in admin ? [.. Fields, .. AdminFields] : Fields)
            o[field] = field switch { "id" => (string?)network["id"], "label" => (string?)network["name"], _ => null };
        return o;
    }

    static JsonObject TenantView(JsonObject network) => new()
    {
        ["id"] = (string?)network["id"], ["cidr"] = "None", ["label"] = (string?)network["name"],
    };
}
