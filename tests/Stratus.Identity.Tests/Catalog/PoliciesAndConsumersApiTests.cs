using System.Net;

namespace Stratus.Identity.Tests.Catalog;

public class PoliciesAndConsumersApiTests(IdentityServer server) : IClassFixture<IdentityServer>
{
    HttpClient Admin => server.Admin;

    [Fact]
    public async Task Policy_create_list_show_update_delete()
    {
        var (status, body) = await Admin.Post("v3/policies", """{"policy": {"blob": "{\"a\": \"b\"}", "type": "application/json", "owner": "nova"}}""");
        Assert.Equal(HttpStatusCode.Created, status);
        var p = body!["policy"]!;
        var id = p.Str("id");
        Assert.Equal("{\"a\": \"b\"}", p.Str("blob"));
        Assert.Equal("application/json", p.Str("type"));
        Assert.Equal("nova", p.Str("owner"));
        Assert.Equal($"{server.BaseUrl}/v3/policies/{id}", p["links"].Str("self"));
        Assert.Equal(p.ToJsonString(), (await Admin.Get("v3/policies/" + id)).Body!["policy"]!.ToJsonString());
        Assert.Contains(id, (await Admin.Get("v3/policies")).Body.Ids("policies"));
        Assert.Equal([id], (await Admin.Get("v3/policies?type=application/json")).Body.Ids("policies"));
        Assert.Empty((await Admin.Get("v3/policies?type=text/plain")).Body.Ids("policies"));

        var (upStatus, up) = await Admin.Patch("v3/policies/" + id, """{"policy": {"type": "application/yaml"}}""");
        Assert.Equal(HttpStatusCode.OK, upStatus);
        Assert.Equal("application/yaml", up!["policy"].Str("type"));
        Assert.Equal("{\"a\": \"b\"}", up["policy"].Str("blob"));
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Patch("v3/policies/" + id, """{"policy": {"id": "x"}}"""), "Cannot change policy ID");

        Assert.Equal(HttpStatusCode.NoContent, (await Admin.Delete("v3/policies/" + id)).Status);
        Http.AssertError(HttpStatusCode.NotFound, await Admin.Get("v3/policies/" + id), $"Could not find policy: {id}.");
    }

    [Fact]
    public async Task Bad_policies_are_rejected()
    {
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Post("v3/policies", """{"policy": {"type": "t"}}"""), "'blob' is a required property");
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Post("v3/policies", """{"policy": {"blob": "b"}}"""), "'type' is a required property");
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Post("v3/policies", """{"policy": {"blob": {}, "type": "t"}}"""));
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Patch("v3/policies/x", """{"policy": {}}"""));
        Http.AssertError(HttpStatusCode.NotFound, await Admin.Patch("v3/policies/x", """{"policy": {"type": "t"}}"""));
    }

    [Fact]
    public async Task Consumer_secret_is_shown_only_on_create()
    {
        var (status, body) = await Admin.Post("v3/OS-OAUTH1/consumers", """{"consumer": {"description": "my app"}}""");
        Assert.Equal(HttpStatusCode.Created, status);
        var c = body!["consumer"]!;
        var id = c.Str("id");
        Assert.Equal(32, c.Str("secret").Length);
        Assert.Equal("my app", c.Str("description"));
        Assert.Equal($"{server.BaseUrl}/v3/OS-OAUTH1/consumers/{id}", c["links"].Str("self"));

        var shown = (await Admin.Get("v3/OS-OAUTH1/consumers/" + id)).Body!["consumer"]!.AsObject();
        Assert.False(shown.ContainsKey("secret"));
        Assert.Equal("my app", shown.Str("description"));
        Assert.Equal(c["links"]!.ToJsonString(), shown["links"]!.ToJsonString());
        var listed = (await Admin.Get("v3/OS-OAUTH1/consumers")).Body!["consumers"]!.AsArray();
        Assert.DoesNotContain(listed, i => i!.AsObject().ContainsKey("secret"));
        Assert.Contains(id, listed.Select(i => i.Str("id")));
    }

    [Fact]
    public async Task Consumer_update_and_delete()
    {
        var (_, body) = await Admin.Post("v3/OS-OAUTH1/consumers", """{"consumer": {}}""");
        var id = body!["consumer"].Str("id");
        Assert.Null(body["consumer"]!["description"]);

        var (status, up) = await Admin.Patch("v3/OS-OAUTH1/consumers/" + id, """{"consumer": {"description": "new"}}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("new", up!["consumer"].Str("description"));
        Assert.Equal("new", (await Admin.Get("v3/OS-OAUTH1/consumers/" + id)).Body!["consumer"].Str("description"));
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Patch("v3/OS-OAUTH1/consumers/" + id, """{"consumer": {"secret": "s"}}"""));
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Patch("v3/OS-OAUTH1/consumers/" + id, """{"consumer": {}}"""));
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Patch("v3/OS-OAUTH1/consumers/" + id, """{"consumer": {"description": 3}}"""));

        Assert.Equal(HttpStatusCode.NoContent, (await Admin.Delete("v3/OS-OAUTH1/consumers/" + id)).Status);
        Http.AssertError(HttpStatusCode.NotFound, await Admin.Get("v3/OS-OAUTH1/consumers/" + id), "Consumer not found");
        Http.AssertError(HttpStatusCode.NotFound, await Admin.Delete("v3/OS-OAUTH1/consumers/" + id));
    }

    [Fact]
    public async Task Policies_and_consumers_are_admin_only()
    {
        var (member, _, _) = await server.NewProjectUserAsync();
        Http.AssertError(HttpStatusCode.Forbidden, await member.Get("v3/policies"));
        Http.AssertError(HttpStatusCode.Forbidden, await member.Post("v3/policies", """{"policy": {"blob": "b", "type": "t"}}"""));
        Http.AssertError(HttpStatusCode.Forbidden, await member.Get("v3/OS-OAUTH1/consumers"));
        Http.AssertError(HttpStatusCode.Forbidden, await member.Post("v3/OS-OAUTH1/consumers", """{"consumer": {}}"""));
    }
}
