using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Stratus.Compute.Network;

namespace Stratus.Compute.Api;

/// <summary>
/// Nova's proxy to the network service's floating IPs, as the caller (nova.network.neutron): up to 2.35
/// <c>/os-floating-ips</c> (the project's, allocated from a pool: an external network by name or id) and
/// <c>/os-floating-ip-pools</c>; up to 2.43 the <c>addFloatingIp</c> / <c>removeFloatingIp</c> server actions,
/// which associate an address with the port of one of the server's fixed IPs. Neutron's errors as Nova words them.
/// </summary>
public static class FloatingIpsApi
{
    const string Rule = "os_compute_api:os-floating-ips:";

    /// <summary>The newest version with the floating IP server actions.</summary>
    const int MaxActions = 43;

    public static RouteGroupBuilder MapFloatingIps(this RouteGroupBuilder v21)
    {
        var fips = v21.MapGroup("/os-floating-ips").UpTo(Microversion.MaxProxy);
        fips.MapGet("", ListAsync).RequirePolicy(Rule + "list");
        fips.MapPost("", CreateAsync).RequirePolicy(Rule + "create");
        fips.MapGet("/{id}", ShowAsync).RequirePolicy(Rule + "show");
        fips.MapDelete("/{id}", DeleteAsync).RequirePolicy(Rule + "delete");
        v21.MapGet("/os-floating-ip-pools", PoolsAsync).UpTo(Microversion.MaxProxy).RequirePolicy("os_compute_api:os-floating-ip-pools");
        return v21;
    }

    static JsonObject View(JsonObject fip, JsonObject? network) => new()
    {
        ["id"] = (string?)fip["id"],
        ["ip"] = (string?)fip["floating_ip_address"],
        ["pool"] = (string?)network?["name"] is { Length: > 0 } name ? name : (string?)fip["floating_network_id"],
        ["fixed_ip"] = (string?)fip["fixed_ip_address"],
        ["instance_id"] = (string?)fip["port_details"]?["device_id"],
    };

    static async Task<IResult> ListAsync(HttpContext http, NeutronClient neutron, CancellationToken ct)
    {
        var caller = http.Caller();
        var fips = await neutron.ListAsync("floatingips", "tenant_id=" + Uri.EscapeDataString(caller.ProjectId ?? ""), caller.Token, ct).OrUnexpected();
        var networkIds = fips.Select(f => (string?)f["floating_network_id"]).OfType<string>().Distinct().ToList();
        var networks = networkIds.Count == 0 ? new Dictionary<string, JsonObject>()
            : (await neutron.ListAsync("networks", string.Join('&', networkIds.Select(n => "id=" + Uri.EscapeDataString(n))), caller.Token, ct).OrUnexpected())
                .ToDictionary(n => (string)n["id"]!);
        return new JsonResponse(new JsonObject
        {
            ["floating_ips"] = new JsonArray([.. fips.Select(f => (JsonNode)View(f, networks.GetValueOrDefault((string)f["floating_network_id"]!)))]),
        });
    }

    static async Task<IResult> ShowAsync(string id, HttpContext http, NeutronClient neutron, CancellationToken ct)
    {
        var caller = http.Caller();
        var fip = await GetAsync(neutron, id, caller.Token, ct);
        return new JsonResponse(new JsonObject { ["floating_ip"] = View(fip, await NetworkAsync(neutron, fip, caller.Token, ct)) });
    }

    static async Task<IResult> CreateAsync(HttpContext http, NeutronClient neutron, NovaOptions options, CancellationToken ct)
    {
        var caller = http.Caller();
        var body = http.Request.ContentLength is null or > 0 ? await JsonBody.ReadObjectAsync(http.Request, ct) : [];
        var pool = body["pool"] is { } p ? p.GetValueKind() == JsonValueKind.String ? (string)p! : p.ToJsonString() : null;
        var poolName = string.IsNullOrEmpty(pool) ? options.DefaultFloatingPool : pool;
        var query = "router:external=True&fields=id&" + (Guid.TryParse(poolName, out _) ? "id=" : "name=") + Uri.EscapeDataString(poolName);
        var poolId = await neutron.ListAsync("networks", query, caller.Token, ct).OrUnexpected() switch
        {
            [var one] => (string)one["id"]!,
            [] => throw OpenStackError.NotFound("Floating IP pool not found."),
            _ => throw new OpenStackError(500, "Internal Server Error", $"Multiple floating IP pools matches found for name '{poolName}'"),
        };
        JsonObject fip;
        try
        {
            fip = (await neutron.SendAsync(HttpMethod.Post, "/v2.0/floatingips", new JsonObject
            {
                ["floatingip"] = new JsonObject { ["floating_network_id"] = poolId },
            }, caller.Token, ct))?["floatingip"] as JsonObject ?? throw OpenStackError.NotFound("Floating IP pool not found.");
        }
        catch (NeutronException e) when (e.Type is "IpAddressGenerationFailure" or "ExternalIpAddressExhausted")
        {
            throw OpenStackError.NotFound(pool is { Length: > 0 } ? $"No more floating IPs in pool {pool}." : "No more floating IPs available.");
        }
        catch (NeutronException e) when (e.Type == "OverQuota")
        {
            throw OpenStackError.Forbidden(pool is { Length: > 0 } ? $"IP allocation over quota in pool {pool}." : "IP allocation over quota.");
        }
        catch (NeutronException e) when (e.Status == 400)
        {
            throw OpenStackError.BadRequest(e.Message);
        }
        catch (NeutronException e)
        {
            throw e.Unexpected();
        }
        return new JsonResponse(new JsonObject { ["floating_ip"] = View(fip, await NetworkAsync(neutron, fip, caller.Token, ct)) });
    }

    static async Task<IResult> DeleteAsync(string id, HttpContext http, NeutronClient neutron, CancellationToken ct)
    {
        var caller = http.Caller();
        var fip = await GetAsync(neutron, id, caller.Token, ct);
        if (await neutron.SendAsync(HttpMethod.Delete, $"/v2.0/floatingips/{id}", null, caller.Token, ct).OrUnexpected() is null)
            throw OpenStackError.NotFound($"Floating IP not found for address {(string?)fip["floating_ip_address"]}.");
        return Results.StatusCode(202);
    }

    static async Task<IResult> PoolsAsync(HttpContext http, NeutronClient neutron, CancellationToken ct)
    {
        var caller = http.Caller();
        var pools = await neutron.ListAsync("networks", "router:external=True", caller.Token, ct).OrUnexpected();
        return new JsonResponse(new JsonObject
        {
            ["floating_ip_pools"] = new JsonArray([.. pools.Select(n => (JsonNode)new JsonObject
            {
                ["name"] = (string?)n["name"] is { Length: > 0 } name ? name : (string?)n["id"],
            })]),
        });
    }

    // ---- the server actions (2.1-2.43)

    /// <summary>addFloatingIp: the address associated with the port of the fixed IP asked for, else of the server's first IPv4 address.</summary>
    internal static async Task<IResult> AddToServerAsync(Instance instance, JsonNode? args, HttpContext http, NeutronClient neutron, CancellationToken ct)
    {
        if (Microversion.Of(http).AtLeast(MaxActions + 1)) throw Microversion.NotInVersion();
        var caller = http.Caller();
        var body = ActionBody("addFloatingIp", args, "address", "fixed_address");
        var address = Address(body, "address")!;
        var fixedAddress = Address(body, "fixed_address");
        var vifs = ServerNetworks.Vifs(instance.NetworkInfoJson);
        if (vifs.Count == 0) throw OpenStackError.BadRequest("Instance network is not ready yet");
        var fixedIps = vifs.SelectMany(v => v.Addresses.Select(a => (Vif: v, a.Address))).ToList();
        if (fixedIps.Count == 0) throw OpenStackError.BadRequest("No fixed IPs associated to instance");
        var target = fixedAddress is not null
            ? fixedIps.FirstOrDefault(f => f.Address == fixedAddress) is { Vif: not null } match ? match
                : throw OpenStackError.BadRequest("Specified fixed address not assigned to instance")
            : fixedIps.FirstOrDefault(f => !f.Address.Contains(':')) is { Vif: not null } v4 ? v4
                : throw OpenStackError.BadRequest($"Unable to associate floating IP {address} to any fixed IPs for instance {instance.Uuid}. " +
                    "Instance has no fixed IPv4 addresses to associate.");
        var fip = await ByAddressAsync(neutron, address, caller.Token, ct) ?? throw OpenStackError.NotFound("floating IP not found");
        try
        {
            _ = await neutron.SendAsync(HttpMethod.Put, $"/v2.0/floatingips/{(string)fip["id"]!}", new JsonObject
            {
                ["floatingip"] = new JsonObject { ["port_id"] = target.Vif.PortId, ["fixed_ip_address"] = target.Address },
            }, caller.Token, ct);
        }
        catch (NeutronException e) when (e.Status == 409)
        {
            throw OpenStackError.BadRequest(e.Message);
        }
        catch (NeutronException e) when (e.Status == 403)
        {
            throw OpenStackError.Forbidden(e.Message);
        }
        catch (NeutronException e)
        {
            throw OpenStackError.BadRequest($"Unable to associate floating IP {address} to fixed IP {target.Address} for instance {instance.Uuid}. Error: {e.Message}");
        }
        return Results.StatusCode(202);
    }

    /// <summary>removeFloatingIp: the address disassociated, when it is associated with this server (409 otherwise).</summary>
    internal static async Task<IResult> RemoveFromServerAsync(Instance instance, JsonNode? args, HttpContext http, CellDb db, NeutronClient neutron, CancellationToken ct)
    {
        if (Microversion.Of(http).AtLeast(MaxActions + 1)) throw Microversion.NotInVersion();
        var caller = http.Caller();
        var address = Address(ActionBody("removeFloatingIp", args, "address"), "address")!;
        var fip = await ByAddressAsync(neutron, address, caller.Token, ct) ?? throw OpenStackError.NotFound($"Floating IP not found for address {address}.");
        var portId = (string?)fip["port_id"];
        var device = portId is null ? null
            : (string?)(await neutron.GetAsync($"/v2.0/ports/{portId}", caller.Token, ct).OrUnexpected())?["port"]?["device_id"];
        if (device is { Length: > 0 } && device != instance.Uuid) await ComputeAccess.FindServerAsync(db, device, caller, ct);
        if (device != instance.Uuid) throw OpenStackError.Conflict($"Floating IP {address} is not associated with instance {instance.Uuid}.");
        await neutron.SendAsync(HttpMethod.Put, $"/v2.0/floatingips/{(string)fip["id"]!}", new JsonObject
        {
            ["floatingip"] = new JsonObject { ["port_id"] = null },
        }, caller.Token, ct).OrUnexpected();
        return Results.StatusCode(202);
    }

    /// <summary>The action's object, checked as Nova's schema: only <paramref name="known"/>, the first required.</summary>
    static JsonObject ActionBody(string action, JsonNode? args, params string[] known)
    {
        if (args is not JsonObject o) throw NovaBody.Invalid(action, args, "is not of type 'object'");
        o.Only(action, known);
        if (!o.ContainsKey(known[0]))
            throw OpenStackError.BadRequest($"Invalid input for field/attribute {action}. Value: {o.ToJsonString()}. '{known[0]}' is a required property");
        return o;
    }

    /// <summary>parameter_types.ip_address: an IPv4 or IPv6 address.</summary>
    static string? Address(JsonObject body, string name)
    {
        if (!body.TryGetPropertyValue(name, out var node)) return null;
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.String) throw NovaBody.Invalid(name, node, "is not of type 'string'");
        var text = (string)v!;
        var valid = IPAddress.TryParse(text, out var ip) && (ip.AddressFamily == AddressFamily.InterNetworkV6 || text.Count(c => c == '.') == 3);
        return valid ? text : throw NovaBody.Invalid(name, node, "is not valid under any of the given schemas");
    }

    static async Task<JsonObject?> ByAddressAsync(NeutronClient neutron, string address, string token, CancellationToken ct) =>
        await neutron.ListAsync("floatingips", "floating_ip_address=" + Uri.EscapeDataString(address), token, ct).OrUnexpected() switch
        {
            [] => null,
            [var one] => one,
            _ => throw OpenStackError.Conflict($"Multiple floating IPs are found for address {address}."),
        };

    static async Task<JsonObject> GetAsync(NeutronClient neutron, string id, string token, CancellationToken ct) =>
        (await neutron.GetAsync($"/v2.0/floatingips/{Uri.EscapeDataString(id)}", token, ct).OrUnexpected())?["floatingip"] as JsonObject
            ?? throw OpenStackError.NotFound($"Floating IP not found for ID {id}");

    static async Task<JsonObject?> NetworkAsync(NeutronClient neutron, JsonObject fip, string token, CancellationToken ct) =>
        (await neutron.GetAsync($"/v2.0/networks/{(string)fip["floating_network_id"]!}", token, ct).OrUnexpected())?["network"] as JsonObject
            ?? throw OpenStackError.NotFound($"Network {(string?)fip["floating_network_id"]} could not be found.");
}
