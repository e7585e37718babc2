using Stratus.Identity.Assignment;

namespace Stratus.Identity.Api;

/// <summary>
/// GET /v3/role_assignments (keystone/api/role_assignments.py): the raw grants, or with
/// <c>effective</c> what they amount to — group grants expanded to members, inherited grants onto
/// the projects below, implied roles added, domain-specific roles replaced by what they imply.
/// </summary>
public static class RoleAssignmentsApi
{
    /// <summary>One assignment row as the API shows it; Via* say how an effective one came about.</summary>
    sealed record Row(string RoleId, string? UserId, string? GroupId, string? ProjectId, string? DomainId, bool System, bool Inherited)
    {
        public string? ViaGroup { get; init; }
        public string? PriorRole { get; init; }
        public RoleAssignment? Source { get; init; }
    }

    public static RouteGroupBuilder MapRoleAssignments(this RouteGroupBuilder v3)
    {
        v3.MapGet("/role_assignments", List).RequireToken();
        return v3;
    }

    static async Task<IResult> List(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var q = http.Request.Query;
        string? Q(string k) => q[k].FirstOrDefault();
        var effective = q.ContainsKey("effective") && Lookup.QueryBool(q, "effective") != false;
        var includeNames = Lookup.QueryBool(q, "include_names") == true;
        var includeSubtree = Lookup.QueryBool(q, "include_subtree") == true;
        var userId = Q("user.id");
        var groupId = Q("group.id");
        var roleId = Q("role.id");
        var projectId = Q("scope.project.id");
        var domainId = Q("scope.domain.id");
        var system = Q("scope.system");
        var inheritedTo = Q("scope.OS-INHERIT:inherited_to");
        if (userId is not null && groupId is not null)
            throw OpenStackError.BadRequest("Specify a user or group, not both");
        if (new[] { projectId, domainId, system }.Count(x => x is not null) > 1)
            throw OpenStackError.BadRequest("Specify one of domain, project or system");
        if (effective && groupId is not null)
            throw OpenStackError.BadRequest("Combining effective and group filter will always result in an empty list.");
        if (includeSubtree && projectId is null)
            throw OpenStackError.BadRequest("scope.project.id needs to be specified if include_subtree is also specified");
        string? targetDomain = domainId;
        if (projectId is not null && targetDomain is null)
            targetDomain = await db.Projects.AsNoTracking().Where(p => p.Id == projectId).Select(p => p.DomainId).FirstOrDefaultAsync(ct);
        http.Enforce(includeSubtree ? "identity:list_role_assignments_for_tree" : "identity:list_role_assignments",
            new Dictionary<string, string?> { ["target.domain_id"] = targetDomain, ["target.project.id"] = projectId });

        var all = await db.RoleAssignments.AsNoTracking().ToListAsync(ct);
        var rows = all.Select(a => new Row(a.RoleId,
            a.Type is AssignmentType.UserProject or AssignmentType.UserDomain or AssignmentType.UserSystem ? a.ActorId : null,
            a.Type is AssignmentType.GroupProject or AssignmentType.GroupDomain or AssignmentType.GroupSystem ? a.ActorId : null,
            a.Type is AssignmentType.UserProject or AssignmentType.GroupProject ? a.TargetId : null,
            a.Type is AssignmentType.UserDomain or AssignmentType.GroupDomain ? a.TargetId : null,
            a.Type is AssignmentType.UserSystem or AssignmentType.GroupSystem, a.Inherited)
        { Source = a }).ToList();
        var projects = await db.Projects.AsNoTracking().Select(p => new { p.Id, p.DomainId, p.ParentId, p.Name }).ToListAsync(ct);
        var roles = await db.Roles.AsNoTracking().ToDictionaryAsync(r => r.Id, ct);

        if (effective)
        {
            var members = await db.GroupMemberships.AsNoTracking().ToListAsync(ct);
            var implications = await db.ImpliedRoles.AsNoTracking().ToListAsync(ct);
            var expanded = new List<Row>();
            foreach (var r in rows)
            {
                // Inherited grants land on the projects below their target, never on the target itself.
                IEnumerable<Row> placed = !r.Inherited ? [r]
                    : r.DomainId is not null ? projects.Where(p => p.DomainId == r.DomainId).Select(p => r with { ProjectId = p.Id, DomainId = null, Inherited = false })
                    : r.ProjectId is not null ? projects.Where(p => IsBelow(p.Id, r.ProjectId)).Select(p => r with { ProjectId = p.Id, Inherited = false })
                    : [];
                foreach (var p in placed)
                {
                    if (p.GroupId is null) expanded.Add(p);
                    else expanded.AddRange(members.Where(m => m.GroupId == p.GroupId).Select(m => p with { UserId = m.UserId, GroupId = null, ViaGroup = p.GroupId }));
                }
            }
            var withImplied = expanded.SelectMany(r => RoleResolver.ClosureWithPriors(implications, r.RoleId)
                .Select(x => x.PriorRoleId is null ? r : r with { RoleId = x.RoleId, PriorRole = x.PriorRoleId })).ToList();
            rows = withImplied.Where(r => roles.TryGetValue(r.RoleId, out var role) && role.DomainId is null)
                .DistinctBy(r => (r.RoleId, r.UserId, r.ProjectId, r.DomainId, r.System)).ToList();
        }

        bool IsBelow(string id, string ancestor)
        {
            for (var p = projects.FirstOrDefault(x => x.Id == id)?.ParentId; p is not null; p = projects.FirstOrDefault(x => x.Id == p)?.ParentId)
                if (p == ancestor) return true;
            return false;
        }

        var subtree = includeSubtree ? projects.Where(p => p.Id == projectId || IsBelow(p.Id, projectId!)).Select(p => p.Id).ToHashSet() : null;
        var result = rows.Where(r =>
            (userId is null || r.UserId == userId) &&
            (groupId is null || r.GroupId == groupId) &&
            (roleId is null || r.RoleId == roleId) &&
            (projectId is null || (subtree?.Contains(r.ProjectId ?? "") ?? r.ProjectId == projectId)) &&
            (domainId is null || r.DomainId == domainId) &&
            (system is null || r.System) &&
            (inheritedTo is null || r.Inherited)).ToList();

        var names = includeNames ? await NamesAsync(db, ct) : null;
        var items = result.Select(r => (JsonNode?)Render(http, r, names, roles)).ToList();
        return new JsonResponse(new JsonObject
        {
            ["role_assignments"] = new JsonArray(items.ToArray()),
            ["links"] = new JsonObject { ["self"] = $"{http.BaseUrl()}{http.Request.Path}{http.Request.QueryString}", ["previous"] = null, ["next"] = null },
        });
    }

    sealed record Names(Dictionary<string, (string Name, string DomainId)> Users, Dictionary<string, (string Name, string DomainId)> Groups,
        Dictionary<string, (string Name, string DomainId)> Projects, Dictionary<string, string> Domains);

    static async Task<Names> NamesAsync(IdentityDb db, CancellationToken ct) => new(
        await db.Users.AsNoTracking().ToDictionaryAsync(u => u.Id, u => (u.Name, u.DomainId), ct),
        await db.Groups.AsNoTracking().ToDictionaryAsync(g => g.Id, g => (g.Name, g.DomainId), ct),
        await db.Projects.AsNoTracking().ToDictionaryAsync(p => p.Id, p => (p.Name, p.DomainId), ct),
        await db.Domains.AsNoTracking().ToDictionaryAsync(d => d.Id, d => d.Name, ct));

    static JsonObject Ref(string id, (string Name, string DomainId)? named, Names? names)
    {
        var o = new JsonObject { ["id"] = id };
        if (named is { } n)
        {
            o["name"] = n.Name;
            o["domain"] = new JsonObject { ["id"] = n.DomainId, ["name"] = names!.Domains.GetValueOrDefault(n.DomainId) };
        }
        return o;
    }

    static JsonObject Render(HttpContext http, Row r, Names? names, Dictionary<string, Role> roles)
    {
        var role = new JsonObject { ["id"] = r.RoleId };
        if (names is not null && roles.TryGetValue(r.RoleId, out var rr))
        {
            role["name"] = rr.Name;
            if (rr.DomainId is not null) role["domain"] = new JsonObject { ["id"] = rr.DomainId, ["name"] = names.Domains.GetValueOrDefault(rr.DomainId) };
        }
        var o = new JsonObject { ["role"] = role };
        if (r.UserId is not null) o["user"] = Ref(r.UserId, names?.Users.TryGetValue(r.UserId, out var u) == true ? u : null, names);
        if (r.GroupId is not null) o["group"] = Ref(r.GroupId, names?.Groups.TryGetValue(r.GroupId, out var g) == true ? g : null, names);
        JsonObject scope;
        string target;
        if (r.ProjectId is not null)
        {
            scope = new JsonObject { ["project"] = Ref(r.ProjectId, names?.Projects.TryGetValue(r.ProjectId, out var p) == true ? p : null, names) };
            target = "projects/" + r.ProjectId;
        }
        else if (r.DomainId is not null)
        {
            var domain = new JsonObject { ["id"] = r.DomainId };
            if (names is not null) domain["name"] = names.Domains.GetValueOrDefault(r.DomainId);
            scope = new JsonObject { ["domain"] = domain };
            target = "domains/" + r.DomainId;
        }
        else
        {
            scope = new JsonObject { ["system"] = new JsonObject { ["all"] = true } };
            target = "system";
        }
        if (r.Inherited) scope["OS-INHERIT:inherited_to"] = "projects";
        o["scope"] = scope;

        // The link names the grant the assignment comes from.
        var src = r.Source;
        var actor = r.ViaGroup is not null ? $"groups/{r.ViaGroup}" : r.GroupId is not null ? $"groups/{r.GroupId}" : $"users/{r.UserId}";
        var grantTarget = src is null ? target
            : src.Type is AssignmentType.UserProject or AssignmentType.GroupProject ? "projects/" + src.TargetId
            : src.Type is AssignmentType.UserDomain or AssignmentType.GroupDomain ? "domains/" + src.TargetId : "system";
        var grantRole = r.PriorRole ?? src?.RoleId ?? r.RoleId;
        var link = src is { Inherited: true }
            ? $"{http.BaseUrl()}/v3/OS-INHERIT/{grantTarget}/{actor}/roles/{grantRole}/inherited_to_projects"
            : $"{http.BaseUrl()}/v3/{grantTarget}/{actor}/roles/{grantRole}";
        var links = new JsonObject { ["assignment"] = link };
        if (r.ViaGroup is not null) links["membership"] = $"{http.BaseUrl()}/v3/groups/{r.ViaGroup}/users/{r.UserId}";
        if (r.PriorRole is not null) links["prior_role"] = $"{http.BaseUrl()}/v3/roles/{r.PriorRole}";
        o["links"] = links;
        return o;
    }
}
