using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Stratus.Identity.Tests.Infrastructure;

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
