using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Stratus.Identity.Tokens;
using Stratus.Identity.Trusts;

namespace Stratus.Identity.Api;

/// <summary>
/// /v3/OS-TRUST/trusts (keystone/api/trusts.py, keystone/trust/core.py): a trustor delegates some of
/// its roles on a project to a trustee, who gets trust-scoped tokens with those roles.
/// </summary>
public static partial class TrustsApi
{
    static readonly string[] Attributes =
        ["id", "trustor_user_id", "trustee_user_id", "project_id", "impersonation", "expires_at", "remaining_uses",
         "allow_redelegation", "redelegation_count", "redelegated_trust_id", "deleted_at", "roles", "roles_links", "links"];

    public static RouteGroupBuilder MapTrusts(this RouteGroupBuilder v3)
    {
        var trusts = v3.MapGroup("/OS-TRUST/trusts");
        trusts.MapPost("/", Create).RequireToken();
        trusts.MapMethods("/", ["GET", "HEAD"], List).RequireToken();
        trusts.MapMethods("/{trustId}", ["GET", "HEAD"], Get).RequireToken();
        trusts.MapDelete("/{trustId}", Delete).RequireToken();
        trusts.MapMethods("/{trustId}/roles", ["GET", "HEAD"], Roles).RequireToken();
        trusts.MapMethods("/{trustId}/roles/{roleId}", ["GET", "HEAD"], Role).RequireToken();
        return trusts;
    }

    static JsonObject Render(HttpContext http, Trust t) =>
        new JsonObject
        {
            ["id"] = t.Id,
            ["trustor_user_id"] = t.TrustorUserId,
            ["trustee_user_id"] = t.TrusteeUserId,
            ["project_id"] = t.ProjectId,
            ["impersonation"] = t.Impersonation,
            ["expires_at"] = t.ExpiresAt is { } e ? Time.IsoMicro(e) : null,
            ["remaining_uses"] = t.RemainingUses,
            ["redelegated_trust_id"] = t.RedelegatedTrustId,
            ["redelegation_count"] = t.RedelegationCount,
            ["deleted_at"] = null,
            ["links"] = Links.Self(http, "OS-TRUST/trusts/" + t.Id),
        }.WithExtra(t.Extra);

    /// <summary>A trust with its roles in full, as create and show answer (roles since deleted are left out).</summary>
    static async Task<JsonObject> RenderWithRolesAsync(HttpContext http, IdentityDb db, Trust t, CancellationToken ct)
    {
        var o = Render(http, t);
        o["roles"] = await RolesJsonAsync(http, db, t, ct);
        o["roles_links"] = RolesLinks(http, t);
        return o;
    }

    static async Task<JsonArray> RolesJsonAsync(HttpContext http, IdentityDb db, Trust t, CancellationToken ct)
    {
        var ids = t.Roles.Select(r => r.RoleId).ToList();
        var roles = await db.Roles.AsNoTracking().Where(r => ids.Contains(r.Id)).ToListAsync(ct);
        return new JsonArray(roles.OrderBy(r => ids.IndexOf(r.Id)).Select(r => (JsonNode?)RolesApi.Render(http, r)).ToArray());
    }

    static JsonObject RolesLinks(HttpContext http, Trust t) =>
        new() { ["self"] = $"{http.BaseUrl()}/v3/OS-TRUST/trusts/{t.Id}/roles", ["previous"] = null, ["next"] = null };

    static Dictionary<string, string?> Target(Trust t) => new()
    {
        ["target.trust.id"] = t.Id,
        ["target.trust.trustor_user_id"] = t.TrustorUserId,
        ["target.trust.trustee_user_id"] = t.TrusteeUserId,
        ["target.trust.project_id"] = t.ProjectId,
    };

    /// <summary>
    /// Keystone's _check_delegated_token: an application credential, EC2 credential or OAuth1 token
    /// cannot read or manage trusts (a trust-scoped token can: that is redelegation).
    /// </summary>
    static void RefuseDelegatedToken(TokenInfo caller)
    {
        if (caller.IsDelegated) throw Errors.ForbiddenAction("Delegated tokens cannot manage trusts");
    }

    /// <summary>A live trust (not expired, a use left) or Keystone's 404, before any policy check (lp#1840288).</summary>
    static async Task<Trust> FindAsync(IdentityDb db, string trustId, CancellationToken ct)
    {
        var trust = await db.Trusts.AsNoTracking().Include(t => t.Roles).FirstOrDefaultAsync(t => t.Id == trustId, ct);
        return trust is not null && TrustRules.IsLive(trust, DateTime.UtcNow) ? trust : throw OpenStackError.NotFound($"Could not find trust: {trustId}.");
    }

    static async Task<Trust> AuthorizedAsync(HttpContext http, IdentityDb db, string trustId, string rule, CancellationToken ct)
    {
        var trust = await FindAsync(db, trustId, ct);
        http.Enforce(rule, Target(trust));
        RefuseDelegatedToken(http.Caller());
        return trust;
    }

    static async Task<IResult> Get(HttpContext http, IdentityDb db, string trustId, CancellationToken ct)
    {
        var trust = await AuthorizedAsync(http, db, trustId, "identity:get_trust", ct);
        return new JsonResponse(new JsonObject { ["trust"] = await RenderWithRolesAsync(http, db, trust, ct) });
    }

    static async Task<IResult> Roles(HttpContext http, IdentityDb db, string trustId, CancellationToken ct)
    {
        var trust = await AuthorizedAsync(http, db, trustId, "identity:list_roles_for_trust", ct);
        return new JsonResponse(new JsonObject { ["roles"] = await RolesJsonAsync(http, db, trust, ct), ["links"] = RolesLinks(http, trust) });
    }

    static async Task<IResult> Role(HttpContext http, IdentityDb db, string trustId, string roleId, CancellationToken ct)
    {
        var trust = await AuthorizedAsync(http, db, trustId, "identity:get_role_for_trust", ct);
        if (trust.Roles.All(r => r.RoleId != roleId)) throw OpenStackError.NotFound($"Could not find role: {roleId}.");
        return new JsonResponse(new JsonObject { ["role"] = RolesApi.Render(http, await Lookup.RoleAsync(db, roleId, ct)) });
    }

    /// <summary>All trusts (admin), or those of a trustor or a trustee (that user itself, or a reader of the system).</summary>
    static async Task<IResult> List(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var q = http.Request.Query;
        var trustor = q["trustor_user_id"].FirstOrDefault();
        var trustee = q["trustee_user_id"].FirstOrDefault();
        var query = db.Trusts.AsNoTracking();
        if (trustor is not null)
        {
            http.Enforce("identity:list_trusts_for_trustor", new Dictionary<string, string?> { ["target.trust.trustor_user_id"] = trustor });
            query = query.Where(t => t.TrustorUserId == trustor);
        }
        else if (trustee is not null)
        {
            http.Enforce("identity:list_trusts_for_trustee", new Dictionary<string, string?> { ["target.trust.trustee_user_id"] = trustee });
            query = query.Where(t => t.TrusteeUserId == trustee);
        }
        else
        {
            http.Enforce("identity:list_trusts");
            // As Keystone: other query parameters without either filter list nothing.
            if (q.Count > 0) query = query.Where(t => false);
        }
        RefuseDelegatedToken(http.Caller());
        var trusts = await query.OrderBy(t => t.Id).ToListAsync(ct);
        return new JsonResponse(Links.Collection(http, "trusts", trusts.Select(t => (JsonNode?)Render(http, t))));
    }

    static async Task<IResult> Delete(HttpContext http, IdentityDb db, string trustId, CancellationToken ct)
    {
        await AuthorizedAsync(http, db, trustId, "identity:delete_trust", ct);
        // The trusts redelegated from it go with it, down the chain.
        var doomed = new List<string> { trustId };
        for (var i = 0; i < doomed.Count; i++)
        {
            var parent = doomed[i];
            doomed.AddRange(await db.Trusts.Where(t => t.RedelegatedTrustId == parent && !doomed.Contains(t.Id)).Select(t => t.Id).ToListAsync(ct));
        }
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await TrustRules.DeleteAsync(db, t => doomed.Contains(t.Id), ct);
        await db.SaveChangesAsync(ct); // marks the change for cached validations of its tokens
        await tx.CommitAsync(ct);
        return Results.NoContent();
    }

    static async Task<IResult> Create(HttpContext http, IdentityDb db, IdentityStore store, IdentityOptions options, CancellationToken ct)
    {
        var caller = http.Caller();
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct))["trust"] as JsonObject ?? [];
        // As Keystone: the policy (the caller is the trustor) looks at the body before it is validated.
        http.Enforce("identity:create_trust", new Dictionary<string, string?>
        {
            ["target.trust.trustor_user_id"] = Text(body["trustor_user_id"]),
            ["target.trust.trustee_user_id"] = Text(body["trustee_user_id"]),
            ["target.trust.project_id"] = Text(body["project_id"]),
        });
        var trust = ReadTrust(body);
        var allowRedelegation = NullableBool(body, "allow_redelegation") ?? false;
        var requestedCount = NullableInt(body, "redelegation_count", minimum: 0);
        var roleRefs = RequestFields.RoleRefs(body);
        RefuseDelegatedToken(caller);
        if (trust.ProjectId is not null && roleRefs.Count == 0) throw Errors.ForbiddenAction("At least one role should be specified");
        if (caller.UserId != trust.TrustorUserId) throw Errors.ForbiddenAction("The authenticated user should match the trustor");
        await Lookup.UserAsync(db, trust.TrusteeUserId, ct);

        foreach (var role in roleRefs)
        {
            var roleId = await Lookup.RoleIdAsync(db, role, ct);
            if (trust.Roles.All(r => r.RoleId != roleId)) trust.Roles.Add(new TrustRole { TrustId = trust.Id, RoleId = roleId });
        }
        // The trustor must hold every role it delegates on the project (domain-specific and implied ones
        // count); without a project it delegates none.
        HashSet<string> held = [];
        if (trust.ProjectId is not null)
        {
            await Lookup.ProjectAsync(db, trust.ProjectId, ct);
            held = await store.RoleIdsForProjectAsync(trust.TrustorUserId, trust.ProjectId, ct);
        }
        if (trust.Roles.FirstOrDefault(r => !held.Contains(r.RoleId)) is { } missing)
            throw OpenStackError.NotFound($"Could not find role: {missing.RoleId}.");

        // Redelegation (keystone/trust/core.py create_trust): a trust created with a trust-scoped token
        // comes from that trust, and each trust up its chain must allow it.
        var redelegatable = allowRedelegation && requestedCount != 0;
        if (!redelegatable) trust.RedelegationCount = 0;
        else
        {
            if (requestedCount > options.MaxRedelegationCount) throw OpenStackError.Forbidden();
            if (trust.RemainingUses is not null) throw OpenStackError.BadRequest("remaining_uses must not be set if redelegation is allowed");
            trust.RedelegationCount = requestedCount;
        }
        if (caller.TrustId is not null)
        {
            var parent = await db.Trusts.AsNoTracking().Include(t => t.Roles).FirstOrDefaultAsync(t => t.Id == caller.TrustId, ct);
            if (parent is null || !TrustRules.IsLive(parent, DateTime.UtcNow)) throw OpenStackError.NotFound($"Could not find trust: {caller.TrustId}.");
            var remaining = (parent.RedelegationCount ?? 0) - 1;
            if (redelegatable && requestedCount is > 0 && requestedCount != remaining) throw OpenStackError.Forbidden();
            trust.RedelegationCount ??= remaining;
            trust.RedelegatedTrustId = parent.Id;
            var pedigree = await TrustRules.PedigreeAsync(store, parent, options.MaxRedelegationCount, ct) ?? throw OpenStackError.Forbidden();
            foreach (var ancestor in pedigree.Prepend(parent))
            {
                if (!TrustRules.MayRedelegate(ancestor, trust, options.MaxRedelegationCount)) throw OpenStackError.Forbidden();
                trust.ExpiresAt ??= ancestor.ExpiresAt; // a redelegated trust expires with the one it came from
            }
        }
        trust.RedelegationCount ??= options.MaxRedelegationCount;

        db.Trusts.Add(trust);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["trust"] = await RenderWithRolesAsync(http, db, trust, ct) }, 201);
    }

    static string? Text(JsonNode? n) => n is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    /// <summary>The trust_create schema's fields (keystone/trust/schema.py); extra attributes are kept.</summary>
    static Trust ReadTrust(JsonObject body)
    {
        var trustor = RequestFields.NonNullString(body, "trustor_user_id", 64, 1) ?? throw OpenStackError.BadRequest("'trustor_user_id' is a required property");
        var trustee = RequestFields.NonNullString(body, "trustee_user_id", 64, 1) ?? throw OpenStackError.BadRequest("'trustee_user_id' is a required property");
        var impersonation = RequestFields.Bool(body, "impersonation") ?? throw OpenStackError.BadRequest("'impersonation' is a required property");
        string? project = null;
        if (body["project_id"] is not null)
        {
            project = RequestFields.NonNullString(body, "project_id", 64, 1);
            if (!IdString().IsMatch(project!)) throw OpenStackError.BadRequest($"Invalid input for field 'project_id': '{project}' does not match '^[a-zA-Z0-9-]+$'");
        }
        DateTime? expires = null;
        if (body["expires_at"] is not null) expires = ParseExpiry(RequestFields.NonNullString(body, "expires_at")!);
        return new Trust
        {
            Id = Links.NewId(),
            TrustorUserId = trustor,
            TrusteeUserId = trustee,
            ProjectId = project,
            Impersonation = impersonation,
            ExpiresAt = expires,
            RemainingUses = NullableInt(body, "remaining_uses", minimum: 1),
            Extra = body.Extra(Attributes).ToJsonString(),
        };
    }

    [GeneratedRegex("^[a-zA-Z0-9-]+$")]
    private static partial Regex IdString();

    [GeneratedRegex(@"^\d{4}-\d\d-\d\d")]
    private static partial Regex IsoDate();

    /// <summary>Keystone's parse_expiration_date: an ISO 8601 time (UTC unless it says otherwise), not in the past; kept to the second.</summary>
    static DateTime ParseExpiry(string text)
    {
        if (!IsoDate().IsMatch(text) || !DateTime.TryParse(text, CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at))
            throw OpenStackError.BadRequest("Timestamp not in expected format. The server could not comply with the request since it is either " +
                "malformed or otherwise incorrect. The client is assumed to be in error.");
        if (at < DateTime.UtcNow)
            throw OpenStackError.BadRequest("The 'expires_at' must not be before now. The server could not comply with the request since it is " +
                "either malformed or otherwise incorrect. The client is assumed to be in error.");
        return new DateTime(at.Ticks - at.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
    }

    static bool? NullableBool(JsonObject body, string name) => body[name] is null ? null : RequestFields.Bool(body, name);

    static int? NullableInt(JsonObject body, string name, int minimum)
    {
        if (body[name] is not { } node) return null;
        if (node.GetValueKind() != JsonValueKind.Number || !node.AsValue().TryGetValue<int>(out var value))
            throw RequestFields.NotOfType(name, node, "integer', 'null");
        return value >= minimum ? value : throw OpenStackError.BadRequest($"Invalid input for field '{name}': {value} is less than the minimum of {minimum}");
    }
}
