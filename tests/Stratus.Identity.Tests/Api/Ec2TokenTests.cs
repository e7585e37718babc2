using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Stratus.Identity.Tests.Catalog;

namespace Stratus.Identity.Tests.Api;

/// <summary>
/// /v3/ec2tokens and /v3/s3tokens: requests signed with an EC2 credential (made by the real
/// <c>openstack ec2 credentials create</c>) by keystoneclient's signer and as Swift's s3token sends them.
/// </summary>
public class Ec2TokenTests(IdentityServer server) : IClassFixture<IdentityServer>
{
    static readonly string Script = Path.Combine(ProcessRunner.RepoRoot, "tests", "Stratus.Identity.Tests", "Api", "aws_sign.py");

    sealed record Owner(string UserId, string Name, string Password, string ProjectId, string ProjectName, string Access, string Secret);

    /// <summary>A member of a new project with an EC2 credential it made itself with the CLI.</summary>
    async Task<Owner> OwnerAsync()
    {
        var s = Guid.NewGuid().ToString("N")[..8];
        var project = (await server.PostAsync("v3/projects", new JsonObject { ["project"] = new JsonObject { ["name"] = "ec2p-" + s } }))["project"]!["id"]!.GetValue<string>();
        var user = (await server.PostAsync("v3/users", new JsonObject { ["user"] = new JsonObject { ["name"] = "ec2u-" + s, ["password"] = "pw-" + s } }))["user"]!["id"]!.GetValue<string>();
        var member = (await server.Admin.GetFromJsonAsync<JsonObject>("v3/roles?name=member"))!["roles"]![0]!["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.PutAsync($"v3/projects/{project}/users/{user}/roles/{member}", null)).StatusCode);
        var cred = await IdentityServer.OpenStackAsync(server.CliEnv("ec2u-" + s, "pw-" + s, "ec2p-" + s), "ec2", "credentials", "create");
        Assert.Equal(project, cred["project_id"]!.GetValue<string>());
        return new Owner(user, "ec2u-" + s, "pw-" + s, project, "ec2p-" + s, cred["access"]!.GetValue<string>(), cred["secret"]!.GetValue<string>());
    }

    static async Task<JsonObject> SignAsync(params string[] args) =>
        (await ProcessRunner.RunAsync("/usr/bin/python3", [Script, .. args])).EnsureSuccess("aws_sign.py").Json.AsObject();

    async Task<HttpResponseMessage> PostAsync(string path, JsonObject body, HttpClient? caller = null) =>
        await (caller ?? server.Admin).PostAsJsonAsync(path, body);

    static async Task<(HttpStatusCode, JsonObject?)> Result(HttpResponseMessage r) => (r.StatusCode, await r.Content.ReadFromJsonAsync<JsonObject>());

    void AssertTokenFor(Owner owner, JsonNode token)
    {
        Assert.Equal(owner.UserId, token["user"]!["id"]!.GetValue<string>());
        Assert.Equal(owner.ProjectId, token["project"]!["id"]!.GetValue<string>());
        Assert.Equal(["ec2credential"], token["methods"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Equal(["member", "reader"], token["roles"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()).Order());
        Assert.Contains(token["catalog"]!.AsArray(), s => s!["type"]!.GetValue<string>() == "identity");
    }

    [Theory]
    [InlineData("v2")]
    [InlineData("v4")]
    public async Task A_good_ec2_signature_gets_a_token_for_the_credentials_user_and_project(string version)
    {
        var owner = await OwnerAsync();
        var resp = await PostAsync("v3/ec2tokens", await SignAsync("ec2", version, owner.Access, owner.Secret, "ec2.example.org"));
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        AssertTokenFor(owner, (await resp.Content.ReadFromJsonAsync<JsonObject>())!["token"]!);

        // The token is a real one, answered for by the identity.
        using var client = server.NewClient(resp.Headers.GetValues("X-Subject-Token").Single());
        var own = await client.GetFromJsonAsync<JsonObject>($"v3/users/{owner.UserId}");
        Assert.Equal(owner.UserId, own!["user"]!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_signature_made_without_the_port_passes_as_keystone_retries_without_it()
    {
        var owner = await OwnerAsync();
        var body = await SignAsync("ec2", "v2", owner.Access, owner.Secret, "ec2.example.org");
        body["credentials"]!["host"] = "EC2.example.org:8773";
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("v3/ec2tokens", body)).StatusCode);
        body["credentials"]!["host"] = "other.example.org:8773";
        Http.AssertError(HttpStatusCode.Unauthorized, await Result(await PostAsync("v3/ec2tokens", body)));
    }

    [Theory]
    [InlineData("v2")]
    [InlineData("v4")]
    public async Task A_good_s3_signature_gets_the_token_body(string version)
    {
        var owner = await OwnerAsync();
        var resp = await PostAsync("v3/s3tokens", await SignAsync("s3", version, owner.Access, owner.Secret));
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        Assert.False(resp.Headers.Contains("X-Subject-Token"));
        AssertTokenFor(owner, (await resp.Content.ReadFromJsonAsync<JsonObject>())!["token"]!);
    }

    [Fact]
    public async Task Wrong_signatures_unknown_keys_and_stale_requests_are_refused_as_keystone_does()
    {
        var owner = await OwnerAsync();
        const string Refused = "The request you have made requires authentication.";

        var ec2 = await SignAsync("ec2", "v2", owner.Access, owner.Secret, "ec2.example.org");
        var wrong = ec2.DeepClone().AsObject();
        wrong["credentials"]!["signature"] = "AAAA" + ec2["credentials"]!["signature"]!.GetValue<string>()[4..];
        Http.AssertError(HttpStatusCode.Unauthorized, await Result(await PostAsync("v3/ec2tokens", wrong)), Refused);
        var otherSecret = await SignAsync("ec2", "v4", owner.Access, "not-the-secret", "ec2.example.org");
        Http.AssertError(HttpStatusCode.Unauthorized, await Result(await PostAsync("v3/ec2tokens", otherSecret)), Refused);
        var tampered = ec2.DeepClone().AsObject();
        tampered["credentials"]!["params"]!["Action"] = "TerminateInstances";
        Http.AssertError(HttpStatusCode.Unauthorized, await Result(await PostAsync("v3/ec2tokens", tampered)), Refused);
        var unknown = ec2.DeepClone().AsObject();
        unknown["credentials"]!["access"] = "no-such-access-key";
        Http.AssertError(HttpStatusCode.Unauthorized, await Result(await PostAsync("v3/ec2tokens", unknown)), Refused);
        Http.AssertError(HttpStatusCode.Unauthorized, await Result(await PostAsync("v3/ec2tokens", JsonNode.Parse("""{"credentials": {"signature": "x"}}""")!.AsObject())));
        Http.AssertError(HttpStatusCode.BadRequest, await Result(await PostAsync("v3/ec2tokens", [])), "request must include a request body");

        var s3 = await SignAsync("s3", "v2", owner.Access, owner.Secret);
        s3["credentials"]!["signature"] = "bm90IGl0";
        Http.AssertError(HttpStatusCode.Unauthorized, await Result(await PostAsync("v3/s3tokens", s3)), Refused);
        s3["credentials"]!["token"] = "%%% not base64 %%%";
        Http.AssertError(HttpStatusCode.Unauthorized, await Result(await PostAsync("v3/s3tokens", s3)), Refused);

        // Signed 20 minutes ago: older than [credential] auth_ttl (15 minutes); 10 minutes is recent enough.
        foreach (var v in new[] { "v2", "v4" })
        {
            Http.AssertError(HttpStatusCode.Unauthorized, await Result(await PostAsync("v3/ec2tokens", await SignAsync("ec2", v, owner.Access, owner.Secret, "h", "20"))));
            Assert.Equal(HttpStatusCode.OK, (await PostAsync("v3/ec2tokens", await SignAsync("ec2", v, owner.Access, owner.Secret, "h", "10"))).StatusCode);
        }

        // Only services (and admins) validate signatures: Keystone's identity:ec2tokens_validate.
        var (member, _, _) = await server.NewProjectUserAsync();
        Http.AssertError(HttpStatusCode.Forbidden, await Result(await PostAsync("v3/ec2tokens", ec2, member)));
        Http.AssertError(HttpStatusCode.Unauthorized, await Result(await PostAsync("v3/s3tokens", ec2, server.Anonymous)));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await server.Admin.GetAsync("v3/ec2tokens")).StatusCode);

        // A disabled user's credential signs nothing.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("v3/ec2tokens", ec2)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Admin.PatchAsJsonAsync($"v3/users/{owner.UserId}", JsonNode.Parse("""{"user": {"enabled": false}}"""))).StatusCode);
        Http.AssertError(HttpStatusCode.Unauthorized, await Result(await PostAsync("v3/ec2tokens", ec2)), Refused);
    }

    [Fact]
    public async Task A_credential_made_with_a_trust_token_signs_for_trust_tokens()
    {
        var trustor = await OwnerAsync();
        var s = Guid.NewGuid().ToString("N")[..8];
        var trustee = (await server.PostAsync("v3/users", new JsonObject { ["user"] = new JsonObject { ["name"] = "ec2t-" + s, ["password"] = "pw-" + s } }))["user"]!["id"]!.GetValue<string>();
        using var asTrustor = server.NewClient(await server.IssueTokenAsync(trustor.Name, trustor.Password, project: trustor.ProjectName));
        var trust = await asTrustor.PostJsonAsync("v3/OS-TRUST/trusts", new JsonObject
        {
            ["trust"] = new JsonObject
            {
                ["trustor_user_id"] = trustor.UserId,
                ["trustee_user_id"] = trustee,
                ["project_id"] = trustor.ProjectId,
                ["impersonation"] = false,
                ["roles"] = new JsonArray(new JsonObject { ["name"] = "reader" }),
            },
        }, 201);
        var trustId = trust["trust"]!["id"]!.GetValue<string>();
        var trustToken = await server.Anonymous.PostAsJsonAsync("v3/auth/tokens", JsonNode.Parse(
            "{\"auth\": {\"identity\": {\"methods\": [\"password\"], \"password\": {\"user\": {\"id\": \"" + trustee + "\", \"password\": \"pw-" + s + "\"}}}, " +
            "\"scope\": {\"OS-TRUST:trust\": {\"id\": \"" + trustId + "\"}}}}"));
        Assert.Equal(HttpStatusCode.Created, trustToken.StatusCode);
        using var asTrustee = server.NewClient(trustToken.Headers.GetValues("X-Subject-Token").Single());
        var cred = (await asTrustee.PostJsonAsync($"v3/users/{trustee}/credentials/OS-EC2", new JsonObject { ["tenant_id"] = trustor.ProjectId }, 201))["credential"]!;
        Assert.Equal(trustId, cred["trust_id"]!.GetValue<string>());

        var resp = await PostAsync("v3/ec2tokens", await SignAsync("ec2", "v2", cred["access"]!.GetValue<string>(), cred["secret"]!.GetValue<string>(), "h"));
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        var token = (await resp.Content.ReadFromJsonAsync<JsonObject>())!["token"]!;
        Assert.Equal(trustId, token["OS-TRUST:trust"]!["id"]!.GetValue<string>());
        Assert.Equal(trustee, token["user"]!["id"]!.GetValue<string>());
        Assert.Equal(["reader"], token["roles"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_credential_made_with_an_application_credential_token_signs_for_its_roles_only()
    {
        var owner = await OwnerAsync();
        using var asOwner = server.NewClient(await server.IssueTokenAsync(owner.Name, owner.Password, project: owner.ProjectName));
        var appCred = (await asOwner.PostJsonAsync($"v3/users/{owner.UserId}/application_credentials", new JsonObject
        {
            ["application_credential"] = new JsonObject { ["name"] = "ac", ["roles"] = new JsonArray(new JsonObject { ["name"] = "reader" }) },
        }, 201))["application_credential"]!;
        var acToken = await server.Anonymous.PostAsJsonAsync("v3/auth/tokens", new JsonObject
        {
            ["auth"] = new JsonObject
            {
                ["identity"] = new JsonObject
                {
                    ["methods"] = new JsonArray("application_credential"),
                    ["application_credential"] = new JsonObject { ["id"] = appCred["id"]!.DeepClone(), ["secret"] = appCred["secret"]!.DeepClone() },
                },
            },
        });
        using var asAppCred = server.NewClient(acToken.Headers.GetValues("X-Subject-Token").Single());
        var access = Guid.NewGuid().ToString("N");
        var cred = await asAppCred.PostJsonAsync("v3/credentials", new JsonObject
        {
            ["credential"] = new JsonObject
            {
                ["user_id"] = owner.UserId,
                ["project_id"] = owner.ProjectId,
                ["type"] = "ec2",
                ["blob"] = new JsonObject { ["access"] = access, ["secret"] = "s3cr3t" }.ToJsonString(),
            },
        }, 201);
        Assert.Equal(appCred["id"]!.GetValue<string>(), JsonNode.Parse(cred["credential"]!["blob"]!.GetValue<string>())!["app_cred_id"]!.GetValue<string>());

        var resp = await PostAsync("v3/ec2tokens", await SignAsync("ec2", "v2", access, "s3cr3t", "h"));
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        var token = (await resp.Content.ReadFromJsonAsync<JsonObject>())!["token"]!;
        // The application credential's reader role, not the member role its user holds.
        Assert.Equal(["reader"], token["roles"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()));
        Assert.Equal(appCred["id"]!.GetValue<string>(), token["application_credential"]!["id"]!.GetValue<string>());
    }
}
