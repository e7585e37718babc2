using System.Text.Json;

namespace Stratus.Compute.Api;

/// <summary>Nova's JSON-schema parameter types where they are looser than JSON's (nova.api.validation.parameter_types).</summary>
static class NovaBody
{
    static readonly string[] True = ["True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes"];
    static readonly string[] False = ["False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"];

    /// <summary>parameter_types.boolean: true/false, or one of the strings oslo's bool_from_string knows.</summary>
    public static bool Bool(string name, JsonNode? value)
    {
        switch (value?.GetValueKind())
        {
            case JsonValueKind.True: return true;
            case JsonValueKind.False: return false;
            case JsonValueKind.String when True.Contains((string)value!): return true;
            case JsonValueKind.String when False.Contains((string)value!): return false;
        }
        throw Invalid(name, value, "is not one of [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no']");
    }

    public static bool? NovaBool(this JsonObject o, string name) =>
        !o.TryGetPropertyValue(name, out var n) ? null : Bool(name, n);

    /// <summary>Nova's schema error: "Invalid input for field/attribute X. Value: V. why".</summary>
    public static OpenStackError Invalid(string name, JsonNode? value, string why) =>
        OpenStackError.BadRequest($"Invalid input for field/attribute {name}. Value: {Show(value)}. {Show(value)} {why}");

    static string Show(JsonNode? value) => value is null ? "None" : value.GetValueKind() == JsonValueKind.String ? (string)value! : value.ToJsonString();

    /// <summary>Rejects members the schema does not list (Nova's additionalProperties: false).</summary>
    public static void Only(this JsonObject o, string name, params string[] known)
    {
        foreach (var (k, _) in o)
            if (!known.Contains(k))
                throw OpenStackError.BadRequest($"Invalid input for field/attribute {name}. Value: {o.ToJsonString()}. Additional properties are not allowed ('{k}' was unexpected)");
    }
}
