using Stratus.BlockStorage.Rpc;

namespace Stratus.BlockStorage.Api;

/// <summary>
/// <c>/capabilities/{host}</c> (admin): what a cinder-volume backend says it can do, asked of the backend itself over
/// RPC as Cinder does: vendor, driver version, protocol and the standard properties volume types' extra specs may set.
/// </summary>
public static class CapabilitiesApi
{
    public static void MapCapabilities(this RouteGroupBuilder project) => project.MapGet("/capabilities/{host}", Show);

    static async Task<IResult> Show(string host, HttpContext http, CinderDb db, VolumeApi volumes, CancellationToken ct)
    {
        http.Enforce("volume_extension:capabilities");
        // host, host@backend or a pool of it (host@backend#pool), as Cinder's host_or_cluster filter matches.
        var backend = host.Split('#')[0];
        var services = await db.Services.AsNoTracking().Where(s => s.Binary == CinderOptions.Volume && (s.Host == backend || s.Host.StartsWith(backend + "@")))
            .OrderBy(s => s.Id).Select(s => s.Host).ToListAsync(ct);
        if (services.Count == 0) throw OpenStackError.NotFound($"Can't find service: {host}");
        BackendCapabilities reply;
        try
        {
            reply = await volumes.CallAsync(services[0], new GetCapabilities(Discover: false), VolumeRpc.CallTimeout, ct);
        }
        catch (Stratus.Core.Messaging.RpcTimeoutException)
        {
            throw new OpenStackError(502, "Bad Gateway", $"Timeout while requesting capabilities from backend {services[0]}.");
        }
        var c = reply.Capabilities;
        return new JsonResponse(new JsonObject
        {
            ["namespace"] = $"OS::Storage::Capabilities::{services[0]}",
            ["vendor_name"] = c["vendor_name"]?.DeepClone(),
            ["volume_backend_name"] = c["volume_backend_name"]?.DeepClone(),
            ["pool_name"] = c["pool_name"]?.DeepClone(),
            ["driver_version"] = c["driver_version"]?.DeepClone(),
            ["storage_protocol"] = c["storage_protocol"]?.DeepClone(),
            ["display_name"] = c["display_name"]?.DeepClone(),
            ["description"] = c["description"]?.DeepClone(),
            ["visibility"] = c["visibility"]?.DeepClone(),
            ["replication_targets"] = c["replication_targets"]?.DeepClone() ?? new JsonArray(),
            ["properties"] = c["properties"]?.DeepClone(),
        });
    }
}
