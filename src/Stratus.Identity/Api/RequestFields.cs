using System.Text.Json;

namespace Stratus.Identity.Api;

/// <summary>Request fields and list filters as Keystone's JSON schemas and flask base treat them, shared by every resource.</summary>
public static class RequestFields
{
    /// <summary>Keystone's _normalize_dict: ':' and '-' in top-level keys become '_'.</summary>
    public static JsonObject Normalize(JsonObject o)
    {
        var n = new JsonObject();
        foreach (var (k, v) in o) n[k.Replace(':', '_').Replace('-', '_')] = v?.DeepClone();
        return n;
    }

    /// <summary>Update schemas have minProperties 1.</summary>
    public static void RequireSomething(JsonObject body)
    {
        if (body.Count == 0) throw OpenStackError.BadRequest("{} does not have enough properties");
    }

    public static OpenStackError NotOfType(string field, JsonNode? value, string type) =>
        OpenStackError.BadRequest($"Invalid input for field '{field}': {value?.ToJsonString() ?? "None"} is not of type '{type}'");

    /// <summary>A string field that may be absent but not null (JSON schema "type": "string").</summary>
    public static string? NonNullString(JsonObject o, string name, int maxLength = int.MaxValue, int minLength = 0)
    {
        if (!o.TryGetPropertyValue(name, out var n)) return null;
        if (n is null || n.GetValueKind() != JsonValueKind.String) throw NotOfType(name, n, "string");
        var s = n.GetValue<string>();
        if (s.Length < minLength)
            throw OpenStackError.BadRequest($"Invalid input for field '{name}': '{s}' is too short");
        if (s.Length > maxLength)
            throw OpenStackError.BadRequest($"Invalid input for field '{name}': '{s}' is too long");
        return s;
    }

    /// <summary>Keystone's parameter_types.name: 1 to 255 characters, not only whitespace.</summary>
    public static string? Name(JsonObject o, string name)
    {
        var s = NonNullString(o, name, 255, 1);
        if (s is not null && s.All(char.IsWhiteSpace))
            throw OpenStackError.BadRequest($"Invalid input for field '{name}': '{s}' does not match '[\\S]+'");
        return s;
    }

    /// <summary>
    /// A list of roles each given by exactly one of id or name, as the trust and OAuth1 schemas take
    /// them (absent or null: none).
    /// </summary>
    public static List<(string? Id, string? Name)> RoleRefs(JsonObject body)
    {
        if (body["roles"] is null) return [];
        if (body["roles"] is not JsonArray roles) throw NotOfType("roles", body["roles"], "array");
        var result = new List<(string?, string?)>();
        for (var i = 0; i < roles.Count; i++)
        {
            if (roles[i] is not JsonObject role || role.Count != 1 || !(role.ContainsKey("id") || role.ContainsKey("name")))
                throw OpenStackError.BadRequest($"Invalid input for field 'roles/{i}': each role is {{\"id\": ...}} or {{\"name\": ...}}");
            result.Add((NonNullString(role, "id", 64, 1), Name(role, "name")));
        }
        return result;
    }

    /// <summary>Keystone's parameter_types.boolean: true or false, never a string or null.</summary>
    public static bool? Bool(JsonObject o, string name)
    {
        if (!o.TryGetPropertyValue(name, out var n)) return null;
        return n?.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw NotOfType(name, n, "boolean"),
        };
    }

    /// <summary>
    /// Keystone's query filtering (wrap_collection's filter_by_attributes): exact matches on the
    /// supported attributes, plus the inexact forms <c>name__contains</c>, <c>__startswith</c>,
    /// <c>__endswith</c> and their case-insensitive <c>__i...</c> variants. Other parameters are ignored.
    /// </summary>
    public static IEnumerable<JsonObject> Filter(IEnumerable<JsonObject> items, IQueryCollection query, params string[] supported) =>
        Filter(items, query, StringComparison.Ordinal, supported);

    /// <summary>
    /// <see cref="Filter(IEnumerable{JsonObject}, IQueryCollection, string[])"/> for users, groups, projects,
    /// domains and roles, whose names match case-insensitively (their column's collation, see IdentityDb).
    /// </summary>
    public static IEnumerable<JsonObject> FilterNamed(IEnumerable<JsonObject> items, IQueryCollection query, params string[] supported) =>
        Filter(items, query, StringComparison.OrdinalIgnoreCase, supported);

    static IEnumerable<JsonObject> Filter(IEnumerable<JsonObject> items, IQueryCollection query, StringComparison names, string[] supported)
    {
        foreach (var (key, values) in query)
        {
            var value = values.ToString();
            if (supported.Contains(key))
            {
                var exact = key == "name" ? names : StringComparison.Ordinal;
                items = items.Where(i => Matches(i[key], value, exact));
                continue;
            }
            var sep = key.IndexOf("__", StringComparison.Ordinal);
            if (sep < 0 || !supported.Contains(key[..sep])) continue;
            var attr = key[..sep];
            var comparator = key[(sep + 2)..];
            var comparison = StringComparison.Ordinal;
            if (comparator.StartsWith('i'))
            {
                comparison = StringComparison.OrdinalIgnoreCase;
                comparator = comparator[1..];
            }
            Func<string, bool>? test = comparator switch
            {
                "contains" => s => s.Contains(value, comparison),
                "startswith" => s => s.StartsWith(value, comparison),
                "endswith" => s => s.EndsWith(value, comparison),
                _ => null,
            };
            if (test is null) continue;
            items = items.Where(i => i[attr] is JsonValue v && v.GetValueKind() == JsonValueKind.String && test(v.GetValue<string>()));
        }
        return items;
    }

    static bool Matches(JsonNode? attribute, string value, StringComparison comparison) =>
        attribute?.GetValueKind() switch
        {
            null or JsonValueKind.Null => false,
            JsonValueKind.String => string.Equals(attribute.GetValue<string>(), value, comparison),
            // Keystone's attr_as_boolean: "0", "false", "f", "no", "n", "off" (any case) are false.
            JsonValueKind.True => !IsFalse(value),
            JsonValueKind.False => IsFalse(value),
            _ => attribute.ToJsonString() == value,
        };

    static bool IsFalse(string v) => v.ToLowerInvariant() is "0" or "false" or "f" or "no" or "n" or "off";
}
