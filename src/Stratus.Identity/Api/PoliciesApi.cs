using Stratus.Core.Policy;
using Stratus.Identity.Policy;

namespace Stratus.Identity.Api;

/// <summary>/v3/policies (keystone/api/policy.py): opaque blobs kept for other services; deprecated, still served.</summary>
public static class PoliciesApi
{
    static readonly string[] Attributes = ["id", "type", "blob", "links"];

    public static RouteGroupBuilder MapPolicies(this RouteGroupBuilder v3)
    {
        var policies = v3.MapGroup("/policies");
        policies.MapMethods("/", ["GET", "HEAD"], List).RequirePolicy("identity:list_policies");
        policies.MapMethods("/{policyId}", ["GET", "HEAD"], Get).RequirePolicy("identity:get_policy");
        policies.MapPost("/", Create).RequirePolicy("identity:create_policy");
        policies.MapPatch("/{policyId}", Update).RequirePolicy("identity:update_policy");
        policies.MapDelete("/{policyId}", Delete).RequirePolicy("identity:delete_policy");
        return policies;
    }

    static JsonObject Render(HttpContext http, PolicyBlob p) =>
        new JsonObject
        {
            ["id"] = p.Id,
            ["type"] = p.Type,
            ["blob"] = p.Blob,
            ["links"] = Links.Self(http, "policies/" + p.Id),
        }.WithExtra(p.Extra);

    static async Task<IResult> List(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var policies = await db.Policies.AsNoTracking().ToListAsync(ct);
        var items = RequestFields.Filter(policies.Select(p => Render(http, p)), http.Request.Query, "type");
        return new JsonResponse(Links.Collection(http, "policies", items));
    }

    static async Task<IResult> Get(HttpContext http, IdentityDb db, string policyId, CancellationToken ct) =>
        new JsonResponse(new JsonObject { ["policy"] = Render(http, await FindAsync(db, policyId, ct)) });

    static async Task<IResult> Create(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var body = RequestFields.Normalize((await JsonBody.ReadObjectAsync(http.Request, ct)).Object("policy"));
        var blob = RequestFields.NonNullString(body, "blob") ?? throw OpenStackError.BadRequest("'blob' is a required property");
        var type = RequestFields.NonNullString(body, "type", 255) ?? throw OpenStackError.BadRequest("'type' is a required property");
        var policy = new PolicyBlob { Id = Links.NewId(), Type = type, Blob = blob, Extra = body.Extra(Attributes).ToJsonString() };
        db.Policies.Add(policy);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["policy"] = Render(http, policy) }, 201);
    }

    static async Task<IResult> Update(HttpContext http, IdentityDb db, string policyId, CancellationToken ct)
    {
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("policy");
        RequestFields.RequireSomething(body);
        var blob = RequestFields.NonNullString(body, "blob");
        var type = RequestFields.NonNullString(body, "type", 255);
        if (body.ContainsKey("id") && body["id"]?.ToJsonString() != $"\"{policyId}\"")
            throw OpenStackError.BadRequest("Cannot change policy ID");
        var policy = await FindAsync(db, policyId, ct, tracked: true);
        if (blob is not null) policy.Blob = blob;
        if (type is not null) policy.Type = type;
        policy.Extra = Extra.Merge(policy.Extra, body.Extra(Attributes));
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["policy"] = Render(http, policy) });
    }

    static async Task<IResult> Delete(IdentityDb db, string policyId, CancellationToken ct)
    {
        db.Policies.Remove(await FindAsync(db, policyId, ct, tracked: true));
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    static async Task<PolicyBlob> FindAsync(IdentityDb db, string id, CancellationToken ct, bool tracked = false)
    {
        var q = tracked ? db.Policies : db.Policies.AsNoTracking();
        return await q.FirstOrDefaultAsync(p => p.Id == id, ct) ?? throw OpenStackError.NotFound($"Could not find policy: {id}.");
    }
}
