using System.Text.Json;
using System.Text.RegularExpressions;

namespace Stratus.Image.Schemas;

/// <summary>
/// Glance's JSON schemas (image, images, member, members), embedded as Glance Zed serves them, and
/// the subset of JSON Schema they use (type, enum, maxLength, minLength, pattern, items,
/// additionalProperties) to validate what clients send.
/// </summary>
public static class ImageSchemas
{
    public static readonly JsonObject Image = Load("image");
    public static readonly JsonObject Images = Load("images");
    public static readonly JsonObject Member = Load("member");
    public static readonly JsonObject Members = Load("members");
    public static readonly JsonObject Task = Load("task");
    public static readonly JsonObject Tasks = Load("tasks");

    static readonly JsonObject ImageProperties = (JsonObject)Image["properties"]!;

    static readonly string[] MetadefSchemas = ["namespace", "namespaces", "object", "objects", "property", "properties",
        "resource_type", "resource_types", "tag", "tags"];

    /// <summary>The metadata definitions' schemas (<c>/v2/schemas/metadefs/{name}</c>), or null for an unknown name.</summary>
    public static JsonObject? Metadef(string name) => MetadefSchemas.Contains(name) ? Load("metadefs-" + name) : null;

    static JsonObject Load(string name)
    {
        using var s = typeof(ImageSchemas).Assembly.GetManifestResourceStream($"Stratus.Image.Schemas.{name}.json")
            ?? throw new InvalidOperationException($"embedded schema {name} is missing");
        return (JsonObject)JsonNode.Parse(s)!;
    }

    public static bool IsBaseProperty(string name) => ImageProperties.ContainsKey(name);

    /// <summary>Checks an image (or part of one) against the image schema; 400 on the first mismatch.</summary>
    public static void ValidateImage(JsonObject image)
    {
        foreach (var (key, value) in image)
        {
            var schema = ImageProperties[key] as JsonObject ?? (JsonObject)Image["additionalProperties"]!;
            if (Problem(value, schema) is { } problem)
                throw OpenStackError.BadRequest($"Provided object does not match schema 'image': {problem}. Failed validating '{key}'.");
        }
    }

    static string? Problem(JsonNode? value, JsonObject schema)
    {
        if (schema["type"] is { } type)
        {
            var allowed = type is JsonArray a ? a.Select(t => (string?)t).ToList() : [(string?)type];
            if (!allowed.Any(t => Matches(value, t))) return $"{Show(value)} is not of type {string.Join(", ", allowed.Select(t => $"'{t}'"))}";
        }
        if (schema["enum"] is JsonArray choices && !choices.Any(c => JsonNode.DeepEquals(c, value)))
            return $"{Show(value)} is not one of [{string.Join(", ", choices.Select(Show))}]";
        if (value is JsonValue v && v.TryGetValue<string>(out var s))
        {
            if (schema["maxLength"] is { } max && s.Length > (int)max) return $"{Show(value)} is too long";
            if (schema["minLength"] is { } min && s.Length < (int)min) return $"{Show(value)} is too short";
            if (schema["pattern"] is { } pattern && !Regex.IsMatch(s, (string)pattern!, RegexOptions.None, TimeSpan.FromSeconds(1)))
                return $"{Show(value)} does not match '{pattern}'";
        }
        if (value is JsonArray items && schema["items"] is JsonObject itemSchema)
            foreach (var item in items)
                if (Problem(item, itemSchema) is { } p) return p;
        return null;
    }

    static bool Matches(JsonNode? value, string? type) => type switch
    {
        "null" => value is null,
        "string" => value is JsonValue v && v.GetValueKind() == JsonValueKind.String,
        "boolean" => value is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False,
        "integer" => value is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out _),
        "number" => value is JsonValue v && v.GetValueKind() == JsonValueKind.Number,
        "array" => value is JsonArray,
        "object" => value is JsonObject,
        _ => false,
    };

    static string Show(JsonNode? v) => v switch
    {
        null => "None",
        JsonValue s when s.GetValueKind() == JsonValueKind.String => $"'{(string?)s}'",
        _ => v.ToJsonString(),
    };
}
