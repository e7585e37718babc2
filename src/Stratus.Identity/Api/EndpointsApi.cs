using System.Text.RegularExpressions;
using Stratus.Identity.Catalog;

namespace Stratus.Identity.Api;

/// <summary>/v3/endpoints (keystone/api/endpoints.py).</summary>
public static partial class EndpointsApi
{
    static readonly string[] Attributes = ["id", "interface", "region_id", "region", "service_id", "url", "enabled", "legacy_endpoint_id", "links"];
    static readonly string[] Interfaces = ["admin", "internal", "public"];

    /// <summary>The template keys Keystone's check_endpoint_url accepts (common/utils.py WHITELISTED_PROPERTIES).</summary>
    static readonly string[] UrlKeys = ["tenant_id", "project_id", "user_id", "public_bind_host", "admin_bind_host",
        "compute_host", "admin_port", "public_port", "public_endpoint"];

    public static RouteGroupBuilder MapEndpoints(this RouteGroupBuilder v3)
    {
        var endpoints = v3.MapGroup("/endpoints");
        endpoints.MapMethods("/", ["GET", "HEAD"], List).RequirePolicy("identity:list_endpoints");
        endpoints.MapMethods("/{endpointId}", ["GET", "HEAD"], Get).RequirePolicy("identity:get_endpoint");
        endpoints.MapPost("/", Create).RequirePolicy("identity:create_endpoint");
        endpoints.MapPatch("/{endpointId}", Update).RequirePolicy("identity:update_endpoint");
        endpoints.MapDelete("/{endpointId}", Delete).RequirePolicy("identity:delete_endpoint");
        return endpoints;
    }

    /// <summary>Keystone's _filter_endpoint: the legacy <c>region</c> field mirrors <c>region_id</c>.</summary>
    public static JsonObject Render(HttpContext http, Endpoint e) =>
        new JsonObject
        {
            ["id"] = e.Id,
            ["interface"] = e.Interface,
            ["region_id"] = e.RegionId,
            ["service_id"] = e.ServiceId,
            ["url"] = e.Url,
            ["enabled"] = e.Enabled,
            ["region"] = e.RegionId,
            ["links"] = Links.Self(http, "endpoints/" + e.Id),
        }.WithExtra(e.Extra);

    static async Task<IResult> List(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var endpoints = await db.Endpoints.AsNoTracking().ToListAsync(ct);
        var items = RequestFields.Filter(endpoints.Select(e => Render(http, e)), http.Request.Query, "interface", "service_id", "region_id");
        return new JsonResponse(Links.Collection(http, "endpoints", items));
    }

    static async Task<IResult> Get(HttpContext http, IdentityDb db, string endpointId, CancellationToken ct) =>
        new JsonResponse(new JsonObject { ["endpoint"] = Render(http, await FindAsync(db, endpointId, ct)) });

    static async Task<IResult> Create(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var body = RequestFields.Normalize((await JsonBody.ReadObjectAsync(http.Request, ct)).Object("endpoint"));
        var fields = Read(body);
        var iface = fields.Interface ?? throw OpenStackError.BadRequest("'interface' is a required property");
        var serviceId = fields.ServiceId ?? throw OpenStackError.BadRequest("'service_id' is a required property");
        var url = fields.Url ?? throw OpenStackError.BadRequest("'url' is a required property");
        CheckUrlTemplate(url);
        var regionId = await RegionOfAsync(db, fields, ct);
        await EnsureReferencesAsync(db, regionId, serviceId, ct);
        var endpoint = new Endpoint
        {
            Id = Links.NewId(),
            Interface = iface,
            ServiceId = serviceId,
            Url = url,
            RegionId = regionId,
            Enabled = fields.Enabled ?? true,
            Extra = body.Extra(Attributes).ToJsonString(),
        };
        db.Endpoints.Add(endpoint);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["endpoint"] = Render(http, endpoint) }, 201);
    }

    static async Task<IResult> Update(HttpContext http, IdentityDb db, string endpointId, CancellationToken ct)
    {
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("endpoint");
        RequestFields.RequireSomething(body);
        var fields = Read(body);
        if (body.TryGetPropertyValue("id", out var id) && id is not null && id.ToJsonString() != $"\"{endpointId}\"")
            throw OpenStackError.BadRequest("Cannot change ID");
        var regionId = await RegionOfAsync(db, fields, ct);
        await EnsureReferencesAsync(db, regionId, fields.ServiceId, ct);
        var endpoint = await FindAsync(db, endpointId, ct, tracked: true);
        if (fields.Interface is not null) endpoint.Interface = fields.Interface;
        if (fields.ServiceId is not null) endpoint.ServiceId = fields.ServiceId;
        if (fields.Url is not null) endpoint.Url = fields.Url;
        if (regionId is not null) endpoint.RegionId = regionId;
        if (fields.Enabled is not null) endpoint.Enabled = fields.Enabled.Value;
        endpoint.Extra = Extra.Merge(endpoint.Extra, body.Extra(Attributes));
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["endpoint"] = Render(http, endpoint) });
    }

    static async Task<IResult> Delete(IdentityDb db, string endpointId, CancellationToken ct)
    {
        var endpoint = await FindAsync(db, endpointId, ct, tracked: true);
        // Keystone drops the endpoint's project associations when it hears of the delete.
        db.ProjectEndpoints.RemoveRange(await db.ProjectEndpoints.Where(p => p.EndpointId == endpointId).ToListAsync(ct));
        db.Endpoints.Remove(endpoint);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    public static async Task<Endpoint> FindAsync(IdentityDb db, string id, CancellationToken ct, bool tracked = false)
    {
        var q = tracked ? db.Endpoints : db.Endpoints.AsNoTracking();
        return await q.FirstOrDefaultAsync(e => e.Id == id, ct) ?? throw OpenStackError.NotFound($"Could not find endpoint: {id}.");
    }

    sealed record EndpointFields(string? Interface, string? ServiceId, string? Url, string? RegionId, string? Region, bool? Enabled);

    /// <summary>Keystone's endpoint schema (catalog/schema.py): every field typed, none nullable.</summary>
    static EndpointFields Read(JsonObject body)
    {
        var iface = RequestFields.NonNullString(body, "interface");
        if (iface is not null && !Interfaces.Contains(iface))
            throw OpenStackError.BadRequest($"Invalid input for field 'interface': '{iface}' is not one of ['admin', 'internal', 'public']");
        var url = RequestFields.NonNullString(body, "url", 225);
        if (url is not null && !UrlPattern().IsMatch(url))
            throw OpenStackError.BadRequest($"Invalid input for field 'url': '{url}' does not match '^[a-zA-Z0-9+.-]+:.+'");
        return new EndpointFields(iface,
            RequestFields.NonNullString(body, "service_id"),
            url,
            RequestFields.NonNullString(body, "region_id", 255),
            RequestFields.NonNullString(body, "region", 255),
            RequestFields.Bool(body, "enabled"));
    }

    /// <summary>
    /// An explicit <c>region_id</c> must name a region; the legacy <c>region</c> field (what the CLI
    /// sends) creates the region when it is missing, for clients that used v3 as they used v2.
    /// </summary>
    static async Task<string?> RegionOfAsync(IdentityDb db, EndpointFields fields, CancellationToken ct)
    {
        if (fields.RegionId is not null || fields.Region is null) return fields.RegionId;
        if (!await db.Regions.AnyAsync(r => r.Id == fields.Region, ct))
        {
            db.Regions.Add(new Region { Id = fields.Region });
            await db.SaveChangesAsync(ct);
        }
        return fields.Region;
    }

    static async Task EnsureReferencesAsync(IdentityDb db, string? regionId, string? serviceId, CancellationToken ct)
    {
        if (regionId is not null && !await db.Regions.AnyAsync(r => r.Id == regionId, ct))
            throw Invalid("endpoint region_id", "region table");
        if (serviceId is not null && !await db.Services.AnyAsync(s => s.Id == serviceId, ct))
            throw Invalid("endpoint service_id", "service table");
    }

    static OpenStackError Invalid(string attribute, string target) =>
        OpenStackError.BadRequest($"Expecting to find {attribute} in {target}. The server could not comply with the request " +
            "since it is either malformed or otherwise incorrect. The client is assumed to be in error.");

    /// <summary>
    /// Keystone's check_endpoint_url: the URL, with <c>$(</c> read as <c>%(</c>, must survive Python's
    /// <c>%</c> formatting with only the whitelisted keys (each an empty string) available.
    /// </summary>
    public static void CheckUrlTemplate(string url)
    {
        var s = url.Replace("$(", "%(", StringComparison.Ordinal);
        var i = 0;
        while ((i = s.IndexOf('%', i)) >= 0)
        {
            i++;
            string? key = null;
            if (i < s.Length && s[i] == '(')
            {
                var depth = 1;
                var start = ++i;
                while (i < s.Length && depth > 0)
                {
                    if (s[i] == '(') depth++;
                    else if (s[i] == ')') depth--;
                    i++;
                }
                if (depth > 0) throw BadUrl(url);
                key = s[start..(i - 1)];
                if (!UrlKeys.Contains(key)) throw BadUrl(url);
            }
            while (i < s.Length && "-+ #0".Contains(s[i])) i++;
            if (i < s.Length && s[i] == '*') throw BadUrl(url);
            while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
            if (i < s.Length && s[i] == '.')
            {
                i++;
                if (i < s.Length && s[i] == '*') throw BadUrl(url);
                while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
            }
            while (i < s.Length && "hlL".Contains(s[i])) i++;
            if (i >= s.Length) throw BadUrl(url);
            var conversion = s[i++];
            // With a mapping, a keyed conversion formats an empty string and an unkeyed one the
            // mapping itself: only the string conversions (and a literal %) succeed.
            if (!"sra%".Contains(conversion)) throw BadUrl(url);
        }
    }

    static OpenStackError BadUrl(string url) => OpenStackError.BadRequest($"Cannot create an endpoint with an invalid URL: {url}.");

    [GeneratedRegex("^[a-zA-Z0-9+.-]+:.+")]
    private static partial Regex UrlPattern();
}
