using System.Globalization;
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
    const string Key = "stratus.placement.version";

    public static int Of(HttpContext http) => http.Items[Key] is int v ? v : 0;

    public static bool AtLeast(this HttpContext http, int minor) => Of(http) >= minor;

    public static async Task Middleware(HttpContext http, RequestDelegate next)
    {
        var minor = 0;
        foreach (var value in http.Request.Headers["OpenStack-API-Version"])
        {
            var parts = value?.Trim().Split(' ', 2, StringSplitOptions.TrimEntries);
            if (parts is not [var service, var v] || !service.Equals("placement", StringComparison.OrdinalIgnoreCase)) continue;
            if (v.Equals("latest", StringComparison.OrdinalIgnoreCase)) { minor = Max; continue; }
            var dot = v.Split('.');
            if (dot.Length != 2 || dot[0] != "1" || !int.TryParse(dot[1], NumberStyles.None, CultureInfo.InvariantCulture, out minor))
                throw OpenStackError.BadRequest($"invalid version string: {v}");
            if (minor > Max)
                throw new OpenStackError(406, "Not Acceptable", $"Unacceptable version header: {v}");
        }
        http.Items[Key] = minor;
        http.Response.Headers["OpenStack-API-Version"] = $"placement 1.{minor}";
        http.Response.Headers.Vary = "openstack-api-version";
        await next(http);
    }

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
