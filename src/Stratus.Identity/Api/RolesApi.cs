using Stratus.Identity.Assignment;

namespace Stratus.Identity.Api;

/// <summary>/v3/roles, implied roles and /v3/role_inferences (keystone/api/roles.py, role_inferences.py).</summary>
public static class RolesApi
{
    static readonly string[] Attributes = ["id", "name", "domain_id", "description", "options", "links"];

    public static RouteGroupBuilder MapRoles(this RouteGroupBuilder v3)
    {
        var roles = v3.MapGroup("/roles");
        roles.MapMethods("/", ["GET", "HEAD"], List).RequireToken();
        roles.MapPost("/", Create).RequireToken();
        roles.MapMethods("/{roleId}", ["GET", "HEAD"], Get).RequireToken();
        roles.MapPatch("/{roleId}", Update).RequireToken();
        roles.MapDelete("/{roleId}", Delete).RequireToken();
        roles.MapGet("/{priorId}/implies", ListImplied).RequirePolicy("identity:list_implied_roles");
        roles.MapPut("/{priorId}/implies/{impliedId}", CreateImplied).RequirePolicy("identity:create_implied_role");
        roles.MapGet("/{priorId}/implies/{impliedId}", GetImplied).RequirePolicy("identity:get_implied_role");
        roles.MapMethods("/{priorId}/implies/{impliedId}", ["HEAD"], CheckImplied).RequirePolicy("identity:check_implied_role");
        roles.MapDelete("/{priorId}/implies/{impliedId}", DeleteImplied).RequirePolicy("identity:delete_implied_role");
        v3.MapGet("/role_inferences", ListInferences).RequirePolicy("identity:list_role_inference_rules");
        return roles;
    }

    public static JsonObject Render(HttpContext http, Role r)
    {
        var o = new JsonObject
        {
            ["id"] = r.Id,
            ["name"] = r.Name,
            ["domain_id"] = r.DomainId,
            ["description"] = r.Description,
            ["options"] = Extra.Parse(r.Options),
            ["links"] = Links.Self(http, "roles/" + r.Id),
        };
        return o.WithExtra(r.Extra);
    }

    static JsonObject Brief(HttpContext http, Role r) =>
        new() { ["id"] = r.Id, ["name"] = r.Name, ["links"] = Links.Self(http, "roles/" + r.Id) };

    // Domain-specific roles have their own rule names in Keystone's policy.
    static string Rule(string action, string? domainId) => domainId is null ? $"identity:{action}_role" : $"identity:{action}_domain_role";

    static async Task<IResult> List(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var domainId = http.Request.Query["domain_id"].FirstOrDefault();
        http.Enforce(domainId is null ? "identity:list_roles" : "identity:list_domain_roles", new Dictionary<string, string?> { ["target.domain_id"] = domainId });
        // Without a domain_id filter only global roles are listed, as Keystone does.
        var roles = await db.Roles.AsNoTracking().Where(r => r.DomainId == domainId).OrderBy(r => r.Name).ToListAsync(ct);
        return new JsonResponse(Links.Collection(http, "roles", RequestFields.FilterNamed(roles.Select(r => Render(http, r)), http.Request.Query, "name")));
    }

    static async Task<IResult> Get(HttpContext http, IdentityDb db, string roleId, CancellationToken ct)
    {
        var role = await db.Roles.AsNoTracking().FirstOrDefaultAsync(r => r.Id == roleId, ct);
        http.Enforce(Rule("get", role?.DomainId), new Dictionary<string, string?> { ["target.role.domain_id"] = role?.DomainId });
        if (role is null) throw OpenStackError.NotFound($"Could not find role: {roleId}.");
        return new JsonResponse(new JsonObject { ["role"] = Render(http, role) });
    }

    static async Task<IResult> Create(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("role");
        var domainId = body["domain_id"] is null ? null : RequestFields.NonNullString(body, "domain_id", 64);
        http.Enforce(Rule("create", domainId), new Dictionary<string, string?> { ["target.role.domain_id"] = domainId });
        var name = RequestFields.Name(body, "name") ?? throw OpenStackError.BadRequest("'name' is a required property");
        if (domainId is not null && !await db.Domains.AnyAsync(d => d.Id == domainId, ct))
            throw OpenStackError.NotFound($"Could not find domain: {domainId}.");
        if (await db.Roles.AnyAsync(r => r.Name == name && r.DomainId == domainId, ct))
            throw OpenStackError.Conflict($"Conflict occurred attempting to store role - Duplicate entry found with name {name}.");
        var role = new Role
        {
            Id = Links.NewId(),
            Name = name,
            DomainId = domainId,
            Description = body["description"] is null ? null : RequestFields.NonNullString(body, "description"),
            Extra = body.Extra(Attributes).ToJsonString(),
        };
        if (body.OptionalObject("options") is { } options) role.Options = options.ToJsonString();
        db.Roles.Add(role);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["role"] = Render(http, role) }, 201);
    }

    static async Task<IResult> Update(HttpContext http, IdentityDb db, string roleId, CancellationToken ct)
    {
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("role");
        var role = await db.Roles.FirstOrDefaultAsync(r => r.Id == roleId, ct);
        http.Enforce(Rule("update", role?.DomainId), new Dictionary<string, string?> { ["target.role.domain_id"] = role?.DomainId });
        if (role is null) throw OpenStackError.NotFound($"Could not find role: {roleId}.");
        RequestFields.RequireSomething(body);
        if (body.ContainsKey("domain_id") && body["domain_id"]?.ToString() != role.DomainId)
            throw OpenStackError.BadRequest("Cannot change the domain of a role.");
        if (RequestFields.Name(body, "name") is { } name && name != role.Name)
        {
            if (await db.Roles.AnyAsync(r => r.Name == name && r.DomainId == role.DomainId && r.Id != roleId, ct))
                throw OpenStackError.Conflict($"Conflict occurred attempting to store role - Duplicate entry found with name {name}.");
            role.Name = name;
        }
        if (body.ContainsKey("description")) role.Description = body["description"] is null ? null : RequestFields.NonNullString(body, "description");
        if (body.OptionalObject("options") is { } options) role.Options = Extra.Merge(role.Options, options);
        var extra = body.Extra(Attributes);
        if (extra.Count > 0) role.Extra = Extra.Merge(role.Extra, extra);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["role"] = Render(http, role) });
    }

    static async Task<IResult> Delete(HttpContext http, IdentityDb db, string roleId, CancellationToken ct)
    {
        var role = await db.Roles.FirstOrDefaultAsync(r => r.Id == roleId, ct);
        http.Enforce(Rule("delete", role?.DomainId), new Dictionary<string, string?> { ["target.role.domain_id"] = role?.DomainId });
        if (role is null) throw OpenStackError.NotFound($"Could not find role: {roleId}.");
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.RoleAssignments.Where(a => a.RoleId == roleId).ExecuteDeleteAsync(ct);
        await db.ImpliedRoles.Where(i => i.PriorRoleId == roleId || i.ImpliedRoleId == roleId).ExecuteDeleteAsync(ct);
        db.Roles.Remove(role);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return Results.NoContent();
    }

    static JsonObject Inference(HttpContext http, Role prior, Role implied) => new()
    {
        ["role_inference"] = new JsonObject { ["prior_role"] = Brief(http, prior), ["implies"] = Brief(http, implied) },
        ["links"] = new JsonObject { ["self"] = $"{http.BaseUrl()}/v3/roles/{prior.Id}/implies/{implied.Id}" },
    };

    static async Task<(Role Prior, Role Implied)> PairAsync(IdentityDb db, string priorId, string impliedId, CancellationToken ct) =>
        (await Lookup.RoleAsync(db, priorId, ct), await Lookup.RoleAsync(db, impliedId, ct));

    static async Task<IResult> CreateImplied(HttpContext http, IdentityDb db, string priorId, string impliedId, CancellationToken ct)
    {
        var (prior, implied) = await PairAsync(db, priorId, impliedId, ct);
        if (implied.DomainId is not null && prior.DomainId is null)
            throw OpenStackError.Forbidden($"{implied.Id} is a domain-specific role: a global role cannot imply it.");
        if (prior.Id == implied.Id) throw OpenStackError.BadRequest("A role cannot imply itself.");
        // No loops: the implied role must not already lead back to the prior one.
        var reach = await RoleResolver.ImpliedClosureAsync(db, implied.Id, ct);
        if (reach.Contains(prior.Id)) throw OpenStackError.BadRequest($"Implying {implied.Id} from {prior.Id} would create a loop.");
        if (!await db.ImpliedRoles.AnyAsync(i => i.PriorRoleId == priorId && i.ImpliedRoleId == impliedId, ct))
        {
            db.ImpliedRoles.Add(new ImpliedRole { PriorRoleId = priorId, ImpliedRoleId = impliedId });
            await db.SaveChangesAsync(ct);
        }
        return new JsonResponse(Inference(http, prior, implied), 201);
    }

    static async Task<(Role, Role)> ExistingPairAsync(IdentityDb db, string priorId, string impliedId, CancellationToken ct)
    {
        var pair = await PairAsync(db, priorId, impliedId, ct);
        if (!await db.ImpliedRoles.AnyAsync(i => i.PriorRoleId == priorId && i.ImpliedRoleId == impliedId, ct))
            throw OpenStackError.NotFound($"{priorId} does not imply {impliedId}.");
        return pair;
    }

    static async Task<IResult> GetImplied(HttpContext http, IdentityDb db, string priorId, string impliedId, CancellationToken ct)
    {
        var (prior, implied) = await ExistingPairAsync(db, priorId, impliedId, ct);
        return new JsonResponse(Inference(http, prior, implied));
    }

    static async Task<IResult> CheckImplied(IdentityDb db, string priorId, string impliedId, CancellationToken ct)
    {
        await ExistingPairAsync(db, priorId, impliedId, ct);
        return Results.NoContent();
    }

    static async Task<IResult> DeleteImplied(IdentityDb db, string priorId, string impliedId, CancellationToken ct)
    {
        await ExistingPairAsync(db, priorId, impliedId, ct);
        await db.ImpliedRoles.Where(i => i.PriorRoleId == priorId && i.ImpliedRoleId == impliedId).ExecuteDeleteAsync(ct);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    static async Task<IResult> ListImplied(HttpContext http, IdentityDb db, string priorId, CancellationToken ct)
    {
        var prior = await Lookup.RoleAsync(db, priorId, ct);
        var ids = await db.ImpliedRoles.AsNoTracking().Where(i => i.PriorRoleId == priorId).Select(i => i.ImpliedRoleId).ToListAsync(ct);
        var implied = await db.Roles.AsNoTracking().Where(r => ids.Contains(r.Id)).OrderBy(r => r.Name).ToListAsync(ct);
        return new JsonResponse(new JsonObject
        {
            ["role_inference"] = new JsonObject
            {
                ["prior_role"] = Brief(http, prior),
                ["implies"] = new JsonArray(implied.Select(r => (JsonNode?)Brief(http, r)).ToArray()),
            },
            ["links"] = new JsonObject { ["self"] = $"{http.BaseUrl()}/v3/roles/{priorId}/implies" },
        });
    }

    static async Task<IResult> ListInferences(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var rules = await db.ImpliedRoles.AsNoTracking().ToListAsync(ct);
        var roles = await db.Roles.AsNoTracking().ToDictionaryAsync(r => r.Id, ct);
        var items = rules.GroupBy(r => r.PriorRoleId).Where(g => roles.ContainsKey(g.Key)).Select(g => (JsonNode?)new JsonObject
        {
            ["prior_role"] = Brief(http, roles[g.Key]),
            ["implies"] = new JsonArray(g.Where(i => roles.ContainsKey(i.ImpliedRoleId)).Select(i => (JsonNode?)Brief(http, roles[i.ImpliedRoleId])).ToArray()),
        });
        return new JsonResponse(new JsonObject
        {
            ["role_inferences"] = new JsonArray(items.ToArray()),
            ["links"] = new JsonObject { ["self"] = $"{http.BaseUrl()}/v3/role_inferences" },
        });
    }
}
