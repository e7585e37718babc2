
namespace Stratus.Identity.Api;

/// <summary>Keystone keeps attributes it does not model in an "extra" blob and returns them inline.</summary>
public static class Extra
{
    public static JsonObject Parse(string json) =>
        string.IsNullOrEmpty(json) ? [] : JsonNode.Parse(json) as JsonObject ?? [];

    /// <summary>Adds the stored extra attributes to a rendered resource without overriding modelled ones.</summary>
    public static JsonObject WithExtra(this JsonObject resource, string extraJson)
    {
        foreach (var (k, v) in Parse(extraJson))
            if (!resource.ContainsKey(k)) resource[k] = v?.DeepClone();
        return resource;
    }

    /// <summary>Merges new extra attributes into the stored blob (an update), returning the new blob.</summary>
    public static string Merge(string stored, JsonObject updates)
    {
        var o = Parse(stored);
        foreach (var (k, v) in updates) o[k] = v?.DeepClone();
        return o.ToJsonString();
    }
}
