using System.Net;
using Stratus.Identity.Tests.Catalog;

namespace Stratus.Identity.Tests.Resource;

public class UsersApiTests(IdentityServer server) : IClassFixture<IdentityServer>
{
    async Task<(string Id, string Name)> CreateAsync(string extra = "", string password = "pw-1")
    {
        var name = Http.Unique("user");
        var r = await server.Admin.Post("v3/users", $$$"""{"user": {"name": "{{{name}}}", "password": "{{{password}}}"{{{extra}}}}}""");
        Assert.Equal(HttpStatusCode.Created, r.Status);
        return (r.Body!["user"].Str("id"), name);
    }

    [Fact]
    public async Task User_is_rendered_as_keystone_without_its_password()
    {
        var project = (await server.Admin.Post("v3/projects", $$$"""{"project": {"name": "{{{Http.Unique("dp")}}}"}}""")).Body!["project"].Str("id");
        var (id, name) = await CreateAsync($$$""", "default_project_id": "{{{project}}}", "email": "a@example.org", "options": {"ignore_password_expiry": true}""");
        var u = (await server.Admin.Get($"v3/users/{id}")).Body!["user"]!.AsObject();
        Assert.Equal(
            ["default_project_id", "domain_id", "email", "enabled", "id", "links", "name", "options", "password_expires_at"],
            u.Select(kv => kv.Key).Order());
        Assert.Equal(name, u.Str("name"));
        Assert.Equal(project, u.Str("default_project_id"));
        Assert.Null(u["password_expires_at"]);
        Assert.True(u["options"]!["ignore_password_expiry"]!.GetValue<bool>());

        var (plain, _) = await CreateAsync();
        Assert.False((await server.Admin.Get($"v3/users/{plain}")).Body!["user"]!.AsObject().ContainsKey("default_project_id"));
    }

    [Theory]
    [InlineData("""{"user": {"name": "x", "password": 5}}""", "is not of type 'string'")]
    [InlineData("""{"user": {"name": "x", "enabled": null}}""", "is not of type 'boolean'")]
    [InlineData("""{"user": {"name": "x", "options": {"bogus": true}}}""", "'bogus' was unexpected")]
    [InlineData("""{"user": {}}""", "'name' is a required property")]
    public async Task Bad_user_bodies_are_400(string json, string message) =>
        Http.AssertError(HttpStatusCode.BadRequest, await server.Admin.Post("v3/users", json), message);

    [Fact]
    public async Task Duplicate_name_in_a_domain_is_a_conflict()
    {
        var (_, name) = await CreateAsync();
        Http.AssertError(HttpStatusCode.Conflict, await server.Admin.Post("v3/users", $$$"""{"user": {"name": "{{{name}}}"}}"""),
            $"Duplicate entry found with name {name} at domain ID default.");
    }

    [Fact]
    public async Task Lists_filter_by_name_enabled_and_password_expiry()
    {
        var (id, name) = await CreateAsync(""", "enabled": false""");
        Assert.Equal([id], (await server.Admin.Get($"v3/users?name={name}")).Body.Ids("users"));
        Assert.Contains(id, (await server.Admin.Get("v3/users?enabled=false")).Body.Ids("users"));
        Assert.DoesNotContain(id, (await server.Admin.Get("v3/users?enabled=true")).Body.Ids("users"));
        // No password expires here, so any expiry comparison matches nobody.
        Assert.Empty((await server.Admin.Get("v3/users?password_expires_at=lt:2100-01-01T00:00:00Z")).Body.Ids("users"));
        Http.AssertError(HttpStatusCode.BadRequest, await server.Admin.Get("v3/users?password_expires_at=lt:tomorrow"), "Timestamp not in expected format");
    }

    [Fact]
    public async Task Admin_password_reset_and_disabling_revoke_tokens()
    {
        var (id, name) = await CreateAsync();
        var token = await server.IssueTokenAsync(name, "pw-1");
        var reset = await server.Admin.Patch($"v3/users/{id}", """{"user": {"password": "pw-2"}}""");
        Assert.Equal(HttpStatusCode.OK, reset.Status);
        Assert.Null(reset.Body!["user"]!["password"]);
        Assert.Equal(HttpStatusCode.NotFound, await server.Admin.SendValidate(token));
        var fresh = await server.IssueTokenAsync(name, "pw-2");

        await server.Admin.Patch($"v3/users/{id}", """{"user": {"enabled": false}}""");
        Assert.Equal(HttpStatusCode.NotFound, await server.Admin.SendValidate(fresh));
        Http.AssertError(HttpStatusCode.BadRequest, await server.Admin.Patch($"v3/users/{id}", """{"user": {"domain_id": "other"}}"""), "Cannot change Domain ID");
        Http.AssertError(HttpStatusCode.BadRequest, await server.Admin.Patch($"v3/users/{id}", """{"user": {"id": "other"}}"""), "Cannot change ID");
    }

    [Fact]
    public async Task A_user_changes_its_own_password_with_the_original()
    {
        var (id, name) = await CreateAsync(password: "old-pw");
        var token = await server.IssueTokenAsync(name, "old-pw");
        using var self = server.NewClient(token);
        Http.AssertError(HttpStatusCode.Unauthorized, await self.Post($"v3/users/{id}/password", """{"user": {"original_password": "wrong", "password": "new-pw"}}"""));
        Http.AssertError(HttpStatusCode.BadRequest, await self.Post($"v3/users/{id}/password", """{"user": {"password": "new-pw"}}"""), "original_password");
        Assert.Equal(HttpStatusCode.NoContent, (await self.Post($"v3/users/{id}/password", """{"user": {"original_password": "old-pw", "password": "new-pw"}}""")).Status);
        Assert.Equal(HttpStatusCode.NotFound, await server.Admin.SendValidate(token));
        await server.IssueTokenAsync(name, "new-pw");
    }

    [Fact]
    public async Task Deleting_a_user_removes_memberships_and_grants_and_revokes_tokens()
    {
        var (member, userId, projectId) = await server.NewProjectUserAsync();
        var group = (await server.Admin.Post("v3/groups", $$$"""{"group": {"name": "{{{Http.Unique("g")}}}"}}""")).Body!["group"].Str("id");
        await server.Admin.Put($"v3/groups/{group}/users/{userId}");
        Assert.Equal([projectId], (await server.Admin.Get($"v3/users/{userId}/projects")).Body.Ids("projects"));
        var token = member.DefaultRequestHeaders.GetValues("X-Auth-Token").Single();

        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.Delete($"v3/users/{userId}")).Status);
        Assert.Empty((await server.Admin.Get($"v3/groups/{group}/users")).Body.Ids("users"));
        Assert.Empty((await server.Admin.Get($"v3/role_assignments?user.id={userId}")).Body.Ids("role_assignments"));
        Assert.Equal(HttpStatusCode.NotFound, await server.Admin.SendValidate(token));
        Http.AssertError(HttpStatusCode.NotFound, await server.Admin.Get($"v3/users/{userId}"), $"Could not find user: {userId}.");
    }

    [Fact]
    public async Task A_member_reads_itself_but_no_other_user()
    {
        var (member, userId, projectId) = await server.NewProjectUserAsync();
        var (otherId, _) = await CreateAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await member.Get("v3/users")).Status);
        Assert.Equal(userId, (await member.Get($"v3/users/{userId}")).Body!["user"].Str("id"));
        Assert.Equal(HttpStatusCode.Forbidden, (await member.Get($"v3/users/{otherId}")).Status);
        Assert.Equal([projectId], (await member.Get($"v3/users/{userId}/projects")).Body.Ids("projects"));
        Assert.Equal(HttpStatusCode.Forbidden, (await member.Get($"v3/users/{otherId}/projects")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.Post("v3/users", """{"user": {"name": "sneaky"}}""")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.Patch($"v3/users/{userId}", """{"user": {"enabled": true}}""")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.Delete($"v3/users/{otherId}")).Status);
    }
}
