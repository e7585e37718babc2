using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Stratus.BlockStorage.Tests;

/// <summary>The volume API calls the tests make, each checking its status.</summary>
static class VolumeCalls
{
    public static async Task<(int Status, JsonObject Body)> SendAsync(this HttpClient c, HttpMethod method, string path, JsonNode? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body);
        using var response = await c.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? [] : JsonNode.Parse(text)!.AsObject());
    }

    public static async Task<JsonObject> ExpectAsync(this HttpClient c, HttpMethod method, string path, int status, JsonNode? body = null)
    {
        var (code, json) = await c.SendAsync(method, path, body);
        Assert.True(code == status, $"{method} {path}: expected {status}, got {code} {json.ToJsonString()}");
        return json;
    }

    /// <summary>Creates a volume (202, creating) and waits until it leaves creating; returns it then.</summary>
    public static async Task<JsonObject> CreateVolumeAsync(this HttpClient c, JsonObject volume, string until = "available")
    {
        var created = await c.ExpectAsync(HttpMethod.Post, "volumes", 202, new JsonObject { ["volume"] = volume });
        Assert.Equal("creating", (string?)created["volume"]!["status"]);
        return await c.WaitVolumeAsync((string)created["volume"]!["id"]!, until);
    }

    public static async Task<JsonObject> WaitVolumeAsync(this HttpClient c, string id, string status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var volume = (await c.ExpectAsync(HttpMethod.Get, $"volumes/{id}", 200))["volume"]!.AsObject();
            var now = (string?)volume["status"];
            if (now == status) return volume;
            if (now is "error" or "available" or "in-use" or "error_deleting" && now != status || DateTime.UtcNow > deadline)
                Assert.Fail($"volume {id} is {now}, expected {status}");
            await Task.Delay(100);
        }
    }

    public static async Task WaitGoneAsync(this HttpClient c, string path)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await c.SendAsync(HttpMethod.Get, path)).Status != 404)
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"{path} is still there");
            await Task.Delay(100);
        }
    }

    public static async Task<JsonObject> WaitSnapshotAsync(this HttpClient c, string id, string status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var snapshot = (await c.ExpectAsync(HttpMethod.Get, $"snapshots/{id}", 200))["snapshot"]!.AsObject();
            if ((string?)snapshot["status"] == status) return snapshot;
            if (DateTime.UtcNow > deadline) Assert.Fail($"snapshot {id} is {(string?)snapshot["status"]}, expected {status}");
            await Task.Delay(100);
        }
    }

    public static JsonObject Action(string name, JsonNode? args = null) => new() { [name] = args ?? new JsonObject() };
}
