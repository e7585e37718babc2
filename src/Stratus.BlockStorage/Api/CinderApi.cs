using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Stratus.BlockStorage.Api;

/// <summary>
/// What every Cinder API handler shares: the microversions of <c>volume 3.x</c>, the project in the URL, the
/// caller's view of a project's resources, Cinder's validation texts, timestamps and links.
/// </summary>
public static class CinderApi
{
    public static readonly Microversions Versions = new("volume", new ApiVersionRequest(3, 0), new ApiVersionRequest(3, 70))
    {
        InvalidFormat = text => $"API Version String {text} is of invalid format. Must be of format MajorNum.MinorNum.",
        NotAcceptable = text => $"Version {text} is not supported by the API. Minimum is 3.0 and maximum is 3.70.",
    };

    public static ApiVersionRequest Version(this HttpContext http) => Versions.Of(http);

    /// <summary>Reads <c>OpenStack-API-Version: volume 3.x</c> under /v3 (v2 has no microversions: 3.0) and stamps the answer.</summary>
    public static Task Middleware(HttpContext http, RequestDelegate next)
    {
        http.Response.Headers.Vary = Versions.Vary;
        Versions.Apply(http, http.Request.Path.StartsWithSegments("/v3") ? Versions.Parse(http.Request) : Versions.Min);
        return next(http);
    }

    /// <summary>Cinder's <c>api_version("3.x")</c> on a method: older requests find no such resource.</summary>
    public static TBuilder From<TBuilder>(this TBuilder builder, int minMinor) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter((ctx, next) => ctx.HttpContext.Version().AtLeast(minMinor)
            ? next(ctx)
            : throw OpenStackError.NotFound($"API version {ctx.HttpContext.Version()} is not supported on this method."));

    /// <summary>The project of the URL must be the token's (Cinder's wsgi: "Malformed request url").</summary>
    public static RouteGroupBuilder RequireUrlProject(this RouteGroupBuilder group) =>
        group.AddEndpointFilter((ctx, next) =>
        {
            var http = ctx.HttpContext;
            var project = http.GetRouteValue("project_id") as string;
            if (project != http.Caller().ProjectId) throw OpenStackError.BadRequest("Malformed request url");
            return next(ctx);
        });

    /// <summary>Whether the caller reads across projects: <c>context.is_admin</c>.</summary>
    public static bool IsAdmin(this HttpContext http) => http.Caller().IsAdmin;

    public static string ProjectId(this HttpContext http) => http.Caller().ProjectId ?? throw OpenStackError.Forbidden();

    /// <summary>A rule about a resource of <paramref name="projectId"/>, as Cinder's context.authorize with the object as target.</summary>
    public static void Authorize(this HttpContext http, string rule, string? projectId, string? userId = null) =>
        http.Enforce(rule, new Dictionary<string, string?>(StringComparer.Ordinal) { ["project_id"] = projectId, ["user_id"] = userId });

    /// <summary>
    /// The project a list is limited to: the caller's; for an admin, the one <c>project_id</c> names, or none with
    /// <c>all_tenants</c> (Cinder ignores both for others).
    /// </summary>
    public static string? ListedProject(this HttpContext http)
    {
        var q = http.Request.Query;
        if (!http.IsAdmin()) return http.Caller().ProjectId;
        if (q["project_id"].FirstOrDefault() is { } project) return project;
        return q["all_tenants"].FirstOrDefault() is { } all && all is not ("0" or "false" or "False") ? null : http.Caller().ProjectId;
    }

    /// <summary>A resource of another project is not there for a non-admin (Cinder reads with the project filter).</summary>
    public static bool CanSee(this HttpContext http, string projectId) => http.IsAdmin() || projectId == http.Caller().ProjectId;

    /// <summary>What jsonschema's validator says in Cinder's words.</summary>
    public static OpenStackError Invalid(string field, JsonNode? value, string problem) =>
        OpenStackError.BadRequest($"Invalid input for field/attribute {field}. Value: {Show(value)}. {problem}");

    /// <summary>jsonschema's <c>additionalProperties: false</c> in Cinder's words.</summary>
    public static void NoOtherKeys(string field, JsonObject body, IEnumerable<string> allowed)
    {
        var extra = body.Select(p => p.Key).Except(allowed).ToList();
        if (extra.Count > 0)
            throw Invalid(field, body, $"Additional properties are not allowed ({string.Join(", ", extra.Select(k => $"'{k}'"))} {(extra.Count == 1 ? "was" : "were")} unexpected)");
    }

    static string Show(JsonNode? value) => value is null ? "None"
        : value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>()
        : value.GetValueKind() is JsonValueKind.True ? "True" : value.GetValueKind() is JsonValueKind.False ? "False" : value.ToJsonString();

    /// <summary>Cinder's volume_size: an integer or a string of digits, 1 to the database's largest int; null when absent.</summary>
    public static int? Size(JsonObject body, string field = "size", bool allowNull = true)
    {
        if (!body.TryGetPropertyValue(field, out var node) || node is null)
            return allowNull ? null : throw Invalid(field, null, "None is not of type 'integer', 'string'");
        long n;
        switch (node.GetValueKind())
        {
            case JsonValueKind.Number when node.AsValue().TryGetValue<long>(out n):
                break;
            case JsonValueKind.String when long.TryParse(node.GetValue<string>(), NumberStyles.None, CultureInfo.InvariantCulture, out n):
                break;
            case JsonValueKind.String:
                throw Invalid(field, node, $"'{node.GetValue<string>()}' does not match '^[0-9]+$'");
            case JsonValueKind.Number:
                throw Invalid(field, node, $"{node.ToJsonString()} is greater than the maximum of 2147483647");
            default:
                throw Invalid(field, node, $"{node.ToJsonString()} is not of type 'integer', 'string'");
        }
        if (n < 1) throw Invalid(field, node, $"{node.ToJsonString()} is less than the minimum of 1");
        if (n > int.MaxValue) throw Invalid(field, node, $"{node.ToJsonString()} is greater than the maximum of 2147483647");
        return (int)n;
    }

    /// <summary>Cinder's boolean parameter: JSON booleans and the strings oslo's strutils accepts.</summary>
    public static bool Bool(JsonObject body, string field)
    {
        var node = body[field];
        if (node?.GetValueKind() is JsonValueKind.True) return true;
        if (node?.GetValueKind() is JsonValueKind.False) return false;
        if (node?.GetValueKind() == JsonValueKind.String)
            switch (node.GetValue<string>().ToLowerInvariant())
            {
                case "1" or "t" or "true" or "on" or "y" or "yes": return true;
                case "0" or "f" or "false" or "off" or "n" or "no": return false;
            }
        throw Invalid(field, node, $"{Show(node)} is not of type 'boolean', 'string'");
    }

    /// <summary>Cinder's metadata: string keys of 1-255 characters to strings of up to 255.</summary>
    public static Dictionary<string, string> Metadata(JsonObject body, string field = "metadata")
    {
        if (body[field] is not JsonObject o) throw Invalid(field, body[field], $"{Show(body[field])} is not of type 'object'");
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in o)
        {
            if (k.Length is 0 or > 255) throw Invalid(field, o, $"'{k}' does not match any of the regexes: '^[a-zA-Z0-9-_:. /]{{1,255}}$'");
            if (v?.GetValueKind() != JsonValueKind.String) throw Invalid($"{field}/{k}", v, $"{Show(v)} is not of type 'string'");
            var s = v.GetValue<string>();
            if (s.Length > 255) throw Invalid($"{field}/{k}", v, $"'{s}' is too long");
            d[k] = s;
        }
        return d;
    }

    /// <summary>Timestamps as Cinder's views print them (datetime's isoformat, microseconds).</summary>
    public static string? Time(DateTime? t) => t?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture);

    public static JsonArray Links(HttpContext http, string collection, string id)
    {
        var r = http.Request;
        var root = $"{r.Scheme}://{r.Host}";
        var version = r.Path.StartsWithSegments("/v2") ? "v2" : "v3";
        var project = http.GetRouteValue("project_id");
        return
        [
            new JsonObject { ["href"] = $"{root}/{version}/{project}/{collection}/{id}", ["rel"] = "self" },
            new JsonObject { ["href"] = $"{root}/{project}/{collection}/{id}", ["rel"] = "bookmark" },
        ];
    }

    public static DateTime Now(this HttpContext http) => http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;

    public static async Task<JsonObject> BodyAsync(this HttpContext http, string name)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, http.RequestAborted);
        return body[name] as JsonObject ?? throw OpenStackError.BadRequest(body.ContainsKey(name)
            ? $"Invalid input for field/attribute {name}. Value: {Show(body[name])}. {Show(body[name])} is not of type 'object'"
            : $"Invalid input for field/attribute {name}. Value: None. '{name}' is a required property");
    }
}
