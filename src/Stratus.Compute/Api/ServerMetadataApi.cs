using Stratus.Compute.Network;
using Stratus.Compute.Servers;

namespace Stratus.Compute.Api;

/// <summary>
/// <c>/servers/{id}/metadata</c>: the server's key/value pairs (merge with POST, replace with PUT, one
/// item at a time under /{key}), counted against the project's metadata_items quota. Also the server's
/// addresses (<c>/ips</c>, from its network info) and its (empty) password.
/// </summary>
public static class ServerMetadataApi
{
    public static RouteGroupBuilder MapServerMetadata(this RouteGroupBuilder v21)
    {
        var meta = v21.MapGroup("/servers/{id}/metadata");
        meta.MapGet("", async (string id, HttpContext http, CellDb db, CancellationToken ct) =>
            new JsonResponse(new JsonObject { ["metadata"] = JsonNode.Parse((await ComputeAccess.FindServerAsync(db, id, http.Caller(), ct)).MetadataJson) }));
        meta.MapPost("", (string id, HttpContext http, CellDb db, ApiDb apiDb, CancellationToken ct) => SetAsync(id, "os_compute_api:server-metadata:create", http, db, apiDb, replace: false, ct));
        meta.MapPut("", (string id, HttpContext http, CellDb db, ApiDb apiDb, CancellationToken ct) => SetAsync(id, "os_compute_api:server-metadata:update_all", http, db, apiDb, replace: true, ct));
        meta.MapGet("/{key}", async (string id, string key, HttpContext http, CellDb db, CancellationToken ct) =>
        {
            var metadata = JsonNode.Parse((await ComputeAccess.FindServerAsync(db, id, http.Caller(), ct)).MetadataJson)!.AsObject();
            return metadata[key] is { } value ? new JsonResponse(new JsonObject { ["meta"] = new JsonObject { [key] = value.DeepClone() } })
                : throw OpenStackError.NotFound("Metadata item was not found");
        });
        meta.MapPut("/{key}", SetOneAsync);
        meta.MapDelete("/{key}", async (string id, string key, HttpContext http, CellDb db, CancellationToken ct) =>
        {
            var instance = await WritableAsync(id, "os_compute_api:server-metadata:delete", http, db, ct);
            var metadata = JsonNode.Parse(instance.MetadataJson)!.AsObject();
            if (!metadata.Remove(key)) throw OpenStackError.NotFound("Metadata item was not found");
            instance.MetadataJson = metadata.ToJsonString();
            instance.Touch();
            await db.SaveChangesAsync(ct);
            return Results.NoContent();
        });
        v21.MapGet("/servers/{id}/ips", async (string id, HttpContext http, CellDb db, CancellationToken ct) =>
        {
            var server = await ComputeAccess.FindServerAsync(db, id, http.Caller(), ct);
            return new JsonResponse(new JsonObject { ["addresses"] = ServerNetworks.Addresses(server.NetworkInfoJson, extended: false) });
        });
        v21.MapGet("/servers/{id}/ips/{network}", async Task<IResult> (string id, string network, HttpContext http, CellDb db, CancellationToken ct) =>
        {
            var server = await ComputeAccess.FindServerAsync(db, id, http.Caller(), ct);
            return ServerNetworks.Addresses(server.NetworkInfoJson, extended: false)[network] is JsonArray addresses
                ? new JsonResponse(new JsonObject { [network] = addresses.DeepClone() })
                : throw OpenStackError.NotFound("Instance is not a member of specified network");
        });
        v21.MapGet("/servers/{id}/os-server-password", async (string id, HttpContext http, CellDb db, CancellationToken ct) =>
        {
            await ComputeAccess.FindServerAsync(db, id, http.Caller(), ct);
            return new JsonResponse(new JsonObject { ["password"] = "" });
        });
        v21.MapDelete("/servers/{id}/os-server-password", async (string id, HttpContext http, CellDb db, CancellationToken ct) =>
        {
            await WritableAsync(id, "os_compute_api:os-server-password:clear", http, db, ct);
            return Results.NoContent();
        });
        return meta;
    }

    static async Task<Instance> WritableAsync(string id, string rule, HttpContext http, CellDb db, CancellationToken ct)
    {
        http.Enforce(rule);
        var instance = await ComputeAccess.FindServerAsync(db, id, http.Caller(), ct);
        if (instance.Locked && !http.Caller().IsAdmin) throw OpenStackError.Conflict($"Instance {id} is locked");
        return instance;
    }

    static async Task SaveAsync(Instance instance, JsonObject metadata, ApiDb apiDb, CellDb db, CancellationToken ct)
    {
        var limit = (await Quotas.LimitsAsync(apiDb, instance.ProjectId, ct))["metadata_items"];
        if (limit >= 0 && metadata.Count > limit)
            throw OpenStackError.Forbidden($"Quota exceeded for metadata_items: Requested {metadata.Count}, but already used 0 of {limit} metadata_items");
        instance.MetadataJson = metadata.ToJsonString();
        instance.Touch();
        await db.SaveChangesAsync(ct);
    }

    static async Task<IResult> SetAsync(string id, string rule, HttpContext http, CellDb db, ApiDb apiDb, bool replace, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        if (body["metadata"] is not JsonObject) throw NovaBody.Invalid("body", body, "'metadata' is a required property");
        var given = ServerFields.Metadata(body);
        var instance = await WritableAsync(id, rule, http, db, ct);
        var metadata = replace ? [] : JsonNode.Parse(instance.MetadataJson)!.AsObject();
        foreach (var (k, v) in given) metadata[k] = v?.DeepClone();
        await SaveAsync(instance, metadata, apiDb, db, ct);
        return new JsonResponse(new JsonObject { ["metadata"] = metadata.DeepClone() });
    }

    static async Task<IResult> SetOneAsync(string id, string key, HttpContext http, CellDb db, ApiDb apiDb, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        if (body["meta"] is not JsonObject) throw NovaBody.Invalid("body", body, "'meta' is a required property");
        var given = ServerFields.Metadata(body, "meta");
        if (given.Count != 1) throw NovaBody.Invalid("meta", body["meta"], "does not have exactly one item");
        if (!given.ContainsKey(key)) throw OpenStackError.BadRequest("Request body and URI mismatch");
        var instance = await WritableAsync(id, "os_compute_api:server-metadata:update", http, db, ct);
        var metadata = JsonNode.Parse(instance.MetadataJson)!.AsObject();
        metadata[key] = given[key]?.DeepClone();
        await SaveAsync(instance, metadata, apiDb, db, ct);
        return new JsonResponse(new JsonObject { ["meta"] = given });
    }
}
