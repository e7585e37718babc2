
namespace Stratus.Identity.Api;

/// <summary>The <c>links</c> Keystone puts on every resource and collection.</summary>
public static class Links
{
    /// <summary>The identity's base URL as the client reached it (Keystone's public_endpoint default).</summary>
    public static string BaseUrl(this HttpContext http) => $"{http.Request.Scheme}://{http.Request.Host}";

    /// <summary><c>{"self": "http://host/v3/{path}"}</c>.</summary>
    public static JsonObject Self(HttpContext http, string path) => new() { ["self"] = $"{http.BaseUrl()}/v3/{path}" };

    /// <summary>A collection body: <c>{"name": [...], "links": {"self", "previous", "next"}}</c>.</summary>
    public static JsonObject Collection(HttpContext http, string name, IEnumerable<JsonNode?> items, bool truncated = false)
    {
        var self = $"{http.BaseUrl()}{http.Request.Path}{http.Request.QueryString}";
        var body = new JsonObject
        {
            [name] = new JsonArray(items.ToArray()),
            ["links"] = new JsonObject { ["self"] = self, ["previous"] = null, ["next"] = null },
        };
        if (truncated) body["truncated"] = true;
        return body;
    }

    /// <summary>Keystone's ids: uuid4 hex, 32 characters.</summary>
    public static string NewId() => Guid.NewGuid().ToString("N");
}
