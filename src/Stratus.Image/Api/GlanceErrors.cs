using System.Text.Json;

namespace Stratus.Image.Api;

/// <summary>Glance's error body (webob's JSON form): <c>{"message": "...", "code": "404 Not Found", "title": "Not Found"}</c>.</summary>
static class GlanceErrors
{
    public static byte[] Write(OpenStackError e)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("message", e.Message);
            w.WriteString("code", $"{e.Code} {e.Title}");
            w.WriteString("title", e.Title);
            w.WriteEndObject();
        }
        return ms.ToArray();
    }
}
