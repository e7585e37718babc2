using System.Text.Json;
using System.Text.RegularExpressions;
using Stratus.Image.Schemas;

namespace Stratus.Image.Api;

/// <summary>One operation of an image update.</summary>
sealed record ImageChange(string Op, string Path, JsonNode? Value, int DraftVersion);

/// <summary>
/// Reads <c>PATCH /v2/images/{id}</c> as Glance does: the JSON-patch media types
/// <c>application/openstack-images-v2.1-json-patch</c> (op/path/value) and the older v2.0 one
/// (<c>{"replace": "/name", "value": ...}</c>), pointers one level deep, read-only and reserved
/// attributes refused, values checked against the image schema.
/// </summary>
static partial class ImagePatch
{
    static readonly string[] ReadOnly = ["created_at", "updated_at", "status", "checksum", "size", "virtual_size", "direct_url",
        "self", "file", "schema", "id", "os_hash_algo", "os_hash_value"];
    static readonly string[] Operations = ["add", "remove", "replace"];
    const string V21 = "application/openstack-images-v2.1-json-patch", V20 = "application/openstack-images-v2.0-json-patch";

    public static async Task<List<ImageChange>> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        var mediaType = request.ContentType?.Split(';')[0].Trim();
        var draft = mediaType switch
        {
            V21 => 10,
            V20 => 4,
            _ => 0,
        };
        if (draft == 0)
        {
            var e = OpenStackError.UnsupportedMediaType($"The media type {mediaType ?? "(none)"} is not supported; use {V21}.");
            e.Headers["Accept-Patch"] = $"{V20}, {V21}";
            throw e;
        }
        JsonNode? body;
        try
        {
            body = await JsonNode.ParseAsync(request.Body, cancellationToken: ct);
        }
        catch (JsonException e)
        {
            throw OpenStackError.BadRequest("Malformed JSON in request body: " + e.Message);
        }
        if (body is not JsonArray ops) throw OpenStackError.BadRequest("Request body must be a JSON array of operation objects.");
        var changes = new List<ImageChange>();
        foreach (var raw in ops)
        {
            if (raw is not JsonObject change) throw OpenStackError.BadRequest("Operations must be JSON objects.");
            var (op, pointer) = draft == 10 ? Draft10(change) : Draft4(change);
            var path = Decode(pointer);
            if (path.Count != 1) throw OpenStackError.BadRequest($"Invalid JSON pointer for this resource: '/{string.Join('/', path)}'");
            var root = path[0];
            if (ReadOnly.Contains(root)) throw OpenStackError.Forbidden($"Attribute '{root}' is read-only.");
            if (root is "location" or "deleted" or "deleted_at" || root.StartsWith("os_glance", StringComparison.Ordinal))
                throw OpenStackError.Forbidden($"Attribute '{root}' is reserved.");
            if (root == "locations") throw OpenStackError.Forbidden("Image locations are not exposed by this service (show_multiple_locations is off).");
            JsonNode? value = null;
            if (op != "remove")
            {
                if (!change.TryGetPropertyValue("value", out value))
                    throw OpenStackError.BadRequest($"Operation \"{op}\" requires a member named \"value\".");
                ImageSchemas.ValidateImage(new JsonObject { [root] = value?.DeepClone() });
            }
            changes.Add(new ImageChange(op, root, value, draft));
        }
        return changes;
    }

    static (string Op, string Path) Draft10(JsonObject change)
    {
        var op = (string?)change["op"] ?? throw OpenStackError.BadRequest(
            "Unable to find `op` in JSON Schema change. It must be one of the following: add, remove, replace.");
        if (!Operations.Contains(op))
            throw OpenStackError.BadRequest($"Invalid operation: `{op}`. It must be one of the following: add, remove, replace.");
        var path = change["path"] is JsonValue p && p.TryGetValue<string>(out var s) ? s
            : throw OpenStackError.BadRequest("Unable to find 'path' in JSON Schema change");
        return (op, path);
    }

    static (string Op, string Path) Draft4(JsonObject change)
    {
        var present = Operations.Where(change.ContainsKey).ToList();
        if (present.Count != 1)
            throw OpenStackError.BadRequest("Operation objects must contain exactly one member named \"add\", \"remove\", or \"replace\".");
        var path = change[present[0]] is JsonValue p && p.TryGetValue<string>(out var s) ? s
            : throw OpenStackError.BadRequest("The path of a change must be a string.");
        return (present[0], path);
    }

    static List<string> Decode(string pointer)
    {
        if (!pointer.StartsWith('/')) throw OpenStackError.BadRequest($"Pointer `{pointer}` does not start with \"/\".");
        if (AdjacentSlashes().IsMatch(pointer[1..])) throw OpenStackError.BadRequest($"Pointer `{pointer}` contains adjacent \"/\".");
        if (pointer.Length > 1 && pointer.EndsWith('/')) throw OpenStackError.BadRequest($"Pointer `{pointer}` end with \"/\".");
        if (BadTilde().IsMatch(pointer) || pointer.EndsWith('~'))
            throw OpenStackError.BadRequest($"Pointer `{pointer}` contains \"~\" not part of a recognized escape sequence.");
        return pointer.TrimStart('/').Split('/').Select(p => p.Replace("~1", "/").Replace("~0", "~").Trim()).ToList();
    }

    [GeneratedRegex(@"/\s*?/")]
    private static partial Regex AdjacentSlashes();

    [GeneratedRegex("~[^01]")]
    private static partial Regex BadTilde();
}
