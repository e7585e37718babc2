using Stratus.Identity.Identity;
using Stratus.Identity.Resource;
using Stratus.Identity.Tokens;

namespace Stratus.Identity.Api;

/// <summary>/v3/groups and membership (keystone/api/groups.py).</summary>
public static class GroupsApi
{
    static readonly string[] Attributes = ["id", "name", "domain_id", "description", "links"];

    public static RouteGroupBuilder MapGroups(this RouteGroupBuilder v3)
    {
        var groups = v3.MapGroup("/groups");
        groups.MapMethods("/", ["GET", "HEAD"], List).RequireToken();
        groups.MapPost("/", Create).RequireToken();
        groups.MapMethods("/{groupId}", ["GET", "HEAD"], Get).RequireToken();
        groups.MapPatch("/{groupId}", Update).RequireToken();
        groups.MapDelete("/{groupId}", Delete).RequireToken();
        groups.MapMethods("/{groupId}/users", ["GET", "HEAD"], Users).RequireToken();
        groups.MapPut("/{groupId}/users/{userId}", AddUser).RequirePolicy("identity:add_user_to_group");
        groups.MapMethods("/{groupId}/users/{userId}", ["HEAD", "GET"], CheckUser).RequireToken();
        groups.MapDelete("/{groupId}/users/{userId}", RemoveUser).RequirePolicy("identity:remove_user_from_group");
        return groups;
    }

    public static JsonObject Render(HttpContext http, Group g) =>
        new JsonObject
        {
            ["id"] = g.Id,
            ["name"] = g.Name,
            ["domain_id"] = g.DomainId,
            ["description"] = g.Description,
            ["links"] = Links.Self(http, "groups/" + g.Id),
        }.WithExtra(g.Extra);

    static Dictionary<string, string?> Target(Group g) => new() { ["target.group.id"] = g.Id, ["target.group.domain_id"] = g.DomainId };

    static async Task<Group> FindAsync(HttpContext http, IdentityDb db, string groupId, string rule, CancellationToken ct)
    {
        var group = await db.Groups.FirstOrDefaultAsync(g => g.Id == groupId, ct);
        http.Enforce(rule, group is null ? new() { ["target.group.id"] = groupId } : Target(group));
        return group ?? throw OpenStackError.NotFound($"Could not find group: {groupId}.");
    }

    static async Task<IResult> List(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var q = http.Request.Query;
        // As Keystone: the policy target is the caller's own domain scope, and a domain-scoped caller sees only that domain.
        var scope = http.Caller().DomainId;
        http.Enforce("identity:list_groups", new Dictionary<string, string?> { ["target.group.domain_id"] = scope });
        var query = db.Groups.AsNoTracking();
        if (q["domain_id"].FirstOrDefault() is { } domainId) query = query.Where(g => g.DomainId == domainId);
        if (scope is not null) query = query.Where(g => g.DomainId == scope);
        var groups = await query.OrderBy(g => g.Name).ToListAsync(ct);
        return new JsonResponse(Links.Collection(http, "groups", RequestFields.FilterNamed(groups.Select(g => Render(http, g)), q, "name")));
    }

    static async Task<IResult> Get(HttpContext http, IdentityDb db, string groupId, CancellationToken ct) =>
        new JsonResponse(new JsonObject { ["group"] = Render(http, await FindAsync(http, db, groupId, "identity:get_group", ct)) });

    static async Task<IResult> Create(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("group");
        var caller = http.Caller();
        var domainId = (body["domain_id"] is null ? null : RequestFields.NonNullString(body, "domain_id", 64))
            ?? caller.DomainId ?? caller.ProjectDomainId ?? Domain.DefaultId;
        http.Enforce("identity:create_group", new Dictionary<string, string?> { ["target.group.domain_id"] = domainId });
        var name = RequestFields.Name(body, "name") ?? throw OpenStackError.BadRequest("'name' is a required property");
        if (!await db.Domains.AnyAsync(d => d.Id == domainId, ct)) throw OpenStackError.NotFound($"Could not find domain: {domainId}.");
        if (await db.Groups.AnyAsync(g => g.DomainId == domainId && g.Name == name, ct))
            throw OpenStackError.Conflict($"Conflict occurred attempting to store group - Duplicate entry found with name {name} at domain ID {domainId}.");
        var group = new Group
        {
            Id = Links.NewId(),
            Name = name,
            DomainId = domainId,
            Description = ProjectsApi.ReadDescription(body, out var description) ? description : "",
            Extra = body.Extra(Attributes).ToJsonString(),
        };
        db.Groups.Add(group);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["group"] = Render(http, group) }, 201);
    }

    static async Task<IResult> Update(HttpContext http, IdentityDb db, string groupId, CancellationToken ct)
    {
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("group");
        var group = await FindAsync(http, db, groupId, "identity:update_group", ct);
        RequestFields.RequireSomething(body);
        if (body.ContainsKey("id") && body["id"]?.ToString() != groupId) throw OpenStackError.BadRequest("Cannot change ID");
        if (body.ContainsKey("domain_id") && body["domain_id"]?.ToString() != group.DomainId)
            throw OpenStackError.BadRequest("Cannot change Domain ID");
        if (RequestFields.Name(body, "name") is { } name && name != group.Name)
        {
            if (await db.Groups.AnyAsync(g => g.DomainId == group.DomainId && g.Name == name && g.Id != groupId, ct))
                throw OpenStackError.Conflict($"Conflict occurred attempting to store group - Duplicate entry found with name {name} at domain ID {group.DomainId}.");
            group.Name = name;
        }
        if (ProjectsApi.ReadDescription(body, out var description)) group.Description = description;
        var extra = body.Extra(Attributes);
        if (extra.Count > 0) group.Extra = Extra.Merge(group.Extra, extra);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["group"] = Render(http, group) });
    }

    static async Task<IResult> Delete(HttpContext http, IdentityDb db, string groupId, CancellationToken ct)
    {
        var group = await FindAsync(http, db, groupId, "identity:delete_group", ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.RoleAssignments.Where(a => a.ActorId == groupId).ExecuteDeleteAsync(ct);
        await db.GroupMemberships.Where(m => m.GroupId == groupId).ExecuteDeleteAsync(ct);
        db.Groups.Remove(group);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return Results.NoContent();
    }

    static async Task<IResult> Users(HttpContext http, IdentityDb db, string groupId, CancellationToken ct)
    {
        await FindAsync(http, db, groupId, "identity:list_users_in_group", ct);
        var userIds = await db.GroupMemberships.AsNoTracking().Where(m => m.GroupId == groupId).Select(m => m.UserId).ToListAsync(ct);
        var users = await db.Users.AsNoTracking().Where(u => userIds.Contains(u.Id)).OrderBy(u => u.Name).ToListAsync(ct);
        var items = RequestFields.FilterNamed(users.Select(u => UsersApi.Render(http, u)), http.Request.Query, "name", "domain_id", "enabled");
        return new JsonResponse(Links.Collection(http, "users", items));
    }

    static async Task<IResult> AddUser(IdentityDb db, string groupId, string userId, CancellationToken ct)
    {
        await Lookup.GroupAsync(db, groupId, ct);
        await Lookup.UserAsync(db, userId, ct);
        if (!await db.GroupMemberships.AnyAsync(m => m.GroupId == groupId && m.UserId == userId, ct))
        {
            db.GroupMemberships.Add(new GroupMembership { GroupId = groupId, UserId = userId });
            await db.SaveChangesAsync(ct);
        }
        return Results.NoContent();
    }

    static async Task<IResult> CheckUser(HttpContext http, IdentityDb db, string groupId, string userId, CancellationToken ct)
    {
        var group = await FindAsync(http, db, groupId, "identity:check_user_in_group", ct);
        await Lookup.UserAsync(db, userId, ct);
        return await db.GroupMemberships.AnyAsync(m => m.GroupId == group.Id && m.UserId == userId, ct)
            ? Results.NoContent()
            : throw OpenStackError.NotFound($"User '{userId}' not found in group '{groupId}'");
    }

    static async Task<IResult> RemoveUser(IdentityDb db, string groupId, string userId, CancellationToken ct)
    {
        await Lookup.GroupAsync(db, groupId, ct);
        await Lookup.UserAsync(db, userId, ct);
        var n = await db.GroupMemberships.Where(m => m.GroupId == groupId && m.UserId == userId).ExecuteDeleteAsync(ct);
        if (n == 0) throw OpenStackError.NotFound($"User '{userId}' not found in group '{groupId}'");
        // Roles held through the group go with it: tokens are re-checked; mark the change.
        await Revocations.RevokeUserAsync(db, userId, ct);
        return Results.NoContent();
    }
}
