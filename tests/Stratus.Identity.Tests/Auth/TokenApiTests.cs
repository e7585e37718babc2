using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Stratus.Identity.Tests.Auth;

public class TokenApiTests(IdentityServer server) : IClassFixture<IdentityServer>
{
    static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    async Task<HttpResponseMessage> Validate(string subject, string? caller = null, string query = "")
    {
        var req = new HttpRequestMessage(HttpMethod.Get, "v3/auth/tokens" + query);
        req.Headers.Add("X-Auth-Token", caller ?? server.AdminToken);
        req.Headers.Add("X-Subject-Token", subject);
        return await server.Anonymous.SendAsync(req);
    }

    [Fact]
    public async Task Issued_project_token_carries_user_project_roles_and_catalog()
    {
        var resp = await server.Anonymous.PostAsync("v3/auth/tokens", Json("""
            {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"id": "default"}, "password": "s3cret-admin"}}},
                      "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
            """));
        Assert.Equal(HttpStatusCode.Created, resp.StatusCode);
        Assert.True(resp.Headers.Contains("X-Subject-Token"));
        Assert.Equal("X-Auth-Token", resp.Headers.Vary.Single());
        var token = (await resp.Content.ReadFromJsonAsync<JsonObject>())!["token"]!;
        Assert.Equal("admin", token["user"]!["name"]!.GetValue<string>());
        Assert.Equal("default", token["user"]!["domain"]!["id"]!.GetValue<string>());
        Assert.Equal("admin", token["project"]!["name"]!.GetValue<string>());
        Assert.Equal(["password"], token["methods"]!.AsArray().Select(m => m!.GetValue<string>()));
        var roles = token["roles"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()).Order().ToList();
        Assert.Equal(["admin", "member", "reader"], roles); // admin implies member implies reader
        var identity = token["catalog"]!.AsArray().Single(s => s!["type"]!.GetValue<string>() == "identity");
        Assert.Equal(3, identity!["endpoints"]!.AsArray().Count(e => e!["region_id"]!.GetValue<string>() == IdentityServer.Region));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", token["expires_at"]!.GetValue<string>());
        Assert.Equal(22, token["audit_ids"]![0]!.GetValue<string>().Length);
    }

    [Fact]
    public async Task Validation_returns_the_subject_token_and_nocatalog_omits_the_catalog()
    {
        var subject = await server.IssueTokenAsync("admin", IdentityServer.AdminPassword, project: "admin");
        var full = await Validate(subject);
        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        Assert.Equal(subject, full.Headers.GetValues("X-Subject-Token").Single());
        Assert.NotNull((await full.Content.ReadFromJsonAsync<JsonObject>())!["token"]!["catalog"]);
        var bare = await Validate(subject, query: "?nocatalog");
        Assert.Null((await bare.Content.ReadFromJsonAsync<JsonObject>())!["token"]!["catalog"]);

        var head = new HttpRequestMessage(HttpMethod.Head, "v3/auth/tokens");
        head.Headers.Add("X-Auth-Token", server.AdminToken);
        head.Headers.Add("X-Subject-Token", subject);
        Assert.Equal(HttpStatusCode.OK, (await server.Anonymous.SendAsync(head)).StatusCode);
    }

    [Fact]
    public async Task Revoked_token_is_not_found_and_no_longer_authenticates()
    {
        var subject = await server.IssueTokenAsync("admin", IdentityServer.AdminPassword, project: "admin");
        var del = new HttpRequestMessage(HttpMethod.Delete, "v3/auth/tokens");
        del.Headers.Add("X-Auth-Token", server.AdminToken);
        del.Headers.Add("X-Subject-Token", subject);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Anonymous.SendAsync(del)).StatusCode);

        var after = await Validate(subject);
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
        var error = (await after.Content.ReadFromJsonAsync<JsonObject>())!["error"]!;
        Assert.Equal(404, error["code"]!.GetValue<int>());
        Assert.Equal("Not Found", error["title"]!.GetValue<string>());

        using var revoked = server.NewClient(subject);
        Assert.Equal(HttpStatusCode.Unauthorized, (await revoked.GetAsync("v3/auth/catalog")).StatusCode);
        // The admin's own token is untouched.
        Assert.Equal(HttpStatusCode.OK, (await server.Admin.GetAsync("v3/auth/catalog")).StatusCode);
    }

    [Fact]
    public async Task Token_method_rescopes_and_keeps_the_audit_chain()
    {
        var unscoped = await server.IssueTokenAsync("admin", IdentityServer.AdminPassword);
        var resp = await server.Anonymous.PostAsJsonAsync("v3/auth/tokens", JsonNode.Parse("{\"auth\": {\"identity\": {\"methods\": [\"token\"], \"token\": {\"id\": \"" + unscoped + "\"}}, \"scope\": {\"system\": {\"all\": true}}}}"));
        Assert.Equal(HttpStatusCode.Created, resp.StatusCode);
        var token = (await resp.Content.ReadFromJsonAsync<JsonObject>())!["token"]!;
        Assert.True(token["system"]!["all"]!.GetValue<bool>());
        Assert.Contains("token", token["methods"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Equal(2, token["audit_ids"]!.AsArray().Count);
        var original = (await (await Validate(unscoped)).Content.ReadFromJsonAsync<JsonObject>())!["token"]!;
        Assert.Equal(original["audit_ids"]![0]!.GetValue<string>(), token["audit_ids"]![1]!.GetValue<string>());
        Assert.Null(original["roles"]); // unscoped tokens carry no roles
    }

    [Theory]
    [InlineData("{bad json", 400)]
    [InlineData("[]", 400)]
    [InlineData("""{"auth": {}}""", 400)]
    [InlineData("""{"auth": {"identity": {"methods": []}}}""", 400)]
    [InlineData("""{"auth": {"identity": {"methods": "password"}}}""", 400)]
    [InlineData("""{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"id": "default"}, "password": "wrong"}}}}}""", 401)]
    [InlineData("""{"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": "nobody", "password": "x"}}}}}""", 401)]
    [InlineData("""{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"id": "default"}, "password": 5}}}}}""", 400)]
    [InlineData("""{"auth": {"identity": {"methods": ["kerberos"]}}}""", 401)]
    [InlineData("""{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"id": "default"}, "password": "s3cret-admin"}}}, "scope": {"project": {"id": "does-not-exist"}}}}""", 401)]
    public async Task Bad_auth_requests_get_keystone_errors(string body, int status)
    {
        var resp = await server.Anonymous.PostAsync("v3/auth/tokens", Json(body));
        Assert.Equal(status, (int)resp.StatusCode);
        var error = (await resp.Content.ReadFromJsonAsync<JsonObject>())!["error"]!;
        Assert.Equal(status, error["code"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(error["message"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Tampered_and_garbage_tokens_are_rejected_with_401()
    {
        var good = server.AdminToken;
        var tampered = good[..^3] + (good[^3] == 'A' ? 'B' : 'A') + good[^2..];
        foreach (var token in new[] { tampered, "garbage", new string('x', 5000) })
        {
            using var c = server.NewClient(token);
            var resp = await c.GetAsync("v3/auth/catalog");
            Assert.Equal(HttpStatusCode.Unauthorized, resp.StatusCode);
            Assert.Equal(401, (await resp.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["code"]!.GetValue<int>());
        }
        Assert.Equal(HttpStatusCode.NotFound, (await Validate(tampered)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Anonymous.GetAsync("v3/auth/catalog")).StatusCode);
    }

    [Fact]
    public async Task Oversized_body_is_413_not_a_crash()
    {
        var huge = "{\"auth\": \"" + new string('a', 200_000) + "\"}";
        var resp = await server.Anonymous.PostAsync("v3/auth/tokens", Json(huge));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, resp.StatusCode);
    }

    [Fact]
    public async Task Version_discovery_is_anonymous_and_shaped_like_keystone()
    {
        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(server.BaseUrl) };
        var root = await noRedirect.GetAsync("/");
        Assert.Equal(server.BaseUrl + "/v3/", root.Headers.Location!.ToString());
        Assert.Equal(HttpStatusCode.MultipleChoices, root.StatusCode);
        var values = (await root.Content.ReadFromJsonAsync<JsonObject>())!["versions"]!["values"]!.AsArray();
        Assert.Equal("v3.14", values.Single()!["id"]!.GetValue<string>());
        var v3 = (await server.Anonymous.GetFromJsonAsync<JsonObject>("v3"))!["version"]!;
        Assert.Equal("stable", v3["status"]!.GetValue<string>());
        Assert.Equal(server.BaseUrl + "/v3/", v3["links"]![0]!["href"]!.GetValue<string>());
    }

    [Fact]
    public async Task Unknown_path_is_a_json_404()
    {
        var resp = await server.Admin.GetAsync("v3/no-such-thing");
        Assert.Equal(HttpStatusCode.NotFound, resp.StatusCode);
        Assert.Equal(404, (await resp.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["code"]!.GetValue<int>());
        Assert.True(resp.Headers.Contains("X-Openstack-Request-Id"));
    }

    [Fact]
    public async Task Auth_projects_and_system_list_what_the_token_can_reach()
    {
        var projects = (await server.Admin.GetFromJsonAsync<JsonObject>("v3/auth/projects"))!["projects"]!.AsArray();
        Assert.Contains(projects, p => p!["name"]!.GetValue<string>() == "admin");
        var system = (await server.Admin.GetFromJsonAsync<JsonObject>("v3/auth/system"))!["system"]!.AsArray();
        Assert.True(system.Single()!["all"]!.GetValue<bool>());
        var catalog = (await server.Admin.GetFromJsonAsync<JsonObject>("v3/auth/catalog"))!["catalog"]!.AsArray();
        Assert.Contains(catalog, s => s!["type"]!.GetValue<string>() == "identity");
    }

    [Fact]
    public async Task Unscoped_token_cannot_get_a_catalog()
    {
        using var c = server.NewClient(await server.IssueTokenAsync("admin", IdentityServer.AdminPassword));
        Assert.Equal(HttpStatusCode.Forbidden, (await c.GetAsync("v3/auth/catalog")).StatusCode);
    }
}
