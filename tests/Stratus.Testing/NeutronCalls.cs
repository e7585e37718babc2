using System.Net;
using System.Text.Json.Nodes;

namespace Stratus.Testing;

/// <summary>What the network service's tests share: unique names, and a call expected to end with a status (and Neutron's error type).</summary>
public static class NeutronCalls
{
    public static string Name(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

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
