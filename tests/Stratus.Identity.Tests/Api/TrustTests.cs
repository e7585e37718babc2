using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Stratus.Identity.Tests.Catalog;
using Stratus.Identity.Tokens;

namespace Stratus.Identity.Tests.Api;

/// <summary>OS-TRUST: trusts, the tokens they give, and what takes them away.</summary>
public class TrustTests(IdentityServer server) : IClassFixture<IdentityServer>
{
    /// <summary>A trustor holding two roles on a project (the first implying a third), and a trustee.</summary>
    sealed record Parties(string Suffix, string ProjectId, string ProjectName, string TrustorId, string TrustorName, string TrusteeId, string TrusteeName,
        string Delegated, string Kept, string Implied, HttpClient Trustor)
    {
        public string Password => "pw-" + Suffix;
    }

    async Task<string> IdAsync(string path, string kind, JsonObject body) =>
        (await server.PostAsync(path, new JsonObject { [kind] = body }))[kind]!["id"]!.GetValue<string>();

    async Task<string> UserAsync(string name, string password) =>
        await IdAsync("v3/users", "user", new JsonObject { ["name"] = name, ["password"] = password, ["domain_id"] = "default" });

    async Task GrantAsync(string projectId, string userId, string roleId) =>
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.PutAsync($"v3/projects/{projectId}/users/{userId}/roles/{roleId}", null)).StatusCode);

    async Task<Parties> PartiesAsync()
    {
        var s = Guid.NewGuid().ToString("N")[..8];
        var project = await IdAsync("v3/projects", "project", new JsonObject { ["name"] = "tp-" + s, ["domain_id"] = "default" });
        var trustor = await UserAsync("trustor-" + s, "pw-" + s);
        var trustee = await UserAsync("trustee-" + s, "pw-" + s);
        var delegated = await IdAsync("v3/roles", "role", new JsonObject { ["name"] = "delegated-" + s });
        var kept = await IdAsync("v3/roles", "role", new JsonObject { ["name"] = "kept-" + s });
        var implied = await IdAsync("v3/roles", "role", new JsonObject { ["name"] = "implied-" + s });
        Assert.Equal(HttpStatusCode.Created, (await server.Admin.PutAsync($"v3/roles/{delegated}/implies/{implied}", null)).StatusCode);
        await GrantAsync(project, trustor, delegated);
        await GrantAsync(project, trustor, kept);
        var token = await server.IssueTokenAsync("trustor-" + s, "pw-" + s, project: "tp-" + s);
        return new Parties(s, project, "tp-" + s, trustor, "trustor-" + s, trustee, "trustee-" + s, delegated, kept, implied, server.NewClient(token));
    }

    static JsonObject TrustBody(Parties p, bool impersonation = false, JsonArray? roles = null, Action<JsonObject>? more = null)
    {
        var trust = new JsonObject
        {
            ["trustor_user_id"] = p.TrustorId,
            ["trustee_user_id"] = p.TrusteeId,
            ["project_id"] = p.ProjectId,
            ["impersonation"] = impersonation,
            ["roles"] = roles ?? new JsonArray(new JsonObject { ["name"] = "delegated-" + p.Suffix }),
        };
        more?.Invoke(trust);
        return new JsonObject { ["trust"] = trust };
    }

    static async Task<JsonObject> CreateAsync(Parties p, bool impersonation = false, Action<JsonObject>? more = null) =>
        (await p.Trustor.PostJsonAsync("v3/OS-TRUST/trusts", TrustBody(p, impersonation, more: more), 201))["trust"]!.AsObject();

    /// <summary>An auth request: the identity's methods and their data as JSON, and the scope's JSON if any.</summary>
    static JsonNode Auth(string identity, string? scope = null) =>
        JsonNode.Parse("{\"auth\": {\"identity\": " + identity + (scope is null ? "" : ", \"scope\": " + scope) + "}}")!;

    static string TokenMethod(string token) => "{\"methods\": [\"token\"], \"token\": {\"id\": \"" + token + "\"}}";

    /// <summary>The trustee's password login scoped to the trust.</summary>
    Task<HttpResponseMessage> TrustTokenAsync(string user, string password, string trustId) =>
        server.Anonymous.PostAsJsonAsync("v3/auth/tokens", Auth(
            "{\"methods\": [\"password\"], \"password\": {\"user\": {\"name\": \"" + user + "\", \"domain\": {\"id\": \"default\"}, \"password\": \"" + password + "\"}}}",
            "{\"OS-TRUST:trust\": {\"id\": \"" + trustId + "\"}}"));

    async Task<(string Token, JsonNode Body)> IssueAsync(Parties p, string trustId)
    {
        var resp = await TrustTokenAsync(p.TrusteeName, p.Password, trustId);
        Assert.Equal(HttpStatusCode.Created, resp.StatusCode);
        return (resp.Headers.GetValues("X-Subject-Token").Single(), (await resp.Content.ReadFromJsonAsync<JsonObject>())!["token"]!);
    }

    async Task<HttpStatusCode> ValidateAsync(string token)
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, "v3/auth/tokens?nocatalog");
        req.Headers.Add("X-Subject-Token", token);
        using var resp = await server.Admin.SendAsync(req);
        return resp.StatusCode;
    }

    static List<string> Names(JsonNode roles) => roles.AsArray().Select(r => r!["name"]!.GetValue<string>()).Order().ToList();

    [Fact]
    public async Task A_trust_is_created_shown_listed_and_deleted_by_its_parties_only()
    {
        var p = await PartiesAsync();
        var expires = DateTime.UtcNow.AddHours(1);
        var created = await CreateAsync(p, more: t => t["expires_at"] = expires.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ"));
        var id = created["id"]!.GetValue<string>();
        Assert.Equal(32, id.Length);
        Assert.Equal(p.TrustorId, created["trustor_user_id"]!.GetValue<string>());
        Assert.Equal(p.TrusteeId, created["trustee_user_id"]!.GetValue<string>());
        Assert.Equal(p.ProjectId, created["project_id"]!.GetValue<string>());
        Assert.False(created["impersonation"]!.GetValue<bool>());
        Assert.Equal(expires.ToString("yyyy-MM-ddTHH:mm:ss") + ".000000Z", created["expires_at"]!.GetValue<string>());
        Assert.Null(created["remaining_uses"]);
        Assert.Equal(0, created["redelegation_count"]!.GetValue<int>());
        Assert.Equal(["delegated-" + p.Suffix], Names(created["roles"]!));
        Assert.EndsWith("/v3/OS-TRUST/trusts/" + id, created["links"]!["self"]!.GetValue<string>());

        var shown = (await p.Trustor.GetFromJsonAsync<JsonObject>($"v3/OS-TRUST/trusts/{id}"))!["trust"]!;
        Assert.Equal(["delegated-" + p.Suffix], Names(shown["roles"]!));
        var roles = (await p.Trustor.GetFromJsonAsync<JsonObject>($"v3/OS-TRUST/trusts/{id}/roles"))!["roles"]!;
        Assert.Equal([p.Delegated], roles.AsArray().Select(r => r!["id"]!.GetValue<string>()));
        Assert.Equal(p.Delegated, (await p.Trustor.GetFromJsonAsync<JsonObject>($"v3/OS-TRUST/trusts/{id}/roles/{p.Delegated}"))!["role"]!["id"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await p.Trustor.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"v3/OS-TRUST/trusts/{id}/roles/{p.Delegated}"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await p.Trustor.GetAsync($"v3/OS-TRUST/trusts/{id}/roles/{p.Kept}")).StatusCode);

        // Listed for its trustor and its trustee (each by themselves), and for the admin.
        var byTrustor = (await p.Trustor.GetFromJsonAsync<JsonObject>($"v3/OS-TRUST/trusts?trustor_user_id={p.TrustorId}"))!["trusts"]!.AsArray();
        Assert.Equal([id], byTrustor.Select(t => t!["id"]!.GetValue<string>()));
        Assert.Null(byTrustor[0]!["roles"]);
        using var trustee = server.NewClient(await server.IssueTokenAsync(p.TrusteeName, p.Password));
        var byTrustee = (await trustee.GetFromJsonAsync<JsonObject>($"v3/OS-TRUST/trusts?trustee_user_id={p.TrusteeId}"))!["trusts"]!.AsArray();
        Assert.Equal([id], byTrustee.Select(t => t!["id"]!.GetValue<string>()));
        Assert.Contains((await server.Admin.GetFromJsonAsync<JsonObject>("v3/OS-TRUST/trusts"))!["trusts"]!.AsArray(), t => t!["id"]!.GetValue<string>() == id);
        Assert.Equal(HttpStatusCode.Forbidden, (await p.Trustor.GetAsync("v3/OS-TRUST/trusts")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await p.Trustor.GetAsync($"v3/OS-TRUST/trusts?trustee_user_id={p.TrusteeId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await trustee.GetAsync($"v3/OS-TRUST/trusts/{id}")).StatusCode);

        // Someone else neither sees nor deletes it; the trustee cannot delete it either.
        var (other, _, _) = await server.NewProjectUserAsync();
        Http.AssertError(HttpStatusCode.Forbidden, await Http.Get(other, $"v3/OS-TRUST/trusts/{id}"));
        Assert.Equal(HttpStatusCode.Forbidden, (await other.DeleteAsync($"v3/OS-TRUST/trusts/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await trustee.DeleteAsync($"v3/OS-TRUST/trusts/{id}")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await p.Trustor.DeleteAsync($"v3/OS-TRUST/trusts/{id}")).StatusCode);
        Http.AssertError(HttpStatusCode.NotFound, await Http.Get(p.Trustor, $"v3/OS-TRUST/trusts/{id}"), $"Could not find trust: {id}.");
        Assert.Equal(HttpStatusCode.NotFound, (await p.Trustor.DeleteAsync($"v3/OS-TRUST/trusts/{id}")).StatusCode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_trust_token_carries_the_delegated_roles_only_and_the_impersonated_user(bool impersonation)
    {
        var p = await PartiesAsync();
        var id = (await CreateAsync(p, impersonation))["id"]!.GetValue<string>();
        var (token, body) = await IssueAsync(p, id);

        Assert.Equal(["delegated-" + p.Suffix, "implied-" + p.Suffix], Names(body["roles"]!));
        Assert.Equal(p.ProjectId, body["project"]!["id"]!.GetValue<string>());
        Assert.Equal(p.ProjectName, body["project"]!["name"]!.GetValue<string>());
        var trust = body["OS-TRUST:trust"]!;
        Assert.Equal(id, trust["id"]!.GetValue<string>());
        Assert.Equal(p.TrustorId, trust["trustor_user"]!["id"]!.GetValue<string>());
        Assert.Equal(p.TrusteeId, trust["trustee_user"]!["id"]!.GetValue<string>());
        Assert.Equal(impersonation, trust["impersonation"]!.GetValue<bool>());
        Assert.Equal(impersonation ? p.TrustorId : p.TrusteeId, body["user"]!["id"]!.GetValue<string>());
        Assert.Equal(impersonation ? p.TrustorName : p.TrusteeName, body["user"]!["name"]!.GetValue<string>());
        Assert.Contains(body["catalog"]!.AsArray(), s => s!["type"]!.GetValue<string>() == "identity");

        // The token is Keystone's trust-scoped Fernet payload (version 3) naming the trustee.
        var payload = new TokenFormatter(new FernetKeyRepository(server.Options.KeyRepository, 3)).Unpack(token)!;
        Assert.Equal(id, payload.TrustId);
        Assert.Equal(p.TrusteeId, payload.UserId);
        Assert.Equal(p.ProjectId, payload.ProjectId);

        // It authenticates, and validates the same for the admin.
        using var client = server.NewClient(token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("v3/auth/catalog")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, await ValidateAsync(token));

        // It cannot be exchanged for another token, and only the trustee gets tokens from the trust.
        var rescoped = await server.Anonymous.PostAsJsonAsync("v3/auth/tokens", Auth(TokenMethod(token)));
        Http.AssertError(HttpStatusCode.Forbidden, (rescoped.StatusCode, await rescoped.Content.ReadFromJsonAsync<JsonObject>()),
            "Using trust-scoped token to create another token");
        Assert.Equal(HttpStatusCode.Forbidden, (await TrustTokenAsync(p.TrustorName, p.Password, id)).StatusCode);
        // The trustee's unscoped token works as well as its password.
        var unscoped = await server.IssueTokenAsync(p.TrusteeName, p.Password);
        var viaToken = await server.Anonymous.PostAsJsonAsync("v3/auth/tokens", Auth(TokenMethod(unscoped), "{\"OS-TRUST:trust\": {\"id\": \"" + id + "\"}}"));
        Assert.Equal(HttpStatusCode.Created, viaToken.StatusCode);
    }

    [Fact]
    public async Task Remaining_uses_count_down_and_a_used_up_trust_gives_no_more_tokens()
    {
        var p = await PartiesAsync();
        var id = (await CreateAsync(p, more: t => t["remaining_uses"] = 2))["id"]!.GetValue<string>();
        Assert.Equal(2, (await p.Trustor.GetFromJsonAsync<JsonObject>($"v3/OS-TRUST/trusts/{id}"))!["trust"]!["remaining_uses"]!.GetValue<int>());
        await IssueAsync(p, id);
        Assert.Equal(1, (await p.Trustor.GetFromJsonAsync<JsonObject>($"v3/OS-TRUST/trusts/{id}"))!["trust"]!["remaining_uses"]!.GetValue<int>());
        var (last, _) = await IssueAsync(p, id);

        // As Keystone: a used-up trust is not found, so a token for it is a 401.
        Http.AssertError(HttpStatusCode.Unauthorized, await ToResult(await TrustTokenAsync(p.TrusteeName, p.Password, id)));
        Assert.Equal(HttpStatusCode.NotFound, (await p.Trustor.GetAsync($"v3/OS-TRUST/trusts/{id}")).StatusCode);
        // The token of the last use stays valid.
        Assert.Equal(HttpStatusCode.OK, await ValidateAsync(last));
    }

    static async Task<(HttpStatusCode, JsonObject?)> ToResult(HttpResponseMessage r) => (r.StatusCode, await r.Content.ReadFromJsonAsync<JsonObject>());

    [Fact]
    public async Task Losing_a_delegated_role_or_disabling_the_trustor_invalidates_trust_tokens()
    {
        var p = await PartiesAsync();
        var id = (await CreateAsync(p))["id"]!.GetValue<string>();
        var (token, _) = await IssueAsync(p, id);

        // Another role of the trustor does not matter; the delegated one does.
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.DeleteAsync($"v3/projects/{p.ProjectId}/users/{p.TrustorId}/roles/{p.Kept}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, await ValidateAsync(token));
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.DeleteAsync($"v3/projects/{p.ProjectId}/users/{p.TrustorId}/roles/{p.Delegated}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, await ValidateAsync(token));
        using (var client = server.NewClient(token)) Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("v3/auth/catalog")).StatusCode);
        Http.AssertError(HttpStatusCode.Forbidden, await ToResult(await TrustTokenAsync(p.TrusteeName, p.Password, id)));

        // Granted again, the trust gives tokens again; a disabled trustor takes them away for good.
        await GrantAsync(p.ProjectId, p.TrustorId, p.Delegated);
        var (again, _) = await IssueAsync(p, id);
        Assert.Equal(HttpStatusCode.OK, (await server.Admin.PatchAsJsonAsync($"v3/users/{p.TrustorId}", JsonNode.Parse("""{"user": {"enabled": false}}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, await ValidateAsync(again));
        Assert.Equal(HttpStatusCode.Forbidden, (await TrustTokenAsync(p.TrusteeName, p.Password, id)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Admin.PatchAsJsonAsync($"v3/users/{p.TrustorId}", JsonNode.Parse("""{"user": {"enabled": true}}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, await ValidateAsync(again)); // revoked when the trustor was disabled
        await Task.Delay(1100); // a new token must be issued after the revocation's second
        var (fresh, _) = await IssueAsync(p, id);
        Assert.Equal(HttpStatusCode.OK, await ValidateAsync(fresh));
    }

    [Fact]
    public async Task Deleting_the_trustee_or_the_trustor_deletes_their_trusts()
    {
        var p = await PartiesAsync();
        var first = (await CreateAsync(p))["id"]!.GetValue<string>();
        var (token, _) = await IssueAsync(p, first);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.DeleteAsync($"v3/users/{p.TrusteeId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await p.Trustor.GetAsync($"v3/OS-TRUST/trusts/{first}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, await ValidateAsync(token));

        var trustee = await UserAsync(p.TrusteeName, p.Password);
        var second = (await p.Trustor.PostJsonAsync("v3/OS-TRUST/trusts", TrustBody(p with { TrusteeId = trustee }), 201))["trust"]!["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await server.Admin.GetAsync($"v3/OS-TRUST/trusts/{second}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.DeleteAsync($"v3/users/{p.TrustorId}")).StatusCode);
        Assert.DoesNotContain((await server.Admin.GetFromJsonAsync<JsonObject>($"v3/OS-TRUST/trusts?trustee_user_id={trustee}"))!["trusts"]!.AsArray(),
            t => t!["id"]!.GetValue<string>() == second);
    }

    [Fact]
    public async Task An_expired_trust_gives_no_tokens_and_its_tokens_end_with_it()
    {
        var p = await PartiesAsync();
        var expires = DateTime.UtcNow.AddSeconds(3);
        var id = (await CreateAsync(p, more: t => t["expires_at"] = expires.ToString("yyyy-MM-ddTHH:mm:ssZ")))["id"]!.GetValue<string>();
        var (token, _) = await IssueAsync(p, id);
        Assert.Equal(HttpStatusCode.OK, await ValidateAsync(token));
        await Task.Delay(expires.AddSeconds(1) - DateTime.UtcNow);
        Assert.Equal(HttpStatusCode.NotFound, await ValidateAsync(token));
        Assert.Equal(HttpStatusCode.Unauthorized, (await TrustTokenAsync(p.TrusteeName, p.Password, id)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await p.Trustor.GetAsync($"v3/OS-TRUST/trusts/{id}")).StatusCode);
    }

    [Fact]
    public async Task A_trust_is_redelegated_within_its_limits()
    {
        var p = await PartiesAsync();
        var roles = new JsonArray(new JsonObject { ["id"] = p.Delegated }, new JsonObject { ["id"] = p.Kept });
        var parent = (await p.Trustor.PostJsonAsync("v3/OS-TRUST/trusts", TrustBody(p, impersonation: true, roles: roles, more: t => t["allow_redelegation"] = true), 201))["trust"]!;
        Assert.Equal(3, parent["redelegation_count"]!.GetValue<int>()); // [trust] max_redelegation_count
        var parentId = parent["id"]!.GetValue<string>();
        var (trustToken, _) = await IssueAsync(p, parentId);
        using var asTrustee = server.NewClient(trustToken);

        var third = await UserAsync("third-" + p.Suffix, p.Password);
        JsonObject Redelegated(JsonArray r, Action<JsonObject>? more = null) =>
            TrustBody(p with { TrusteeId = third }, impersonation: false, roles: r, more: t => { t["allow_redelegation"] = true; more?.Invoke(t); });
        // Not more roles than the parent trust gives, and no use limit on a redelegation.
        Assert.Equal(HttpStatusCode.Forbidden, (await asTrustee.PostAsJsonAsync("v3/OS-TRUST/trusts",
            Redelegated(new JsonArray(new JsonObject { ["id"] = p.Delegated }, new JsonObject { ["id"] = p.Implied }, new JsonObject { ["id"] = p.Kept })))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await asTrustee.PostAsJsonAsync("v3/OS-TRUST/trusts",
            Redelegated(new JsonArray(new JsonObject { ["id"] = p.Delegated }), t => t["remaining_uses"] = 1))).StatusCode);
        var child = (await asTrustee.PostJsonAsync("v3/OS-TRUST/trusts", Redelegated(new JsonArray(new JsonObject { ["id"] = p.Delegated })), 201))["trust"]!;
        Assert.Equal(parentId, child["redelegated_trust_id"]!.GetValue<string>());
        Assert.Equal(2, child["redelegation_count"]!.GetValue<int>());
        var childId = child["id"]!.GetValue<string>();

        var childToken = await TrustTokenAsync("third-" + p.Suffix, p.Password, childId);
        Assert.Equal(HttpStatusCode.Created, childToken.StatusCode);
        var childBody = (await childToken.Content.ReadFromJsonAsync<JsonObject>())!["token"]!;
        Assert.Equal(["delegated-" + p.Suffix, "implied-" + p.Suffix], Names(childBody["roles"]!));
        Assert.Equal(third, childBody["user"]!["id"]!.GetValue<string>());

        // Deleting the parent takes the redelegated trust and its tokens along.
        Assert.Equal(HttpStatusCode.NoContent, (await p.Trustor.DeleteAsync($"v3/OS-TRUST/trusts/{parentId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Admin.GetAsync($"v3/OS-TRUST/trusts/{childId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, await ValidateAsync(childToken.Headers.GetValues("X-Subject-Token").Single()));
    }

    [Fact]
    public async Task Bad_trusts_get_keystones_errors()
    {
        var p = await PartiesAsync();
        async Task Expect(HttpStatusCode status, JsonObject body, string? message = null) =>
            Http.AssertError(status, await ToResult(await p.Trustor.PostAsJsonAsync("v3/OS-TRUST/trusts", body)), message);

        await Expect(HttpStatusCode.BadRequest, TrustBody(p, more: t => t.Remove("impersonation")), "'impersonation' is a required property");
        await Expect(HttpStatusCode.BadRequest, TrustBody(p, more: t => t["impersonation"] = "yes"));
        await Expect(HttpStatusCode.BadRequest, TrustBody(p, more: t => t["expires_at"] = "bad.123Z"), "Timestamp not in expected format");
        await Expect(HttpStatusCode.BadRequest, TrustBody(p, more: t => t["expires_at"] = "2001-01-01T00:00:00Z"), "'expires_at' must not be before now");
        await Expect(HttpStatusCode.BadRequest, TrustBody(p, more: t => t["remaining_uses"] = 0), "less than the minimum of 1");
        await Expect(HttpStatusCode.BadRequest, TrustBody(p, roles: new JsonArray(new JsonObject { ["id"] = p.Delegated, ["name"] = "x" })));
        await Expect(HttpStatusCode.BadRequest, TrustBody(p, roles: new JsonArray("delegated")));
        await Expect(HttpStatusCode.BadRequest, TrustBody(p, more: t => t["project_id"] = "not a project"));
        await Expect(HttpStatusCode.Forbidden, TrustBody(p, roles: []), "At least one role should be specified");
        await Expect(HttpStatusCode.Forbidden, TrustBody(p with { TrustorId = p.TrusteeId }));
        await Expect(HttpStatusCode.NotFound, TrustBody(p with { TrusteeId = "no-such-user" }), "Could not find user: no-such-user.");
        await Expect(HttpStatusCode.NotFound, TrustBody(p, roles: new JsonArray(new JsonObject { ["name"] = "no-such-role" })), "Role no-such-role is not defined");
        await Expect(HttpStatusCode.NotFound, TrustBody(p, roles: new JsonArray(new JsonObject { ["name"] = "admin" })), "Could not find role:");
        await Expect(HttpStatusCode.NotFound, TrustBody(p with { ProjectId = "nope" }), "Could not find project: nope.");

        // The trust scope of a token request.
        var unscoped = await server.IssueTokenAsync(p.TrusteeName, p.Password);
        foreach (var scope in new[] { "\"\"", "{}", "{\"id\": 5}" })
        {
            var r = await server.Anonymous.PostAsJsonAsync("v3/auth/tokens", Auth(TokenMethod(unscoped), "{\"OS-TRUST:trust\": " + scope + "}"));
            Http.AssertError(HttpStatusCode.BadRequest, await ToResult(r));
        }
        Http.AssertError(HttpStatusCode.Unauthorized, await ToResult(await TrustTokenAsync(p.TrusteeName, p.Password, "no-such-trust")));

        // A delegated token (here an application credential's) manages no trusts.
        var appCred = await p.Trustor.PostJsonAsync($"v3/users/{p.TrustorId}/application_credentials",
            new JsonObject { ["application_credential"] = new JsonObject { ["name"] = "ac-" + p.Suffix } }, 201);
        var acToken = await server.Anonymous.PostAsJsonAsync("v3/auth/tokens", Auth("{\"methods\": [\"application_credential\"], \"application_credential\": " +
            new JsonObject { ["id"] = appCred["application_credential"]!["id"]!.DeepClone(), ["secret"] = appCred["application_credential"]!["secret"]!.DeepClone() }.ToJsonString() + "}"));
        using var ac = server.NewClient(acToken.Headers.GetValues("X-Subject-Token").Single());
        Http.AssertError(HttpStatusCode.Forbidden, await ToResult(await ac.PostAsJsonAsync("v3/OS-TRUST/trusts", TrustBody(p))), "Delegated tokens cannot manage trusts");
    }

    [Fact]
    public async Task The_openstack_cli_creates_shows_lists_and_deletes_trusts_and_issues_trust_tokens()
    {
        var p = await PartiesAsync();
        // As the trustor (only it may create the trust), which may not look users, projects or roles up by
        // name: by id, as with Keystone.
        var trustor = server.CliEnv(p.TrustorName, p.Password, p.ProjectName);
        var created = await IdentityServer.OpenStackAsync(trustor, "trust", "create", "--project", p.ProjectId, "--role", p.Delegated,
            "--impersonate", p.TrustorId, p.TrusteeId);
        var id = created["id"]!.GetValue<string>();
        Assert.Equal("delegated-" + p.Suffix, created["roles"]!.GetValue<string>());
        Assert.True(created["impersonation"]!.GetValue<bool>());
        Assert.Equal(p.TrusteeId, created["trustee_user_id"]!.GetValue<string>());

        var shown = await IdentityServer.OpenStackAsync(trustor, "trust", "show", id);
        Assert.Equal(p.ProjectId, shown["project_id"]!.GetValue<string>());
        var listed = (await IdentityServer.OpenStackAsync(server.CliEnv(), "trust", "list")).AsArray();
        Assert.Contains(listed, t => t!["ID"]!.GetValue<string>() == id && t["Trustor User ID"]!.GetValue<string>() == p.TrustorId);

        // The trustee's token scoped to the trust (keystoneauth's trust_id), seen by the admin.
        var trustee = server.CliEnv(p.TrusteeName, p.Password, project: null);
        trustee["OS_TRUST_ID"] = id;
        var token = await IdentityServer.OpenStackAsync(trustee, "token", "issue");
        Assert.Equal(p.ProjectId, token["project_id"]!.GetValue<string>());
        Assert.Equal(p.TrustorId, token["user_id"]!.GetValue<string>()); // impersonation
        using (var req = new HttpRequestMessage(HttpMethod.Get, "v3/auth/tokens?nocatalog"))
        {
            req.Headers.Add("X-Subject-Token", token["id"]!.GetValue<string>());
            var body = (await (await server.Admin.SendAsync(req)).Content.ReadFromJsonAsync<JsonObject>())!["token"]!;
            Assert.Equal(id, body["OS-TRUST:trust"]!["id"]!.GetValue<string>());
            Assert.Equal(["delegated-" + p.Suffix, "implied-" + p.Suffix], Names(body["roles"]!));
        }

        (await ProcessRunner.RunAsync("openstack", ["trust", "delete", id], trustor)).EnsureSuccess("openstack trust delete");
        Assert.Equal(HttpStatusCode.NotFound, (await p.Trustor.GetAsync($"v3/OS-TRUST/trusts/{id}")).StatusCode);
    }
}
