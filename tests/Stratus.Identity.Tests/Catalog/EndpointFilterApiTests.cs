using System.Net;
using System.Text.Json.Nodes;

namespace Stratus.Identity.Tests.Catalog;

public class EndpointFilterApiTests(IdentityServer server) : IClassFixture<IdentityServer>
{
    HttpClient Admin => server.Admin;

    async Task<string> NewService() => (await Admin.Post("v3/services", $$$"""{"service": {"type": "{{{Http.Unique("t")}}}"}}""")).Body!["service"].Str("id");

    async Task<string> NewEndpoint(string serviceId, string iface = "public") =>
        (await Admin.Post("v3/endpoints",
            $$$"""{"endpoint": {"service_id": "{{{serviceId}}}", "interface": "{{{iface}}}", "url": "http://h:1/{{{iface}}}", "region_id": "{{{IdentityServer.Region}}}"}}"""))
        .Body!["endpoint"].Str("id");

    async Task<string> NewGroup(string filters, string? name = null) =>
        (await Admin.Post("v3/OS-EP-FILTER/endpoint_groups",
            $$$"""{"endpoint_group": {"name": "{{{name ?? Http.Unique("g")}}}", "filters": {{{filters}}}}}""")).Body!["endpoint_group"].Str("id");

    async Task<JsonArray> CatalogFor(HttpClient client) => (await client.Get("v3/auth/catalog")).Body!["catalog"]!.AsArray();

    [Fact]
    public async Task Endpoint_group_create_list_show_check_update_delete()
    {
        var service = await NewService();
        var (status, body) = await Admin.Post("v3/OS-EP-FILTER/endpoint_groups",
            $$$"""{"endpoint_group": {"name": "grp", "description": "d", "filters": {"service_id": "{{{service}}}"} } }""");
        Assert.Equal(HttpStatusCode.Created, status);
        var g = body!["endpoint_group"]!;
        var id = g.Str("id");
        Assert.Equal("grp", g.Str("name"));
        Assert.Equal("d", g.Str("description"));
        Assert.Equal(service, g["filters"].Str("service_id"));
        Assert.Equal($"{server.BaseUrl}/v3/OS-EP-FILTER/endpoint_groups/{id}", g["links"].Str("self"));

        var (_, list) = await Admin.Get("v3/OS-EP-FILTER/endpoint_groups");
        Assert.Contains(list!["endpoint_groups"]!.AsArray(), i => i!.ToJsonString() == g.ToJsonString());
        Assert.Equal(g.ToJsonString(), (await Admin.Get("v3/OS-EP-FILTER/endpoint_groups/" + id)).Body!["endpoint_group"]!.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, (await Admin.Head("v3/OS-EP-FILTER/endpoint_groups/" + id)).Status);

        var (upStatus, up) = await Admin.Patch("v3/OS-EP-FILTER/endpoint_groups/" + id,
            """{"endpoint_group": {"name": "grp2", "description": null, "filters": {"interface": "admin"}}}""");
        Assert.Equal(HttpStatusCode.OK, upStatus);
        Assert.Equal("grp2", up!["endpoint_group"].Str("name"));
        Assert.Null(up["endpoint_group"]!["description"]);
        Assert.Equal("""{"interface":"admin"}""", up["endpoint_group"]!["filters"]!.ToJsonString());

        Assert.Equal(HttpStatusCode.NoContent, (await Admin.Delete("v3/OS-EP-FILTER/endpoint_groups/" + id)).Status);
        Http.AssertError(HttpStatusCode.NotFound, await Admin.Get("v3/OS-EP-FILTER/endpoint_groups/" + id), $"Could not find Endpoint Group: {id}.");
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.Head("v3/OS-EP-FILTER/endpoint_groups/" + id)).Status);
        Assert.DoesNotContain(id, (await Admin.Get("v3/OS-EP-FILTER/endpoint_groups")).Body.Ids("endpoint_groups"));
    }

    [Fact]
    public async Task Bad_endpoint_groups_are_rejected()
    {
        const string path = "v3/OS-EP-FILTER/endpoint_groups";
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Post(path, """{"endpoint_group": {"name": "x", "filters": {}}}"""),
            "filters field is required and cannot be empty");
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Post(path, """{"endpoint_group": {"name": "x", "filters": {"url": "u"}}}"""),
            "service_id or region_id or interface");
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Post(path, """{"endpoint_group": {"filters": {"interface": "public"}}}"""));
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Post(path, """{"endpoint_group": {"name": "x"}}"""));
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Post(path, """{"endpoint_group": {"name": "x", "filters": "interface"}}"""));
        var id = await NewGroup("""{"interface": "public"}""");
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Patch(path + "/" + id, """{"endpoint_group": {}}"""));
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Patch(path + "/" + id, """{"endpoint_group": {"filters": {"enabled": true}}}"""));
    }

    [Fact]
    public async Task Endpoints_in_group_follow_its_filters()
    {
        var service = await NewService();
        var pub = await NewEndpoint(service, "public");
        await NewEndpoint(service, "internal");
        var group = await NewGroup($$$"""{"service_id": "{{{service}}}", "interface": "public"}""");
        var (status, body) = await Admin.Get($"v3/OS-EP-FILTER/endpoint_groups/{group}/endpoints");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal([pub], body.Ids("endpoints"));
        Assert.Equal(IdentityServer.Region, body!["endpoints"]![0].Str("region"));
        Http.AssertError(HttpStatusCode.NotFound, await Admin.Get("v3/OS-EP-FILTER/endpoint_groups/nope/endpoints"));
    }

    [Fact]
    public async Task Project_endpoint_association_restricts_the_project_catalog()
    {
        var (member, _, projectId) = await server.NewProjectUserAsync();
        var service = await NewService();
        var chosen = await NewEndpoint(service, "public");
        var other = await NewEndpoint(service, "internal");
        Assert.Contains(await CatalogFor(member), s => s.Str("type") == "identity");

        var path = $"v3/OS-EP-FILTER/projects/{projectId}/endpoints/{chosen}";
        Http.AssertError(HttpStatusCode.NotFound, await Admin.Get(path), $"Endpoint {chosen} not found in project {projectId}");
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.Put(path)).Status);
        Http.AssertError(HttpStatusCode.Conflict, await Admin.Put(path));
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.Head(path)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.Get(path)).Status);

        Assert.Equal([chosen], (await Admin.Get($"v3/OS-EP-FILTER/projects/{projectId}/endpoints")).Body.Ids("endpoints"));
        var (_, projects) = await Admin.Get($"v3/OS-EP-FILTER/endpoints/{chosen}/projects");
        Assert.Equal([projectId], projects.Ids("projects"));
        Assert.Equal($"{server.BaseUrl}/v3/projects/{projectId}", projects!["projects"]![0]!["links"].Str("self"));

        // Only the associated endpoint's service remains in the project's catalog.
        var catalog = await CatalogFor(member);
        var entry = Assert.Single(catalog);
        Assert.Equal(service, entry.Str("id"));
        Assert.Equal([chosen], entry!["endpoints"]!.AsArray().Select(e => e.Str("id")));
        Assert.DoesNotContain(other, entry["endpoints"]!.AsArray().Select(e => e.Str("id")));

        Assert.Equal(HttpStatusCode.NoContent, (await Admin.Delete(path)).Status);
        Http.AssertError(HttpStatusCode.NotFound, await Admin.Delete(path));
        Assert.Contains(await CatalogFor(member), s => s.Str("type") == "identity");
    }

    [Fact]
    public async Task Association_needs_existing_project_and_endpoint()
    {
        var service = await NewService();
        var endpoint = await NewEndpoint(service);
        Http.AssertError(HttpStatusCode.NotFound, await Admin.Put($"v3/OS-EP-FILTER/projects/nope/endpoints/{endpoint}"), "Could not find project: nope.");
        var (_, _, projectId) = await server.NewProjectUserAsync();
        Http.AssertError(HttpStatusCode.NotFound, await Admin.Put($"v3/OS-EP-FILTER/projects/{projectId}/endpoints/nope"), "Could not find endpoint: nope.");
        Http.AssertError(HttpStatusCode.NotFound, await Admin.Get("v3/OS-EP-FILTER/projects/nope/endpoints"));
        Http.AssertError(HttpStatusCode.NotFound, await Admin.Get("v3/OS-EP-FILTER/endpoints/nope/projects"));
    }

    [Fact]
    public async Task Project_endpoint_group_association_restricts_the_catalog_to_the_group()
    {
        var (member, _, projectId) = await server.NewProjectUserAsync();
        var service = await NewService();
        var pub = await NewEndpoint(service, "public");
        await NewEndpoint(service, "admin");
        var group = await NewGroup($$$"""{"service_id": "{{{service}}}", "interface": "public"}""");
        var path = $"v3/OS-EP-FILTER/endpoint_groups/{group}/projects/{projectId}";

        Http.AssertError(HttpStatusCode.NotFound, await Admin.Get(path), "Endpoint Group Project Association not found");
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.Put(path)).Status);
        Http.AssertError(HttpStatusCode.Conflict, await Admin.Put(path));
        var (status, assoc) = await Admin.Get(path);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(group, assoc!["project_endpoint_group"].Str("endpoint_group_id"));
        Assert.Equal(projectId, assoc["project_endpoint_group"].Str("project_id"));

        Assert.Equal([projectId], (await Admin.Get($"v3/OS-EP-FILTER/endpoint_groups/{group}/projects")).Body.Ids("projects"));
        Assert.Equal([group], (await Admin.Get($"v3/OS-EP-FILTER/projects/{projectId}/endpoint_groups")).Body.Ids("endpoint_groups"));
        Assert.Equal([pub], (await Admin.Get($"v3/OS-EP-FILTER/projects/{projectId}/endpoints")).Body.Ids("endpoints"));

        var entry = Assert.Single(await CatalogFor(member));
        Assert.Equal([pub], entry!["endpoints"]!.AsArray().Select(e => e.Str("id")));

        // Deleting the group removes its associations, and with them the restriction.
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.Delete("v3/OS-EP-FILTER/endpoint_groups/" + group)).Status);
        Assert.Empty((await Admin.Get($"v3/OS-EP-FILTER/endpoint_groups/{group}/projects")).Body!["projects"]!.AsArray());
        Assert.Contains(await CatalogFor(member), s => s.Str("type") == "identity");
    }

    [Fact]
    public async Task Endpoint_filter_writes_are_admin_only()
    {
        var (member, _, projectId) = await server.NewProjectUserAsync();
        var endpoint = await NewEndpoint(await NewService());
        Http.AssertError(HttpStatusCode.Forbidden, await member.Put($"v3/OS-EP-FILTER/projects/{projectId}/endpoints/{endpoint}"));
        Http.AssertError(HttpStatusCode.Forbidden, await member.Get($"v3/OS-EP-FILTER/projects/{projectId}/endpoints"));
        Http.AssertError(HttpStatusCode.Forbidden, await member.Post("v3/OS-EP-FILTER/endpoint_groups",
            """{"endpoint_group": {"name": "x", "filters": {"interface": "public"}}}"""));
        Http.AssertError(HttpStatusCode.Forbidden, await member.Get("v3/OS-EP-FILTER/endpoint_groups"));
    }
}
