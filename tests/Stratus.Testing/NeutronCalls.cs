using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Stratus.Network.DataPlane;

namespace Stratus.Testing;

/// <summary>What the network service's tests share: unique names, and a call expected to end with a status (and Neutron's error type).</summary>
public static class NeutronCalls
{
    public static string Name(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>A new network with one IPv4 subnet of <paramref name="cidr"/> (external when asked, which needs the admin).</summary>
    public static async Task<(string Network, string Subnet)> NetworkWithSubnetAsync(HttpClient client, string cidr, bool external = false)
    {
        var network = new JsonObject { ["name"] = Name(external ? "ext" : "net") };
        if (external) network["router:external"] = true;
        var n = await ExpectAsync(client.PostAsJsonAsync("v2.0/networks", new JsonObject { ["network"] = network }), HttpStatusCode.Created);
        var id = (string)n["network"]!["id"]!;
        var s = await ExpectAsync(client.PostAsJsonAsync("v2.0/subnets", new JsonObject
        {
            ["subnet"] = new JsonObject { ["network_id"] = id, ["ip_version"] = 4, ["cidr"] = cidr },
        }), HttpStatusCode.Created);
        return (id, (string)s["subnet"]!["id"]!);
    }

    /// <summary>
    /// Everything of the network service as the admin sees it deleted (floating IPs, routers and their interfaces,
    /// ports but the service's own, networks) while its agents still run, then a wait of up to 30 s for the agents
    /// to take the networks' bridges off the host: a stopping Linux bridge agent leaves them, as Neutron's does,
    /// and other nodes on this machine must not find them.
    /// </summary>
    public static async Task DeleteEverythingAsync(HttpClient admin)
    {
        async Task<IEnumerable<JsonNode>> ListAsync(string path, string key) => (await admin.GetFromJsonAsync<JsonObject>(path))![key]!.AsArray().Select(x => x!);
        foreach (var f in await ListAsync("v2.0/floatingips", "floatingips")) await admin.DeleteAsync($"v2.0/floatingips/{(string)f["id"]!}");
        foreach (var p in await ListAsync("v2.0/ports?device_owner=network:router_interface", "ports"))
            await admin.PutAsJsonAsync($"v2.0/routers/{(string)p["device_id"]!}/remove_router_interface", new JsonObject { ["port_id"] = (string)p["id"]! });
        foreach (var r in await ListAsync("v2.0/routers", "routers")) await admin.DeleteAsync($"v2.0/routers/{(string)r["id"]!}");
        foreach (var p in await ListAsync("v2.0/ports", "ports"))
            if (!((string?)p["device_owner"] ?? "").StartsWith("network:", StringComparison.Ordinal)) await admin.DeleteAsync($"v2.0/ports/{(string)p["id"]!}");
        var bridges = new List<string>();
        foreach (var n in await ListAsync("v2.0/networks", "networks"))
        {
            bridges.Add(NetworkBridges.BridgeOf((string)n["id"]!));
            await admin.DeleteAsync($"v2.0/networks/{(string)n["id"]!}");
        }
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await new HostNetwork().LinksAsync(default)).Any(l => bridges.Contains(l.Name)) && DateTime.UtcNow < deadline) await Task.Delay(500);
    }

    public static async Task<JsonObject> ExpectAsync(Task<HttpResponseMessage> request, HttpStatusCode status, string? errorType = null)
    {
        var r = await request;
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == status, $"expected {(int)status}, got {(int)r.StatusCode}: {text}");
        var body = text.Length == 0 ? [] : JsonNode.Parse(text)!.AsObject();
        if (errorType is not null) Assert.Equal(errorType, (string?)body["NeutronError"]?["type"]);
        return body;
    }
}
