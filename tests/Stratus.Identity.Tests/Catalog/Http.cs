using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Stratus.Identity.Tests.Catalog;

/// <summary>Short request helpers for the catalog tests: status plus parsed body.</summary>
static class Http
{
    public static async Task<(HttpStatusCode Status, JsonObject? Body)> Send(this HttpClient client, HttpMethod method, string path, string? json = null)
    {
        using var req = new HttpRequestMessage(method, path);
        if (json is not null) req.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var resp = await client.SendAsync(req);
        var text = await resp.Content.ReadAsStringAsync();
        return (resp.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text) as JsonObject);
    }

    public static Task<(HttpStatusCode Status, JsonObject? Body)> Get(this HttpClient c, string path) => c.Send(HttpMethod.Get, path);
    public static Task<(HttpStatusCode Status, JsonObject? Body)> Post(this HttpClient c, string path, string json) => c.Send(HttpMethod.Post, path, json);
    public static Task<(HttpStatusCode Status, JsonObject? Body)> Put(this HttpClient c, string path, string? json = null) => c.Send(HttpMethod.Put, path, json);
    public static Task<(HttpStatusCode Status, JsonObject? Body)> Patch(this HttpClient c, string path, string json) => c.Send(HttpMethod.Patch, path, json);
    public static Task<(HttpStatusCode Status, JsonObject? Body)> Delete(this HttpClient c, string path) => c.Send(HttpMethod.Delete, path);
    public static Task<(HttpStatusCode Status, JsonObject? Body)> Head(this HttpClient c, string path) => c.Send(HttpMethod.Head, path);

    public static string Str(this JsonNode? node, string name) => node![name]!.GetValue<string>();

    public static List<string> Ids(this JsonObject? body, string collection) =>
        body![collection]!.AsArray().Select(i => i!["id"]!.GetValue<string>()).ToList();

    public static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>Keystone's error body: the code inside matches the status.</summary>
    public static void AssertError(HttpStatusCode expected, (HttpStatusCode Status, JsonObject? Body) r, string? messageContains = null)
    {
        Assert.Equal(expected, r.Status);
        var error = r.Body!["error"]!;
        Assert.Equal((int)expected, error["code"]!.GetValue<int>());
        if (messageContains is not null) Assert.Contains(messageContains, error.Str("message"));
    }
}
