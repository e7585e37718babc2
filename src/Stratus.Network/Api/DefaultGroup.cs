using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Stratus.Network.Api;

/// <summary>
/// A project's <c>default</c> security group, made as Neutron makes it on the project's first use:
/// egress to anywhere and ingress from the group's own members, for IPv4 and IPv6. The
/// default_security_group row (one per project) keeps two concurrent first uses from making two.
/// </summary>
static class DefaultGroup
{
    /// <summary>The project's default group, made now (saved at once, apart from the request's other rows) when it has none.</summary>
    public static async Task<string> EnsureAsync(NetworkStore store, string projectId, DateTime now, CancellationToken ct)
    {
        if (await store.DefaultGroupAsync(projectId, ct) is { } existing) return existing;
        var id = Guid.NewGuid().ToString();
        var rows = new List<object>
        {
            new SecurityGroupRow { Id = id, ProjectId = projectId, Name = "default", Description = "Default security group", CreatedAt = now, UpdatedAt = now, RevisionNumber = 1 },
            new Data.DefaultSecurityGroup { ProjectId = projectId, SecurityGroupId = id },
        };
        foreach (var ethertype in new[] { "IPv4", "IPv6" })
        {
            rows.Add(Rule(id, projectId, "egress", ethertype, null, now));
            rows.Add(Rule(id, projectId, "ingress", ethertype, id, now));
        }
        try
        {
            await store.AddAsync(rows, ct);
            return id;
        }
        catch (DbException e) when (SqlDatabase.IsDuplicate(e))
        {
            // Another request made the project's default group first: use that one.
            return (await store.DefaultGroupAsync(projectId, ct))!;
        }
    }

    static SecurityGroupRuleRow Rule(string group, string project, string direction, string ethertype, string? remoteGroup, DateTime now) => new()
    {
        Id = Guid.NewGuid().ToString(), SecurityGroupId = group, ProjectId = project, Direction = direction, Ethertype = ethertype,
        RemoteGroupId = remoteGroup, CreatedAt = now, UpdatedAt = now, RevisionNumber = 0,
    };
}
