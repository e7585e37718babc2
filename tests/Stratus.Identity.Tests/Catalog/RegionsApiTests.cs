using System.Net;

namespace Stratus.Identity.Tests.Catalog;

public class RegionsApiTests(IdentityServer server) : IClassFixture<IdentityServer>
{
    HttpClient Admin => server.Admin;

    [Fact]
    public async Task Created_region_has_generated_id_empty_description_and_echoes_extras()
    {
        var (status, body) = await Admin.Post("v3/regions", """{"region": {"enabled": true, "color": "blue"}}""");
        Assert.Equal(HttpStatusCode.Created, status);
        var region = body!["region"]!;
        var id = region.Str("id");
        Assert.Equal(32, id.Length);
        Assert.Equal("", region.Str("description"));
        Assert.Null(region["parent_region_id"]);
        Assert.True(region.AsObject().ContainsKey("parent_region_id"));
        Assert.Equal("blue", region.Str("color"));
        Assert.True(region["enabled"]!.GetValue<bool>());
        Assert.Equal($"{server.BaseUrl}/v3/regions/{id}", region["links"].Str("self"));

        var (_, got) = await Admin.Get("v3/regions/" + id);
        Assert.Equal(region.ToJsonString(), got!["region"]!.ToJsonString());
    }

    [Fact]
    public async Task Region_id_can_be_chosen_by_post_or_put()
    {
        var posted = Http.Unique("RegionPost");
        var (s1, b1) = await Admin.Post("v3/regions", $$$"""{"region": {"id": "{{{posted}}}", "description": "d"}}""");
        Assert.Equal(HttpStatusCode.Created, s1);
        Assert.Equal(posted, b1!["region"].Str("id"));
        Assert.Equal("d", b1["region"].Str("description"));

        var put = Http.Unique("RegionPut");
        var (s2, b2) = await Admin.Put("v3/regions/" + put, """{"region": {"description": null}}""");
        Assert.Equal(HttpStatusCode.Created, s2);
        Assert.Equal(put, b2!["region"].Str("id"));
        Assert.Equal("", b2["region"].Str("description"));

        Http.AssertError(HttpStatusCode.BadRequest,
            await Admin.Put("v3/regions/" + Http.Unique("a"), """{"region": {"id": "other"}}"""), "Conflicting region IDs");
    }

    [Fact]
    public async Task Duplicate_region_id_is_a_conflict()
    {
        var id = Http.Unique("RegionDup");
        await server.PostAsync("v3/regions", new() { ["region"] = new System.Text.Json.Nodes.JsonObject { ["id"] = id } });
        Http.AssertError(HttpStatusCode.Conflict, await Admin.Post("v3/regions", $$$"""{"region": {"id": "{{{id}}}"}}"""),
            $"Conflict occurred attempting to store region - Duplicate ID, {id}.");
        Http.AssertError(HttpStatusCode.Conflict, await Admin.Put("v3/regions/" + id, """{"region": {}}"""));
    }

    [Fact]
    public async Task List_filters_by_parent_region_id()
    {
        var parent = Http.Unique("Parent");
        await Admin.Put("v3/regions/" + parent, """{"region": {}}""");
        var (_, child) = await Admin.Post("v3/regions", $$$"""{"region": {"parent_region_id": "{{{parent}}}"}}""");
        var childId = child!["region"].Str("id");

        var (status, list) = await Admin.Get("v3/regions?parent_region_id=" + parent);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal([childId], list.Ids("regions"));
        Assert.Equal($"{server.BaseUrl}/v3/regions?parent_region_id={parent}", list!["links"].Str("self"));
        Assert.Null(list["links"]!["next"]);

        var (_, all) = await Admin.Get("v3/regions?unknown=1");
        Assert.Contains(IdentityServer.Region, all.Ids("regions"));
        Assert.Contains(parent, all.Ids("regions"));
    }

    [Fact]
    public async Task Parent_region_must_exist()
    {
        Http.AssertError(HttpStatusCode.NotFound, await Admin.Post("v3/regions", """{"region": {"parent_region_id": "no-such-region"}}"""),
            "Could not find region: no-such-region.");
        var own = Http.Unique("Self");
        Http.AssertError(HttpStatusCode.NotFound, await Admin.Put("v3/regions/" + own, $$$"""{"region": {"parent_region_id": "{{{own}}}"}}"""));
    }

    [Fact]
    public async Task Update_changes_description_and_parent_but_never_makes_a_cycle()
    {
        var a = Http.Unique("A");
        var b = Http.Unique("B");
        await Admin.Put("v3/regions/" + a, """{"region": {}}""");
        await Admin.Put("v3/regions/" + b, $$$"""{"region": {"parent_region_id": "{{{a}}}"}}""");

        var (status, updated) = await Admin.Patch("v3/regions/" + a, """{"region": {"description": "top", "extra_key": 1}}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("top", updated!["region"].Str("description"));
        Assert.Equal(1, updated["region"]!["extra_key"]!.GetValue<int>());

        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Patch("v3/regions/" + a, $$$"""{"region": {"parent_region_id": "{{{b}}}"}}"""),
            "circular region hierarchy");
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Patch("v3/regions/" + a, $$$"""{"region": {"parent_region_id": "{{{a}}}"}}"""));
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Patch("v3/regions/" + a, """{"region": {"id": "other"}}"""), "Cannot change ID");
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Patch("v3/regions/" + a, """{"region": {}}"""));
        Http.AssertError(HttpStatusCode.NotFound, await Admin.Patch("v3/regions/nope", """{"region": {"description": "x"}}"""));

        var (_, moved) = await Admin.Patch("v3/regions/" + b, """{"region": {"parent_region_id": null}}""");
        Assert.Null(moved!["region"]!["parent_region_id"]);
    }

    [Fact]
    public async Task Deleting_a_region_takes_its_children_unless_they_have_endpoints()
    {
        var top = Http.Unique("Top");
        var child = Http.Unique("Child");
        await Admin.Put("v3/regions/" + top, """{"region": {}}""");
        await Admin.Put("v3/regions/" + child, $$$"""{"region": {"parent_region_id": "{{{top}}}"}}""");
        var (_, svc) = await Admin.Post("v3/services", """{"service": {"type": "regiontest"}}""");
        var (_, ep) = await Admin.Post("v3/endpoints",
            $$$"""{"endpoint": {"service_id": "{{{svc!["service"].Str("id")}}}", "interface": "public", "url": "http://x:1", "region_id": "{{{child}}}"}}""");

        Http.AssertError(HttpStatusCode.Forbidden, await Admin.Delete("v3/regions/" + top),
            $"Unable to delete region {top} because it or its child regions have associated endpoints.");

        Assert.Equal(HttpStatusCode.NoContent, (await Admin.Delete("v3/endpoints/" + ep!["endpoint"].Str("id"))).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.Delete("v3/regions/" + top)).Status);
        Http.AssertError(HttpStatusCode.NotFound, await Admin.Get("v3/regions/" + child), $"Could not find region: {child}.");
        Http.AssertError(HttpStatusCode.NotFound, await Admin.Delete("v3/regions/" + top));
    }

    [Fact]
    public async Task Bad_region_bodies_are_rejected()
    {
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Post("v3/regions", """{"region": {"description": 5}}"""));
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Post("v3/regions", """{"region": {"id": 5}}"""));
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Post("v3/regions", """{"region": {"parent_region_id": []}}"""));
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Post("v3/regions", """{"region": "x"}"""));
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Post("v3/regions", """{"nothing": {}}"""));
        Http.AssertError(HttpStatusCode.BadRequest, await Admin.Post("v3/regions", """{"region": {"""));
    }

    [Fact]
    public async Task Regions_need_a_token_and_writes_need_admin()
    {
        Http.AssertError(HttpStatusCode.Unauthorized, await server.Anonymous.Get("v3/regions"));
        var (member, _, _) = await server.NewProjectUserAsync();
        var (status, list) = await member.Get("v3/regions");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains(IdentityServer.Region, list.Ids("regions"));
        Assert.Equal(HttpStatusCode.OK, (await member.Get("v3/regions/" + IdentityServer.Region)).Status);
        Http.AssertError(HttpStatusCode.Forbidden, await member.Post("v3/regions", """{"region": {}}"""));
        Http.AssertError(HttpStatusCode.Forbidden, await member.Put("v3/regions/" + Http.Unique("M"), """{"region": {}}"""));
        Http.AssertError(HttpStatusCode.Forbidden, await member.Patch("v3/regions/" + IdentityServer.Region, """{"region": {"description": "x"}}"""));
        Http.AssertError(HttpStatusCode.Forbidden, await member.Delete("v3/regions/" + IdentityServer.Region));
    }
}
