using System.Globalization;
using Stratus.Compute.Volumes;

namespace Stratus.Compute.Api;

/// <summary>
/// Nova's proxy to the region's block storage (2.1-2.35, 404 above): <c>/os-volumes</c> and
/// <c>/os-snapshots</c> in nova-volume's old camel-case shape, as the caller, through the same cinder
/// client as attachments.
/// </summary>
public static class VolumesApi
{
    public static RouteGroupBuilder MapVolumes(this RouteGroupBuilder v21)
    {
        Map(v21, "/os-volumes", "volume", "os_compute_api:os-volumes:", VolumeView, CreateVolumeAsync);
        Map(v21, "/os-snapshots", "snapshot", "os_compute_api:os-volumes:snapshots:", SnapshotView, CreateSnapshotAsync);
        return v21;
    }

    /// <summary>A collection's list, detail, show, create and delete, each with its policy rule.</summary>
    static void Map(RouteGroupBuilder v21, string path, string kind, string policy, Func<JsonObject, JsonObject> view,
        Func<HttpContext, CinderClient, CancellationToken, Task<IResult>> create)
    {
        var group = v21.MapGroup(path).UpTo(Microversion.MaxProxy);
        // "/os-volumes/" names no volume: Nova's routes find nothing there (nor for DELETE).
        group.AddEndpointFilter((ctx, next) => ctx.HttpContext.Request.Path.Value?.EndsWith('/') == true
            ? throw OpenStackError.NotFound("The resource could not be found.") : next(ctx));
        group.MapDelete("", IResult () => throw OpenStackError.NotFound("The resource could not be found.")).RequirePolicy(policy + "delete");
        group.MapGet("", (HttpContext http, CinderClient cinder, CancellationToken ct) => ListAsync(http, cinder, kind + "s", view, ct)).RequirePolicy(policy + "list");
        group.MapGet("/detail", (HttpContext http, CinderClient cinder, CancellationToken ct) => ListAsync(http, cinder, kind + "s", view, ct)).RequirePolicy(policy + "detail");
        group.MapGet("/{id}", (string id, HttpContext http, CinderClient cinder, CancellationToken ct) => ShowAsync(http, cinder, kind, id, view, ct)).RequirePolicy(policy + "show");
        group.MapPost("", (HttpContext http, CinderClient cinder, CancellationToken ct) => create(http, cinder, ct)).RequirePolicy(policy + "create");
        group.MapDelete("/{id}", (string id, HttpContext http, CinderClient cinder, CancellationToken ct) => DeleteAsync(http, cinder, kind, id, ct)).RequirePolicy(policy + "delete");
    }

    /// <summary>volumes._translate_volume_summary_view over nova.volume.cinder's view of a Cinder v3 volume.</summary>
    static JsonObject VolumeView(JsonObject v)
    {
        var attachment = (v["attachments"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault();
        var attached = new JsonObject();
        if (attachment is not null)
        {
            attached["id"] = (string?)v["id"];
            attached["volumeId"] = (string?)v["id"];
            attached["serverId"] = (string?)attachment["server_id"];
            if ((string?)attachment["device"] is { Length: > 0 } device) attached["device"] = device;
        }
        return new JsonObject
        {
            ["id"] = (string?)v["id"], ["status"] = (string?)v["status"], ["size"] = v["size"]?.DeepClone(), ["availabilityZone"] = (string?)v["availability_zone"],
            ["createdAt"] = (string?)v["created_at"], ["attachments"] = new JsonArray(attached), ["displayName"] = (string?)v["name"],
            ["displayDescription"] = (string?)v["description"], ["volumeType"] = (string?)v["volume_type"], ["snapshotId"] = (string?)v["snapshot_id"],
            ["metadata"] = v["metadata"]?.DeepClone() ?? new JsonObject(),
        };
    }

    static JsonObject SnapshotView(JsonObject s) => new()
    {
        ["id"] = (string?)s["id"], ["volumeId"] = (string?)s["volume_id"], ["status"] = (string?)s["status"], ["size"] = s["size"]?.DeepClone(),
        ["createdAt"] = (string?)s["created_at"], ["displayName"] = (string?)s["name"], ["displayDescription"] = (string?)s["description"],
    };

    static async Task<IResult> ListAsync(HttpContext http, CinderClient cinder, string collection, Func<JsonObject, JsonObject> view, CancellationToken ct)
    {
        var caller = http.Caller();
        var answer = await VolumeAttachmentsApi.CallAsync(() => cinder.SendAsync(HttpMethod.Get, $"/{collection}/detail", null, caller.Token, caller.ProjectId!, ct));
        var items = (answer?[collection] as JsonArray ?? []).OfType<JsonObject>();
        return new JsonResponse(new JsonObject { [collection] = new JsonArray([.. Paging.Limited(items, http.Request.Query).Select(i => (JsonNode)view(i))]) });
    }

    static async Task<IResult> ShowAsync(HttpContext http, CinderClient cinder, string kind, string id, Func<JsonObject, JsonObject> view, CancellationToken ct)
    {
        var caller = http.Caller();
        var answer = await VolumeAttachmentsApi.CallAsync(() => cinder.SendAsync(HttpMethod.Get, $"/{kind}s/{Uri.EscapeDataString(id)}", null, caller.Token, caller.ProjectId!, ct));
        return answer?[kind] is JsonObject item ? new JsonResponse(new JsonObject { [kind] = view(item) }) : throw NotFound(kind, id);
    }

    static async Task<IResult> DeleteAsync(HttpContext http, CinderClient cinder, string kind, string id, CancellationToken ct)
    {
        var caller = http.Caller();
        if (await VolumeAttachmentsApi.CallAsync(() => cinder.SendAsync(HttpMethod.Delete, $"/{kind}s/{Uri.EscapeDataString(id)}", null, caller.Token, caller.ProjectId!, ct)) is null)
            throw NotFound(kind, id);
        return Results.Accepted();
    }

    static OpenStackError NotFound(string kind, string id) => OpenStackError.NotFound(kind == "volume" ? $"Volume {id} could not be found." : $"Snapshot {id} could not be found.");

    static async Task<IResult> CreateVolumeAsync(HttpContext http, CinderClient cinder, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        body.Only("body", "volume");
        var volume = body.Object("volume");
        volume.Only("volume", "volume_type", "metadata", "snapshot_id", "size", "availability_zone", "display_name", "display_description");
        var sizeNode = volume["size"] ?? throw NovaBody.Invalid("volume", volume, "'size' is a required property");
        if (!int.TryParse(sizeNode.GetValueKind() is System.Text.Json.JsonValueKind.Number or System.Text.Json.JsonValueKind.String ? sizeNode.ToString() : "",
                NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size < 1)
            throw NovaBody.Invalid("volume/size", sizeNode, "is not valid under any of the given schemas");
        if (volume["metadata"] is { } m && m is not JsonObject) throw NovaBody.Invalid("volume/metadata", m, "is not of type 'object'");
        var request = new JsonObject
        {
            ["size"] = size, ["name"] = volume.OptionalString("display_name", allowEmpty: true), ["description"] = volume.OptionalString("display_description", allowEmpty: true),
            ["snapshot_id"] = volume.OptionalString("snapshot_id"), ["volume_type"] = volume.OptionalString("volume_type"),
            ["availability_zone"] = volume.OptionalString("availability_zone"), ["metadata"] = volume["metadata"]?.DeepClone() ?? new JsonObject(),
        };
        foreach (var key in request.Where(p => p.Value is null).Select(p => p.Key).ToList()) request.Remove(key);
        var caller = http.Caller();
        var created = await CreateAsync(() => cinder.SendAsync(HttpMethod.Post, "/volumes", new JsonObject { ["volume"] = request }, caller.Token, caller.ProjectId!, ct), "volume");
        var id = (string?)created["id"];
        return new JsonResponse(new JsonObject { ["volume"] = VolumeView(created) })
            .WithHeader("Location", $"{http.Request.Scheme}://{http.Request.Host}{http.Request.Path}/{id}");
    }

    static async Task<IResult> CreateSnapshotAsync(HttpContext http, CinderClient cinder, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        body.Only("body", "snapshot");
        var snapshot = body.Object("snapshot");
        snapshot.Only("snapshot", "volume_id", "force", "display_name", "display_description");
        var request = new JsonObject
        {
            ["volume_id"] = snapshot.RequiredString("volume_id"),
            ["force"] = snapshot.ContainsKey("force") && NovaBody.Bool("force", snapshot["force"]),
            ["name"] = snapshot.OptionalString("display_name", allowEmpty: true), ["description"] = snapshot.OptionalString("display_description", allowEmpty: true),
        };
        foreach (var key in request.Where(p => p.Value is null).Select(p => p.Key).ToList()) request.Remove(key);
        var caller = http.Caller();
        var created = await CreateAsync(() => cinder.SendAsync(HttpMethod.Post, "/snapshots", new JsonObject { ["snapshot"] = request }, caller.Token, caller.ProjectId!, ct), "snapshot");
        return new JsonResponse(new JsonObject { ["snapshot"] = SnapshotView(created) });
    }

    static async Task<JsonObject> CreateAsync(Func<Task<JsonObject?>> call, string kind) =>
        (await VolumeAttachmentsApi.CallAsync(call))?[kind] as JsonObject ?? throw OpenStackError.NotFound($"The {kind} to make it from could not be found.");
}
