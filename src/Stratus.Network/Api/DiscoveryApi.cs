namespace Stratus.Network.Api;

/// <summary>Version discovery (no token), the v2.0 resource index, and the extensions the service implements.</summary>
static class DiscoveryApi
{
    /// <summary>
    /// The extensions this service implements, by alias; <c>GET /v2.0/extensions</c> lists exactly these
    /// (Tempest's <c>api_extensions</c> is read from it). Add an alias when its API lands, not before.
    /// </summary>
    public static readonly string[] Implemented =
    [
        "agent", "agent-resources-synced", "allowed-address-pairs", "availability_zone", "binding", "binding-extended", "empty-string-filtering", "external-net",
        "extra_dhcp_opt", "filter-validation", "ip-substring-filtering", "net-mtu", "net-mtu-writable",
        "network_availability_zone", "pagination", "port-security", "project-id", "provider", "quotas", "quota_details", "quota-check-limit", "security-group",
        "sorting", "stateful-security-group", "standard-attr-description", "standard-attr-revisions", "standard-attr-tag", "standard-attr-timestamp",
        "subnet_allocation", "subnetpool", "default-subnetpools",
        "router", "ext-gw-mode", "extraroute", "extraroute-atomic", "router_availability_zone", "fip-port-details", "floatingip-pools",
    ];

    static readonly Lazy<Dictionary<string, JsonObject>> Known = new(() =>
    {
        using var s = typeof(DiscoveryApi).Assembly.GetManifestResourceStream("Stratus.Network.Api.extensions.json")!;
        return JsonNode.Parse(s)!.AsArray().OfType<JsonObject>().ToDictionary(e => (string)e["alias"]!, StringComparer.Ordinal);
    });

    static IEnumerable<JsonObject> Extensions() => Implemented.Order(StringComparer.Ordinal).Select(a => (JsonObject)Known.Value[a].DeepClone());

    public static IEndpointRouteBuilder MapDiscovery(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", (HttpContext http) => new JsonResponse(new JsonObject
        {
            ["versions"] = new JsonArray(new JsonObject
            {
                ["id"] = "v2.0", ["status"] = "CURRENT",
                ["links"] = new JsonArray(new JsonObject { ["href"] = $"{Root(http)}/v2.0/", ["rel"] = "self" }),
            }),
        }));
        // Routing ignores a trailing slash: this one route answers /v2.0 and /v2.0/.
        app.MapGet("/v2.0/", Index);
        return app;
    }

    static string Root(HttpContext http) => $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}";

    static IResult Index(HttpContext http)
    {
        http.Caller();
        string[] collections = ["networks", "subnets", "subnetpools", "ports", "security_groups", "security_group_rules", "routers", "floatingips", "agents", "quotas", "availability_zones"];
        return new JsonResponse(new JsonObject
        {
            ["resources"] = new JsonArray([.. collections.Select(c => (JsonNode)new JsonObject
            {
                ["name"] = c.EndsWith("ies", StringComparison.Ordinal) ? c[..^3] + "y" : c.TrimEnd('s'),
                ["collection"] = c,
                ["links"] = new JsonArray(new JsonObject { ["href"] = $"{Root(http)}/v2.0/{c}", ["rel"] = "self" }),
            })]),
        });
    }

    public static IEndpointRouteBuilder MapExtensions(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v2.0/extensions", (HttpContext http) =>
        {
            http.Caller();
            return new JsonResponse(new JsonObject { ["extensions"] = new JsonArray([.. Extensions()]) });
        });
        app.MapGet("/v2.0/extensions/{alias}", (string alias, HttpContext http) =>
        {
            http.Caller();
            return Implemented.Contains(alias)
                ? new JsonResponse(new JsonObject { ["extension"] = Known.Value[alias].DeepClone() })
                : throw new OpenStackError(404, "HTTPNotFound", $"Extension with alias {alias} does not exist");
        });
        return app;
    }
}
