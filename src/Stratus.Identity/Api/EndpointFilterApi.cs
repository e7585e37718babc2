using Stratus.Identity.Catalog;
using Stratus.Identity.Resource;

namespace Stratus.Identity.Api;

/// <summary>
/// OS-EP-FILTER (keystone/api/os_ep_filter.py): endpoint groups, and which endpoints (directly or
/// through groups) a project's catalog is restricted to.
/// </summary>
public static class EndpointFilterApi
{
    static readonly string[] FilterKeys = ["service_id", "region_id", "interface"];

    public static RouteGroupBuilder MapEndpointFilter(this RouteGroupBuilder v3)
    {
        var ep = v3.MapGroup("/OS-EP-FILTER");
        string[] read = ["GET", "HEAD"];

        ep.MapMethods("/endpoint_groups", read, ListGroups).RequirePolicy("identity:list_endpoint_groups");
        ep.MapPost("/endpoint_groups", CreateGroup).RequirePolicy("identity:create_endpoint_group");
        ep.MapMethods("/endpoint_groups/{groupId}", read, GetGroup).RequirePolicy("identity:get_endpoint_group");
        ep.MapPatch("/endpoint_groups/{groupId}", UpdateGroup).RequirePolicy("identity:update_endpoint_group");
        ep.MapDelete("/endpoint_groups/{groupId}", DeleteGroup).RequirePolicy("identity:delete_endpoint_group");
        ep.MapMethods("/endpoint_groups/{groupId}/endpoints", read, EndpointsInGroup)
            .RequirePolicy("identity:list_endpoints_associated_with_endpoint_group");
        ep.MapMethods("/endpoint_groups/{groupId}/projects", read, ProjectsForGroup)
            .RequirePolicy("identity:list_projects_associated_with_endpoint_group");
        ep.MapMethods("/endpoint_groups/{groupId}/projects/{projectId}", read, GetGroupInProject)
            .RequirePolicy("identity:get_endpoint_group_in_project");
        ep.MapPut("/endpoint_groups/{groupId}/projects/{projectId}", AddGroupToProject)
            .RequirePolicy("identity:add_endpoint_group_to_project");
        ep.MapDelete("/endpoint_groups/{groupId}/projects/{projectId}", RemoveGroupFromProject)
            .RequirePolicy("identity:remove_endpoint_group_from_project");

        ep.MapMethods("/endpoints/{endpointId}/projects", read, ProjectsForEndpoint).RequirePolicy("identity:list_projects_for_endpoint");
        ep.MapMethods("/projects/{projectId}/endpoints", read, EndpointsForProject).RequirePolicy("identity:list_endpoints_for_project");
        ep.MapMethods("/projects/{projectId}/endpoint_groups", read, GroupsForProject)
            .RequirePolicy("identity:list_endpoint_groups_for_project");
        ep.MapMethods("/projects/{projectId}/endpoints/{endpointId}", read, CheckEndpointInProject)
            .RequirePolicy("identity:check_endpoint_in_project");
        ep.MapPut("/projects/{projectId}/endpoints/{endpointId}", AddEndpointToProject).RequirePolicy("identity:add_endpoint_to_project");
        ep.MapDelete("/projects/{projectId}/endpoints/{endpointId}", RemoveEndpointFromProject)
            .RequirePolicy("identity:remove_endpoint_from_project");
        return ep;
    }

    public static JsonObject RenderGroup(HttpContext http, EndpointGroup g) =>
        new()
        {
            ["id"] = g.Id,
            ["name"] = g.Name,
            ["description"] = g.Description,
            ["filters"] = Extra.Parse(g.Filters),
            ["links"] = Links.Self(http, "OS-EP-FILTER/endpoint_groups/" + g.Id),
        };

    // --- endpoint groups

    static async Task<IResult> ListGroups(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var groups = await db.EndpointGroups.AsNoTracking().ToListAsync(ct);
        var items = RequestFields.Filter(groups.Select(g => RenderGroup(http, g)), http.Request.Query, "name");
        return new JsonResponse(Links.Collection(http, "endpoint_groups", items));
    }

    static async Task<IResult> GetGroup(HttpContext http, IdentityDb db, string groupId, CancellationToken ct) =>
        new JsonResponse(new JsonObject { ["endpoint_group"] = RenderGroup(http, await FindGroupAsync(db, groupId, ct)) });

    static async Task<IResult> CreateGroup(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("endpoint_group");
        var name = RequestFields.Name(body, "name") ?? throw OpenStackError.BadRequest("'name' is a required property");
        var filters = Filters(body) ?? throw OpenStackError.BadRequest("'filters' is a required property");
        if (filters.Count == 0) throw OpenStackError.BadRequest("filters field is required and cannot be empty");
        var group = new EndpointGroup { Id = Links.NewId(), Name = name, Description = Description(body), Filters = filters.ToJsonString() };
        db.EndpointGroups.Add(group);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["endpoint_group"] = RenderGroup(http, group) }, 201);
    }

    static async Task<IResult> UpdateGroup(HttpContext http, IdentityDb db, string groupId, CancellationToken ct)
    {
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("endpoint_group");
        RequestFields.RequireSomething(body);
        var name = RequestFields.Name(body, "name");
        var filters = Filters(body);
        var description = Description(body);
        if (body.TryGetPropertyValue("id", out var id) && id is not null && id.ToJsonString() != $"\"{groupId}\"")
            throw OpenStackError.BadRequest("Cannot change ID");
        var group = await FindGroupAsync(db, groupId, ct, tracked: true);
        if (name is not null) group.Name = name;
        if (filters is not null) group.Filters = filters.ToJsonString();
        if (body.ContainsKey("description")) group.Description = description;
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["endpoint_group"] = RenderGroup(http, group) });
    }

    static async Task<IResult> DeleteGroup(IdentityDb db, string groupId, CancellationToken ct)
    {
        var group = await FindGroupAsync(db, groupId, ct, tracked: true);
        db.ProjectEndpointGroups.RemoveRange(await db.ProjectEndpointGroups.Where(p => p.EndpointGroupId == groupId).ToListAsync(ct));
        db.EndpointGroups.Remove(group);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    static async Task<IResult> EndpointsInGroup(HttpContext http, IdentityDb db, string groupId, CancellationToken ct)
    {
        var group = await FindGroupAsync(db, groupId, ct);
        var endpoints = await db.Endpoints.AsNoTracking().ToListAsync(ct);
        var filters = Extra.Parse(group.Filters);
        return new JsonResponse(Links.Collection(http, "endpoints",
            endpoints.Where(e => CatalogBuilder.InGroup(e, filters)).Select(e => EndpointsApi.Render(http, e))));
    }

    /// <summary>Keystone lists the associations without checking that the group exists.</summary>
    static async Task<IResult> ProjectsForGroup(HttpContext http, IdentityDb db, string groupId, CancellationToken ct)
    {
        var ids = await db.ProjectEndpointGroups.Where(p => p.EndpointGroupId == groupId).Select(p => p.ProjectId).ToListAsync(ct);
        return await ProjectCollectionAsync(http, db, ids, ct);
    }

    static async Task<IResult> GetGroupInProject(HttpContext http, IdentityDb db, string groupId, string projectId, CancellationToken ct)
    {
        await EnsureProjectAsync(db, projectId, ct);
        await FindGroupAsync(db, groupId, ct);
        if (!await db.ProjectEndpointGroups.AnyAsync(p => p.EndpointGroupId == groupId && p.ProjectId == projectId, ct))
            throw OpenStackError.NotFound("Endpoint Group Project Association not found");
        return new JsonResponse(new JsonObject
        {
            ["project_endpoint_group"] = new JsonObject
            {
                ["endpoint_group_id"] = groupId,
                ["project_id"] = projectId,
                // Keystone's link here is relative to the API root, unlike every other self link.
                ["links"] = new JsonObject { ["self"] = $"/OS-EP-FILTER/endpoint_groups/{groupId}/projects/{projectId}" },
            },
        });
    }

    static async Task<IResult> AddGroupToProject(IdentityDb db, string groupId, string projectId, CancellationToken ct)
    {
        await EnsureProjectAsync(db, projectId, ct);
        await FindGroupAsync(db, groupId, ct);
        if (await db.ProjectEndpointGroups.AnyAsync(p => p.EndpointGroupId == groupId && p.ProjectId == projectId, ct))
            throw OpenStackError.Conflict("Conflict occurred attempting to store project_endpoint_group - Duplicate entry.");
        db.ProjectEndpointGroups.Add(new ProjectEndpointGroup { EndpointGroupId = groupId, ProjectId = projectId });
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    static async Task<IResult> RemoveGroupFromProject(IdentityDb db, string groupId, string projectId, CancellationToken ct)
    {
        await EnsureProjectAsync(db, projectId, ct);
        await FindGroupAsync(db, groupId, ct);
        var link = await db.ProjectEndpointGroups.FirstOrDefaultAsync(p => p.EndpointGroupId == groupId && p.ProjectId == projectId, ct)
            ?? throw OpenStackError.NotFound("Endpoint Group Project Association not found");
        db.ProjectEndpointGroups.Remove(link);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    // --- project <-> endpoint

    static async Task<IResult> ProjectsForEndpoint(HttpContext http, IdentityDb db, string endpointId, CancellationToken ct)
    {
        await EndpointsApi.FindAsync(db, endpointId, ct);
        var ids = await db.ProjectEndpoints.Where(p => p.EndpointId == endpointId).Select(p => p.ProjectId).ToListAsync(ct);
        return await ProjectCollectionAsync(http, db, ids, ct);
    }

    /// <summary>The endpoints associated directly and through the project's endpoint groups.</summary>
    static async Task<IResult> EndpointsForProject(HttpContext http, IdentityDb db, string projectId, CancellationToken ct)
    {
        await EnsureProjectAsync(db, projectId, ct);
        var direct = await db.ProjectEndpoints.Where(p => p.ProjectId == projectId).Select(p => p.EndpointId).ToListAsync(ct);
        var groupIds = await db.ProjectEndpointGroups.Where(p => p.ProjectId == projectId).Select(p => p.EndpointGroupId).ToListAsync(ct);
        var groups = await db.EndpointGroups.AsNoTracking().Where(g => groupIds.Contains(g.Id)).ToListAsync(ct);
        var endpoints = await db.Endpoints.AsNoTracking().ToListAsync(ct);
        var filters = groups.Select(g => Extra.Parse(g.Filters)).ToList();
        var selected = endpoints.Where(e => direct.Contains(e.Id) || filters.Any(f => CatalogBuilder.InGroup(e, f)));
        return new JsonResponse(Links.Collection(http, "endpoints", selected.Select(e => EndpointsApi.Render(http, e))));
    }

    static async Task<IResult> GroupsForProject(HttpContext http, IdentityDb db, string projectId, CancellationToken ct)
    {
        await EnsureProjectAsync(db, projectId, ct);
        var groupIds = await db.ProjectEndpointGroups.Where(p => p.ProjectId == projectId).Select(p => p.EndpointGroupId).ToListAsync(ct);
        var groups = await db.EndpointGroups.AsNoTracking().Where(g => groupIds.Contains(g.Id)).ToListAsync(ct);
        return new JsonResponse(Links.Collection(http, "endpoint_groups", groups.Select(g => RenderGroup(http, g))));
    }

    static async Task<IResult> CheckEndpointInProject(IdentityDb db, string projectId, string endpointId, CancellationToken ct)
    {
        await EndpointsApi.FindAsync(db, endpointId, ct);
        await EnsureProjectAsync(db, projectId, ct);
        if (!await db.ProjectEndpoints.AnyAsync(p => p.EndpointId == endpointId && p.ProjectId == projectId, ct))
            throw OpenStackError.NotFound($"Endpoint {endpointId} not found in project {projectId}");
        return Results.NoContent();
    }

    static async Task<IResult> AddEndpointToProject(IdentityDb db, string projectId, string endpointId, CancellationToken ct)
    {
        await EndpointsApi.FindAsync(db, endpointId, ct);
        await EnsureProjectAsync(db, projectId, ct);
        if (await db.ProjectEndpoints.AnyAsync(p => p.EndpointId == endpointId && p.ProjectId == projectId, ct))
            throw OpenStackError.Conflict("Conflict occurred attempting to store project_endpoint - Duplicate entry.");
        db.ProjectEndpoints.Add(new ProjectEndpoint { EndpointId = endpointId, ProjectId = projectId });
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    /// <summary>Keystone checks only the association itself here, so a stale one can still be removed.</summary>
    static async Task<IResult> RemoveEndpointFromProject(IdentityDb db, string projectId, string endpointId, CancellationToken ct)
    {
        var link = await db.ProjectEndpoints.FirstOrDefaultAsync(p => p.EndpointId == endpointId && p.ProjectId == projectId, ct)
            ?? throw OpenStackError.NotFound($"Endpoint {endpointId} not found in project {projectId}");
        db.ProjectEndpoints.Remove(link);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    // --- helpers

    static JsonObject? Filters(JsonObject body)
    {
        if (!body.TryGetPropertyValue("filters", out var node)) return null;
        if (node is not JsonObject filters) throw RequestFields.NotOfType("filters", node, "object");
        foreach (var (key, _) in filters)
            if (!FilterKeys.Contains(key))
                throw OpenStackError.BadRequest("Expecting to find service_id or region_id or interface in endpoint_group. The server could " +
                    "not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.");
        return (JsonObject)filters.DeepClone();
    }

    static string? Description(JsonObject body) => body.OptionalString("description", int.MaxValue, allowEmpty: true);

    static async Task<EndpointGroup> FindGroupAsync(IdentityDb db, string id, CancellationToken ct, bool tracked = false)
    {
        var q = tracked ? db.EndpointGroups : db.EndpointGroups.AsNoTracking();
        return await q.FirstOrDefaultAsync(g => g.Id == id, ct) ?? throw OpenStackError.NotFound($"Could not find Endpoint Group: {id}.");
    }

    static async Task EnsureProjectAsync(IdentityDb db, string projectId, CancellationToken ct)
    {
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct))
            throw OpenStackError.NotFound($"Could not find project: {projectId}.");
    }

    /// <summary>Projects as Keystone's resource API returns them; associations to deleted projects are skipped.</summary>
    static async Task<IResult> ProjectCollectionAsync(HttpContext http, IdentityDb db, List<string> ids, CancellationToken ct)
    {
        var projects = await db.Projects.AsNoTracking().Include(p => p.Tags).Where(p => ids.Contains(p.Id)).ToListAsync(ct);
        return new JsonResponse(Links.Collection(http, "projects", projects.Select(p => RenderProject(http, p))));
    }

    static JsonObject RenderProject(HttpContext http, Project p) =>
        new JsonObject
        {
            ["id"] = p.Id,
            ["name"] = p.Name,
            ["domain_id"] = p.DomainId,
            ["description"] = p.Description,
            ["enabled"] = p.Enabled,
            ["parent_id"] = p.ParentId ?? p.DomainId,
            ["is_domain"] = false,
            ["tags"] = new JsonArray(p.Tags.Select(t => (JsonNode?)t.Name).ToArray()),
            ["options"] = Extra.Parse(p.Options),
            ["links"] = Links.Self(http, "projects/" + p.Id),
        }.WithExtra(p.Extra);
}
