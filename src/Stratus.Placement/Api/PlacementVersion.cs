using System.Text.Json;

namespace Stratus.Placement.Api;

/// <summary>
/// Placement's microversion: <c>OpenStack-API-Version: placement 1.x</c> (1.0 when absent, "latest" for
/// 1.39; 406 outside), echoed on every response with <c>Vary</c>; and placement's error body
/// (<c>{"errors": [{"status", "title", "detail", "code", "request_id"}]}</c>).
/// </summary>
public static class PlacementVersion
{
    public const int Max = 39;

    public static readonly Microversions Scheme = new("placement", new ApiVersionRequest(1, 0), new ApiVersionRequest(1, Max))
    {
        Vary = "openstack-api-version",
        InvalidFormat = text => $"invalid version string: {text}",
        NotAcceptable = text => $"Unacceptable version header: {text}",
    };

    public static bool AtLeast(this HttpContext http, int minor) => Scheme.Of(http).AtLeast(minor);

    public static Task Middleware(HttpContext http, RequestDelegate next) => Scheme.Middleware(http, next);

    public static byte[] WriteError(OpenStackError e)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteStartArray("errors");
            w.WriteStartObject();
            w.WriteNumber("status", e.Code);
            w.WriteString("title", e.Title);
            w.WriteString("detail", e.Message);
            w.WriteString("code", e.Headers.TryGetValue("X-Placement-Code", out var code) ? code : "placement.undefined_code");
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    /// <summary>A 409 with one of placement's error codes (placement.concurrent_update, placement.inventory.inuse...).</summary>
    public static OpenStackError Conflict(string message, string code = "placement.undefined_code")
    {
        var e = OpenStackError.Conflict(message);
        e.Headers["X-Placement-Code"] = code;
        return e;
    }
}
