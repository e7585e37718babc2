using System.Net;
using Stratus.Identity.Tests.Catalog;

namespace Stratus.Identity.Tests.Resource;

public class DomainsApiTests(IdentityServer server) : IClassFixture<IdentityServer>
{
    async Task<string> CreateAsync(string json) =>
        (await server.Admin.Post("v3/domains", json)).Body!["domain"].Str("id");

    [Fact]
    public async Task Domain_is_rendered_with_tags_options_links_and_extra_attributes()
    {
        var name = Http.Unique("dom");
        var r = await server.Admin.Post("v3/domains", $$$"""{"domain": {"name": "{{{name}}}", "description": null, "tags": ["b", "a"], "email": "ops@example.org"}}""");
        Assert.Equal(HttpStatusCode.Created, r.Status);
        var d = r.Body!["domain"]!;
        Assert.Equal(name, d.Str("name"));
        Assert.Null(d["description"]);
        Assert.True(d["enabled"]!.GetValue<bool>());
        Assert.Equal(["b", "a"], d["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Empty(d["options"]!.AsObject());
        Assert.Equal("ops@example.org", d.Str("email"));
        Assert.Equal($"{server.BaseUrl}/v3/domains/{d.Str("id")}", d["links"].Str("self"));

        var listed = await server.Admin.Get($"v3/domains?name={name}");
        Assert.Equal([d.Str("id")], listed.Body.Ids("domains"));
    }

    [Fact]
    public async Task Explicit_domain_id_must_be_a_dashless_uuid()
    {
        var id = Guid.NewGuid().ToString("N");
        var created = await server.Admin.Post("v3/domains", $$$"""{"domain": {"name": "{{{Http.Unique("ex")}}}", "explicit_domain_id": "{{{id}}}"}}""");
        Assert.Equal(id, created.Body!["domain"].Str("id"));
        Http.AssertError(HttpStatusCode.BadRequest,
            await server.Admin.Post("v3/domains", $$$"""{"domain": {"name": "{{{Http.Unique("ex")}}}", "explicit_domain_id": "{{{Guid.NewGuid()}}}"}}"""),
            "Domain ID does not conform to required UUID format.");
        Http.AssertError(HttpStatusCode.Conflict,
            await server.Admin.Post("v3/domains", $$$"""{"domain": {"name": "{{{Http.Unique("ex")}}}", "explicit_domain_id": "{{{id}}}"}}"""));
    }

    [Theory]
    [InlineData("""{"domain": {}}""", "'name' is a required property")]
    [InlineData("""{"domain": {"name": "x", "enabled": "true"}}""", "is not of type 'boolean'")]
    [InlineData("""{"domain": {"name": "x", "tags": ["a/b"]}}""", "does not match")]
    [InlineData("""{"domain": {"name": "x", "tags": ["a", "a"]}}""", "non-unique")]
    [InlineData("""{"domain": {"name": "x", "options": {"bogus": true}}}""", "'bogus' was unexpected")]
    [InlineData("""{"domain": "x"}""", null)]
    [InlineData("""{"domain": {"name": """, "valid JSON")]
    public async Task Bad_domain_bodies_are_400(string json, string? message) =>
        Http.AssertError(HttpStatusCode.BadRequest, await server.Admin.Post("v3/domains", json), message);

    [Fact]
    public async Task Duplicate_domain_name_is_a_conflict()
    {
        var name = Http.Unique("dup");
        await CreateAsync($$$"""{"domain": {"name": "{{{name}}}"}}""");
        Http.AssertError(HttpStatusCode.Conflict, await server.Admin.Post("v3/domains", $$$"""{"domain": {"name": "{{{name}}}"}}"""),
            $"two projects acting as domains with the same name: {name}");
    }

    [Fact]
    public async Task Update_changes_fields_and_keeps_the_id()
    {
        var id = await CreateAsync($$$"""{"domain": {"name": "{{{Http.Unique("up")}}}", "description": "old"}}""");
        var r = await server.Admin.Patch($"v3/domains/{id}", """{"domain": {"id": "other", "description": "new", "tags": ["z"], "extra_key": 1}}""");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal(id, r.Body!["domain"].Str("id"));
        Assert.Equal("new", r.Body!["domain"].Str("description"));
        Assert.Equal("z", r.Body!["domain"]!["tags"]![0]!.GetValue<string>());
        Assert.Equal(1, r.Body!["domain"]!["extra_key"]!.GetValue<int>());
        Http.AssertError(HttpStatusCode.BadRequest, await server.Admin.Patch($"v3/domains/{id}", """{"domain": {}}"""));
        Http.AssertError(HttpStatusCode.NotFound, await server.Admin.Patch("v3/domains/missing", """{"domain": {"description": "x"}}"""));
    }

    [Fact]
    public async Task Deleting_a_disabled_domain_removes_its_projects_users_groups_and_config()
    {
        var domainId = await CreateAsync($$$"""{"domain": {"name": "{{{Http.Unique("cascade")}}}"}}""");
        var project = (await server.Admin.Post("v3/projects", $$$"""{"project": {"name": "p", "domain_id": "{{{domainId}}}"}}""")).Body!["project"].Str("id");
        var user = (await server.Admin.Post("v3/users", $$$"""{"user": {"name": "u", "domain_id": "{{{domainId}}}", "password": "pw"}}""")).Body!["user"].Str("id");
        var group = (await server.Admin.Post("v3/groups", $$$"""{"group": {"name": "g", "domain_id": "{{{domainId}}}"}}""")).Body!["group"].Str("id");
        await server.Admin.Put($"v3/domains/{domainId}/config", """{"config": {"identity": {"driver": "ldap"}}}""");

        Http.AssertError(HttpStatusCode.Forbidden, await server.Admin.Delete($"v3/domains/{domainId}"), "disable it first");
        Assert.Equal(HttpStatusCode.OK, (await server.Admin.Patch($"v3/domains/{domainId}", """{"domain": {"enabled": false}}""")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.Delete($"v3/domains/{domainId}")).Status);

        Assert.Equal(HttpStatusCode.NotFound, (await server.Admin.Get($"v3/domains/{domainId}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Admin.Get($"v3/projects/{project}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Admin.Get($"v3/users/{user}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Admin.Get($"v3/groups/{group}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Admin.Delete($"v3/domains/{domainId}")).Status);
    }

    [Fact]
    public async Task Disabling_a_domain_invalidates_its_users_tokens()
    {
        var domainId = await CreateAsync($$$"""{"domain": {"name": "{{{Http.Unique("off")}}}"}}""");
        var name = Http.Unique("du");
        await server.Admin.Post("v3/users", $$$"""{"user": {"name": "{{{name}}}", "domain_id": "{{{domainId}}}", "password": "pw"}}""");
        var domainName = (await server.Admin.Get($"v3/domains/{domainId}")).Body!["domain"].Str("name");
        var token = await server.IssueTokenAsync(name, "pw", domain: domainName);
        using var user = server.NewClient(token);
        Assert.Equal(HttpStatusCode.OK, (await server.Admin.SendValidate(token)));

        await server.Admin.Patch($"v3/domains/{domainId}", """{"domain": {"enabled": false}}""");
        Assert.Equal(HttpStatusCode.NotFound, await server.Admin.SendValidate(token));
    }

    [Fact]
    public async Task A_member_may_not_manage_domains()
    {
        var (member, _, _) = await server.NewProjectUserAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await member.Get("v3/domains")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.Post("v3/domains", """{"domain": {"name": "nope"}}""")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.Patch("v3/domains/default", """{"domain": {"description": "x"}}""")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.Delete("v3/domains/default")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Anonymous.Get("v3/domains")).Status);
    }
}
