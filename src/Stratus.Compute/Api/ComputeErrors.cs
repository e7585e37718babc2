using System.Text.Json;

namespace Stratus.Compute.Api;

/// <summary>Nova's error body: <c>{"itemNotFound": {"code": 404, "message": "..."}}</c>, keyed by the kind of fault.</summary>
static class ComputeErrors
{
    public static byte[] Write(OpenStackError e)
    {
        var key = e.Code switch
        {
            400 => "badRequest",
            401 => "unauthorized",
            403 => "forbidden",
            404 => "itemNotFound",
            405 => "badMethod",
            406 => "notAcceptable",
            409 => "conflictingRequest",
            413 => "overLimit",
            415 => "badMediaType",
            501 => "notImplemented",
            503 => "serviceUnavailable",
            _ => "computeFault",
        };
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteStartObject(key);
            w.WriteNumber("code", e.Code);
            w.WriteString("message", e.Message);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return ms.ToArray();
    }
}
