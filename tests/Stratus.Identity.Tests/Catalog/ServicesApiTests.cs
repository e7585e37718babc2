using System.Net;

namespace Stratus.Identity.Tests.Catalog;

public class ServicesApiTests(IdentityServer server) : IClassFixture<IdentityServer>
{
    HttpClient Admin => server.Admin;

    async Task<string> CreateService(string json) => (await Admin.Post("v3/services", json)).Body!["service"].Str("id");

    [Fact]
    public async Task Created_service_renders_like_keystone()
    {
        var (status, body) = await Admin.Post("v3/services", """{"service": {"type": "image", "name": "glance", "description": "Images", "x-tra": 3}}""");
        Assert.Equal(HttpStatusCode.Created, status);
        var s = body!["service"]!;
        Assert.Equal("image", s.Str("type"));
        Assert.Equal("glance", s.Str("name"));
        Assert.Equal("Images", s.Str("description"));
        Assert.True(s["enabled"]!.GetValue<bool>());
        Assert.Equal(3, s["x_tra"]!.GetValue<int>()); // Keystone normalizes '-' in keys to '_'
        Assert.Equal($"{server.BaseUrl}/v3/services/{s.Str("id")}", s["links"].Str("self"));
        Assert.Equal(s.ToJsonString(), (await Admin.Get("v3/services/" + s.Str("id"))).Body!["service"]!.ToJsonString());
    }

    [Fact]
    public async Task Service_without_name_or_description_has_empty_name_and_no_description()
    {
        var (_, body) = await Admin.Post("v3/services", """{"service": {"type": "volumev3"}}""");
        var s = body!["service"]!.AsObject();
        Assert.Equal("", s.Str("name"));
        Assert.False(s.ContainsKey("description"));
    }

    [Fact]
    public async Task List_filters_by_type_and_name()
    {
        var type = Http.Unique("type");
        var a = await CreateService($$$"""{"service": {"type": "{{{type}}}", "name": "alpha"}}""");
        var b = await CreateService($$$"""{"service": {"type": "{{{type}}}", "name": "beta"}}""");
        Assert.Equal([a, b], (await Admin.Get("v3/services?type=" + type)).Body.Ids("services"));
        var (_, byName) = await Admin.Get($"v3/services?type={type}&name=beta");
        Assert.Equal([b], byName.Ids("services"));
        Assert.Equal([a], (await Admin.Get($"v3/services?type={type}&name__startswith=alp")).Body.Ids("services"));
        Assert.Contains("identity", (await Admin.Get("v3/services")).Body!["services"]!.AsArray().Select(s => s.Str("type")));
    }

    [Fact]
    public async Task Update_changes_fields_and_keeps_others()
    {
        var id = await CreateService("""{"service": {"type": "compute", "name": "nova", "description": "one"}}""");
        var (status, body) = await Admin.Patch("v3/services/" + id, """{"service": {"description": "two", "enabled": false, "zone": "z1"}}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var s = body!["service"]!;
        Assert.Equal("two", s.Str("description"));
        Assert.False(s["enabled"]!.GetValue<bool>());
        Assert.Equal("nova", s.Str("name"));
        Assert.Equal("z1", s.Str("zone"));
        Assert.Equal(s.ToJsonString(), (await Admin.Get("v3/services/" + id)).Body!["service"]!.ToJsonString());
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Patch("v3/services/" + id, """{"service": {"id": "x"}}"""), "Cannot change ID");
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Patch("v3/services/" + id, """{"service": {}}"""));
        Http.AssertError(HttpStatusCode.NotFound, await Admin.Patch("v3/services/nope", """{"service": {"name": "x"}}"""),
            "Could not find service: nope.");
    }

    [Fact]
    public async Task Deleting_a_service_deletes_its_endpoints()
    {
        var id = await CreateService("""{"service": {"type": "network"}}""");
        var (_, ep) = await Admin.Post("v3/endpoints",
            $$$"""{"endpoint": {"service_id": "{{{id}}}", "interface": "public", "url": "http://net:9696", "region_id": "{{{IdentityServer.Region}}}"}}""");
        var epId = ep!["endpoint"].Str("id");
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.Delete("v3/services/" + id)).Status);
        Http.AssertError(HttpStatusCode.NotFound, await Admin.Get("v3/services/" + id));
        Http.AssertError(HttpStatusCode.NotFound, await Admin.Get("v3/endpoints/" + epId));
        Http.AssertError(HttpStatusCode.NotFound, await Admin.Delete("v3/services/" + id));
    }

    [Fact]
    public async Task Bad_service_bodies_are_rejected()
    {
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Post("v3/services", """{"service": {"name": "no-type"}}"""), "'type' is a required property");
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Post("v3/services", """{"service": {"type": ""}}"""));
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Post("v3/services", """{"service": {"type": "t", "enabled": "True"}}"""));
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Post("v3/services", """{"service": {"type": "t", "name": "   "}}"""));
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Post("v3/services", """{"service": {"type": "t", "name": null}}"""));
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Post("v3/services", $$$"""{"service": {"type": "{{{new string('t', 256)}}}"}}"""));
    }

    [Fact]
    public async Task Services_are_admin_only()
    {
        var (member, _, _) = await server.NewProjectUserAsync();
        Http.AssertError(HttpStatusCode.Forbidden, await member.Get("v3/services"));
        Http.AssertError(HttpStatusCode.Forbidden, await member.Post("v3/services", """{"service": {"type": "x"}}"""));
        Http.AssertError(HttpStatusCode.Unauthorized, await server.Anonymous.Get("v3/services"));
    }
}
