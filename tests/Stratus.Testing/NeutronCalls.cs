using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

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
