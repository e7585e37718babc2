using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Stratus.Compute.Rpc;

namespace Stratus.Compute.Network;

/// <summary>One entry of a server create's <c>networks</c>: a network (with a fixed IP), or a port the user made.</summary>
public sealed record RequestedNetwork(string? NetworkId, string? PortId, string? FixedIp)
{
    /// <summary>The create's security groups (ids) for the port made on the network; none leaves the project's default to the network service.</summary>
    public IReadOnlyList<string>? SecurityGroups { get; init; }
}

/// <summary>
/// One NIC of a server as Nova's network info cache keeps it: its port, network, MAC and addresses,
/// the tap device and bridge on the host (os-vif's linux_bridge plugin), and whether the port was the
/// user's (kept, unbound, when the server goes) or Nova's (deleted with it).
/// </summary>
public sealed record Vif(string PortId, string NetworkId, string NetworkName, string MacAddress, IReadOnlyList<VifAddress> Addresses,
    bool PreserveOnDelete, int? Mtu)
{
    /// <summary>The port was ACTIVE when it was bound: no network-vif-plugged will come for it (Nova's vif['active']).</summary>
    public bool Active { get; init; }

    /// <summary>Nova's tap name: "tap" and the port id's first 11 characters, as the Linux bridge agent expects.</summary>
    public string TapDevice => "tap" + PortId[..Math.Min(11, PortId.Length)];

    /// <summary>The Linux bridge agent's bridge for the network: "brq" and the network id's first 11 characters.</summary>
    public string Bridge => "brq" + NetworkId[..Math.Min(11, NetworkId.Length)];
}

/// <summary>A fixed address of a NIC with what its subnet tells the guest (network_data.json, DHCP): prefix, gateway, DNS servers.</summary>
public sealed record VifAddress(string Address, int Version, string SubnetId)
{
    public string? Cidr { get; init; }
    public string? Gateway { get; init; }
    // The generated JSON reader sets every init property, to null when the JSON lacks it (an info cache an older release wrote).
    public IReadOnlyList<string> DnsServers { get; init => field = value ?? []; } = [];

    /// <summary>The floating IPs associated with this address, as the network service last told (network-changed).</summary>
    public IReadOnlyList<string> FloatingIps { get; init => field = value ?? []; } = [];
}

/// <summary>Nova's network API for servers: what a create asks for, checked as the user; ports made, bound and removed as the service.</summary>
public static class ServerNetworks
{
    public static string ToJson(IReadOnlyList<RequestedNetwork> requested) => JsonSerializer.Serialize(requested, ComputeRpcJson.Default.IReadOnlyListRequestedNetwork);
    public static string ToJson(IReadOnlyList<Vif> vifs) => JsonSerializer.Serialize(vifs, ComputeRpcJson.Default.IReadOnlyListVif);

    public static IReadOnlyList<RequestedNetwork> Requested(string? json) =>
        string.IsNullOrEmpty(json) ? [] : JsonSerializer.Deserialize(json, ComputeRpcJson.Default.IReadOnlyListRequestedNetwork) ?? [];

    public static IReadOnlyList<Vif> Vifs(string? json) =>
        string.IsNullOrEmpty(json) ? [] : JsonSerializer.Deserialize(json, ComputeRpcJson.Default.IReadOnlyListVif) ?? [];

    /// <summary>
    /// The server's <c>addresses</c> as Nova builds them from its info cache: per network name, its fixed
    /// addresses and then its floating ones, each with its version, and with type and MAC (OS-EXT-IPS:type,
    /// OS-EXT-IPS-MAC:mac_addr) where the view is <paramref name="extended"/> (not in /ips, nor in PUT's and
    /// rebuild's answers before 2.75).
    /// </summary>
    public static JsonObject Addresses(string? networkInfoJson, bool extended = true)
    {
        var result = new JsonObject();
        var vifs = Vifs(networkInfoJson);
        var all = vifs.SelectMany(v => v.Addresses.Select(a => (Vif: v, a.Address, Type: "fixed")))
            .Concat(vifs.SelectMany(v => v.Addresses.SelectMany(a => a.FloatingIps.Select(f => (Vif: v, Address: f, Type: "floating")))));
        foreach (var (vif, address, type) in all)
        {
            if (result[vif.NetworkName] is not JsonArray list) result[vif.NetworkName] = list = [];
            var entry = new JsonObject { ["version"] = address.Contains(':') ? 6 : 4, ["addr"] = address };
            if (extended)
            {
                entry["OS-EXT-IPS:type"] = type;
                entry["OS-EXT-IPS-MAC:mac_addr"] = vif.MacAddress;
            }
            list.Add(entry);
        }
        return result;
    }

    /// <summary>
    /// A create's <c>networks</c> checked with the user's token, as nova.network.neutron's
    /// validate_networks does: "none" or nothing is no NIC; "auto" (and, before 2.37, nothing) is the
    /// project's one network; a list names networks (with a fixed IP) or free ports.
    /// </summary>
    public static async Task<IReadOnlyList<RequestedNetwork>> CheckAsync(JsonObject body, bool required, Caller caller, NeutronClient neutron, CancellationToken ct)
    {
        var networks = body["networks"];
        if (networks is null)
        {
            if (required) throw OpenStackError.BadRequest("Invalid input for field/attribute server. 'networks' is a required property");
            return [];
        }
        if (networks is JsonValue s && s.GetValueKind() == JsonValueKind.String)
        {
            var value = (string)s!;
            if (!required || value is not ("none" or "auto")) throw OpenStackError.BadRequest($"Invalid input for field/attribute networks. Value: {value}.");
            return value == "none" ? [] : [await AutoAsync(caller, neutron, ct)];
        }
        if (networks is not JsonArray list || list.Count == 0 && required) throw OpenStackError.BadRequest("Invalid input for field/attribute networks.");
        var result = new List<RequestedNetwork>();
        foreach (var entry in list)
        {
            if (entry is not JsonObject o) throw OpenStackError.BadRequest("Bad networks format");
            var netId = (string?)o["uuid"];
            var portId = (string?)o["port"];
            var fixedIp = (string?)o["fixed_ip"];
            if (netId is null && portId is null) throw OpenStackError.BadRequest("Bad networks format: network uuid is not in proper format ()");
            if (netId is not null && !Guid.TryParse(netId, out _)) throw OpenStackError.BadRequest($"Bad networks format: network uuid is not in proper format ({netId})");
            if (fixedIp is not null && !(IPAddress.TryParse(fixedIp, out var ip) && (ip.AddressFamily == AddressFamily.InterNetworkV6 || fixedIp.Count(c => c == '.') == 3)))
                throw OpenStackError.BadRequest($"Invalid fixed IP address ({fixedIp})");
            try
            {
                if (portId is not null)
                {
                    var port = (await neutron.GetAsync($"/v2.0/ports/{Uri.EscapeDataString(portId)}", caller.Token, ct))?["port"]
                        ?? throw OpenStackError.BadRequest($"Port id {portId} could not be found.");
                    if ((string?)port["device_id"] is { Length: > 0 }) throw OpenStackError.Conflict($"Port {portId} is still in use.");
                    result.Add(new RequestedNetwork((string?)port["network_id"], portId, null));
                    continue;
                }
                _ = (await neutron.GetAsync($"/v2.0/networks/{netId}", caller.Token, ct))?["network"]
                    ?? throw OpenStackError.BadRequest($"Network {netId} could not be found.");
                result.Add(new RequestedNetwork(netId, null, fixedIp));
            }
            catch (NeutronException e)
            {
                throw OpenStackError.BadRequest($"Networks were requested, but the network service could not check them: {e.Message}");
            }
        }
        return result;
    }

    /// <summary>Nova's "auto": the one network the project can use (its own, else a shared one); 400 when there is none to choose.</summary>
    static async Task<RequestedNetwork> AutoAsync(Caller caller, NeutronClient neutron, CancellationToken ct)
    {
        try
        {
            var own = (await neutron.ListAsync("networks", $"project_id={caller.ProjectId}&router:external=False", caller.Token, ct)).ToList();
            var candidates = own.Count > 0 ? own : await neutron.ListAsync("networks", "shared=True&router:external=False", caller.Token, ct);
            return candidates.Count switch
            {
                1 => new RequestedNetwork((string)candidates[0]["id"]!, null, null),
                0 => throw OpenStackError.BadRequest($"Unable to automatically allocate a network for project {caller.ProjectId}"),
                _ => throw OpenStackError.Conflict("Multiple possible networks found, use a Network ID to be more specific."),
            };
        }
        catch (NeutronException e)
        {
            throw OpenStackError.BadRequest($"Unable to automatically allocate a network for project {caller.ProjectId}: {e.Message}");
        }
    }

    /// <summary>
    /// The agent's allocate_for_instance: a port per requested network (made as the service, for the
    /// server's project), or the user's port taken over, each bound to this host. A port the network
    /// service could not bind fails the build with Nova's PortBindingFailed; what was made is undone.
    /// </summary>
    public static async Task<IReadOnlyList<Vif>> AllocateAsync(NeutronClient neutron, string uuid, string projectId, string host, string zone,
        IReadOnlyList<RequestedNetwork> requested, CancellationToken ct)
    {
        var vifs = new List<Vif>();
        try
        {
            foreach (var r in requested)
            {
                var binding = new JsonObject { ["device_id"] = uuid, ["device_owner"] = "compute:" + zone, ["binding:host_id"] = host };
                JsonNode? port;
                if (r.PortId is not null)
                    port = (await neutron.SendAsync(HttpMethod.Put, $"/v2.0/ports/{r.PortId}", new JsonObject { ["port"] = binding }, null, ct))?["port"];
                else
                {
                    binding["network_id"] = r.NetworkId;
                    binding["tenant_id"] = projectId;
                    if (r.FixedIp is not null) binding["fixed_ips"] = new JsonArray(new JsonObject { ["ip_address"] = r.FixedIp });
                    if (r.SecurityGroups is { Count: > 0 } groups) binding["security_groups"] = new JsonArray([.. groups.Select(g => (JsonNode)g)]);
                    port = (await neutron.SendAsync(HttpMethod.Post, "/v2.0/ports", new JsonObject { ["port"] = binding }, null, ct))?["port"];
                }
                if (port is null) throw new NeutronException(404, "PortNotFound", $"Port {r.PortId} could not be found.");
                var network = (await neutron.GetAsync($"/v2.0/networks/{(string)port["network_id"]!}", null, ct))?["network"];
                var addresses = new List<VifAddress>();
                foreach (var ip in (port["fixed_ips"] as JsonArray ?? []).OfType<JsonObject>())
                {
                    var subnetId = (string)ip["subnet_id"]!;
                    var subnet = (await neutron.GetAsync($"/v2.0/subnets/{subnetId}", null, ct))?["subnet"];
                    var address = (string)ip["ip_address"]!;
                    addresses.Add(new VifAddress(address, address.Contains(':') ? 6 : 4, subnetId)
                    {
                        Cidr = (string?)subnet?["cidr"],
                        Gateway = (string?)subnet?["gateway_ip"],
                        DnsServers = [.. (subnet?["dns_nameservers"] as JsonArray ?? []).Select(d => (string?)d).OfType<string>()],
                    });
                }
                var vif = new Vif((string)port["id"]!, (string)port["network_id"]!, (string?)network?["name"] ?? "", (string)port["mac_address"]!,
                    addresses, PreserveOnDelete: r.PortId is not null, Mtu: (int?)network?["mtu"])
                { Active = (string?)port["status"] == "ACTIVE" };
                vifs.Add(vif);
                if ((string?)port["binding:vif_type"] == "binding_failed")
                    throw new PortBindingFailedException(vif.PortId);
            }
            return vifs;
        }
        catch
        {
            await DeallocateAsync(neutron, vifs, CancellationToken.None);
            throw;
        }
    }

    /// <summary>The floating IPs of a port by the fixed address they go to, as the network service has them (asked as the service).</summary>
    public static async Task<ILookup<string, string>> FloatingIpsOfAsync(NeutronClient neutron, string portId, CancellationToken ct) =>
        (await neutron.ListAsync("floatingips", "port_id=" + Uri.EscapeDataString(portId), null, ct))
            .Where(f => f["fixed_ip_address"] is not null && f["floating_ip_address"] is not null)
            .ToLookup(f => (string)f["fixed_ip_address"]!, f => (string)f["floating_ip_address"]!);

    /// <summary>The NICs with <paramref name="portId"/>'s addresses given their floating IPs (Nova's info cache refreshed on network-changed).</summary>
    public static IReadOnlyList<Vif> WithFloatingIps(IReadOnlyList<Vif> vifs, string portId, ILookup<string, string> floating) =>
        [.. vifs.Select(v => v.PortId != portId ? v : v with { Addresses = [.. v.Addresses.Select(a => a with { FloatingIps = [.. floating[a.Address]] })] })];

    /// <summary>The agent's deallocate_for_instance: Nova's ports deleted, the user's unbound and freed for another server.</summary>
    public static async Task DeallocateAsync(NeutronClient neutron, IReadOnlyList<Vif> vifs, CancellationToken ct)
    {
        foreach (var vif in vifs) await ReleaseAsync(neutron, vif.PortId, vif.PreserveOnDelete, ct);
    }

    /// <summary>
    /// A deleted server's ports as nova's deallocate_for_instance finds them: the network service's ports of the
    /// server, not only its info cache, so a port a build made while the delete was on its way goes too. The
    /// user's (<paramref name="userPorts"/>, and the cache's preserved ones) are unbound, the others deleted.
    /// </summary>
    public static async Task DeallocateServerAsync(NeutronClient neutron, string uuid, IReadOnlyList<Vif> vifs, IReadOnlyCollection<string> userPorts, CancellationToken ct)
    {
        await DeallocateAsync(neutron, vifs, ct);
        List<JsonObject> left;
        try
        {
            left = await neutron.ListAsync("ports", "device_id=" + Uri.EscapeDataString(uuid), null, ct);
        }
        catch (NeutronException)
        {
            return;
        }
        foreach (var id in left.Select(p => (string?)p["id"]).OfType<string>().Where(id => vifs.All(v => v.PortId != id)))
            await ReleaseAsync(neutron, id, userPorts.Contains(id), ct);
    }

    static async Task ReleaseAsync(NeutronClient neutron, string portId, bool preserve, CancellationToken ct)
    {
        try
        {
            if (preserve)
                await neutron.SendAsync(HttpMethod.Put, $"/v2.0/ports/{portId}", new JsonObject
                {
                    ["port"] = new JsonObject { ["device_id"] = "", ["device_owner"] = "", ["binding:host_id"] = "" },
                }, null, ct);
            else await neutron.SendAsync(HttpMethod.Delete, $"/v2.0/ports/{portId}", null, null, ct);
        }
        catch (NeutronException)
        {
            // The port is gone already, or the network service is away: nothing of the guest depends on it any more.
        }
    }
}

/// <summary>Nova's PortBindingFailed, worded as the seed's log shows it (section 6).</summary>
public sealed class PortBindingFailedException(string portId)
    : Exception($"PortBindingFailed: Binding failed for port {portId}, please check neutron logs for more information.")
{
    public string PortId { get; } = portId;
}
