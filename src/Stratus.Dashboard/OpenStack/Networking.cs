namespace Stratus.Dashboard.OpenStack;

/// <summary>
/// The network service of the session's region (Neutron v2.0) as the pages use it: collections by name,
/// and the networks a project's pages offer, chosen as Horizon's <c>network_list_for_tenant</c> chooses them.
/// </summary>
public static class Networking
{
    public const string Service = "network";

    /// <summary>GET /v2.0/COLLECTION?QUERY: the collection's items (an admin's token sees every project's: filter by project where it matters).</summary>
    public static async Task<List<JsonObject>> ListAsync(this Cloud cloud, string collection, string? query = null)
    {
        var body = await cloud.GetAsync(Service, $"/v2.0/{collection}{(query is null ? "" : "?" + query)}");
        return (body[collection.Replace('-', '_')] as JsonArray ?? []).OfType<JsonObject>().ToList();
    }

    /// <summary>The session project's items of a collection (an admin's token would list every project's).</summary>
    public static Task<List<JsonObject>> OwnAsync(this Cloud cloud, string collection) =>
        cloud.ListAsync(collection, "project_id=" + Uri.EscapeDataString(cloud.Session.ProjectId));

    /// <summary>GET /v2.0/COLLECTION/ID: the item under its singular key.</summary>
    public static async Task<JsonObject?> ShowAsync(this Cloud cloud, string collection, string key, string id) =>
        (await cloud.GetAsync(Service, $"/v2.0/{collection}/{Uri.EscapeDataString(id)}"))[key] as JsonObject;

    /// <summary>POST /v2.0/COLLECTION with one item under its singular key; the item made.</summary>
    public static async Task<JsonObject> CreateAsync(this Cloud cloud, string collection, string key, JsonObject item) =>
        (await cloud.PostAsync(Service, "/v2.0/" + collection, new JsonObject { [key] = item }))?[key] as JsonObject
            ?? throw new CloudException(502, $"The network service answered a {key} create without the {key}.");

    public static Task<JsonObject?> UpdateAsync(this Cloud cloud, string collection, string key, string id, JsonObject changes) =>
        cloud.PutAsync(Service, $"/v2.0/{collection}/{Uri.EscapeDataString(id)}", new JsonObject { [key] = changes });

    public static Task<JsonObject?> RemoveAsync(this Cloud cloud, string collection, string id) =>
        cloud.DeleteAsync(Service, $"/v2.0/{collection}/{Uri.EscapeDataString(id)}");

    /// <summary>The project's own networks, the shared ones and, when asked, the external ones, by name.</summary>
    public static async Task<List<JsonObject>> ProjectNetworksAsync(this Cloud cloud, bool includeExternal)
    {
        var lists = new List<List<JsonObject>>
        {
            await cloud.OwnAsync("networks"),
            await cloud.ListAsync("networks", "shared=true"),
        };
        if (includeExternal) lists.Add(await cloud.ListAsync("networks", "router:external=true"));
        return lists.SelectMany(l => l).DistinctBy(n => (string?)n["id"])
            .Where(n => includeExternal || (bool?)n["router:external"] != true || (bool?)n["shared"] == true)
            .OrderBy(NameOf, StringComparer.Ordinal).ToList();
    }

    /// <summary>The external networks: routers' gateways and floating IP pools.</summary>
    public static async Task<List<JsonObject>> ExternalNetworksAsync(this Cloud cloud) =>
        (await cloud.ListAsync("networks", "router:external=true")).OrderBy(NameOf, StringComparer.Ordinal).ToList();

    /// <summary>A resource's name, or its id where it has none (as Horizon's tables show it).</summary>
    public static string NameOf(JsonObject item) => (string?)item["name"] is { Length: > 0 } name ? name : (string?)item["id"] ?? "";

    /// <summary>A port's or router gateway's fixed IPs, as text.</summary>
    public static string FixedIps(JsonNode? fixedIps) =>
        string.Join(", ", (fixedIps as JsonArray ?? []).Select(a => (string?)a?["ip_address"]).OfType<string>());
}
