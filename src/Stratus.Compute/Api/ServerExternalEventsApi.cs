using Stratus.Compute.Network;
using Stratus.Compute.Rpc;

namespace Stratus.Compute.Api;

/// <summary>
/// <c>POST /os-server-external-events</c> (admin; the network service's nova notifier): events about
/// servers, each handed to the agent of the server's host, answered per event with 200, 404 (no such
/// server) or 422 (not on a host yet), as Nova does; 207 when some fail, 404 when all do.
/// </summary>
public static class ServerExternalEventsApi
{
    static readonly string[] Names =
    [
        "network-changed", "network-vif-plugged", "network-vif-unplugged", "network-vif-deleted", "volume-extended", "power-update",
        "accelerator-request-bound", "volume-reimaged",
    ];

    static readonly string[] Statuses = ["failed", "completed", "in-progress"];

    public static RouteGroupBuilder MapServerExternalEvents(this RouteGroupBuilder v21)
    {
        v21.MapPost("/os-server-external-events", CreateAsync).RequirePolicy("os_compute_api:os-server-external-events:create");
        return v21;
    }

    static async Task<IResult> CreateAsync(HttpContext http, CellDb db, ComputeApi compute, NeutronClient neutron, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        if (body["events"] is not JsonArray events || events.Count == 0)
            throw OpenStackError.BadRequest("Invalid input for field/attribute events. Value: None. None is not of type 'array'");
        var results = new JsonArray();
        var accepted = 0;
        foreach (var e in events)
        {
            if (e is not JsonObject o) throw OpenStackError.BadRequest("Invalid input for field/attribute events: each event is an object.");
            o.RejectUnknown("name", "server_uuid", "tag", "status");
            var name = o.RequiredString("name");
            var uuid = o.RequiredString("server_uuid");
            var tag = o.OptionalString("tag");
            var status = o.OptionalString("status") ?? "completed";
            if (!Names.Contains(name)) throw OpenStackError.BadRequest($"Invalid input for field/attribute name. Value: {name}. '{name}' is not one of {string.Join(", ", Names)}");
            if (!Statuses.Contains(status)) throw OpenStackError.BadRequest($"Invalid input for field/attribute status. Value: {status}. '{status}' is not one of {string.Join(", ", Statuses)}");
            var result = new JsonObject { ["name"] = name, ["server_uuid"] = uuid, ["status"] = status };
            if (tag is not null) result["tag"] = tag;
            var instance = await db.Instances.AsNoTracking().FirstOrDefaultAsync(i => i.Uuid == uuid && !i.Deleted, ct);
            if (instance is null)
            {
                result["code"] = 404;
                result["status"] = "failed";
            }
            else if (instance.Host is null)
            {
                result["code"] = 422;
                result["status"] = "failed";
            }
            else
            {
                if (name == "network-changed" && tag is not null) await RefreshAsync(db, neutron, uuid, tag, ct);
                await compute.CastAsync(instance.Host, new ExternalInstanceEvent(uuid, name, tag, status), ct);
                result["code"] = 200;
                accepted++;
            }
            results.Add(result);
        }
        var code = accepted == events.Count ? 200 : accepted == 0 ? 404 : 207;
        return new JsonResponse(new JsonObject { ["events"] = results }, code);
    }

    /// <summary>
    /// network-changed for a port of the server: its info cache takes the port's floating IPs as the network
    /// service has them now, so <c>addresses</c> shows them (Nova's compute refreshes the cache the same way).
    /// </summary>
    static async Task RefreshAsync(CellDb db, NeutronClient neutron, string uuid, string portId, CancellationToken ct)
    {
        var instance = await db.Instances.FirstAsync(i => i.Uuid == uuid, ct);
        if (!ServerNetworks.Vifs(instance.NetworkInfoJson).Any(v => v.PortId == portId)) return;
        ILookup<string, string> floating;
        try
        {
            floating = await ServerNetworks.FloatingIpsOfAsync(neutron, portId, ct);
        }
        catch (NeutronException)
        {
            // The next network-changed refreshes it; the event itself is still handed on.
            return;
        }
        await db.SaveInstanceAsync(instance, i =>
        {
            i.NetworkInfoJson = ServerNetworks.ToJson(ServerNetworks.WithFloatingIps(ServerNetworks.Vifs(i.NetworkInfoJson), portId, floating));
            i.Touch();
        }, ct);
    }
}
