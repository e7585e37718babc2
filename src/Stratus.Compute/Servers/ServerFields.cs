using System.Net;
using System.Text.Json;
using Stratus.Compute.Api;
using Stratus.Compute.Rpc;

namespace Stratus.Compute.Servers;

/// <summary>What a server's fields may hold, as Nova's schemas for create, update and rebuild say; 400 naming the field otherwise.</summary>
static class ServerFields
{
    public static string NewPassword() => Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(9));

    /// <summary>parameter_types.name: 1-255 characters, not only spaces, no leading or trailing space.</summary>
    public static string ServerName(JsonObject body)
    {
        var node = body["name"];
        if (node is null) throw OpenStackError.BadRequest("Invalid input for field/attribute server. Value: " + body.ToJsonString() + ". 'name' is a required property");
        if (node.GetValueKind() != JsonValueKind.String) throw NovaBody.Invalid("name", node, "is not of type 'string'");
        var name = (string)node!;
        if (name.Length == 0) throw NovaBody.Invalid("name", node, "is too short");
        if (name.Length > 255) throw NovaBody.Invalid("name", node, "is too long");
        if (name.Trim().Length == 0 || name.Trim() != name) throw NovaBody.Invalid("name", node, "does not match the allowed pattern: leading or trailing white space, or only white space");
        return name;
    }

    public static string? AccessIp(JsonObject body, string key, int family)
    {
        if (!body.TryGetPropertyValue(key, out var node) || node is null) return null;
        var text = node.GetValueKind() == JsonValueKind.String ? (string)node! : null;
        if (text == "") return null;
        if (text is null || !IPAddress.TryParse(text, out var ip) || (family == 4) != (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
            || (family == 4 && text.Split('.').Length != 4))
            throw NovaBody.Invalid(key, node, $"is not a 'ipv{family}'");
        return ip.ToString();
    }

    public static bool DiskConfig(JsonObject body) => body.OptionalString("OS-DCF:diskConfig", 255, allowEmpty: true) switch
    {
        "AUTO" => true,
        "MANUAL" => false,
        _ => throw NovaBody.Invalid("OS-DCF:diskConfig", body["OS-DCF:diskConfig"], "is not one of ['AUTO', 'MANUAL']"),
    };

    public static string? UserData(JsonObject body)
    {
        var userData = body.OptionalString("user_data", 65535, allowEmpty: true);
        if (userData is not null && !IsBase64(userData)) throw NovaBody.Invalid("user_data", body["user_data"], "is not a 'base64'");
        return userData;
    }

    /// <summary>Server metadata: string keys of 1-255 characters, string values of at most 255.</summary>
    public static JsonObject Metadata(JsonObject body, string field = "metadata")
    {
        var node = body[field];
        if (node is null) return [];
        if (node is not JsonObject metadata) throw NovaBody.Invalid(field, node, "is not of type 'object'");
        foreach (var (key, value) in metadata)
        {
            if (key.Length is 0 or > 255) throw NovaBody.Invalid(field, node, $"'{key}' does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{{1,255}}$'");
            if (value is not JsonValue mv || mv.GetValueKind() != JsonValueKind.String) throw NovaBody.Invalid(field + "/" + key, value, "is not of type 'string'");
            if (((string)mv!).Length > 255) throw NovaBody.Invalid(field + "/" + key, value, "is too long");
        }
        return (JsonObject)metadata.DeepClone();
    }

    /// <summary>
    /// parameter_types.personality (create and rebuild up to 2.56): files of a path and base64 contents,
    /// which Nova hands the compute host as injected_files for the config drive.
    /// </summary>
    public static List<InjectedFile> Personality(JsonObject body)
    {
        var node = body["personality"];
        if (node is null) return [];
        if (node is not JsonArray items) throw NovaBody.Invalid("personality", node, "is not of type 'array'");
        var files = new List<InjectedFile>();
        foreach (var item in items)
        {
            if (item is not JsonObject file) throw NovaBody.Invalid("personality", item, "is not of type 'object'");
            if (file.Select(p => p.Key).FirstOrDefault(k => k is not ("path" or "contents")) is { } extra)
                throw NovaBody.Invalid("personality", item, $"Additional properties are not allowed ('{extra}' was unexpected)");
            foreach (var key in new[] { "path", "contents" })
                if (file[key] is { } v && v.GetValueKind() != JsonValueKind.String) throw NovaBody.Invalid("personality/" + key, v, "is not of type 'string'");
            var contents = (string?)file["contents"];
            if (contents is not null && !IsBase64(contents)) throw NovaBody.Invalid("personality/contents", file["contents"], "is not a 'base64'");
            // Nova's get_injected_files reads both keys: a file without one is a KeyError there, a 400 here.
            files.Add(new InjectedFile((string?)file["path"] ?? throw NovaBody.Invalid("personality", item, "'path' is a required property"),
                contents ?? throw NovaBody.Invalid("personality", item, "'contents' is a required property")));
        }
        return files;
    }

    /// <summary>
    /// compute.API._check_injected_file_quota: the number of files, then the longest path and the longest
    /// (base64) contents against the project's limits; 403 as Nova's OverQuota.
    /// </summary>
    public static void CheckInjectedFileQuota(IReadOnlyList<InjectedFile> files, IReadOnlyDictionary<string, int> limits)
    {
        if (files.Count == 0) return;
        static bool Over(int limit, int value) => limit >= 0 && value > limit;
        if (Over(limits["injected_files"], files.Count)) throw OpenStackError.Forbidden("Personality file limit exceeded");
        if (Over(limits["injected_file_path_bytes"], files.Max(f => f.Path.Length)))
            throw OpenStackError.Forbidden($"Personality file path exceeds maximum {limits["injected_file_path_bytes"]}");
        if (Over(limits["injected_file_content_bytes"], files.Max(f => f.Contents.Length)))
            throw OpenStackError.Forbidden($"Personality file content exceeds maximum {limits["injected_file_content_bytes"]}");
    }

    public static string LastSegment(string reference) => reference.TrimEnd('/').Split('/')[^1];

    static bool IsBase64(string s)
    {
        try
        {
            Convert.FromBase64String(s);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
