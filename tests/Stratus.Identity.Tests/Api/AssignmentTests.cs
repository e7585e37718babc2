using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Stratus.Identity.Tests.Api;

/// <summary>Roles, grants, role assignments and application credentials: who ends up with which role.</summary>
public class AssignmentTests(IdentityServer server) : IClassFixture<IdentityServer>
{
    static string Suffix() => Guid.NewGuid().ToString("N")[..8];

    async Task<string> IdAsync(string path, string kind, JsonObject body) =>
        (await server.PostAsync(path, new JsonObject { [kind] = body }))[kind]!["id"]!.GetValue<string>();

    async Task<List<string>> TokenRolesAsync(string user, string password, string project)
    {
        var token = await server.IssueTokenAsync(user, password, project: project);
        var req = new HttpRequestMessage(HttpMethod.Get, "v3/auth/tokens?nocatalog");
        req.Headers.Add("X-Auth-Token", server.AdminToken);
        req.Headers.Add("X-Subject-Token", token);
        var body = await (await server.Anonymous.SendAsync(req)).Content.ReadFromJsonAsync<JsonObject>();
        return body!["token"]!["roles"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()).Order().ToList();
    }

    [Fact]
    public async Task Grants_through_groups_inheritance_and_implication_reach_the_token()
    {
        var s = Suffix();
        var domain = await IdAsync("v3/domains", "domain", new JsonObject { ["name"] = "d-" + s });
        var project = await IdAsync("v3/projects", "project", new JsonObject { ["name"] = "p-" + s, ["domain_id"] = domain });
        var user = await IdAsync("v3/users", "user", new JsonObject { ["name"] = "u-" + s, ["password"] = "pw", ["domain_id"] = domain });
        var group = await IdAsync("v3/groups", "group", new JsonObject { ["name"] = "g-" + s, ["domain_id"] = domain });
        var viaGroup = await IdAsync("v3/roles", "role", new JsonObject { ["name"] = "via-group-" + s });
        var inherited = await IdAsync("v3/roles", "role", new JsonObject { ["name"] = "inherited-" + s });
        var implied = await IdAsync("v3/roles", "role", new JsonObject { ["name"] = "implied-" + s });

        Assert.Equal(HttpStatusCode.Created, (await server.Admin.PutAsync($"v3/roles/{viaGroup}/implies/{implied}", null)).StatusCode);
        await server.Admin.PutAsync($"v3/groups/{group}/users/{user}", null);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.PutAsync($"v3/projects/{project}/groups/{group}/roles/{viaGroup}", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.PutAsync($"v3/OS-INHERIT/domains/{domain}/users/{user}/roles/{inherited}/inherited_to_projects", null)).StatusCode);

        var token = await server.IssueTokenAsync("u-" + s, "pw", project: "p-" + s, domain: "d-" + s);
        var req = new HttpRequestMessage(HttpMethod.Get, "v3/auth/tokens?nocatalog");
        req.Headers.Add("X-Auth-Token", server.AdminToken);
        req.Headers.Add("X-Subject-Token", token);
        var roles = (await (await server.Anonymous.SendAsync(req)).Content.ReadFromJsonAsync<JsonObject>())!["token"]!["roles"]!.AsArray()
            .Select(r => r!["id"]!.GetValue<string>()).Order().ToList();
        Assert.Equal(new[] { viaGroup, inherited, implied }.Order().ToList(), roles);

        var effective = (await server.Admin.GetFromJsonAsync<JsonObject>($"v3/role_assignments?effective&user.id={user}&scope.project.id={project}"))!["role_assignments"]!.AsArray();
        Assert.Equal(3, effective.Count);
        Assert.Contains(effective, a => a!["links"]!["membership"] is not null && a["role"]!["id"]!.GetValue<string>() == viaGroup);
        Assert.Contains(effective, a => a!["links"]!["prior_role"] is not null && a["role"]!["id"]!.GetValue<string>() == implied);

        var raw = (await server.Admin.GetFromJsonAsync<JsonObject>($"v3/role_assignments?user.id={user}&include_names"))!["role_assignments"]!.AsArray().Single()!;
        Assert.Equal("projects", raw["scope"]!["OS-INHERIT:inherited_to"]!.GetValue<string>());
        Assert.Equal("inherited-" + s, raw["role"]!["name"]!.GetValue<string>());
        Assert.Equal("d-" + s, raw["scope"]!["domain"]!["name"]!.GetValue<string>());

        // Revoking the group grant takes its roles out of the next validation.
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.DeleteAsync($"v3/projects/{project}/groups/{group}/roles/{viaGroup}")).StatusCode);
        req = new HttpRequestMessage(HttpMethod.Get, "v3/auth/tokens?nocatalog");
        req.Headers.Add("X-Auth-Token", server.AdminToken);
        req.Headers.Add("X-Subject-Token", token);
        var after = (await (await server.Anonymous.SendAsync(req)).Content.ReadFromJsonAsync<JsonObject>())!["token"]!["roles"]!.AsArray();
        Assert.Equal([inherited], after.Select(r => r!["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Revoking_the_last_role_on_a_project_invalidates_tokens_for_it()
    {
        var (client, userId, projectId) = await server.NewProjectUserAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("v3/auth/catalog")).StatusCode);
        var member = (await server.Admin.GetFromJsonAsync<JsonObject>("v3/roles?name=member"))!["roles"]![0]!["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.DeleteAsync($"v3/projects/{projectId}/users/{userId}/roles/{member}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("v3/auth/catalog")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Admin.DeleteAsync($"v3/projects/{projectId}/users/{userId}/roles/{member}")).StatusCode);
    }

    [Fact]
    public async Task Grant_errors_name_what_is_missing_and_members_cannot_grant()
    {
        var (client, userId, projectId) = await server.NewProjectUserAsync();
        var admin = (await server.Admin.GetFromJsonAsync<JsonObject>("v3/roles?name=admin"))!["roles"]![0]!["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PutAsync($"v3/projects/{projectId}/users/{userId}/roles/{admin}", null)).StatusCode);
        var missing = await server.Admin.PutAsync($"v3/projects/{projectId}/users/{userId}/roles/no-such-role", null);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("no-such-role", (await missing.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["message"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await server.Admin.PutAsync($"v3/projects/no-such-project/users/{userId}/roles/{admin}", null)).StatusCode);
    }

    [Fact]
    public async Task Domain_roles_only_count_through_the_global_roles_they_imply()
    {
        var s = Suffix();
        var (_, userId, projectId) = await server.NewProjectUserAsync();
        var domainRole = await IdAsync("v3/roles", "role", new JsonObject { ["name"] = "dr-" + s, ["domain_id"] = "default" });
        var global = await IdAsync("v3/roles", "role", new JsonObject { ["name"] = "gr-" + s });
        var listed = (await server.Admin.GetFromJsonAsync<JsonObject>("v3/roles?domain_id=default"))!["roles"]!.AsArray();
        Assert.Contains(listed, r => r!["id"]!.GetValue<string>() == domainRole);
        Assert.DoesNotContain((await server.Admin.GetFromJsonAsync<JsonObject>("v3/roles"))!["roles"]!.AsArray(), r => r!["id"]!.GetValue<string>() == domainRole);
        Assert.Equal(HttpStatusCode.Forbidden, (await server.Admin.PutAsync($"v3/roles/{global}/implies/{domainRole}", null)).StatusCode);
        await server.Admin.PutAsync($"v3/roles/{domainRole}/implies/{global}", null);
        await server.Admin.PutAsync($"v3/projects/{projectId}/users/{userId}/roles/{domainRole}", null);
        var effective = (await server.Admin.GetFromJsonAsync<JsonObject>($"v3/role_assignments?effective&user.id={userId}&scope.project.id={projectId}"))!["role_assignments"]!.AsArray()
            .Select(a => a!["role"]!["id"]!.GetValue<string>()).ToList();
        Assert.Contains(global, effective);
        Assert.DoesNotContain(domainRole, effective);
        Assert.Equal(HttpStatusCode.BadRequest, (await server.Admin.PutAsync($"v3/roles/{global}/implies/{global}", null)).StatusCode);
    }

    [Fact]
    public async Task Application_credential_authenticates_with_its_roles_until_deleted()
    {
        var (client, userId, projectId) = await server.NewProjectUserAsync();
        var created = await client.PostAsJsonAsync($"v3/users/{userId}/application_credentials", JsonNode.Parse("""
            {"application_credential": {"name": "ci", "roles": [{"name": "reader"}],
             "access_rules": [{"service": "compute", "path": "/v2.1/servers", "method": "GET"}]}}
            """));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var cred = (await created.Content.ReadFromJsonAsync<JsonObject>())!["application_credential"]!;
        var secret = cred["secret"]!.GetValue<string>();
        Assert.Equal(projectId, cred["project_id"]!.GetValue<string>());
        Assert.Equal(["reader"], cred["roles"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()));
        Assert.Equal("compute", cred["access_rules"]![0]!["service"]!.GetValue<string>());
        var shown = (await client.GetFromJsonAsync<JsonObject>($"v3/users/{userId}/application_credentials/{cred["id"]}"))!["application_credential"]!;
        Assert.Null(shown["secret"]);

        static JsonObject AppCredAuth(string id, string secret) => new()
        {
            ["auth"] = new JsonObject
            {
                ["identity"] = new JsonObject
                {
                    ["methods"] = new JsonArray("application_credential"),
                    ["application_credential"] = new JsonObject { ["id"] = id, ["secret"] = secret },
                },
            },
        };
        var auth = AppCredAuth(cred["id"]!.GetValue<string>(), secret);
        var issued = await server.Anonymous.PostAsJsonAsync("v3/auth/tokens", auth);
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        var token = (await issued.Content.ReadFromJsonAsync<JsonObject>())!["token"]!;
        Assert.Equal(projectId, token["project"]!["id"]!.GetValue<string>());
        Assert.Equal(["reader"], token["roles"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()));
        Assert.Equal(cred["id"]!.GetValue<string>(), token["application_credential"]!["id"]!.GetValue<string>());

        var wrong = AppCredAuth(cred["id"]!.GetValue<string>(), "nope");
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Anonymous.PostAsJsonAsync("v3/auth/tokens", wrong)).StatusCode);
        var tooMuch = await client.PostAsJsonAsync($"v3/users/{userId}/application_credentials", JsonNode.Parse("""{"application_credential": {"name": "x", "roles": [{"name": "admin"}]}}"""));
        Assert.Equal(HttpStatusCode.NotFound, tooMuch.StatusCode);

        using var appClient = server.NewClient(issued.Headers.GetValues("X-Subject-Token").Single());
        Assert.Equal(HttpStatusCode.OK, (await appClient.GetAsync("v3/auth/catalog")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"v3/users/{userId}/application_credentials/{cred["id"]}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await appClient.GetAsync("v3/auth/catalog")).StatusCode);
    }

    [Fact]
    public async Task Ec2_credentials_belong_to_their_user()
    {
        var (client, userId, projectId) = await server.NewProjectUserAsync();
        var created = await client.PostAsJsonAsync($"v3/users/{userId}/credentials/OS-EC2", new JsonObject { ["tenant_id"] = projectId });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var ec2 = (await created.Content.ReadFromJsonAsync<JsonObject>())!["credential"]!;
        var access = ec2["access"]!.GetValue<string>();
        Assert.False(string.IsNullOrEmpty(ec2["secret"]!.GetValue<string>()));
        var shown = (await client.GetFromJsonAsync<JsonObject>($"v3/users/{userId}/credentials/OS-EC2/{access}"))!["credential"]!;
        Assert.Equal(ec2["secret"]!.GetValue<string>(), shown["secret"]!.GetValue<string>());

        var (other, otherId, _) = await server.NewProjectUserAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await other.GetAsync($"v3/users/{userId}/credentials/OS-EC2/{access}")).StatusCode);
        // The generic credentials API sees the same credential, named by the hash of its access key.
        var listed = (await server.Admin.GetFromJsonAsync<JsonObject>($"v3/credentials?user_id={userId}"))!["credentials"]!.AsArray();
        Assert.Equal("ec2", listed.Single()!["type"]!.GetValue<string>());
        Assert.Empty((await other.GetFromJsonAsync<JsonObject>($"v3/credentials?user_id={userId}"))!["credentials"]!.AsArray());
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"v3/users/{userId}/credentials/OS-EC2/{access}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"v3/users/{userId}/credentials/OS-EC2/{access}")).StatusCode);
        Assert.NotEqual(userId, otherId);
    }

    [Fact]
    public async Task Domain_specific_roles_are_refused_only_on_projects_of_another_domain()
    {
        var s = Suffix();
        var other = await IdAsync("v3/domains", "domain", new JsonObject { ["name"] = "od-" + s });
        var otherProject = await IdAsync("v3/projects", "project", new JsonObject { ["name"] = "op-" + s, ["domain_id"] = other });
        var (_, userId, projectId) = await server.NewProjectUserAsync();
        var domainRole = await IdAsync("v3/roles", "role", new JsonObject { ["name"] = "dsr-" + s, ["domain_id"] = "default" });

        // As Keystone's create_grant: a grant on a domain is not checked against the role's domain.
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.PutAsync($"v3/domains/{other}/users/{userId}/roles/{domainRole}", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.PutAsync($"v3/OS-INHERIT/domains/{other}/users/{userId}/roles/{domainRole}/inherited_to_projects", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.GetAsync($"v3/domains/{other}/users/{userId}/roles/{domainRole}")).StatusCode);
        // On a project of the role's own domain it is granted; on another domain's project it is not.
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.PutAsync($"v3/projects/{projectId}/users/{userId}/roles/{domainRole}", null)).StatusCode);
        var refused = await server.Admin.PutAsync($"v3/projects/{otherProject}/users/{userId}/roles/{domainRole}", null);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal($"Project {otherProject} must be in the same domain as the role {domainRole} being assigned.",
            (await refused.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["message"]!.GetValue<string>());
        var inherited = await server.Admin.PutAsync($"v3/OS-INHERIT/projects/{otherProject}/users/{userId}/roles/{domainRole}/inherited_to_projects", null);
        Assert.Equal(HttpStatusCode.Forbidden, inherited.StatusCode);
    }

    [Fact]
    public async Task Access_rules_come_back_in_the_order_they_were_sent()
    {
        var (client, userId, _) = await server.NewProjectUserAsync();
        static JsonObject Rule(string path) => new() { ["service"] = "compute", ["path"] = path, ["method"] = "GET" };
        var first = await client.PostJsonAsync($"v3/users/{userId}/application_credentials",
            new JsonObject { ["application_credential"] = new JsonObject { ["name"] = "first", ["access_rules"] = new JsonArray(Rule("/v2.1/a")) } }, 201);
        var existing = first["application_credential"]!["access_rules"]![0]!["id"]!.GetValue<string>();
        // The rule stored first comes last, by id: neither insertion nor id order gives this order back.
        var sent = new JsonArray(Rule("/v2.1/z"), Rule("/v2.1/m"), Rule("/v2.1/b"), Rule("/v2.1/y"), new JsonObject { ["id"] = existing });
        var created = await client.PostJsonAsync($"v3/users/{userId}/application_credentials",
            new JsonObject { ["application_credential"] = new JsonObject { ["name"] = "second", ["access_rules"] = sent } }, 201);
        string[] expected = ["/v2.1/z", "/v2.1/m", "/v2.1/b", "/v2.1/y", "/v2.1/a"];
        static IEnumerable<string> Paths(JsonNode cred) => cred["access_rules"]!.AsArray().Select(r => r!["path"]!.GetValue<string>());
        Assert.Equal(expected, Paths(created["application_credential"]!));
        var id = created["application_credential"]!["id"]!.GetValue<string>();
        var shown = await client.GetFromJsonAsync<JsonObject>($"v3/users/{userId}/application_credentials/{id}");
        Assert.Equal(expected, Paths(shown!["application_credential"]!));
        var listed = await client.GetFromJsonAsync<JsonObject>($"v3/users/{userId}/application_credentials?name=second");
        Assert.Equal(expected, Paths(listed!["application_credentials"]![0]!));
    }
}
