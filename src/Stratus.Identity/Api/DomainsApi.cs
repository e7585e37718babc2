using Stratus.Identity.Assignment;
using Stratus.Identity.Resource;
using Stratus.Identity.Tokens;
using Stratus.Identity.Trusts;

namespace Stratus.Identity.Api;

/// <summary>/v3/domains (keystone/api/domains.py).</summary>
public static class DomainsApi
{
    static readonly string[] Attributes = ["id", "name", "description", "enabled", "tags", "options", "links", "explicit_domain_id"];

    public static RouteGroupBuilder MapDomains(this RouteGroupBuilder v3)
    {
        var domains = v3.MapGroup("/domains");
        domains.MapMethods("/", ["GET", "HEAD"], List).RequirePolicy("identity:list_domains");
        domains.MapPost("/", Create).RequirePolicy("identity:create_domain");
        domains.MapMethods("/{domainId}", ["GET", "HEAD"], Get).RequireToken();
        domains.MapPatch("/{domainId}", Update).RequirePolicy("identity:update_domain");
        domains.MapDelete("/{domainId}", Delete).RequirePolicy("identity:delete_domain");
        domains.MapDomainConfig();
        return domains;
    }

    public static JsonObject Render(HttpContext http, Domain d) =>
        new JsonObject
        {
            ["id"] = d.Id,
            ["name"] = d.Name,
            ["description"] = d.Description,
            ["enabled"] = d.Enabled,
            ["tags"] = JsonNode.Parse(d.Tags) ?? new JsonArray(),
            ["options"] = Extra.Parse(d.Options),
            ["links"] = Links.Self(http, "domains/" + d.Id),
        }.WithExtra(d.Extra);

    static async Task<IResult> List(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var domains = await db.Domains.AsNoTracking().OrderBy(d => d.Name).ToListAsync(ct);
        var items = RequestFields.FilterNamed(domains.Select(d => Render(http, d)), http.Request.Query, "name", "enabled");
        return new JsonResponse(Links.Collection(http, "domains", items));
    }

    static async Task<IResult> Get(HttpContext http, IdentityDb db, string domainId, CancellationToken ct)
    {
        var domain = await db.Domains.AsNoTracking().FirstOrDefaultAsync(d => d.Id == domainId, ct);
        http.Enforce("identity:get_domain", new Dictionary<string, string?> { ["target.domain.id"] = domainId });
        if (domain is null) throw OpenStackError.NotFound($"Could not find domain: {domainId}.");
        return new JsonResponse(new JsonObject { ["domain"] = Render(http, domain) });
    }

    static async Task<IResult> Create(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("domain");
        var name = RequestFields.Name(body, "name") ?? throw OpenStackError.BadRequest("'name' is a required property");
        if (name.Length > 64) throw OpenStackError.BadRequest($"Invalid input for field 'name': '{name}' is too long");
        var id = Links.NewId();
        if (body.ContainsKey("explicit_domain_id"))
        {
            // Keystone takes an explicit id only in its own form: 32 lowercase hex digits (a dashless UUID).
            id = body["explicit_domain_id"] is JsonValue v && v.TryGetValue<string>(out var s) && IsHexUuid(s)
                ? s : throw OpenStackError.BadRequest("Domain ID does not conform to required UUID format.");
        }
        var tags = body.ContainsKey("tags") ? ProjectsApi.ReadTags(body["tags"]) : [];
        var options = ProjectsApi.ReadOptions(body, "immutable");
        if (await db.Domains.AnyAsync(d => d.Name == name, ct))
            throw OpenStackError.Conflict($"Conflict occurred attempting to store project - it is not permitted to have two projects acting as domains with the same name: {name}.");
        if (await db.Domains.AnyAsync(d => d.Id == id, ct))
            throw OpenStackError.Conflict($"Conflict occurred attempting to store project - Duplicate ID, {id}.");
        var domain = new Domain
        {
            Id = id,
            Name = name,
            Description = ProjectsApi.ReadDescription(body, out var description) ? description : "",
            Enabled = RequestFields.Bool(body, "enabled") ?? true,
            Tags = ProjectsApi.TagsJson(tags),
            Options = options?.ToJsonString() ?? "{}",
            Extra = body.Extra(Attributes).ToJsonString(),
        };
        db.Domains.Add(domain);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["domain"] = Render(http, domain) }, 201);
    }

    static bool IsHexUuid(string s) => s.Length == 32 && s.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    static async Task<IResult> Update(HttpContext http, IdentityDb db, string domainId, CancellationToken ct)
    {
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("domain");
        RequestFields.RequireSomething(body);
        var domain = await Lookup.DomainAsync(db, domainId, ct);
        if (RequestFields.Name(body, "name") is { } name && name != domain.Name)
        {
            if (name.Length > 64) throw OpenStackError.BadRequest($"Invalid input for field 'name': '{name}' is too long");
            if (await db.Domains.AnyAsync(d => d.Name == name && d.Id != domainId, ct))
                throw OpenStackError.Conflict($"Conflict occurred attempting to store project - it is not permitted to have two projects acting as domains with the same name: {name}.");
            domain.Name = name;
        }
        if (ProjectsApi.ReadDescription(body, out var description)) domain.Description = description;
        if (body.ContainsKey("tags")) domain.Tags = ProjectsApi.TagsJson(ProjectsApi.ReadTags(body["tags"]));
        if (ProjectsApi.ReadOptions(body, "immutable") is { } options) domain.Options = Extra.Merge(domain.Options, options);
        if (RequestFields.Bool(body, "enabled") is { } enabled)
        {
            // Keystone lets even the default domain be disabled; its tokens then stop validating.
            if (domain.Enabled && !enabled) await Revocations.RevokeDomainAsync(db, domainId, ct);
            domain.Enabled = enabled;
        }
        var extra = body.Extra(Attributes);
        if (extra.Count > 0) domain.Extra = Extra.Merge(domain.Extra, extra);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["domain"] = Render(http, domain) });
    }

    /// <summary>Deletes a disabled domain and everything it owns (also used by the projects API for is_domain projects).</summary>
    public static async Task<IResult> Delete(IdentityDb db, string domainId, CancellationToken ct)
    {
        var domain = await Lookup.DomainAsync(db, domainId, ct);
        if (domain.Enabled)
            throw OpenStackError.Forbidden($"Cannot delete a domain that is enabled, please disable it first.");
        // Keystone deletes what the domain owns: projects, users, groups, domain roles, their assignments.
        var projects = await db.Projects.Where(p => p.DomainId == domainId).Select(p => p.Id).ToListAsync(ct);
        var users = await db.Users.Where(u => u.DomainId == domainId).Select(u => u.Id).ToListAsync(ct);
        var groups = await db.Groups.Where(g => g.DomainId == domainId).Select(g => g.Id).ToListAsync(ct);
        var roles = await db.Roles.Where(r => r.DomainId == domainId).Select(r => r.Id).ToListAsync(ct);
        var targets = projects.Append(domainId).ToList();
        var actors = users.Concat(groups).ToList();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.RoleAssignments.Where(a => targets.Contains(a.TargetId) || actors.Contains(a.ActorId) || roles.Contains(a.RoleId)).ExecuteDeleteAsync(ct);
        await db.ImpliedRoles.Where(i => roles.Contains(i.PriorRoleId) || roles.Contains(i.ImpliedRoleId)).ExecuteDeleteAsync(ct);
        await db.GroupMemberships.Where(m => users.Contains(m.UserId) || groups.Contains(m.GroupId)).ExecuteDeleteAsync(ct);
        await db.ProjectTags.Where(t => projects.Contains(t.ProjectId)).ExecuteDeleteAsync(ct);
        await db.ProjectEndpoints.Where(t => projects.Contains(t.ProjectId)).ExecuteDeleteAsync(ct);
        await db.ProjectEndpointGroups.Where(t => projects.Contains(t.ProjectId)).ExecuteDeleteAsync(ct);
        await db.Credentials.Where(c => users.Contains(c.UserId)).ExecuteDeleteAsync(ct);
        await db.ApplicationCredentials.Where(c => users.Contains(c.UserId)).ExecuteDeleteAsync(ct);
        await TrustRules.DeleteAsync(db, t => users.Contains(t.TrustorUserId) || users.Contains(t.TrusteeUserId) || projects.Contains(t.ProjectId!), ct);
        await db.Projects.Where(p => p.DomainId == domainId).ExecuteDeleteAsync(ct);
        await db.Users.Where(u => u.DomainId == domainId).ExecuteDeleteAsync(ct);
        await db.Groups.Where(g => g.DomainId == domainId).ExecuteDeleteAsync(ct);
        await db.Roles.Where(r => r.DomainId == domainId).ExecuteDeleteAsync(ct);
        await db.DomainConfigs.Where(c => c.DomainId == domainId).ExecuteDeleteAsync(ct);
        db.Domains.Remove(domain);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return Results.NoContent();
    }
}
