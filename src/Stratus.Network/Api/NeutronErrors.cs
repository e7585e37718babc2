using System.Text.Json;

namespace Stratus.Network.Api;

/// <summary>
/// Neutron's errors: <c>{"NeutronError": {"type": "NetworkNotFound", "message": "...", "detail": ""}}</c>.
/// The exception class Neutron raises travels as the error's title; errors raised outside the API
/// (a route nobody serves, a framework 400) carry webob's name, HTTPNotFound and the like.
/// </summary>
static class NeutronErrors
{
    public static byte[] Write(OpenStackError e)
    {
        var type = e.Title.Contains(' ') || e.Title.Length == 0 ? "HTTP" + e.Title.Replace(" ", "") : e.Title;
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteStartObject("NeutronError");
            w.WriteString("type", type);
            w.WriteString("message", e.Message);
            w.WriteString("detail", "");
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    /// <summary>NetworkNotFound, SubnetNotFound, PortNotFound...: "Network X could not be found."</summary>
    public static OpenStackError NotFound(string kind, string id) =>
        new(404, kind.Replace(" ", "") + "NotFound", $"{kind} {id} could not be found.");

    public static OpenStackError BadRequest(string message) => new(400, "HTTPBadRequest", message);

    /// <summary>neutron_lib's InvalidInput: "Invalid input for operation: ...".</summary>
    public static OpenStackError InvalidInput(string message) => new(400, "InvalidInput", $"Invalid input for operation: {message}.");

    /// <summary>A value the attribute's validator refuses: "Invalid input for {attr}. Reason: {why}."</summary>
    public static OpenStackError InvalidAttribute(string attribute, string reason) =>
        new(400, "HTTPBadRequest", $"Invalid input for {attribute}. Reason: {reason}.");

    public static OpenStackError Conflict(string type, string message) => new(409, type, message);

    public static OpenStackError PolicyNotAuthorized(string rule) => new(403, "PolicyNotAuthorized", $"({rule}) is disallowed by policy");

    public static OpenStackError InUse(string kind, string id, string what) =>
        new(409, kind + "InUse", $"Unable to complete operation on {kind.ToLowerInvariant()} {id}. {what}");
}
