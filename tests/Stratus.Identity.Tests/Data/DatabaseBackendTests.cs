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
