using System.Text.Json;
using Stratus.Identity.Resource;
using Stratus.Identity.Tokens;
using Stratus.Identity.Trusts;

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
        ["tags"] = JsonNode.Parse(d.Tags) ?? new JsonArray(),
        ["options"] = Extra.Parse(d.Options),
        ["links"] = Links.Self(http, "projects/" + d.Id),
    };

    static Dictionary<string, string?> Target(Project p) =>
        new() { ["target.project.id"] = p.Id, ["target.project.domain_id"] = p.DomainId };

    static async Task<IResult> List(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var q = http.Request.Query;
        // As Keystone: the policy target is the caller's own domain scope, and a domain-scoped caller sees only that domain.
        var scope = http.Caller().DomainId;
        http.Enforce("identity:list_projects", new Dictionary<string, string?> { ["target.domain_id"] = scope });
        if (Lookup.QueryBool(q, "is_domain") == true)
        {
            var domains = await db.Domains.AsNoTracking().OrderBy(d => d.Name).ToListAsync(ct);
            return new JsonResponse(Links.Collection(http, "projects", RequestFields.FilterNamed(domains.Select(d => RenderDomain(http, d)), q, "name", "enabled")));
        }
        var query = db.Projects.AsNoTracking().Include(p => p.Tags).AsQueryable();
        if (q["domain_id"].FirstOrDefault() is { } domainId) query = query.Where(p => p.DomainId == domainId);
        if (scope is not null) query = query.Where(p => p.DomainId == scope);
        if (q["parent_id"].FirstOrDefault() is { } parentId)
            query = query.Where(p => p.ParentId == parentId || (p.ParentId == null && p.DomainId == parentId));
        if (Lookup.QueryBool(q, "enabled") is { } enabled) query = query.Where(p => p.Enabled == enabled);
        IEnumerable<Project> list = await query.OrderBy(p => p.Name).ToListAsync(ct);
        list = FilterTags(list, q);
        var items = RequestFields.FilterNamed(list.Select(p => Render(http, p)), q, "name");
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
        var q = http.Request.Query;
        bool On(string key) => Lookup.QueryBool(q, key) == true;
        if (On("parents_as_list") && On("parents_as_ids"))
            throw OpenStackError.BadRequest("Cannot use parents_as_list and parents_as_ids query params at the same time.");
        if (On("subtree_as_list") && On("subtree_as_ids"))
            throw OpenStackError.BadRequest("Cannot use subtree_as_list and subtree_as_ids query params at the same time.");
        var body = Render(http, project);
        if (On("parents_as_list") || On("parents_as_ids") || On("subtree_as_list") || On("subtree_as_ids"))
            await AddHierarchyAsync(http, db, project, body, ct);
        return new JsonResponse(new JsonObject { ["project"] = body });
    }

    /// <summary>
    /// Keystone's parents/subtree expansions: the *_as_ids forms nest ids ({parent: {grandparent: ... {domain: null}}});
    /// the *_as_list forms list only the projects the caller itself has a role on.
    /// </summary>
    static async Task AddHierarchyAsync(HttpContext http, IdentityDb db, Project project, JsonObject body, CancellationToken ct)
    {
        var q = http.Request.Query;
        var all = await db.Projects.AsNoTracking().Include(p => p.Tags).Where(p => p.DomainId == project.DomainId).ToListAsync(ct);
        var byId = all.ToDictionary(p => p.Id);
        var children = all.Where(p => p.ParentId is not null).ToLookup(p => p.ParentId!);
        var parents = new List<Project>();
        for (var id = project.ParentId; id is not null && byId.TryGetValue(id, out var parent); id = parent.ParentId) parents.Add(parent);
        var subtree = new List<Project>();
        void Walk(string id) { foreach (var c in children[id].OrderBy(c => c.Name)) { subtree.Add(c); Walk(c.Id); } }
        Walk(project.Id);
        HashSet<string>? visible = null;
        async Task<HashSet<string>> VisibleAsync() =>
            visible ??= (await UsersApi.ProjectsOfAsync(db, http.Caller().UserId, ct)).Select(p => p.Id).ToHashSet();
        JsonArray Wrap(IEnumerable<Project> list) =>
            new(list.Select(p => (JsonNode?)new JsonObject { ["project"] = Render(http, p) }).ToArray());

        if (Lookup.QueryBool(q, "parents_as_list") == true)
        {
            var mine = await VisibleAsync();
            body["parents"] = Wrap(parents.Where(p => mine.Contains(p.Id)));
        }
        else if (Lookup.QueryBool(q, "parents_as_ids") == true)
        {
            JsonNode? nested = new JsonObject { [project.DomainId] = null };
            for (var i = parents.Count - 1; i >= 0; i--) nested = new JsonObject { [parents[i].Id] = nested };
            body["parents"] = nested;
        }
        if (Lookup.QueryBool(q, "subtree_as_list") == true)
        {
            var mine = await VisibleAsync();
            body["subtree"] = Wrap(subtree.Where(p => mine.Contains(p.Id)));
        }
        else if (Lookup.QueryBool(q, "subtree_as_ids") == true)
        {
            JsonNode? Nest(string id) =>
                children[id].Any() ? new JsonObject(children[id].Select(c => KeyValuePair.Create(c.Id, Nest(c.Id)))) : null;
            body["subtree"] = Nest(project.Id);
        }
    }

    /// <summary>Keystone's project_tags_update schema: at most 80 unique strings of 1 to 255 characters without '/' or ','.</summary>
    public static List<string> ReadTags(JsonNode? node, string field = "tags")
    {
        if (node is not JsonArray array) throw RequestFields.NotOfType(field, node, "array");
        if (array.Count > MaxTags) throw OpenStackError.BadRequest($"Invalid input for field '{field}': {array.ToJsonString()} is too long");
        var tags = array.Select((t, i) => t is JsonValue v && v.GetValueKind() == JsonValueKind.String ? ValidTag(v.GetValue<string>(), $"{field}/{i}")
            : throw RequestFields.NotOfType($"{field}/{i}", t, "string")).ToList();
        if (tags.Distinct().Count() != tags.Count)
            throw OpenStackError.BadRequest($"Invalid input for field '{field}': {array.ToJsonString()} has non-unique elements");
        return tags;
    }

    static string ValidTag(string tag, string field) =>
        tag.Length == 0 ? throw OpenStackError.BadRequest($"Invalid input for field '{field}': '' is too short")
        : tag.Length > 255 ? throw OpenStackError.BadRequest($"Invalid input for field '{field}': '{tag}' is too long")
        : tag.Contains('/') || tag.Contains(',') ? throw OpenStackError.BadRequest($"Invalid input for field '{field}': '{tag}' does not match '^[^,/]*$'")
        : tag;

    public static string TagsJson(IEnumerable<string> tags) => new JsonArray(tags.Select(t => (JsonNode?)t).ToArray()).ToJsonString();

    /// <summary>Keystone's nullable description: present as a string or null (returns false when absent).</summary>
    public static bool ReadDescription(JsonObject body, out string? description)
    {
        description = null;
        if (!body.TryGetPropertyValue("description", out var node)) return false;
        if (node is not null && node.GetValueKind() != JsonValueKind.String) throw RequestFields.NotOfType("description", node, "string', 'null");
        description = node?.GetValue<string>();
        return true;
    }

    /// <summary>
    /// Resource options (Keystone's options registries): only the named options, each a boolean or null
    /// except the multi-factor rules (a list of lists of method names).
    /// </summary>
    public static JsonObject? ReadOptions(JsonObject body, params string[] allowed)
    {
        if (!body.TryGetPropertyValue("options", out var node)) return null;
        if (node is not JsonObject options) throw RequestFields.NotOfType("options", node, "object");
        foreach (var (key, value) in options)
        {
            if (!allowed.Contains(key))
                throw OpenStackError.BadRequest($"Invalid input for field 'options': Additional properties are not allowed ('{key}' was unexpected)");
            var ok = key == "multi_factor_auth_rules"
                ? value is null || value is JsonArray rules && rules.All(r => r is JsonArray methods && methods.All(m => m?.GetValueKind() == JsonValueKind.String))
                : value is null || value.GetValueKind() is JsonValueKind.True or JsonValueKind.False;
            if (!ok) throw OpenStackError.BadRequest($"Invalid input for field 'options/{key}': {value?.ToJsonString()} is not valid");
        }
        return options;
    }

    static async Task<IResult> Create(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("project");
        var name = RequestFields.Name(body, "name") ?? throw OpenStackError.BadRequest("'name' is a required property");
        if (name.Length > 64) throw OpenStackError.BadRequest($"Invalid input for field 'name': '{name}' is too long");
        var tags = body.ContainsKey("tags") ? ReadTags(body["tags"]) : [];
        var options = ReadOptions(body, "immutable");
        if (RequestFields.Bool(body, "is_domain") == true) return await CreateDomainAsync(http, db, body, name, ct);
        var parentId = body["parent_id"] is null ? null : RequestFields.NonNullString(body, "parent_id", 64);
        Project? parent = parentId is null ? null : await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == parentId, ct);
        var caller = http.Caller();
        var domainId = body["domain_id"] is null ? null : RequestFields.NonNullString(body, "domain_id", 64);
        // Keystone reports a missing parent or domain as a validation error (400), not a 404.
        if (parentId is not null && parent is null)
        {
            // A domain id as parent means a top-level project in that domain.
            if (!await db.Domains.AnyAsync(d => d.Id == parentId, ct)) throw OpenStackError.BadRequest($"Could not find project: {parentId}.");
            domainId ??= parentId;
            if (domainId != parentId)
                throw OpenStackError.BadRequest($"Cannot create project, the parent ({parentId}) is acting as a domain, but this project's domain id ({domainId}) does not match the parent's id.");
            parentId = null;
        }
        domainId ??= parent?.DomainId ?? caller.DomainId ?? caller.ProjectDomainId ?? Domain.DefaultId;
        if (!await db.Domains.AnyAsync(d => d.Id == domainId, ct))
            throw OpenStackError.BadRequest($"Could not find domain: {domainId}.");
        if (parent is not null && parent.DomainId != domainId)
            throw OpenStackError.BadRequest($"Cannot create project, since it specifies its domain_id {domainId}, but specifies a parent in a different domain ({parent.DomainId}).");
        var id = Links.NewId();
        if (await db.Projects.AnyAsync(p => p.DomainId == domainId && p.Name == name, ct))
            throw DuplicateName(name, id);
        var project = new Project
        {
            Id = id,
            Name = name,
            DomainId = domainId,
            ParentId = parentId,
            Description = ReadDescription(body, out var description) ? description : "",
            Enabled = RequestFields.Bool(body, "enabled") ?? true,
            Options = options?.ToJsonString() ?? "{}",
            Extra = body.Extra(Attributes).ToJsonString(),
        };
        project.Tags = tags.Select(t => new ProjectTag { ProjectId = project.Id, Name = t }).ToList();
        db.Projects.Add(project);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["project"] = Render(http, project) }, 201);
    }

    static OpenStackError DuplicateName(string name, string id) =>
        OpenStackError.Conflict("Conflict occurred attempting to store project - it is not permitted to have two projects with either " +
            $"the same name or same id in the same domain: name is {name}, project id {id}.");

    static async Task<IResult> CreateDomainAsync(HttpContext http, IdentityDb db, JsonObject body, string name, CancellationToken ct)
    {
        if (body["domain_id"] is not null || body["parent_id"] is not null)
            throw OpenStackError.BadRequest("A project acting as a domain has no domain_id or parent_id.");
        if (await db.Domains.AnyAsync(d => d.Name == name, ct))
            throw OpenStackError.Conflict($"Conflict occurred attempting to store project - it is not permitted to have two projects acting as domains with the same name: {name}.");
        var domain = new Domain
        {
            Id = Links.NewId(),
            Name = name,
            Description = ReadDescription(body, out var description) ? description : "",
            Enabled = RequestFields.Bool(body, "enabled") ?? true,
            Tags = body.ContainsKey("tags") ? TagsJson(ReadTags(body["tags"])) : "[]",
            Options = ReadOptions(body, "immutable")?.ToJsonString() ?? "{}",
        };
        db.Domains.Add(domain);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["project"] = RenderDomain(http, domain) }, 201);
    }

    static async Task<IResult> Update(HttpContext http, IdentityDb db, string projectId, CancellationToken ct)
    {
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("project");
        RequestFields.RequireSomething(body);
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct) && await db.Domains.FindAsync([projectId], ct) is { } domain)
        {
            // A domain updated through the projects API: only what both share.
            if (RequestFields.Name(body, "name") is { } dn) domain.Name = dn;
            if (ReadDescription(body, out var dd)) domain.Description = dd;
            if (RequestFields.Bool(body, "enabled") is { } de)
            {
                if (domain.Enabled && !de) await Revocations.RevokeDomainAsync(db, domain.Id, ct);
                domain.Enabled = de;
            }
            await db.SaveChangesAsync(ct);
            return new JsonResponse(new JsonObject { ["project"] = RenderDomain(http, domain) });
        }
        var project = await Lookup.ProjectAsync(db, projectId, ct);
        if (body.ContainsKey("id") && body["id"]?.ToString() != projectId) throw OpenStackError.BadRequest("Cannot change ID");
        if (body.ContainsKey("domain_id") && body["domain_id"]?.ToString() != project.DomainId)
            throw OpenStackError.BadRequest("Cannot change Domain ID");
        if (body.ContainsKey("parent_id") && body["parent_id"]?.ToString() != (project.ParentId ?? project.DomainId))
            throw OpenStackError.Forbidden("Update of `parent_id` is not allowed.");
        if (body.ContainsKey("is_domain") && RequestFields.Bool(body, "is_domain") != false)
            throw OpenStackError.BadRequest("Update of `is_domain` is not allowed.");
        if (RequestFields.Name(body, "name") is { } name && name != project.Name)
        {
            if (name.Length > 64) throw OpenStackError.BadRequest($"Invalid input for field 'name': '{name}' is too long");
            if (await db.Projects.AnyAsync(p => p.DomainId == project.DomainId && p.Name == name && p.Id != projectId, ct))
                throw DuplicateName(name, projectId);
            project.Name = name;
        }
        if (ReadDescription(body, out var description)) project.Description = description;
        if (RequestFields.Bool(body, "enabled") is { } enabled && enabled != project.Enabled)
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
        if (ReadOptions(body, "immutable") is { } options) project.Options = Extra.Merge(project.Options, options);
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
        await TrustRules.DeleteAsync(db, t => t.ProjectId == projectId, ct);
        db.Projects.Remove(project);
        await Revocations.RevokeProjectAsync(db, projectId, ct);
        await tx.CommitAsync(ct);
        return Results.NoContent();
    }

    /// <summary>Keystone wraps a tag list as a member, with a self link to the API root.</summary>
    static JsonResponse TagList(HttpContext http, IEnumerable<string> tags) =>
        new(new JsonObject
        {
            ["tags"] = new JsonArray(tags.Select(t => (JsonNode?)t).ToArray()),
            ["links"] = new JsonObject { ["self"] = http.BaseUrl() + "/v3" },
        });

    static async Task<IResult> ListTags(HttpContext http, IdentityDb db, string projectId, CancellationToken ct)
    {
        var project = await Lookup.ProjectAsync(db, projectId, ct);
        http.Enforce("identity:list_project_tags", Target(project));
        return TagList(http, project.Tags.Select(t => t.Name).Order(StringComparer.Ordinal));
    }

    static async Task<IResult> CheckTag(HttpContext http, IdentityDb db, string projectId, string tag, CancellationToken ct)
    {
        var project = await Lookup.ProjectAsync(db, projectId, ct);
        http.Enforce("identity:get_project_tag", Target(project));
        return project.Tags.Any(t => t.Name == tag) ? Results.NoContent() : throw OpenStackError.NotFound($"Could not find project tag: {tag}.");
    }

    static async Task<IResult> ReplaceTags(HttpContext http, IdentityDb db, string projectId, CancellationToken ct)
    {
        var project = await Lookup.ProjectAsync(db, projectId, ct);
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var tags = ReadTags(body["tags"] ?? new JsonObject(), "tags");
        project.Tags.Clear();
        project.Tags.AddRange(tags.Select(t => new ProjectTag { ProjectId = projectId, Name = t }));
        await db.SaveChangesAsync(ct);
        return TagList(http, tags);
    }

    static async Task<IResult> AddTag(HttpContext http, IdentityDb db, string projectId, string tag, CancellationToken ct)
    {
        var project = await Lookup.ProjectAsync(db, projectId, ct);
        ValidTag(tag, "tag");
        // As Keystone, the new list must still be valid: adding a tag twice is a non-unique list (400), as is an 81st tag.
        var after = project.Tags.Select(t => (JsonNode?)t.Name).Append(tag).ToArray();
        ReadTags(new JsonArray(after), "tags");
        project.Tags.Add(new ProjectTag { ProjectId = projectId, Name = tag });
        await db.SaveChangesAsync(ct);
        return new JsonResponse(null, 201).WithHeader("Location", $"{http.BaseUrl()}/v3/projects/{projectId}/tags/{Uri.EscapeDataString(tag)}");
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
