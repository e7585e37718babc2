using System.Net;
using Stratus.Identity.Tests.Catalog;

namespace Stratus.Identity.Tests.Resource;

public class ProjectsApiTests(IdentityServer server) : IClassFixture<IdentityServer>
{
    async Task<string> CreateAsync(string json) =>
        (await server.Admin.Post("v3/projects", json)).Body!["project"].Str("id");

    [Fact]
    public async Task Project_is_rendered_as_keystone_with_its_domain_as_parent()
    {
        var name = Http.Unique("proj");
        var r = await server.Admin.Post("v3/projects", $$$"""{"project": {"name": "{{{name}}}", "description": null, "tags": ["t1"], "options": {"immutable": false}, "color": "red"}}""");
        Assert.Equal(HttpStatusCode.Created, r.Status);
        var p = r.Body!["project"]!;
        Assert.Equal("default", p.Str("domain_id"));
        Assert.Equal("default", p.Str("parent_id"));
        Assert.False(p["is_domain"]!.GetValue<bool>());
        Assert.Null(p["description"]);
        Assert.Equal("t1", p["tags"]![0]!.GetValue<string>());
        Assert.False(p["options"]!["immutable"]!.GetValue<bool>());
        Assert.Equal("red", p.Str("color"));
        Assert.Equal($"{server.BaseUrl}/v3/projects/{p.Str("id")}", p["links"].Str("self"));
        Assert.Equal(p.ToJsonString(), (await server.Admin.Get($"v3/projects/{p.Str("id")}")).Body!["project"]!.ToJsonString());
    }

    [Theory]
    [InlineData("""{"project": {"name": "x", "parent_id": "no-such-project"}}""", "Could not find project: no-such-project.")]
    [InlineData("""{"project": {"name": "x", "domain_id": "no-such-domain"}}""", "Could not find domain: no-such-domain.")]
    [InlineData("""{"project": {"name": "x", "tags": ["a", "a"]}}""", "non-unique")]
    [InlineData("""{"project": {"name": "x", "tags": ["a,b"]}}""", "does not match")]
    [InlineData("""{"project": {"name": "x", "options": {"bogus": true}}}""", "'bogus' was unexpected")]
    [InlineData("""{"project": {"name": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}""", "is too long")]
    [InlineData("""{"project": {"name": "   "}}""", null)]
    [InlineData("""{"project": {"description": "no name"}}""", "'name' is a required property")]
    public async Task Bad_project_bodies_are_400(string json, string? message) =>
        Http.AssertError(HttpStatusCode.BadRequest, await server.Admin.Post("v3/projects", json), message);

    [Fact]
    public async Task Names_are_unique_per_domain_only()
    {
        var name = Http.Unique("same");
        await CreateAsync($$$"""{"project": {"name": "{{{name}}}"}}""");
        Http.AssertError(HttpStatusCode.Conflict, await server.Admin.Post("v3/projects", $$$"""{"project": {"name": "{{{name}}}"}}"""),
            $"the same name or same id in the same domain: name is {name}");
        var other = (await server.Admin.Post("v3/domains", $$$"""{"domain": {"name": "{{{Http.Unique("d")}}}"}}""")).Body!["domain"].Str("id");
        Assert.Equal(HttpStatusCode.Created, (await server.Admin.Post("v3/projects", $$$"""{"project": {"name": "{{{name}}}", "domain_id": "{{{other}}}"}}""")).Status);
        var parent = await CreateAsync($$$"""{"project": {"name": "{{{Http.Unique("par")}}}"}}""");
        Http.AssertError(HttpStatusCode.BadRequest,
            await server.Admin.Post("v3/projects", $$$"""{"project": {"name": "x", "domain_id": "{{{other}}}", "parent_id": "{{{parent}}}"}}"""), "different domain");
    }

    [Fact]
    public async Task Hierarchy_is_shown_as_ids_and_lists_and_guards_deletion()
    {
        var a = await CreateAsync($$$"""{"project": {"name": "{{{Http.Unique("a")}}}"}}""");
        var b = await CreateAsync($$$"""{"project": {"name": "{{{Http.Unique("b")}}}", "parent_id": "{{{a}}}"}}""");
        var c = await CreateAsync($$$"""{"project": {"name": "{{{Http.Unique("c")}}}", "parent_id": "{{{b}}}"}}""");

        Assert.Equal("{\"" + b + "\":{\"" + a + "\":{\"default\":null}}}", (await server.Admin.Get($"v3/projects/{c}?parents_as_ids")).Body!["project"]!["parents"]!.ToJsonString());
        Assert.Equal("{\"" + b + "\":{\"" + c + "\":null}}", (await server.Admin.Get($"v3/projects/{a}?subtree_as_ids")).Body!["project"]!["subtree"]!.ToJsonString());
        // The *_as_list forms only list projects the caller has a role on: the admin has none of these.
        Assert.Empty((await server.Admin.Get($"v3/projects/{a}?subtree_as_list")).Body!["project"]!["subtree"]!.AsArray());
        Http.AssertError(HttpStatusCode.BadRequest, await server.Admin.Get($"v3/projects/{a}?subtree_as_list&subtree_as_ids"));
        Assert.Equal([b], (await server.Admin.Get($"v3/projects?parent_id={a}")).Body.Ids("projects"));

        Http.AssertError(HttpStatusCode.Forbidden, await server.Admin.Delete($"v3/projects/{b}"), "not a leaf");
        Http.AssertError(HttpStatusCode.Forbidden, await server.Admin.Patch($"v3/projects/{c}", $$$"""{"project": {"parent_id": "{{{a}}}"}}"""));
        Http.AssertError(HttpStatusCode.BadRequest, await server.Admin.Patch($"v3/projects/{c}", """{"project": {"domain_id": "elsewhere"}}"""), "Cannot change Domain ID");
        Http.AssertError(HttpStatusCode.BadRequest, await server.Admin.Patch($"v3/projects/{c}", """{"project": {"id": "elsewhere"}}"""), "Cannot change ID");
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.Delete($"v3/projects/{c}")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.Delete($"v3/projects/{b}")).Status);
        Http.AssertError(HttpStatusCode.NotFound, await server.Admin.Delete($"v3/projects/{b}"));
    }

    [Fact]
    public async Task Tags_filter_lists_and_have_their_own_api()
    {
        var s = Http.Unique("tag");
        var both = await CreateAsync($$$"""{"project": {"name": "{{{s}}}-both", "tags": ["{{{s}}}-x", "{{{s}}}-y"]}}""");
        var one = await CreateAsync($$$"""{"project": {"name": "{{{s}}}-one", "tags": ["{{{s}}}-x"]}}""");
        async Task<List<string>> Names(string query) =>
            (await server.Admin.Get($"v3/projects?{query}")).Body!["projects"]!.AsArray().Select(p => p.Str("name")).Where(n => n.StartsWith(s)).Order().ToList();
        Assert.Equal([$"{s}-both"], await Names($"tags={s}-x,{s}-y"));
        Assert.Equal([$"{s}-both", $"{s}-one"], await Names($"tags-any={s}-x,{s}-y"));
        Assert.Equal([$"{s}-one"], await Names($"not-tags={s}-x,{s}-y"));
        Assert.Empty(await Names($"not-tags-any={s}-x"));

        var list = await server.Admin.Get($"v3/projects/{one}/tags");
        Assert.Equal($"""["{s}-x"]""", list.Body!["tags"]!.ToJsonString());
        Assert.Equal($"{server.BaseUrl}/v3", list.Body!["links"].Str("self"));
        Assert.Equal("""["q","p"]""", (await server.Admin.Put($"v3/projects/{one}/tags", """{"tags": ["q", "p"]}""")).Body!["tags"]!.ToJsonString());
        Assert.Equal(HttpStatusCode.Created, (await server.Admin.Put($"v3/projects/{one}/tags/r")).Status);
        Http.AssertError(HttpStatusCode.BadRequest, await server.Admin.Put($"v3/projects/{one}/tags/r"), "non-unique");
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.Head($"v3/projects/{one}/tags/r")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.Delete($"v3/projects/{one}/tags/r")).Status);
        Http.AssertError(HttpStatusCode.NotFound, await server.Admin.Get($"v3/projects/{one}/tags/r"), "Could not find project tag: r.");
        Http.AssertError(HttpStatusCode.BadRequest, await server.Admin.Put($"v3/projects/{one}/tags", """{"tags": "q"}"""));
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.Delete($"v3/projects/{both}/tags")).Status);
        Assert.Equal("[]", (await server.Admin.Get($"v3/projects/{both}/tags")).Body!["tags"]!.ToJsonString());
    }

    [Fact]
    public async Task Domains_appear_as_projects_acting_as_domains()
    {
        var r = await server.Admin.Get("v3/projects?is_domain=true");
        var d = r.Body!["projects"]!.AsArray().Single(p => p.Str("id") == "default")!;
        Assert.True(d["is_domain"]!.GetValue<bool>());
        Assert.Null(d["domain_id"]);
        Assert.DoesNotContain("default", (await server.Admin.Get("v3/projects")).Body.Ids("projects"));
    }

    [Fact]
    public async Task A_member_sees_only_its_own_project_and_changes_nothing()
    {
        var (member, _, projectId) = await server.NewProjectUserAsync();
        var other = (await server.NewProjectUserAsync()).ProjectId;
        Assert.Equal(projectId, (await member.Get($"v3/projects/{projectId}")).Body!["project"].Str("id"));
        Assert.Equal(HttpStatusCode.Forbidden, (await member.Get($"v3/projects/{other}")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.Get("v3/projects")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.Patch($"v3/projects/{projectId}", """{"project": {"description": "x"}}""")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.Put($"v3/projects/{projectId}/tags/x")).Status);
        Assert.Equal(HttpStatusCode.OK, (await member.Get($"v3/projects/{projectId}/tags")).Status);
    }
}
