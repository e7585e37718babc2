using Stratus.Compute.Images;
using Stratus.Compute.Network;
using Stratus.Compute.Rpc;
using Stratus.Compute.Servers;
using Stratus.Compute.Virt;
using Stratus.Core.Messaging;
using Stratus.Core.Services;

namespace Stratus.Compute.Api;

/// <summary>
/// <c>POST /servers/{id}/action</c>: start, stop, reboot, pause, suspend and their reverses (checked
/// against the server's state as Nova checks them, then handed to the host's agent), lock/unlock, and
/// the console log.
/// </summary>
public static class ServerActionsApi
{
    /// <summary>Which vm_states each action may start from (nova.compute.api's check_instance_state).</summary>
    static readonly Dictionary<string, (Func<string, IRpcCast> Message, string Task, string[] From)> Host = new()
    {
        ["os-stop"] = (id => new StopInstance(id), TaskStates.PoweringOff, [VmStates.Active, VmStates.Error]),
        ["os-start"] = (id => new StartInstance(id), TaskStates.PoweringOn, [VmStates.Stopped]),
        ["pause"] = (id => new PauseInstance(id), TaskStates.Pausing, [VmStates.Active]),
        ["unpause"] = (id => new UnpauseInstance(id), TaskStates.Unpausing, [VmStates.Paused]),
        ["suspend"] = (id => new SuspendInstance(id), TaskStates.Suspending, [VmStates.Active]),
        ["resume"] = (id => new ResumeInstance(id), TaskStates.Resuming, [VmStates.Suspended]),
    };

    static readonly Dictionary<string, string> ActionNames = new()
    {
        ["os-stop"] = "stop", ["os-start"] = "start", ["pause"] = "pause", ["unpause"] = "unpause", ["suspend"] = "suspend", ["resume"] = "resume",
    };

    /// <summary>
    /// Nova's rule for each action, checked before the server is looked up. os-resetState's rule is
    /// checked once the server is found; an unknown action is a 400 once the server is found.
    /// </summary>
    static readonly Dictionary<string, string> Rules = new()
    {
        ["os-getConsoleOutput"] = "os_compute_api:os-console-output",
        ["lock"] = "os_compute_api:os-lock-server:lock",
        ["unlock"] = "os_compute_api:os-lock-server:unlock",
        ["rebuild"] = "os_compute_api:servers:rebuild",
        ["resize"] = "os_compute_api:servers:resize",
        ["confirmResize"] = "os_compute_api:servers:confirm_resize",
        ["revertResize"] = "os_compute_api:servers:revert_resize",
        ["forceDelete"] = "os_compute_api:os-deferred-delete:force",
        ["restore"] = "os_compute_api:os-deferred-delete:restore",
        ["reboot"] = "os_compute_api:servers:reboot",
        ["os-stop"] = "os_compute_api:servers:stop",
        ["os-start"] = "os_compute_api:servers:start",
        ["pause"] = "os_compute_api:os-pause-server:pause",
        ["unpause"] = "os_compute_api:os-pause-server:unpause",
        ["suspend"] = "os_compute_api:os-suspend-server:suspend",
        ["resume"] = "os_compute_api:os-suspend-server:resume",
    };

    public static RouteGroupBuilder MapServerActions(this RouteGroupBuilder v21)
    {
        v21.MapPost("/servers/{id}/action", Act);
        return v21;
    }

    static async Task<IResult> Act(string id, HttpContext http, CellDb db, ApiDb apiDb, ConductorApi conductor, ComputeApi compute, ImageClient images, ServiceGroup group,
        Placement.PlacementClient placement, NeutronClient neutron, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        if (body.Count != 1) throw OpenStackError.BadRequest("Exactly one action is expected in the body.");
        var (name, args) = body.First();
        var caller = http.Caller();
        if (Rules.TryGetValue(name, out var rule)) http.Enforce(rule);
        var instance = await ComputeAccess.FindServerAsync(db, id, caller, ct);
        switch (name)
        {
            case "os-getConsoleOutput":
                return await ConsoleAsync(instance, args as JsonObject, compute, ct);
            case "lock":
                instance.Locked = true;
                instance.LockedBy = caller.IsAdmin && instance.ProjectId != caller.ProjectId ? "admin" : "owner";
                if (Microversion.Of(http).AtLeast(73) && args is JsonObject lockArgs) instance.LockedReason = lockArgs.OptionalString("locked_reason", 255, allowEmpty: true);
                InstanceActions.Start(db, http, id, "lock");
                instance.Touch();
                await db.SaveChangesAsync(ct);
                return Results.StatusCode(202);
            // The network service's side of a server: Nova neither checks its lock nor records an action.
            case "addSecurityGroup":
                http.Enforce("os_compute_api:os-security-groups:add", Target(instance));
                return await SecurityGroupsApi.AddToServerAsync(instance, args, http, neutron, ct);
            case "removeSecurityGroup":
                http.Enforce("os_compute_api:os-security-groups:remove", Target(instance));
                return await SecurityGroupsApi.RemoveFromServerAsync(instance, args, http, neutron, ct);
            case "addFloatingIp":
                http.Enforce("os_compute_api:os-floating-ips:add", Target(instance));
                return await FloatingIpsApi.AddToServerAsync(instance, args, http, neutron, ct);
            case "removeFloatingIp":
                http.Enforce("os_compute_api:os-floating-ips:remove", Target(instance));
                return await FloatingIpsApi.RemoveFromServerAsync(instance, args, http, db, neutron, ct);
            case "unlock":
                if (instance.LockedBy == "admin") http.Enforce("os_compute_api:os-lock-server:unlock:unlock_override");
                instance.Locked = false;
                instance.LockedBy = instance.LockedReason = null;
                InstanceActions.Start(db, http, id, "unlock");
                instance.Touch();
                await db.SaveChangesAsync(ct);
                return Results.StatusCode(202);
        }
        if (name == "os-resetState")
        {
            http.Enforce("os_compute_api:os-admin-actions:reset_state");
            var state = (args as JsonObject)?.OptionalString("state");
            if (state is not ("active" or "error")) throw NovaBody.Invalid("state", args?["state"], "is not one of ['active', 'error']");
            instance.VmState = state;
            instance.TaskState = null;
            instance.Touch();
            await db.SaveChangesAsync(ct);
            return Results.StatusCode(202);
        }
        if (instance.Locked && !caller.IsAdmin) throw OpenStackError.Conflict($"Instance {id} is locked");
        switch (name)
        {
            case "rebuild":
                return await ResizeActions.RebuildAsync(http, db, apiDb, compute, images, neutron, instance, args as JsonObject, ct);
            case "resize":
                return await ResizeActions.ResizeAsync(http, db, apiDb, conductor, instance, args as JsonObject, ct);
            case "confirmResize":
                return await ResizeActions.ConfirmAsync(http, db, instance, ct);
            case "revertResize":
                return await ResizeActions.RevertAsync(http, db, conductor, instance, ct);
            case "forceDelete":
                await ServerDeletion.DeleteAsync(instance, http, db, apiDb, compute, group, placement, ct);
                return Results.StatusCode(202);
            case "restore":
                throw OpenStackError.Conflict($"Cannot 'restore' instance {id} while it is in vm_state {instance.VmState}");
        }
        IRpcCast message;
        string task, action;
        if (name == "reboot")
        {
            var type = (args as JsonObject)?.OptionalString("type")?.ToUpperInvariant();
            if (type is not ("SOFT" or "HARD")) throw OpenStackError.BadRequest("Invalid input for field/attribute type. Value: reboot type must be SOFT or HARD.");
            var hard = type == "HARD";
            string[] from = hard ? [VmStates.Active, VmStates.Stopped, VmStates.Paused, VmStates.Suspended, VmStates.Error] : [VmStates.Active];
            instance.CheckState("reboot", from);
            (message, task, action) = (new RebootInstance(id, hard ? RebootType.Hard : RebootType.Soft), hard ? TaskStates.RebootingHard : TaskStates.Rebooting, "reboot");
        }
        else if (Host.TryGetValue(name, out var known))
        {
            instance.CheckState(ActionNames[name], known.From);
            (message, task, action) = (known.Message(id), known.Task, ActionNames[name]);
        }
        else throw OpenStackError.BadRequest($"There is no such action: {name}");
        if (instance.Host is null) throw OpenStackError.Conflict($"Cannot '{action}' instance {id}: it has no host.");
        instance.TaskState = task;
        instance.Touch();
        InstanceActions.Start(db, http, id, action);
        await db.SaveChangesAsync(ct);
        await compute.CastAsync(instance.Host, message, ct);
        return Results.StatusCode(202);
    }

    static Dictionary<string, string?> Target(Instance instance) => new() { ["project_id"] = instance.ProjectId };

    static async Task<IResult> ConsoleAsync(Instance instance, JsonObject? args, ComputeApi compute, CancellationToken ct)
    {
        int? length = null;
        if (args?["length"] is { } l && l.ToString() is var text && text != "null")
        {
            if (!int.TryParse(text, out var n) || n < -1) throw OpenStackError.BadRequest($"Invalid input for field/attribute length. Value: {text}.");
            length = n == -1 ? null : n;
        }
        if (instance.Host is null || instance.VmState == VmStates.Building)
            throw OpenStackError.Conflict($"Instance {instance.Uuid} is not ready: its console is not available yet.");
        string? output;
        try
        {
            output = await compute.CallAsync(instance.Host, new GetConsoleOutput(instance.Uuid), TimeSpan.FromSeconds(30), ct);
        }
        catch (RpcTimeoutException)
        {
            throw OpenStackError.Conflict($"The compute service on {instance.Host} did not answer; the console of {instance.Uuid} is not available.");
        }
        catch (RpcRemoteException e)
        {
            throw OpenStackError.Conflict($"The console of {instance.Uuid} is not available: {e.Message}");
        }
        var log = output ?? "";
        if (length is { } keep)
        {
            // nova.compute.manager's _tail_log: the last lines of the log split at '\n', joined again.
            var lines = log.Split('\n');
            if (lines.Length > keep) log = string.Join('\n', lines[^keep..]);
        }
        return new JsonResponse(new JsonObject { ["output"] = log });
    }
}
