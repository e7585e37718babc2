using System.Net;

namespace Stratus.Identity.Tests.Catalog;

public class EndpointsApiTests(IdentityServer server) : IClassFixture<IdentityServer>
{
    HttpClient Admin => server.Admin;

    async Task<string> NewService() => (await Admin.Post("v3/services", $$$"""{"service": {"type": "{{{Http.Unique("t")}}}"}}""")).Body!["service"].Str("id");

    async Task<string> NewEndpoint(string serviceId, string iface = "public", string? region = null) =>
        (await Admin.Post("v3/endpoints",
            $$$"""{"endpoint": {"service_id": "{{{serviceId}}}", "interface": "{{{iface}}}", "url": "http://h:1/{{{iface}}}", "region_id": "{{{region ?? IdentityServer.Region}}}"}}"""))
        .Body!["endpoint"].Str("id");

    [Fact]
    public async Task Created_endpoint_renders_region_twice_and_keeps_the_url_template()
    {
        var service = await NewService();
        var (status, body) = await Admin.Post("v3/endpoints", $$$"""
            {"endpoint": {"service_id": "{{{service}}}", "interface": "internal", "url": "http://h:8774/v2.1/%(project_id)s",
                          "region_id": "{{{IdentityServer.Region}}}", "weight": 7}}
            """);
        Assert.Equal(HttpStatusCode.Created, status);
        var e = body!["endpoint"]!;
        Assert.Equal("internal", e.Str("interface"));
        Assert.Equal("http://h:8774/v2.1/%(project_id)s", e.Str("url"));
        Assert.Equal(IdentityServer.Region, e.Str("region_id"));
        Assert.Equal(IdentityServer.Region, e.Str("region"));
        Assert.Equal(service, e.Str("service_id"));
        Assert.True(e["enabled"]!.GetValue<bool>());
        Assert.Equal(7, e["weight"]!.GetValue<int>());
        Assert.False(e.AsObject().ContainsKey("legacy_endpoint_id"));
        Assert.Equal($"{server.BaseUrl}/v3/endpoints/{e.Str("id")}", e["links"].Str("self"));
        Assert.Equal(e.ToJsonString(), (await Admin.Get("v3/endpoints/" + e.Str("id"))).Body!["endpoint"]!.ToJsonString());

        var (_, dollar) = await Admin.Post("v3/endpoints",
            $$$"""{"endpoint": {"service_id": "{{{service}}}", "interface": "public", "url": "http://h:8776/v3/$(project_id)s"}}""");
        Assert.Equal("http://h:8776/v3/$(project_id)s", dollar!["endpoint"].Str("url"));
        Assert.Null(dollar["endpoint"]!["region_id"]);
    }

    [Fact]
    public async Task Legacy_region_field_creates_a_missing_region()
    {
        var service = await NewService();
        var region = Http.Unique("RegionTwo");
        var (status, body) = await Admin.Post("v3/endpoints",
            $$$"""{"endpoint": {"service_id": "{{{service}}}", "interface": "public", "url": "http://172.16.3.72:9292", "region": "{{{region}}}", "enabled": true}}""");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(region, body!["endpoint"].Str("region"));
        Assert.Equal(region, body["endpoint"].Str("region_id"));
        var (regionStatus, got) = await Admin.Get("v3/regions/" + region);
        Assert.Equal(HttpStatusCode.OK, regionStatus);
        Assert.Equal("", got!["region"].Str("description"));

        // An update through the legacy field creates the new region too.
        var other = Http.Unique("RegionThree");
        var (_, updated) = await Admin.Patch("v3/endpoints/" + body["endpoint"].Str("id"), $$$"""{"endpoint": {"region": "{{{other}}}"}}""");
        Assert.Equal(other, updated!["endpoint"].Str("region_id"));
        Assert.Equal(HttpStatusCode.OK, (await Admin.Get("v3/regions/" + other)).Status);
    }

    [Fact]
    public async Task Explicit_region_id_and_service_must_exist()
    {
        var service = await NewService();
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Post("v3/endpoints",
            $$$"""{"endpoint": {"service_id": "{{{service}}}", "interface": "public", "url": "http://h:1", "region_id": "NoSuchRegion"}}"""),
            "Expecting to find endpoint region_id in region table.");
        Http.AssertError(HttpStatusCode.NotFound, await Admin.Get("v3/regions/NoSuchRegion"));
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Post("v3/endpoints",
            """{"endpoint": {"service_id": "nope", "interface": "public", "url": "http://h:1"}}"""),
            "Expecting to find endpoint service_id in service table.");
        var id = await NewEndpoint(service);
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Patch("v3/endpoints/" + id, """{"endpoint": {"region_id": "NoSuchRegion"}}"""));
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Patch("v3/endpoints/" + id, """{"endpoint": {"service_id": "nope"}}"""));
    }

    [Theory]
    [InlineData("""{"interface": "private", "url": "http://h:1"}""", "is not one of")]
    [InlineData("""{"interface": "public"}""", "'url' is a required property")]
    [InlineData("""{"url": "http://h:1"}""", "'interface' is a required property")]
    [InlineData("""{"interface": "public", "url": "not a url"}""", "does not match")]
    [InlineData("""{"interface": "public", "url": "http://h:1", "enabled": "False"}""", "is not of type 'boolean'")]
    [InlineData("""{"interface": "public", "url": "http://h:1", "enabled": "True"}""", "is not of type 'boolean'")]
    [InlineData("""{"interface": "public", "url": "http://h:1/%(tenant)s"}""", "Cannot create an endpoint with an invalid URL")]
    [InlineData("""{"interface": "public", "url": "http://h:1/%(project_id)d"}""", "Cannot create an endpoint with an invalid URL")]
    [InlineData("""{"interface": "public", "url": "http://h:1", "region_id": null}""", "is not of type 'string'")]
    public async Task Bad_endpoint_bodies_are_rejected(string fields, string message)
    {
        var service = await NewService();
        var json = "{\"endpoint\": " + fields.Replace("{", "{\"service_id\": \"" + service + "\", ", StringComparison.Ordinal) + "}";
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Post("v3/endpoints", json), message);
    }

    [Fact]
    public async Task Update_with_string_enabled_is_rejected()
    {
        var id = await NewEndpoint(await NewService());
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Patch("v3/endpoints/" + id, """{"endpoint": {"enabled": "False"}}"""));
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Patch("v3/endpoints/" + id, """{"endpoint": {}}"""));
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Patch("v3/endpoints/" + id, """{"endpoint": {"id": "other"}}"""), "Cannot change ID");
    }

    [Fact]
    public async Task Update_changes_every_field()
    {
        var id = await NewEndpoint(await NewService());
        var service2 = await NewService();
        var region = Http.Unique("R");
        await Admin.Put("v3/regions/" + region, """{"region": {}}""");
        var (status, body) = await Admin.Patch("v3/endpoints/" + id, $$$"""
            {"endpoint": {"service_id": "{{{service2}}}", "interface": "admin", "url": "https://new:2", "region_id": "{{{region}}}", "enabled": false}}
            """);
        Assert.Equal(HttpStatusCode.OK, status);
        var e = body!["endpoint"]!;
        Assert.Equal(service2, e.Str("service_id"));
        Assert.Equal("admin", e.Str("interface"));
        Assert.Equal("https://new:2", e.Str("url"));
        Assert.Equal(region, e.Str("region"));
        Assert.False(e["enabled"]!.GetValue<bool>());
        Assert.Equal(e.ToJsonString(), (await Admin.Get("v3/endpoints/" + id)).Body!["endpoint"]!.ToJsonString());
    }

    [Fact]
    public async Task List_filters_by_service_interface_and_region()
    {
        var service = await NewService();
        var region = Http.Unique("R");
        await Admin.Put("v3/regions/" + region, """{"region": {}}""");
        var pub = await NewEndpoint(service, "public");
        var internalEp = await NewEndpoint(service, "internal", region);
        Assert.Equal([pub, internalEp], (await Admin.Get("v3/endpoints?service_id=" + service)).Body.Ids("endpoints"));
        Assert.Equal([internalEp], (await Admin.Get($"v3/endpoints?service_id={service}&interface=internal")).Body.Ids("endpoints"));
        Assert.Equal([internalEp], (await Admin.Get("v3/endpoints?region_id=" + region)).Body.Ids("endpoints"));
        var all = (await Admin.Get("v3/endpoints")).Body.Ids("endpoints");
        Assert.Contains(pub, all);
        Assert.Contains(internalEp, all);
    }

    [Fact]
    public async Task Deleted_endpoint_is_gone()
    {
        var id = await NewEndpoint(await NewService());
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.Delete("v3/endpoints/" + id)).Status);
        Http.AssertError(HttpStatusCode.NotFound, await Admin.Get("v3/endpoints/" + id), $"Could not find endpoint: {id}.");
        Http.AssertError(HttpStatusCode.NotFound, await Admin.Delete("v3/endpoints/" + id));
        Assert.DoesNotContain(id, (await Admin.Get("v3/endpoints")).Body.Ids("endpoints"));
    }

    [Fact]
    public async Task New_endpoint_shows_in_the_next_token_catalog_and_disabled_one_does_not()
    {
        var service = await NewService();
        var id = await NewEndpoint(service);
        var token = await server.IssueTokenAsync("admin", IdentityServer.AdminPassword, project: "admin");
        var (_, body) = await server.NewClient(token).Get("v3/auth/catalog");
        var entry = body!["catalog"]!.AsArray().Single(s => s.Str("id") == service);
        Assert.Equal([id], entry!["endpoints"]!.AsArray().Select(e => e.Str("id")));

        await Admin.Patch("v3/endpoints/" + id, """{"endpoint": {"enabled": false}}""");
        (_, body) = await server.NewClient(token).Get("v3/auth/catalog");
        Assert.Empty(body!["catalog"]!.AsArray().Single(s => s.Str("id") == service)!["endpoints"]!.AsArray());
    }

    [Fact]
    public async Task Endpoints_are_admin_only()
    {
        var (member, _, _) = await server.NewProjectUserAsync();
        Http.AssertError(HttpStatusCode.Forbidden, await member.Get("v3/endpoints"));
        Http.AssertError(HttpStatusCode.Forbidden, await member.Post("v3/endpoints", """{"endpoint": {}}"""));
        Http.AssertError(HttpStatusCode.Unauthorized, await server.Anonymous.Get("v3/endpoints"));
    }
}
