namespace Stratus.Compute.Api;

/// <summary>
/// Nova's project isolation: a project's servers are its own, and others' servers do not exist for it
/// (404); admins see every server. What a caller may do to a server is Nova's policy (Policy/).
/// </summary>
static class ComputeAccess
{
    public static async Task<Instance> FindServerAsync(CellDb db, string id, Caller caller, CancellationToken ct)
    {
        var instance = await db.Instances.FirstOrDefaultAsync(i => i.Uuid == id && !i.Deleted, ct);
        if (instance is null || (!caller.IsAdmin && instance.ProjectId != caller.ProjectId))
            throw OpenStackError.NotFound($"Instance {id} could not be found.");
        return instance;
    }
}
