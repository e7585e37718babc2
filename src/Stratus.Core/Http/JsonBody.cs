using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Stratus.Core.Http;

/// <summary>
/// Reading and validating request bodies the way OpenStack's JSON schemas do, with one clear 400
/// per problem. Bodies are read as <see cref="JsonObject"/> because OpenStack resources accept
/// extra attributes and the checks are per field.
/// </summary>
public static class JsonBody
{
    public static async Task<JsonObject> ReadObjectAsync(HttpRequest request, CancellationToken ct = default)
    {
        if (request.ContentLength == 0)
            throw OpenStackError.BadRequest("The request body is empty; a JSON object is required.");
        var type = request.ContentType;
        if (type is not null && !type.Contains("json", StringComparison.OrdinalIgnoreCase))
            throw OpenStackError.UnsupportedMediaType($"Content type '{type}' is not supported; use application/json.");
        JsonNode? node;
        try
        {
            node = await JsonNode.ParseAsync(request.Body, documentOptions: new JsonDocumentOptions { MaxDepth = 32 }, cancellationToken: ct);
        }
        catch (JsonException e)
        {
            throw OpenStackError.BadRequest("Expecting to find valid JSON in request body. The server could not comply with the request " +
                $"since it is either malformed or otherwise incorrect. The client is assumed to be in error. ({e.Message})");
        }
        return node as JsonObject ?? throw OpenStackError.BadRequest("The request body must be a JSON object.");
    }

    /// <summary>The object under <paramref name="name"/> (for example "user" in a user create).</summary>
    public static JsonObject Object(this JsonObject body, string name) =>
        body[name] switch
        {
            JsonObject o => o,
            null => throw OpenStackError.BadRequest($"'{name}' is a required property"),
            _ => throw OpenStackError.BadRequest($"Invalid input for field '{name}': expected an object."),
        };

    public static JsonObject? OptionalObject(this JsonObject body, string name) =>
        body.TryGetPropertyValue(name, out var n) ? n switch
        {
            null => null,
            JsonObject o => o,
            _ => throw OpenStackError.BadRequest($"Invalid input for field '{name}': expected an object."),
        } : null;

    public static string RequiredString(this JsonObject o, string name, int maxLength = 255) =>
        o.OptionalString(name, maxLength) ?? throw OpenStackError.BadRequest($"'{name}' is a required property");

    public static string? OptionalString(this JsonObject o, string name, int maxLength = 255, bool allowEmpty = false)
    {
        if (!o.TryGetPropertyValue(name, out var n) || n is null) return null;
        if (n.GetValueKind() != JsonValueKind.String)
            throw OpenStackError.BadRequest($"Invalid input for field '{name}': {n.ToJsonString()} is not of type 'string'");
        var s = n.GetValue<string>();
        if (!allowEmpty && s.Length == 0)
            throw OpenStackError.BadRequest($"Invalid input for field '{name}': '' is too short");
        if (s.Length > maxLength)
            throw OpenStackError.BadRequest($"Invalid input for field '{name}': the value is longer than {maxLength} characters");
        return s;
    }

    /// <summary>True when the field is present, even if its value is null (to tell "unset" from "absent").</summary>
    public static bool Has(this JsonObject o, string name) => o.ContainsKey(name);

    public static bool? OptionalBool(this JsonObject o, string name)
    {
        if (!o.TryGetPropertyValue(name, out var n) || n is null) return null;
        return n.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw OpenStackError.BadRequest($"Invalid input for field '{name}': {n.ToJsonString()} is not of type 'boolean'"),
        };
    }

    public static int? OptionalInt(this JsonObject o, string name)
    {
        if (!o.TryGetPropertyValue(name, out var n) || n is null) return null;
        if (n.GetValueKind() == JsonValueKind.Number && n.AsValue().TryGetValue<int>(out var i)) return i;
        throw OpenStackError.BadRequest($"Invalid input for field '{name}': {n.ToJsonString()} is not of type 'integer'");
    }

    public static JsonArray? OptionalArray(this JsonObject o, string name)
    {
        if (!o.TryGetPropertyValue(name, out var n) || n is null) return null;
        return n as JsonArray ?? throw OpenStackError.BadRequest($"Invalid input for field '{name}': {n.ToJsonString()} is not of type 'array'");
    }

    /// <summary>Fields outside <paramref name="known"/> that the client sent (Keystone keeps them as "extra").</summary>
    public static JsonObject Extra(this JsonObject o, params ReadOnlySpan<string> known)
    {
        var extra = new JsonObject();
        var set = new HashSet<string>(known.ToArray(), StringComparer.Ordinal);
        foreach (var (k, v) in o)
            if (!set.Contains(k)) extra[k] = v?.DeepClone();
        return extra;
    }

    public static void RejectUnknown(this JsonObject o, params ReadOnlySpan<string> known)
    {
        var set = new HashSet<string>(known.ToArray(), StringComparer.Ordinal);
        foreach (var (k, _) in o)
            if (!set.Contains(k))
                throw OpenStackError.BadRequest($"Additional properties are not allowed ('{k}' was unexpected)");
    }
}
