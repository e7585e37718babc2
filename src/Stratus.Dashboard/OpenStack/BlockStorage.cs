namespace Stratus.Dashboard.OpenStack;

/// <summary>
/// The block storage service of the session's region (Cinder v3, the project in the catalog's URL) as the volume
/// pages use it; attachments go through the compute service's <c>os-volume_attachments</c>, as Horizon's do.
/// </summary>
public static class BlockStorage
{
    public const string Service = "volumev3";

    /// <summary>The statuses a volume or snapshot passes through on its own: the page watches until they settle.</summary>
    static readonly HashSet<string> Transitional = ["creating", "attaching", "detaching", "deleting", "extending", "downloading", "uploading", "reserved", "backing-up", "restoring-backup"];

    public static bool IsTransitional(JsonObject item) => Transitional.Contains((string?)item["status"] ?? "");

    /// <summary>GET /volumes/detail or /snapshots/detail: the project's items, by name.</summary>
    public static async Task<List<JsonObject>> DetailAsync(this Cloud cloud, string collection) =>
        ((await cloud.GetAsync(Service, $"/{collection}/detail"))[collection] as JsonArray ?? []).OfType<JsonObject>()
            .OrderBy(Networking.NameOf, StringComparer.Ordinal).ToList();

    /// <summary>POST /COLLECTION with one item under its singular key; the item made.</summary>
    public static async Task<JsonObject> MakeAsync(this Cloud cloud, string collection, string key, JsonObject item) =>
        (await cloud.PostAsync(Service, "/" + collection, new JsonObject { [key] = item }))?[key] as JsonObject
            ?? throw new CloudException(502, $"The block storage service answered a {key} create without the {key}.");

    public static Task<JsonObject?> DropAsync(this Cloud cloud, string collection, string id) =>
        cloud.DeleteAsync(Service, $"/{collection}/{Uri.EscapeDataString(id)}");

    /// <summary>POST /servers/SERVER/os-volume_attachments: Nova reserves, attaches and completes the volume's attachment.</summary>
    public static Task<JsonObject?> AttachAsync(this Cloud cloud, string server, string volume) =>
        cloud.PostAsync("compute", $"/servers/{Uri.EscapeDataString(server)}/os-volume_attachments",
            new JsonObject { ["volumeAttachment"] = new JsonObject { ["volumeId"] = volume } });

    public static Task<JsonObject?> DetachAsync(this Cloud cloud, string server, string volume) =>
        cloud.DeleteAsync("compute", $"/servers/{Uri.EscapeDataString(server)}/os-volume_attachments/{Uri.EscapeDataString(volume)}");

    /// <summary>A volume's attachments: (server id, device).</summary>
    public static IReadOnlyList<(string Server, string Device)> Attachments(JsonObject volume) =>
        (volume["attachments"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(a => ((string?)a["server_id"] ?? "", (string?)a["device"] ?? "")).Where(a => a.Item1.Length > 0).ToList();
}
