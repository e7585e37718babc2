using System.Text.Json;
using Stratus.Identity.Resource;
using Stratus.Identity.Tokens;

namespace Stratus.Identity.Api;

/// <summary>/v3/projects and project tags (keystone/api/projects.py).</summary>
public static class ProjectsApi
{
    static readonly string[] Attributes = ["id", "name", "domain_id", "description", "enabled", "parent_id", "is_domain", "tags", "options", "links"];
    const int MaxTags = 80;

    public static RouteGroupBuilder MapProjects(this RouteGroupBuilder v3)
    {
        var projects = v3.MapGroup("/projects");
        projects.MapMethods("/", ["GET", "HEAD"], List).RequireToken();
        projects.MapPost("/", Create).RequirePolicy("identity:create_project");
        projects.MapMethods("/{projectId}", ["GET", "HEAD"], Get).RequireToken();
        projects.MapPatch("/{projectId}", Update).RequirePolicy("identity:update_project");
        projects.MapDelete("/{projectId}", Delete).RequirePolicy("identity:delete_project");
        projects.MapMethods("/{projectId}/tags", ["GET", "HEAD"], ListTags).RequireToken();
        projects.MapPut("/{projectId}/tags", ReplaceTags).RequirePolicy("identity:update_project_tags");
        projects.MapDelete("/{projectId}/tags", DeleteTags).RequirePolicy("identity:delete_project_tags");
        projects.MapMethods("/{projectId}/tags/{tag}", ["GET", "HEAD"], CheckTag).RequireToken();
        projects.MapPut("/{projectId}/tags/{tag}", AddTag).RequirePolicy("identity:create_project_tag");
        projects.MapDelete("/{projectId}/tags/{tag}", DeleteTag).RequirePolicy("identity:delete_project_tag");
        return projects;
    }

    public static JsonObject Render(HttpContext http, Project p) =>
        new JsonObject
        {
            ["id"] = p.Id,
            ["name"] = p.Name,
            ["domain_id"] = p.DomainId,
            ["description"] = p.Description,
            ["enabled"] = p.Enabled,
            ["parent_id"] = p.ParentId ?? p.DomainId,
            ["is_domain"] = false,
            ["tags"] = new JsonArray(p.Tags.Select(t => (JsonNode?)t.Name).OrderBy(t => t!.GetValue<string>(), StringComparer.Ordinal).ToArray()),
            ["options"] = Extra.Parse(p.Options),
            ["links"] = Links.Self(http, "projects/" + p.Id),
        }.WithExtra(p.Extra);

    /// <summary>A domain seen through the projects API: Keystone stores domains as projects acting as domains.</summary>
    static JsonObject RenderDomain(HttpContext http, Domain d) => new()
    {
        ["id"] = d.Id,
        ["name"] = d.Name,
        ["domain_id"] = null,
        ["description"] = d.Description,
        ["enabled"] = d.Enabled,
        ["parent_id"] = null,
        ["is_domain"] = true,
        ["tags"] = new JsonArray(),
        ["options"] = Extra.Parse(d.Options),
        ["links"] = Links.Self(http, "projects/" + d.Id),
    };

    static Dictionary<string, string?> Target(Project p) =>
        new() { ["target.project.id"] = p.Id, ["target.project.domain_id"] = p.DomainId };

    static async Task<IResult> List(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var q = http.Request.Query;
        http.Enforce("identity:list_projects", new Dictionary<string, string?> { ["target.domain_id"] = q["domain_id"].FirstOrDefault() });
        if (Lookup.QueryBool(q, "is_domain") == true)
        {
            var domains = await db.Domains.AsNoTracking().OrderBy(d => d.Name).ToListAsync(ct);
            return new JsonResponse(Links.Collection(http, "projects", CatalogRequest.Filter(domains.Select(d => RenderDomain(http, d)), q, "name", "enabled")));
        }
        var query = db.Projects.AsNoTracking().Include(p => p.Tags).AsQueryable();
        if (q["domain_id"].FirstOrDefault() is { } domainId) query = query.Where(p => p.DomainId == domainId);
        if (q["parent_id"].FirstOrDefault() is { } parentId)
            query = query.Where(p => p.ParentId == parentId || (p.ParentId == null && p.DomainId == parentId));
        if (Lookup.QueryBool(q, "enabled") is { } enabled) query = query.Where(p => p.Enabled == enabled);
        IEnumerable<Project> list = await query.OrderBy(p => p.Name).ToListAsync(ct);
        list = FilterTags(list, q);
        var items = CatalogRequest.Filter(list.Select(p => Render(http, p)), q, "name");
        return new JsonResponse(Links.Collection(http, "projects", items));
    }

    /// <summary>Keystone's tag filters: all of tags, any of tags-any, none of not-tags / not-tags-any.</summary>
    public static IEnumerable<Project> FilterTags(IEnumerable<Project> list, IQueryCollection q)
    {
        static string[] Split(IQueryCollection q, string key) =>
            q[key].SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)).ToArray();
        var all = Split(q, "tags");
        var any = Split(q, "tags-any");
        var notAll = Split(q, "not-tags");
        var notAny = Split(q, "not-tags-any");
        return list.Where(p =>
        {
            var tags = p.Tags.Select(t => t.Name).ToHashSet();
            return (all.Length == 0 || all.All(tags.Contains))
                && (any.Length == 0 || any.Any(tags.Contains))
                && (notAll.Length == 0 || !notAll.All(tags.Contains))
                && (notAny.Length == 0 || !notAny.Any(tags.Contains));
        });
    }

    static async Task<IResult> Get(HttpContext http, IdentityDb db, string projectId, CancellationToken ct)
    {
        var project = await db.Projects.AsNoTracking().Include(p => p.Tags).FirstOrDefaultAsync(p => p.Id == projectId, ct);
        http.Enforce("identity:get_project", project is null ? new() { ["target.project.id"] = projectId } : Target(project));
        if (project is null)
            return await db.Domains.AsNoTracking().FirstOrDefaultAsync(d => d.Id == projectId, ct) is { } domain
                ? new JsonResponse(new JsonObject { ["project"] = RenderDomain(http, domain) })
                : throw OpenStackError.NotFound($"Could not find project: {projectId}.");
        var body = Render(http, project);
        if (Lookup.QueryBool(http.Request.Query, "parents_as_ids") == true || Lookup.QueryBool(http.Request.Query, "parents_as_list") == true)
        {
            var parents = await Assignment.RoleResolver.AncestorIdsAsync(db, project.ParentId, ct);
            body["parents"] = new JsonArray(parents.Select(id => (JsonNode?)new JsonObject { ["project"] = new JsonObject { ["id"] = id } }).ToArray());
        }
        return new JsonResponse(new JsonObject { ["project"] = body });
    }

    static List<string> ReadTags(JsonNode? node)
    {
        if (node is not JsonArray array) throw OpenStackError.BadRequest("Invalid input for field 'tags': expected a list of strings.");
        if (array.Count > MaxTags) throw OpenStackError.BadRequest($"Invalid input for field 'tags': more than {MaxTags} tags.");
        return array.Select(t => t is JsonValue v && v.GetValueKind() == JsonValueKind.String ? ValidTag(v.GetValue<string>())
            : throw OpenStackError.BadRequest("Invalid input for field 'tags': tags must be strings.")).Distinct().ToList();
    }

    static string ValidTag(string tag) =>
        tag.Length is 0 or > 255 || tag.Contains('/') || tag.Contains(',')
            ? throw OpenStackError.BadRequest($"Invalid input for field 'tags': '{tag}' is not a valid tag (1 to 255 characters, no '/' or ',').")
            : tag;

    static async Task<IResult> Create(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("project");
        var name = CatalogRequest.Name(body, "name") ?? throw OpenStackError.BadRequest("'name' is a required property");
        if (name.Length > 64) throw OpenStackError.BadRequest($"Invalid input for field 'name': '{name}' is too long");
        if (CatalogRequest.Bool(body, "is_domain") == true) return await CreateDomainAsync(http, db, body, name, ct);
        var parentId = body["parent_id"] is null ? null : CatalogRequest.NonNullString(body, "parent_id", 64);
        Project? parent = parentId is null ? null : await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == parentId, ct);
        var caller = http.Caller();
        var domainId = body["domain_id"] is null ? null : CatalogRequest.NonNullString(body, "domain_id", 64);
        if (parentId is not null && parent is null)
        {
            // A domain id as parent means a top-level project in that domain.
            if (!await db.Domains.AnyAsync(d => d.Id == parentId, ct)) throw OpenStackError.NotFound($"Could not find project: {parentId}.");
            domainId ??= parentId;
            if (domainId != parentId) throw OpenStackError.BadRequest("The parent is a domain other than the project's domain.");
            parentId = null;
        }
        domainId ??= parent?.DomainId ?? caller.DomainId ?? caller.ProjectDomainId ?? Domain.DefaultId;
        if (!await db.Domains.AnyAsync(d => d.Id == domainId, ct))
            throw OpenStackError.NotFound($"Could not find domain: {domainId}.");
        if (parent is not null && parent.DomainId != domainId)
            throw OpenStackError.BadRequest("Cannot create project, the parent and the project are in different domains.");
        if (await db.Projects.AnyAsync(p => p.DomainId == domainId && p.Name == name, ct))
            throw OpenStackError.Conflict($"Conflict occurred attempting to store project - it is not permitted to have two projects with the same name in the same domain : {name}.");
        var project = new Project
        {
            Id = Links.NewId(),
            Name = name,
            DomainId = domainId,
            ParentId = parentId,
            Description = CatalogRequest.NonNullString(body, "description") ?? "",
            Enabled = CatalogRequest.Bool(body, "enabled") ?? true,
            Extra = body.Extra(Attributes).ToJsonString(),
        };
        if (body.ContainsKey("tags")) project.Tags = ReadTags(body["tags"]).Select(t => new ProjectTag { ProjectId = project.Id, Name = t }).ToList();
        if (body.OptionalObject("options") is { } options) project.Options = options.ToJsonString();
        db.Projects.Add(project);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["project"] = Render(http, project) }, 201);
    }

    static async Task<IResult> CreateDomainAsync(HttpContext http, IdentityDb db, JsonObject body, string name, CancellationToken ct)
    {
        if (body["domain_id"] is not null || body["parent_id"] is not null)
            throw OpenStackError.BadRequest("A project acting as a domain has no domain_id or parent_id.");
        if (await db.Domains.AnyAsync(d => d.Name == name, ct))
            throw OpenStackError.Conflict($"Conflict occurred attempting to store project - Duplicate entry found with name {name}.");
        var domain = new Domain
        {
            Id = Links.NewId(),
            Name = name,
            Description = CatalogRequest.NonNullString(body, "description") ?? "",
            Enabled = CatalogRequest.Bool(body, "enabled") ?? true,
        };
        db.Domains.Add(domain);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["project"] = RenderDomain(http, domain) }, 201);
    }

    static async Task<IResult> Update(HttpContext http, IdentityDb db, string projectId, CancellationToken ct)
    {
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("project");
        CatalogRequest.RequireSomething(body);
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct) && await db.Domains.FindAsync([projectId], ct) is { } domain)
        {
            // A domain updated through the projects API: only what both share.
            if (CatalogRequest.Name(body, "name") is { } dn) domain.Name = dn;
            if (CatalogRequest.NonNullString(body, "description") is { } dd) domain.Description = dd;
            if (CatalogRequest.Bool(body, "enabled") is { } de)
            {
                if (domain.Enabled && !de) await Revocations.RevokeDomainAsync(db, domain.Id, ct);
                domain.Enabled = de;
            }
            await db.SaveChangesAsync(ct);
            return new JsonResponse(new JsonObject { ["project"] = RenderDomain(http, domain) });
        }
        var project = await Lookup.ProjectAsync(db, projectId, ct);
        if (body.ContainsKey("domain_id") && body["domain_id"]?.ToString() != project.DomainId)
            throw OpenStackError.BadRequest("Cannot update 'domain_id' of a project.");
        if (body.ContainsKey("parent_id") && body["parent_id"]?.ToString() != (project.ParentId ?? project.DomainId))
            throw OpenStackError.Forbidden("Update of `parent_id` is not allowed.");
        if (body.ContainsKey("is_domain") && CatalogRequest.Bool(body, "is_domain") != false)
            throw OpenStackError.BadRequest("Update of `is_domain` is not allowed.");
        if (CatalogRequest.Name(body, "name") is { } name && name != project.Name)
        {
            if (name.Length > 64) throw OpenStackError.BadRequest($"Invalid input for field 'name': '{name}' is too long");
            if (await db.Projects.AnyAsync(p => p.DomainId == project.DomainId && p.Name == name && p.Id != projectId, ct))
                throw OpenStackError.Conflict($"Conflict occurred attempting to store project - it is not permitted to have two projects with the same name in the same domain : {name}.");
            project.Name = name;
        }
        if (CatalogRequest.NonNullString(body, "description") is { } description) project.Description = description;
        if (CatalogRequest.Bool(body, "enabled") is { } enabled && enabled != project.Enabled)
        {
            if (!enabled && await db.Projects.AnyAsync(p => p.ParentId == projectId && p.Enabled, ct))
                throw OpenStackError.Forbidden($"Cannot disable project {projectId} since its subtree contains enabled projects.");
            if (!enabled) await Revocations.RevokeProjectAsync(db, projectId, ct);
            project.Enabled = enabled;
        }
        if (body.ContainsKey("tags"))
        {
            var tags = ReadTags(body["tags"]);
            project.Tags.RemoveAll(t => !tags.Contains(t.Name));
            foreach (var t in tags.Where(t => project.Tags.All(x => x.Name != t))) project.Tags.Add(new ProjectTag { ProjectId = projectId, Name = t });
        }
        if (body.OptionalObject("options") is { } options) project.Options = options.ToJsonString();
        var extra = body.Extra(Attributes);
        if (extra.Count > 0) project.Extra = Extra.Merge(project.Extra, extra);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["project"] = Render(http, project) });
    }

    static async Task<IResult> Delete(IdentityDb db, string projectId, CancellationToken ct)
    {
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct) && await db.Domains.AnyAsync(d => d.Id == projectId, ct))
            return await DomainsApi.Delete(db, projectId, ct);
        var project = await Lookup.ProjectAsync(db, projectId, ct);
        if (await db.Projects.AnyAsync(p => p.ParentId == projectId, ct))
            throw OpenStackError.Forbidden($"Cannot delete the project {projectId} since it is not a leaf in the hierarchy. Use the cascade option if you want to delete a whole subtree.");
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.RoleAssignments.Where(a => a.TargetId == projectId).ExecuteDeleteAsync(ct);
        await db.ProjectEndpoints.Where(p => p.ProjectId == projectId).ExecuteDeleteAsync(ct);
        await db.ProjectEndpointGroups.Where(p => p.ProjectId == projectId).ExecuteDeleteAsync(ct);
        await db.Users.Where(u => u.DefaultProjectId == projectId).ExecuteUpdateAsync(s => s.SetProperty(u => u.DefaultProjectId, (string?)null), ct);
        db.Projects.Remove(project);
        await Revocations.RevokeProjectAsync(db, projectId, ct);
        await tx.CommitAsync(ct);
        return Results.NoContent();
    }

    static async Task<IResult> ListTags(HttpContext http, IdentityDb db, string projectId, CancellationToken ct)
    {
        var project = await Lookup.ProjectAsync(db, projectId, ct);
        http.Enforce("identity:list_project_tags", Target(project));
        return new JsonResponse(new JsonObject { ["tags"] = new JsonArray(project.Tags.Select(t => (JsonNode?)t.Name).ToArray()) });
    }

    static async Task<IResult> CheckTag(HttpContext http, IdentityDb db, string projectId, string tag, CancellationToken ct)
    {
        var project = await Lookup.ProjectAsync(db, projectId, ct);
        http.Enforce("identity:get_project_tag", Target(project));
        return project.Tags.Any(t => t.Name == tag) ? Results.NoContent() : throw OpenStackError.NotFound($"Could not find project tag: {tag}.");
    }

    static async Task<IResult> ReplaceTags(HttpContext http, IdentityDb db, string projectId, CancellationToken ct)
    {
        var tags = ReadTags((await JsonBody.ReadObjectAsync(http.Request, ct))["tags"]);
        var project = await Lookup.ProjectAsync(db, projectId, ct);
        project.Tags.Clear();
        project.Tags.AddRange(tags.Select(t => new ProjectTag { ProjectId = projectId, Name = t }));
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["tags"] = new JsonArray(tags.Select(t => (JsonNode?)t).ToArray()) });
    }

    static async Task<IResult> AddTag(HttpContext http, IdentityDb db, string projectId, string tag, CancellationToken ct)
    {
        var project = await Lookup.ProjectAsync(db, projectId, ct);
        ValidTag(tag);
        if (project.Tags.All(t => t.Name != tag))
        {
            if (project.Tags.Count >= MaxTags) throw OpenStackError.BadRequest($"A project can have at most {MaxTags} tags.");
            project.Tags.Add(new ProjectTag { ProjectId = projectId, Name = tag });
            await db.SaveChangesAsync(ct);
        }
        return new JsonResponse(null, 201).WithHeader("Location", $"{http.BaseUrl()}/v3/projects/{projectId}/tags/{tag}");
    }

    static async Task<IResult> DeleteTag(IdentityDb db, string projectId, string tag, CancellationToken ct)
    {
        var project = await Lookup.ProjectAsync(db, projectId, ct);
        if (project.Tags.RemoveAll(t => t.Name == tag) == 0) throw OpenStackError.NotFound($"Could not find project tag: {tag}.");
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    static async Task<IResult> DeleteTags(IdentityDb db, string projectId, CancellationToken ct)
    {
        var project = await Lookup.ProjectAsync(db, projectId, ct);
        project.Tags.Clear();
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }
}
