using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Stratus.Identity.Tests.Catalog;
using Stratus.Identity.Tokens;

namespace Stratus.Identity.Tests.Api;

/// <summary>
/// OS-OAUTH1 end to end with OpenStack's own clients (keystoneclient's OAuth1 managers, keystoneauth's
/// OAuth1 plugin, oauthlib's signatures), and what Keystone refuses along the way.
/// </summary>
public class OAuthTests(IdentityServer server) : IClassFixture<IdentityServer>
{
    static readonly string Script = Path.Combine(ProcessRunner.RepoRoot, "tests", "Stratus.Identity.Tests", "Api", "oauth1_client.py");

    string Url(string path) => server.BaseUrl + "/v3/OS-OAUTH1/" + path;

    async Task<string> RoleIdAsync(string name) =>
        (await server.Admin.GetFromJsonAsync<JsonObject>($"v3/roles?name={name}"))!["roles"]![0]!["id"]!.GetValue<string>();

    async Task<string> AdminProjectAsync() =>
        (await server.Admin.GetFromJsonAsync<JsonObject>("v3/projects?name=admin"))!["projects"]![0]!["id"]!.GetValue<string>();

    static async Task<string> SignAsync(params string[] args) =>
        (await ProcessRunner.RunAsync("/usr/bin/python3", [Script, "sign", .. args])).EnsureSuccess("oauth1_client.py sign").Stdout.Trim();

    /// <summary>A POST signed in its Authorization header, as the OAuth endpoints take it.</summary>
    async Task<HttpResponseMessage> PostSignedAsync(string path, string authorization, string? project = null, JsonObject? body = null)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, path);
        req.Headers.TryAddWithoutValidation("Authorization", authorization);
        if (project is not null) req.Headers.Add("Requested-Project-Id", project);
        if (body is not null) req.Content = JsonContent.Create(body);
        return await server.Anonymous.SendAsync(req);
    }

    static async Task<Dictionary<string, string>> FormAsync(HttpResponseMessage r)
    {
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        Assert.Equal("application/x-www-form-urlencoded", r.Content.Headers.ContentType!.MediaType);
        return (await r.Content.ReadAsStringAsync()).Split('&').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => Uri.UnescapeDataString(p[1]));
    }

    static async Task<(HttpStatusCode, JsonObject?)> Result(HttpResponseMessage r) => (r.StatusCode, await r.Content.ReadFromJsonAsync<JsonObject>());

    async Task<(string Id, string Secret)> ConsumerAsync()
    {
        var c = (await server.PostAsync("v3/OS-OAUTH1/consumers", new JsonObject { ["consumer"] = new JsonObject { ["description"] = "test" } }))["consumer"]!;
        return (c["id"]!.GetValue<string>(), c["secret"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_oauth1_flow_with_openstacks_clients_gives_a_token_with_the_delegated_roles()
    {
        var project = await AdminProjectAsync();
        var member = await RoleIdAsync("member");
        var run = (await ProcessRunner.RunAsync("/usr/bin/python3", [Script, "flow", server.BaseUrl + "/v3", IdentityServer.AdminPassword, project, member]))
            .EnsureSuccess("oauth1_client.py flow").Json;
        var adminId = (await server.Admin.GetFromJsonAsync<JsonObject>("v3/users?name=admin"))!["users"]![0]!["id"]!.GetValue<string>();
        Assert.Equal(adminId, run["user_id"]!.GetValue<string>());
        Assert.Equal(project, run["project_id"]!.GetValue<string>());
        // member and what it implies; not the admin role the authorizing user also holds.
        Assert.Equal(["member", "reader"], run["roles"]!.AsArray().Select(r => r!.GetValue<string>()));

        var token = run["token"]!.GetValue<string>();
        var accessToken = run["access_token"]!.GetValue<string>();
        using (var req = new HttpRequestMessage(HttpMethod.Get, "v3/auth/tokens?nocatalog"))
        {
            req.Headers.Add("X-Subject-Token", token);
            var body = (await (await server.Admin.SendAsync(req)).Content.ReadFromJsonAsync<JsonObject>())!["token"]!;
            Assert.Equal(["oauth1"], body["methods"]!.AsArray().Select(m => m!.GetValue<string>()));
            Assert.Equal(accessToken, body["OS-OAUTH1"]!["access_token_id"]!.GetValue<string>());
            Assert.Equal(run["consumer_id"]!.GetValue<string>(), body["OS-OAUTH1"]!["consumer_id"]!.GetValue<string>());
        }
        // Keystone's OAuth-scoped Fernet payload (version 7).
        var payload = new TokenFormatter(new FernetKeyRepository(server.Options.KeyRepository, 3)).Unpack(token)!;
        Assert.Equal(accessToken, payload.AccessTokenId);
        Assert.Equal(project, payload.ProjectId);

        using var client = server.NewClient(token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("v3/auth/catalog")).StatusCode);
        // A delegation makes no other token, trust or access token.
        var rescope = await server.Anonymous.PostAsJsonAsync("v3/auth/tokens", JsonNode.Parse(
            "{\"auth\": {\"identity\": {\"methods\": [\"token\"], \"token\": {\"id\": \"" + token + "\"}}}}"));
        Http.AssertError(HttpStatusCode.Forbidden, await Result(rescope), "Using OAuth-scoped token to create another token");

        // The admin sees the user's access token (never its secret) and its roles, and deletes it: its tokens go.
        var listed = (await server.Admin.GetFromJsonAsync<JsonObject>($"v3/users/{adminId}/OS-OAUTH1/access_tokens"))!["access_tokens"]!.AsArray();
        var shown = listed.Single(t => t!["id"]!.GetValue<string>() == accessToken)!;
        Assert.Equal(project, shown["project_id"]!.GetValue<string>());
        Assert.Null(shown["access_secret"]);
        Assert.Null(shown["secret"]);
        var roles = (await server.Admin.GetFromJsonAsync<JsonObject>($"v3/users/{adminId}/OS-OAUTH1/access_tokens/{accessToken}/roles"))!["roles"]!.AsArray();
        Assert.Equal([member], roles.Select(r => r!["id"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.DeleteAsync($"v3/users/{adminId}/OS-OAUTH1/access_tokens/{accessToken}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("v3/auth/catalog")).StatusCode);
        var again = await PostSignedAsync("v3/auth/tokens", await SignAsync(server.BaseUrl + "/v3/auth/tokens", run["consumer_id"]!.GetValue<string>(),
            run["consumer_secret"]!.GetValue<string>(), accessToken, run["access_secret"]!.GetValue<string>()), body: new JsonObject
            {
                ["auth"] = new JsonObject { ["identity"] = new JsonObject { ["methods"] = new JsonArray("oauth1"), ["oauth1"] = new JsonObject() } },
            });
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task Each_step_refuses_what_keystone_refuses()
    {
        var project = await AdminProjectAsync();
        var (consumer, secret) = await ConsumerAsync();
        var requestUrl = Url("request_token");

        // Request tokens: a signature with the consumer's secret, a callback, a project that exists.
        Http.AssertError(HttpStatusCode.Unauthorized, await Result(await PostSignedAsync(requestUrl, await SignAsync(requestUrl, consumer, "wrong-secret"), project)));
        var signed = await SignAsync(requestUrl, consumer, secret);
        Http.AssertError(HttpStatusCode.BadRequest, await Result(await PostSignedAsync(requestUrl, signed)), "Requested-Project-Id");
        Http.AssertError(HttpStatusCode.NotFound, await Result(await PostSignedAsync(requestUrl, signed, "no-such-project")));
        Http.AssertError(HttpStatusCode.BadRequest, await Result(await PostSignedAsync(requestUrl, signed.Replace("oauth_callback=\"oob\", ", ""), project)),
            "Validation failed with errors: invalid_request, detail message is: Missing callback URI..");
        var stale = System.Text.RegularExpressions.Regex.Replace(signed, "oauth_timestamp=\"\\d+\"", $"oauth_timestamp=\"{DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 3600}\"");
        Http.AssertError(HttpStatusCode.BadRequest, await Result(await PostSignedAsync(requestUrl, stale, project)), "Timestamp given is invalid");
        using (var unsigned = new HttpRequestMessage(HttpMethod.Post, requestUrl))
            Http.AssertError(HttpStatusCode.BadRequest, await Result(await server.Anonymous.SendAsync(unsigned)), "No Authorization headers found");
        var request = await FormAsync(await PostSignedAsync(requestUrl, signed, project));
        Assert.Equal(32, request["oauth_token"].Length);
        Assert.True(DateTime.Parse(request["oauth_expires_at"]).ToUniversalTime() > DateTime.UtcNow.AddHours(7)); // [oauth1] request_token_duration

        // Authorizing: an admin (Keystone's default rule), with roles it holds on the project.
        var member = await RoleIdAsync("member");
        var body = new JsonObject { ["roles"] = new JsonArray(new JsonObject { ["id"] = member }) };
        var (user, _, _) = await server.NewProjectUserAsync();
        Http.AssertError(HttpStatusCode.Forbidden, await Result(await user.PutAsJsonAsync($"v3/OS-OAUTH1/authorize/{request["oauth_token"]}", body)));
        var notHeld = (await server.PostAsync("v3/roles", new JsonObject { ["role"] = new JsonObject { ["name"] = "nh-" + consumer[..8] } }))["role"]!["id"]!.GetValue<string>();
        Http.AssertError(HttpStatusCode.Unauthorized, await Result(await server.Admin.PutAsJsonAsync($"v3/OS-OAUTH1/authorize/{request["oauth_token"]}",
            new JsonObject { ["roles"] = new JsonArray(new JsonObject { ["id"] = notHeld }) })));
        Http.AssertError(HttpStatusCode.NotFound, await Result(await server.Admin.PutAsJsonAsync("v3/OS-OAUTH1/authorize/" + new string('a', 32), body)));
        Http.AssertError(HttpStatusCode.BadRequest, await Result(await server.Admin.PutAsJsonAsync($"v3/OS-OAUTH1/authorize/{request["oauth_token"]}",
            JsonNode.Parse("""{"roles": [{"id": "x", "name": "y"}]}"""))));
        var authorized = await server.Admin.PutAsJsonAsync($"v3/OS-OAUTH1/authorize/{request["oauth_token"]}", body);
        Assert.Equal(HttpStatusCode.OK, authorized.StatusCode);
        var verifier = (await authorized.Content.ReadFromJsonAsync<JsonObject>())!["token"]!["oauth_verifier"]!.GetValue<string>();
        Assert.Matches("^[a-zA-Z2-9]{8}$", verifier);

        // Access tokens: the right verifier, signed with both secrets, once.
        var accessUrl = Url("access_token");
        var wrongVerifier = verifier == "abcdefgh" ? "abcdefgk" : "abcdefgh";
        Http.AssertError(HttpStatusCode.Unauthorized, await Result(await PostSignedAsync(accessUrl,
            await SignAsync(accessUrl, consumer, secret, request["oauth_token"], request["oauth_token_secret"], wrongVerifier))));
        Http.AssertError(HttpStatusCode.Unauthorized, await Result(await PostSignedAsync(accessUrl,
            await SignAsync(accessUrl, consumer, secret, request["oauth_token"], "wrong-token-secret", verifier))));
        var (other, otherSecret) = await ConsumerAsync();
        Http.AssertError(HttpStatusCode.Unauthorized, await Result(await PostSignedAsync(accessUrl,
            await SignAsync(accessUrl, other, otherSecret, request["oauth_token"], request["oauth_token_secret"], verifier))));
        var exchange = await SignAsync(accessUrl, consumer, secret, request["oauth_token"], request["oauth_token_secret"], verifier);
        var access = await FormAsync(await PostSignedAsync(accessUrl, exchange));
        Http.AssertError(HttpStatusCode.NotFound, await Result(await PostSignedAsync(accessUrl, exchange)), "Request token not found");

        // Tokens: signed with the consumer's and the access token's secrets.
        var tokenUrl = server.BaseUrl + "/v3/auth/tokens";
        var auth = new JsonObject { ["auth"] = new JsonObject { ["identity"] = new JsonObject { ["methods"] = new JsonArray("oauth1"), ["oauth1"] = new JsonObject() } } };
        Http.AssertError(HttpStatusCode.Unauthorized, await Result(await PostSignedAsync("v3/auth/tokens",
            await SignAsync(tokenUrl, consumer, secret, access["oauth_token"], "wrong-access-secret"), body: auth)));
        var good = await PostSignedAsync("v3/auth/tokens", await SignAsync(tokenUrl, consumer, secret, access["oauth_token"], access["oauth_token_secret"]), body: auth);
        Assert.Equal(HttpStatusCode.Created, good.StatusCode);
        var token = good.Headers.GetValues("X-Subject-Token").Single();

        // A consumer deleted takes its access tokens, and their tokens, along.
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.DeleteAsync($"v3/OS-OAUTH1/consumers/{consumer}")).StatusCode);
        using var req = new HttpRequestMessage(HttpMethod.Get, "v3/auth/tokens");
        req.Headers.Add("X-Subject-Token", token);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Admin.SendAsync(req)).StatusCode);
    }
}
