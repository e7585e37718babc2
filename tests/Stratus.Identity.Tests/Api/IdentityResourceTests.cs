using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Stratus.Identity.Tests.Api;

/// <summary>Users, projects, domains, groups and the tokens that depend on them.</summary>
public class IdentityResourceTests(IdentityServer server) : IClassFixture<IdentityServer>
{
    static string Suffix() => Guid.NewGuid().ToString("N")[..8];

    static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    async Task<HttpStatusCode> ValidateAsync(string token)
    {
        var req = new HttpRequestMessage(HttpMethod.Get, "v3/auth/tokens");
        req.Headers.Add("X-Auth-Token", server.AdminToken);
        req.Headers.Add("X-Subject-Token", token);
        return (await server.Anonymous.SendAsync(req)).StatusCode;
    }

    async Task<string> CreateUserAsync(string name, string password, string? defaultProject = null)
    {
        var user = new JsonObject { ["name"] = name, ["password"] = password, ["domain_id"] = "default", ["email"] = name + "@example.org" };
        if (defaultProject is not null) user["default_project_id"] = defaultProject;
        return (await server.PostAsync("v3/users", new JsonObject { ["user"] = user }))["user"]!["id"]!.GetValue<string>();
    }

    [Fact]
    public async Task User_is_rendered_without_password_and_with_extra_attributes()
    {
        var name = "u-" + Suffix();
        var id = await CreateUserAsync(name, "pw-1");
        var shown = (await server.Admin.GetFromJsonAsync<JsonObject>($"v3/users/{id}"))!["user"]!;
        Assert.Equal(name, shown["name"]!.GetValue<string>());
        Assert.Equal(name + "@example.org", shown["email"]!.GetValue<string>());
        Assert.True(shown["enabled"]!.GetValue<bool>());
        Assert.Null(shown["password"]);
        Assert.True(shown.AsObject().ContainsKey("password_expires_at"));
        Assert.EndsWith($"/v3/users/{id}", shown["links"]!["self"]!.GetValue<string>());

        var dup = await server.Admin.PostAsJsonAsync("v3/users", new JsonObject { ["user"] = new JsonObject { ["name"] = name } });
        Assert.Equal(HttpStatusCode.Conflict, dup.StatusCode);
        Assert.Contains(name, (await dup.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"user": {"name": 5}}""", 400)]
    [InlineData("""{"user": {"name": ""}}""", 400)]
    [InlineData("""{"user": {"name": "x", "enabled": "yes"}}""", 400)]
    [InlineData("""{"user": {"name": "x", "domain_id": "no-such-domain"}}""", 404)]
    [InlineData("""{"user": {"name": "x", "default_project_id": "no-such-project"}}""", 404)]
    [InlineData("""{"user": "x"}""", 400)]
    [InlineData("""{"nope": {}}""", 400)]
    [InlineData("""{"user": {"name": "x",""", 400)]
    public async Task Bad_user_bodies_get_keystone_errors(string body, int status)
    {
        var resp = await server.Admin.PostAsync("v3/users", Json(body));
        Assert.Equal(status, (int)resp.StatusCode);
        Assert.Equal(status, (await resp.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task Member_cannot_list_users_but_can_read_itself_and_its_project()
    {
        var (member, userId, projectId) = await server.NewProjectUserAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await member.GetAsync("v3/users")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await member.GetAsync($"v3/users/{userId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await member.GetAsync($"v3/projects/{projectId}")).StatusCode);
        var other = (await server.NewProjectUserAsync()).ProjectId;
        Assert.Equal(HttpStatusCode.Forbidden, (await member.GetAsync($"v3/projects/{other}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.PostAsJsonAsync("v3/projects", new JsonObject { ["project"] = new JsonObject { ["name"] = "x" } })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.DeleteAsync($"v3/projects/{projectId}")).StatusCode);
    }

    [Fact]
    public async Task Changing_ones_password_revokes_old_tokens_and_checks_the_original()
    {
        var name = "pw-" + Suffix();
        var id = await CreateUserAsync(name, "old-pass");
        var old = await server.IssueTokenAsync(name, "old-pass");
        using var self = server.NewClient(old);
        var wrong = await self.PostAsync($"v3/users/{id}/password", Json("""{"user": {"original_password": "nope", "password": "new-pass"}}"""));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        var ok = await self.PostAsync($"v3/users/{id}/password", Json("""{"user": {"original_password": "old-pass", "password": "new-pass"}}"""));
        Assert.Equal(HttpStatusCode.NoContent, ok.StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, await ValidateAsync(old));
        await Assert.ThrowsAsync<InvalidOperationException>(() => server.IssueTokenAsync(name, "old-pass"));
        var fresh = await server.IssueTokenAsync(name, "new-pass"); // right after the revocation, still issued
        Assert.Equal(HttpStatusCode.OK, await ValidateAsync(fresh));
    }

    [Fact]
    public async Task Disabling_a_user_or_its_project_invalidates_its_tokens()
    {
        var (_, userId, projectId) = await server.NewProjectUserAsync();
        var user = (await server.Admin.GetFromJsonAsync<JsonObject>($"v3/users/{userId}"))!["user"]!["name"]!.GetValue<string>();
        var project = (await server.Admin.GetFromJsonAsync<JsonObject>($"v3/projects/{projectId}"))!["project"]!["name"]!.GetValue<string>();
        var password = "pw-" + user[2..];
        var token = await server.IssueTokenAsync(user, password, project: project);
        Assert.Equal(HttpStatusCode.OK, await ValidateAsync(token));

        await server.Admin.PatchAsJsonAsync($"v3/projects/{projectId}", new JsonObject { ["project"] = new JsonObject { ["enabled"] = false } });
        Assert.Equal(HttpStatusCode.NotFound, await ValidateAsync(token));
        await server.Admin.PatchAsJsonAsync($"v3/projects/{projectId}", new JsonObject { ["project"] = new JsonObject { ["enabled"] = true } });

        var unscoped = await server.IssueTokenAsync(user, password);
        await server.Admin.PatchAsJsonAsync($"v3/users/{userId}", new JsonObject { ["user"] = new JsonObject { ["enabled"] = false } });
        Assert.Equal(HttpStatusCode.NotFound, await ValidateAsync(unscoped));
        await Assert.ThrowsAsync<InvalidOperationException>(() => server.IssueTokenAsync(user, password));
    }

    [Fact]
    public async Task Projects_keep_hierarchy_tags_and_name_rules()
    {
        var s = Suffix();
        var parent = (await server.PostAsync("v3/projects", new JsonObject { ["project"] = new JsonObject { ["name"] = "parent-" + s, ["tags"] = new JsonArray("blue", "red") } }))["project"]!;
        Assert.Equal("default", parent["parent_id"]!.GetValue<string>()); // top level: the domain is the parent
        Assert.False(parent["is_domain"]!.GetValue<bool>());
        var parentId = parent["id"]!.GetValue<string>();
        var child = (await server.PostAsync("v3/projects", new JsonObject { ["project"] = new JsonObject { ["name"] = "child-" + s, ["parent_id"] = parentId } }))["project"]!;
        Assert.Equal(parentId, child["parent_id"]!.GetValue<string>());

        var dup = await server.Admin.PostAsJsonAsync("v3/projects", new JsonObject { ["project"] = new JsonObject { ["name"] = "child-" + s } });
        Assert.Equal(HttpStatusCode.Conflict, dup.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await server.Admin.DeleteAsync($"v3/projects/{parentId}")).StatusCode);

        var tagged = (await server.Admin.GetFromJsonAsync<JsonObject>("v3/projects?tags=blue,red"))!["projects"]!.AsArray();
        Assert.Equal([parentId], tagged.Select(p => p!["id"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.GetAsync($"v3/projects/{parentId}/tags/blue")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Admin.GetAsync($"v3/projects/{parentId}/tags/green")).StatusCode);
        var moved = await server.Admin.PatchAsJsonAsync($"v3/projects/{child["id"]}", new JsonObject { ["project"] = new JsonObject { ["parent_id"] = "default" } });
        Assert.Equal(HttpStatusCode.Forbidden, moved.StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.DeleteAsync($"v3/projects/{child["id"]}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.DeleteAsync($"v3/projects/{parentId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Admin.GetAsync($"v3/projects/{parentId}")).StatusCode);
    }

    [Fact]
    public async Task An_enabled_domain_cannot_be_deleted_and_a_disabled_one_takes_its_contents()
    {
        var s = Suffix();
        var domain = (await server.PostAsync("v3/domains", new JsonObject { ["domain"] = new JsonObject { ["name"] = "dom-" + s } }))["domain"]!;
        var domainId = domain["id"]!.GetValue<string>();
        var project = (await server.PostAsync("v3/projects", new JsonObject { ["project"] = new JsonObject { ["name"] = "p", ["domain_id"] = domainId } }))["project"]!;
        Assert.Equal(HttpStatusCode.Forbidden, (await server.Admin.DeleteAsync($"v3/domains/{domainId}")).StatusCode);
        await server.Admin.PatchAsJsonAsync($"v3/domains/{domainId}", new JsonObject { ["domain"] = new JsonObject { ["enabled"] = false } });
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.DeleteAsync($"v3/domains/{domainId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Admin.GetAsync($"v3/projects/{project["id"]}")).StatusCode);
        var tooLong = await server.Admin.PostAsJsonAsync("v3/domains", new JsonObject { ["domain"] = new JsonObject { ["name"] = new string('d', 65) } });
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
    }

    [Fact]
    public async Task Groups_list_members_and_memberships()
    {
        var s = Suffix();
        var group = (await server.PostAsync("v3/groups", new JsonObject { ["group"] = new JsonObject { ["name"] = "g-" + s, ["description"] = "d" } }))["group"]!;
        var groupId = group["id"]!.GetValue<string>();
        var userId = await CreateUserAsync("gu-" + s, "pw");
        Assert.Equal(HttpStatusCode.NotFound, (await server.Admin.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"v3/groups/{groupId}/users/{userId}"))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.PutAsync($"v3/groups/{groupId}/users/{userId}", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"v3/groups/{groupId}/users/{userId}"))).StatusCode);
        var members = (await server.Admin.GetFromJsonAsync<JsonObject>($"v3/groups/{groupId}/users"))!["users"]!.AsArray();
        Assert.Equal([userId], members.Select(u => u!["id"]!.GetValue<string>()));
        var groups = (await server.Admin.GetFromJsonAsync<JsonObject>($"v3/users/{userId}/groups"))!["groups"]!.AsArray();
        Assert.Equal([groupId], groups.Select(g => g!["id"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.NotFound, (await server.Admin.PutAsync($"v3/groups/{groupId}/users/nobody", null)).StatusCode);
    }

    [Fact]
    public async Task Domain_configuration_is_limited_to_keystones_options()
    {
        var domainId = (await server.PostAsync("v3/domains", new JsonObject { ["domain"] = new JsonObject { ["name"] = "cfg-" + Suffix() } }))["domain"]!["id"]!.GetValue<string>();
        var config = JsonNode.Parse("""{"config": {"identity": {"driver": "ldap"}, "ldap": {"url": "ldap://x/"}}}""")!.AsObject();
        var created = await server.Admin.PutAsJsonAsync($"v3/domains/{domainId}/config", config);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var driver = (await server.Admin.GetFromJsonAsync<JsonObject>($"v3/domains/{domainId}/config/identity/driver"))!["config"]!;
        Assert.Equal("ldap", driver["driver"]!.GetValue<string>());
        var bad = await server.Admin.PutAsJsonAsync($"v3/domains/{domainId}/config", JsonNode.Parse("""{"config": {"token": {"expiration": 5}}}"""));
        Assert.Equal(HttpStatusCode.Forbidden, bad.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.DeleteAsync($"v3/domains/{domainId}/config")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Admin.GetAsync($"v3/domains/{domainId}/config")).StatusCode);
    }
}
