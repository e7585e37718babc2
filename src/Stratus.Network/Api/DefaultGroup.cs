using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Stratus.Network.Api;

/// <summary>
/// A project's <c>default</c> security group, made as Neutron makes it on the project's first use:
/// egress to anywhere and ingress from the group's own members, for IPv4 and IPv6. The
/// default_security_group row (one per project) keeps two concurrent first uses from making two.
/// </summary>
static class DefaultGroup
{
    public static async Task<string> EnsureAsync(NetworkDb request, string projectId, DateTime now, CancellationToken ct)
    {
        if (await request.DefaultSecurityGroups.AsNoTracking().SingleOrDefaultAsync(d => d.ProjectId == projectId, ct) is { } existing) return existing.SecurityGroupId;
        // A context of its own: the group is saved at once, and the request's unsaved changes stay the request's.
        await using var db = new NetworkDb((DbContextOptions<NetworkDb>)request.GetService<IDbContextOptions>());
        var id = Guid.NewGuid().ToString();
        db.SecurityGroups.Add(new SecurityGroupRow
        {
            Id = id, ProjectId = projectId, Name = "default", Description = "Default security group", CreatedAt = now, UpdatedAt = now, RevisionNumber = 1,
        });
        db.DefaultSecurityGroups.Add(new Data.DefaultSecurityGroup { ProjectId = projectId, SecurityGroupId = id });
        foreach (var ethertype in new[] { "IPv4", "IPv6" })
        {
            db.SecurityGroupRules.Add(Rule(id, projectId, "egress", ethertype, null, now));
            db.SecurityGroupRules.Add(Rule(id, projectId, "ingress", ethertype, id, now));
        }
        try
        {
            await db.SaveChangesAsync(ct);
            return id;
        }
        catch (DbUpdateException)
        {
            // Another request made the project's default group first: use that one.
            return (await db.DefaultSecurityGroups.AsNoTracking().SingleAsync(d => d.ProjectId == projectId, ct)).SecurityGroupId;
        }
    }

    static SecurityGroupRuleRow Rule(string group, string project, string direction, string ethertype, string? remoteGroup, DateTime now) => new()
    {
        Id = Guid.NewGuid().ToString(), SecurityGroupId = group, ProjectId = project, Direction = direction, Ethertype = ethertype,
        RemoteGroupId = remoteGroup, CreatedAt = now, UpdatedAt = now, RevisionNumber = 0,
    };
}
