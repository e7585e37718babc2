using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Stratus.Testing;

/// <summary>Clients of the services' APIs, and the JSON helpers the tests share.</summary>
public static class TestHttp
{
    /// <summary>A JSON client of <paramref name="baseUrl"/>, with a token and an <c>OpenStack-API-Version</c> ("compute 2.1") when given.</summary>
    public static HttpClient Client(string baseUrl, string? token, string? apiVersion = null)
    {
        var c = new HttpClient { BaseAddress = new Uri(baseUrl.TrimEnd('/') + "/") };
        if (token is not null) c.DefaultRequestHeaders.Add("X-Auth-Token", token);
        if (apiVersion is not null) c.DefaultRequestHeaders.Add("OpenStack-API-Version", apiVersion);
        c.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return c;
    }

    public static async Task<JsonObject> JsonAsync(this HttpResponseMessage r)
    {
        var text = await r.Content.ReadAsStringAsync();
        return JsonNode.Parse(text)?.AsObject() ?? throw new InvalidOperationException("empty body: " + (int)r.StatusCode);
    }

    public static async Task<JsonObject> PostJsonAsync(this HttpClient c, string path, JsonObject body, int expect)
    {
        var r = await c.PostAsJsonAsync(path, body);
        var text = await r.Content.ReadAsStringAsync();
        if ((int)r.StatusCode != expect) throw new InvalidOperationException($"POST {path}: {(int)r.StatusCode} {text}");
        return text.Length == 0 ? [] : JsonNode.Parse(text)!.AsObject();
    }

    public static async Task<HttpResponseMessage> PutJsonAsync(this HttpClient c, string path, JsonNode body) => await c.PutAsJsonAsync(path, body);
}
