using System.Net;
using Stratus.Identity.Tests.Catalog;

namespace Stratus.Identity.Tests.Resource;

public class GroupsApiTests(IdentityServer server) : IClassFixture<IdentityServer>
{
    async Task<string> GroupAsync(string name) =>
        (await server.Admin.Post("v3/groups", $$$"""{"group": {"name": "{{{name}}}"}}""")).Body!["group"].Str("id");

    async Task<string> UserAsync() =>
        (await server.Admin.Post("v3/users", $$$"""{"user": {"name": "{{{Http.Unique("gu")}}}"}}""")).Body!["user"].Str("id");

    [Fact]
    public async Task Group_crud_as_keystone()
    {
        var name = Http.Unique("grp");
        var r = await server.Admin.Post("v3/groups", $$$"""{"group": {"name": "{{{name}}}", "description": null, "team": "ops"}}""");
        Assert.Equal(HttpStatusCode.Created, r.Status);
        var g = r.Body!["group"]!;
        var id = g.Str("id");
        Assert.Equal("default", g.Str("domain_id"));
        Assert.Null(g["description"]);
        Assert.Equal("ops", g.Str("team"));
        Assert.Equal($"{server.BaseUrl}/v3/groups/{id}", g["links"].Str("self"));
        Assert.Equal([id], (await server.Admin.Get($"v3/groups?name={name}")).Body.Ids("groups"));

        Http.AssertError(HttpStatusCode.Conflict, await server.Admin.Post("v3/groups", $$$"""{"group": {"name": "{{{name}}}"}}"""), "Duplicate entry found with name");
        Assert.Equal("renamed", (await server.Admin.Patch($"v3/groups/{id}", """{"group": {"description": "renamed"}}""")).Body!["group"].Str("description"));
        Http.AssertError(HttpStatusCode.BadRequest, await server.Admin.Patch($"v3/groups/{id}", """{"group": {"domain_id": "x"}}"""), "Cannot change Domain ID");
        Http.AssertError(HttpStatusCode.BadRequest, await server.Admin.Patch($"v3/groups/{id}", """{"group": {}}"""));
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.Delete($"v3/groups/{id}")).Status);
        Http.AssertError(HttpStatusCode.NotFound, await server.Admin.Get($"v3/groups/{id}"), $"Could not find group: {id}.");
    }

    [Fact]
    public async Task Membership_is_added_checked_listed_and_removed()
    {
        var group = await GroupAsync(Http.Unique("m"));
        var user = await UserAsync();
        Http.AssertError(HttpStatusCode.NotFound, await server.Admin.Get($"v3/groups/{group}/users/{user}"));
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.Put($"v3/groups/{group}/users/{user}")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.Put($"v3/groups/{group}/users/{user}")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.Head($"v3/groups/{group}/users/{user}")).Status);
        Assert.Equal([user], (await server.Admin.Get($"v3/groups/{group}/users")).Body.Ids("users"));
        var mine = (await server.Admin.Get($"v3/users/{user}/groups")).Body!["groups"]!.AsArray().Single()!;
        Assert.Equal(group, mine.Str("id"));
        Assert.True(mine.AsObject().ContainsKey("membership_expires_at"));

        Http.AssertError(HttpStatusCode.NotFound, await server.Admin.Put($"v3/groups/{group}/users/nobody"), "Could not find user: nobody.");
        Http.AssertError(HttpStatusCode.NotFound, await server.Admin.Put($"v3/groups/nothing/users/{user}"), "Could not find group: nothing.");
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.Delete($"v3/groups/{group}/users/{user}")).Status);
        Http.AssertError(HttpStatusCode.NotFound, await server.Admin.Delete($"v3/groups/{group}/users/{user}"));
        Assert.Empty((await server.Admin.Get($"v3/users/{user}/groups")).Body.Ids("groups"));
    }

    [Fact]
    public async Task A_member_may_not_manage_groups_or_memberships()
    {
        var (member, userId, _) = await server.NewProjectUserAsync();
        var group = await GroupAsync(Http.Unique("locked"));
        Assert.Equal(HttpStatusCode.Forbidden, (await member.Get("v3/groups")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.Post("v3/groups", """{"group": {"name": "mine"}}""")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.Put($"v3/groups/{group}/users/{userId}")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.Delete($"v3/groups/{group}")).Status);
        Assert.Equal(HttpStatusCode.OK, (await member.Get($"v3/users/{userId}/groups")).Status);
    }
}
