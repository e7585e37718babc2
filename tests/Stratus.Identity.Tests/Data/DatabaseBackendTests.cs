using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Stratus.Identity.Tests.Data;

/// <summary>The same identity behaviour on each database the seed's URLs can name.</summary>
public abstract class DatabaseBackendTests(IdentityServer server)
{
    [Fact]
    public async Task Bootstrap_token_and_a_user_round_trip()
    {
        var name = "db-user-" + Guid.NewGuid().ToString("N")[..6];
        var created = await server.PostAsync("v3/users", new JsonObject { ["user"] = new JsonObject { ["name"] = name, ["password"] = "pw-12345", ["domain_id"] = "default" } });
        var id = created["user"]!["id"]!.GetValue<string>();
        var shown = await server.Admin.GetFromJsonAsync<JsonObject>($"v3/users/{id}");
        Assert.Equal(name, shown!["user"]!["name"]!.GetValue<string>());
        var token = await server.IssueTokenAsync(name, "pw-12345");
        Assert.False(string.IsNullOrEmpty(token));
        var dup = await server.Admin.PostAsJsonAsync("v3/users", new JsonObject { ["user"] = new JsonObject { ["name"] = name, ["domain_id"] = "default" } });
        Assert.Equal(HttpStatusCode.Conflict, dup.StatusCode);
    }

    // Token validation, the catalog and revocations read the tables without EF Core (IdentityStore):
    // the same answers on each database, booleans and timestamps included.
    [Fact]
    public async Task Validation_catalog_and_revocation_read_the_same_on_each_database()
    {
        var (client, userId, projectId) = await server.NewProjectUserAsync("member");
        var token = client.DefaultRequestHeaders.GetValues("X-Auth-Token").Single();
        using var validate = new HttpRequestMessage(HttpMethod.Get, "v3/auth/tokens");
        validate.Headers.Add("X-Subject-Token", token);
        var shown = await server.Admin.SendAsync(validate);
        Assert.Equal(HttpStatusCode.OK, shown.StatusCode);
        var body = (await shown.Content.ReadFromJsonAsync<JsonObject>())!["token"]!;
        Assert.Equal(userId, body["user"]!["id"]!.GetValue<string>());
        Assert.Equal(projectId, body["project"]!["id"]!.GetValue<string>());
        Assert.Equal("Default", body["project"]!["domain"]!["name"]!.GetValue<string>());
        // member implies reader
        Assert.Equal(["member", "reader"], body["roles"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()).Order());
        Assert.Contains(body["catalog"]!.AsArray(), s => s!["type"]!.GetValue<string>() == "identity");

        var catalog = await client.GetFromJsonAsync<JsonObject>("v3/auth/catalog");
        var identity = catalog!["catalog"]!.AsArray().Single(s => s!["type"]!.GetValue<string>() == "identity")!;
        Assert.Contains(identity["endpoints"]!.AsArray(), e => e!["interface"]!.GetValue<string>() == "public" && e["region_id"]!.GetValue<string>() == IdentityServer.Region);

        using var revoke = new HttpRequestMessage(HttpMethod.Delete, "v3/auth/tokens");
        revoke.Headers.Add("X-Subject-Token", token);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.SendAsync(revoke)).StatusCode);
        using var again = new HttpRequestMessage(HttpMethod.Get, "v3/auth/tokens");
        again.Headers.Add("X-Subject-Token", token);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Admin.SendAsync(again)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("v3/auth/catalog")).StatusCode);
    }

    // As Keystone on MariaDB (the seed's identity database): names match whatever their case, on every
    // database, and are unique that way.
    [Fact]
    public async Task Names_match_and_are_unique_case_insensitively()
    {
        var s = Guid.NewGuid().ToString("N")[..6];
        var domain = (await server.PostAsync("v3/domains", Body("domain", "Dom-" + s)))["domain"]!["id"]!.GetValue<string>();
        var project = (await server.PostAsync("v3/projects", Body("project", "Proj-" + s, domain)))["project"]!["id"]!.GetValue<string>();
        var user = (await server.PostAsync("v3/users", Body("user", "Alice-" + s, domain, password: "pw-" + s)))["user"]!["id"]!.GetValue<string>();
        await server.PostAsync("v3/groups", Body("group", "Grp-" + s, domain));
        var role = (await server.PostAsync("v3/roles", Body("role", "Role-" + s)))["role"]!["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.PutAsync($"v3/projects/{project}/users/{user}/roles/{role}", null)).StatusCode);

        // A second of each whose name differs only in case is a conflict.
        foreach (var (path, body) in new[]
        {
            ("v3/domains", Body("domain", "DOM-" + s)), ("v3/projects", Body("project", "proj-" + s, domain)),
            ("v3/users", Body("user", "ALICE-" + s, domain)), ("v3/groups", Body("group", "grp-" + s, domain)), ("v3/roles", Body("role", "ROLE-" + s)),
        })
        {
            var dup = await server.Admin.PostAsJsonAsync(path, body);
            Assert.Equal(HttpStatusCode.Conflict, dup.StatusCode);
            Assert.Equal(409, (await dup.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["code"]!.GetValue<int>());
        }
        // The bootstrap's "Default" domain found as "default", the user and project in any case.
        Assert.False(string.IsNullOrEmpty(await server.IssueTokenAsync("admin", IdentityServer.AdminPassword, project: "ADMIN", domain: "default")));
        var token = await server.IssueTokenAsync("alice-" + s, "pw-" + s, project: "PROJ-" + s, domain: "dom-" + s);
        using var validate = new HttpRequestMessage(HttpMethod.Get, "v3/auth/tokens?nocatalog");
        validate.Headers.Add("X-Subject-Token", token);
        var shown = (await (await server.Admin.SendAsync(validate)).Content.ReadFromJsonAsync<JsonObject>())!["token"]!;
        Assert.Equal("Alice-" + s, shown["user"]!["name"]!.GetValue<string>());
        Assert.Equal(project, shown["project"]!["id"]!.GetValue<string>());
        // List filters by name too.
        foreach (var (path, collection, id) in new[] { ($"v3/users?name=aLiCe-{s}", "users", user), ($"v3/roles?name=role-{s}", "roles", role), ($"v3/domains?name=DOM-{s}", "domains", domain) })
        {
            var listed = (await server.Admin.GetFromJsonAsync<JsonObject>(path))![collection]!.AsArray();
            Assert.Equal(id, listed.Single()!["id"]!.GetValue<string>());
        }
        // The real CLI, as scripts written for the seed's MariaDB log in: OS_USER_DOMAIN_NAME=default.
        var cli = await IdentityServer.OpenStackAsync(server.CliEnv("ADMIN", IdentityServer.AdminPassword, "admin", domain: "default"), "token", "issue");
        Assert.False(string.IsNullOrEmpty(cli["id"]!.GetValue<string>()));
        cli = await IdentityServer.OpenStackAsync(server.CliEnv("alice-" + s, "pw-" + s, "proj-" + s, domain: "DOM-" + s), "token", "issue");
        Assert.Equal(project, cli["project_id"]!.GetValue<string>());
        Assert.Equal(user, cli["user_id"]!.GetValue<string>());

        // A rename that changes only the case is no conflict with itself.
        var renamed = await server.Admin.PatchAsJsonAsync($"v3/users/{user}", new JsonObject { ["user"] = new JsonObject { ["name"] = "ALICE-" + s } });
        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
    }

    static JsonObject Body(string kind, string name, string? domain = null, string? password = null)
    {
        var o = new JsonObject { ["name"] = name };
        if (domain is not null) o["domain_id"] = domain;
        if (password is not null) o["password"] = password;
        return new JsonObject { [kind] = o };
    }

    [Fact]
    public async Task Regions_from_bootstrap_are_listed()
    {
        var regions = await server.Admin.GetFromJsonAsync<JsonObject>("v3/regions");
        Assert.Contains(regions!["regions"]!.AsArray(), r => r!["id"]!.GetValue<string>() == IdentityServer.Region);
    }
}

public sealed class SqliteBackendTests(IdentityServer server) : DatabaseBackendTests(server), IClassFixture<IdentityServer>;

public sealed class PostgresBackendTests(PostgresIdentityServer server) : DatabaseBackendTests(server), IClassFixture<PostgresIdentityServer>;
public sealed class MariaDbBackendTests(MariaDbIdentityServer server) : DatabaseBackendTests(server), IClassFixture<MariaDbIdentityServer>;
