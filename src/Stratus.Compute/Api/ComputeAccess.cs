namespace Stratus.Compute.Api;

/// <summary>
/// Nova's default rules where they matter: admins do everything; a project's members manage their
/// project's servers (others' servers do not exist for them: 404); hosts, services and hypervisors,
/// and flavor management, are for admins.
/// </summary>
static class ComputeAccess
{
    public static void RequireAdmin(this HttpContext http, string rule)
    {
        if (!http.Caller().IsAdmin) throw OpenStackError.Forbidden($"Policy doesn't allow {rule} to be performed.");
    }

    /// <summary>Writes need the member role (or admin); the reader role only reads.</summary>
    public static void RequireMember(this HttpContext http, string rule)
    {
        var caller = http.Caller();
        if (!caller.IsAdmin && !caller.Roles.Contains("member")) throw OpenStackError.Forbidden($"Policy doesn't allow {rule} to be performed.");
    }

    public static async Task<Instance> FindServerAsync(CellDb db, string id, Caller caller, CancellationToken ct)
    {
        var instance = await db.Instances.FirstOrDefaultAsync(i => i.Uuid == id && !i.Deleted, ct);
        if (instance is null || (!caller.IsAdmin && instance.ProjectId != caller.ProjectId))
            throw OpenStackError.NotFound($"Instance {id} could not be found.");
        return instance;
    }
}
