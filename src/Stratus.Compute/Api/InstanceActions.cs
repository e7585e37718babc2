using System.Globalization;

namespace Stratus.Compute.Api;

/// <summary>
/// <c>/servers/{id}/os-instance-actions</c>: what was asked of a server, by whom, with which request id,
/// and how it ended (the conductor closes the action when the server's task ends).
/// </summary>
public static class InstanceActions
{
    public static void Start(CellDb db, HttpContext http, string uuid, string action, bool finished = false)
    {
        finished |= action is "lock" or "unlock";
        var caller = http.Caller();
        var now = DateTime.UtcNow;
        db.Actions.Add(new InstanceAction
        {
            Action = action,
            InstanceUuid = uuid,
            RequestId = http.RequestId(),
            UserId = caller.UserId,
            ProjectId = caller.ProjectId,
            StartTime = now,
            UpdatedAt = now,
            // Actions with no task on a host (lock...) are over as soon as they are recorded.
            FinishTime = finished ? now : null,
            Events = [new InstanceActionEvent { Event = "compute_" + action, StartTime = now, FinishTime = finished ? now : null,
                Result = finished ? "Success" : null }],
        });
    }

    public static RouteGroupBuilder MapInstanceActions(this RouteGroupBuilder v21)
    {
        v21.MapGet("/servers/{id}/os-instance-actions", List);
        v21.MapGet("/servers/{id}/os-instance-actions/{requestId}", Show);
        return v21;
    }

    static async Task<Instance> FindAsync(HttpContext http, CellDb db, string id, CancellationToken ct)
    {
        var caller = http.Caller();
        // Actions of deleted servers stay readable from 2.21.
        var instance = await db.Instances.FirstOrDefaultAsync(i => i.Uuid == id && (!i.Deleted || Microversion.Of(http).AtLeast(21)), ct);
        if (instance is null || (!caller.IsAdmin && instance.ProjectId != caller.ProjectId)) throw OpenStackError.NotFound($"Instance {id} could not be found.");
        return instance;
    }

    static string Time(DateTime? t) => t?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture)!;

    static JsonObject View(HttpContext http, InstanceAction a)
    {
        var o = new JsonObject
        {
            ["action"] = a.Action,
            ["instance_uuid"] = a.InstanceUuid,
            ["message"] = a.Message,
            ["project_id"] = a.ProjectId,
            ["request_id"] = a.RequestId,
            ["start_time"] = Time(a.StartTime),
            ["user_id"] = a.UserId,
        };
        if (Microversion.Of(http).AtLeast(58)) o["updated_at"] = Time(a.UpdatedAt);
        return o;
    }

    static async Task<IResult> List(string id, HttpContext http, CellDb db, CancellationToken ct)
    {
        await FindAsync(http, db, id, ct);
        var actions = await db.Actions.Where(a => a.InstanceUuid == id).OrderByDescending(a => a.Id).ToListAsync(ct);
        return new JsonResponse(new JsonObject { ["instanceActions"] = new JsonArray([.. actions.Select(a => (JsonNode)View(http, a))]) });
    }

    static async Task<IResult> Show(string id, string requestId, HttpContext http, CellDb db, CancellationToken ct)
    {
        await FindAsync(http, db, id, ct);
        var action = await db.Actions.Include(a => a.Events).FirstOrDefaultAsync(a => a.InstanceUuid == id && a.RequestId == requestId, ct)
            ?? throw OpenStackError.NotFound($"Action for request_id {requestId} on instance {id} not found");
        var o = View(http, action);
        var admin = http.Caller().IsAdmin;
        if (admin || Microversion.Of(http).AtLeast(51))
            o["events"] = new JsonArray([.. action.Events.Select(e =>
            {
                var ev = new JsonObject { ["event"] = e.Event, ["start_time"] = Time(e.StartTime), ["finish_time"] = Time(e.FinishTime), ["result"] = e.Result };
                if (admin) ev["traceback"] = e.Traceback;
                if (admin && Microversion.Of(http).AtLeast(62)) ev["host"] = e.Host;
                return (JsonNode)ev;
            })]);
        return new JsonResponse(new JsonObject { ["instanceAction"] = o });
    }
}
