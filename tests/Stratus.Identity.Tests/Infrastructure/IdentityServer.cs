using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Identity.Tokens;

namespace Stratus.Identity.Tests.Infrastructure;

/// <summary>
/// A real identity service for tests: Kestrel on 127.0.0.1 (a free port), a fresh SQLite database and
/// Fernet key repository in a temporary directory, bootstrapped like <c>keystone-manage bootstrap</c>.
/// Use as <c>IClassFixture&lt;IdentityServer&gt;</c>.
/// </summary>
public class IdentityServer : IAsyncLifetime
{
    public const string AdminPassword = "s3cret-admin";
    public const string Region = "RegionOne";

    readonly string _dir = Directory.CreateTempSubdirectory("stratus-identity-").FullName;
    WebApplication? _app;

    public string BaseUrl { get; private set; } = "";
    public IdentityOptions Options { get; private set; } = null!;

    /// <summary>No token.</summary>
    public HttpClient Anonymous { get; private set; } = null!;

    /// <summary>The bootstrap admin, scoped to the admin project.</summary>
    public HttpClient Admin { get; private set; } = null!;

    public string AdminToken { get; private set; } = "";

    /// <summary>The server's clock (the key repository's re-checks); a test may pass a fake one and advance it.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>The database the server uses: SQLite in the temporary directory unless overridden.</summary>
    protected virtual Task<string> CreateDatabaseAsync(string dir) => Task.FromResult($"sqlite:///{Path.Combine(dir, "keystone.db")}");

    protected virtual Task DropDatabaseAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        Options = new IdentityOptions
        {
            ConfigPath = Path.Combine(_dir, "keystone.conf"),
            DatabaseConnection = await CreateDatabaseAsync(_dir),
            KeyRepository = Path.Combine(_dir, "fernet-keys"),
            BindHost = "127.0.0.1",
            BindPort = 0,
            // Tests create many users: a cheaper bcrypt cost keeps them fast; production uses 12.
            PasswordHashRounds = 4,
        };
        await IdentityService.SyncDatabaseAsync(Options);
        new FernetKeyRepository(Options.KeyRepository).Setup();
        _app = IdentityService.Build(Options, b => b.Services.AddSingleton(Time));
        await using (var scope = _app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<global::Stratus.Identity.Data.IdentityDb>();
            await Bootstrap.RunAsync(db, new BootstrapArgs { Password = AdminPassword, RegionId = Region }, Options.PasswordHashRounds);
        }
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseUrl = address.TrimEnd('/');
        await using (var scope = _app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<global::Stratus.Identity.Data.IdentityDb>();
            var url = BaseUrl + "/v3/";
            await Bootstrap.RunAsync(db, new BootstrapArgs { Password = AdminPassword, RegionId = Region, AdminUrl = url, InternalUrl = url, PublicUrl = url }, Options.PasswordHashRounds);
        }
        Anonymous = NewClient(null);
        AdminToken = await IssueTokenAsync("admin", AdminPassword, project: "admin");
        Admin = NewClient(AdminToken);
    }

    /// <summary>Stops serving (the identity becomes unreachable), for tests of its clients.</summary>
    public async Task StopAsync() => await _app!.StopAsync();

    public HttpClient NewClient(string? token)
    {
        var c = new HttpClient { BaseAddress = new Uri(BaseUrl + "/") };
        if (token is not null) c.DefaultRequestHeaders.Add("X-Auth-Token", token);
        c.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return c;
    }

    /// <summary>A password token for a user of the Default domain (or <paramref name="domain"/>), scoped as asked.</summary>
    public async Task<string> IssueTokenAsync(string user, string password, string? project = null, string? domainScope = null, bool system = false, string domain = "Default")
    {
        var auth = new JsonObject
        {
            ["identity"] = new JsonObject
            {
                ["methods"] = new JsonArray("password"),
                ["password"] = new JsonObject
                {
                    ["user"] = new JsonObject { ["name"] = user, ["domain"] = new JsonObject { ["name"] = domain }, ["password"] = password },
                },
            },
        };
        if (project is not null)
            auth["scope"] = new JsonObject { ["project"] = new JsonObject { ["name"] = project, ["domain"] = new JsonObject { ["name"] = domain } } };
        else if (domainScope is not null)
            auth["scope"] = new JsonObject { ["domain"] = new JsonObject { ["name"] = domainScope } };
        else if (system)
            auth["scope"] = new JsonObject { ["system"] = new JsonObject { ["all"] = true } };
        var resp = await Anonymous.PostAsJsonAsync("v3/auth/tokens", new JsonObject { ["auth"] = auth });
        var text = await resp.Content.ReadAsStringAsync();
        if ((int)resp.StatusCode != 201) throw new InvalidOperationException($"token issue for {user} failed: {(int)resp.StatusCode} {text}");
        return resp.Headers.GetValues("X-Subject-Token").Single();
    }

    /// <summary>Creates a user with a role on a new project and returns a client with its project token.</summary>
    public async Task<(HttpClient Client, string UserId, string ProjectId)> NewProjectUserAsync(string role = "member")
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var project = await PostAsync("v3/projects", new JsonObject { ["project"] = new JsonObject { ["name"] = "p-" + suffix, ["domain_id"] = "default" } });
        var projectId = project["project"]!["id"]!.GetValue<string>();
        var user = await PostAsync("v3/users", new JsonObject { ["user"] = new JsonObject { ["name"] = "u-" + suffix, ["password"] = "pw-" + suffix, ["domain_id"] = "default" } });
        var userId = user["user"]!["id"]!.GetValue<string>();
        var roles = await Admin.GetFromJsonAsync<JsonObject>($"v3/roles?name={role}");
        var roleId = roles!["roles"]![0]!["id"]!.GetValue<string>();
        var put = await Admin.PutAsync($"v3/projects/{projectId}/users/{userId}/roles/{roleId}", null);
        if ((int)put.StatusCode != 204) throw new InvalidOperationException($"role grant failed: {(int)put.StatusCode}");
        var token = await IssueTokenAsync("u-" + suffix, "pw-" + suffix, project: "p-" + suffix);
        return (NewClient(token), userId, projectId);
    }

    /// <summary>POST as admin, expecting 201, returning the body.</summary>
    public async Task<JsonObject> PostAsync(string path, JsonObject body)
    {
        var resp = await Admin.PostAsJsonAsync(path, body);
        var text = await resp.Content.ReadAsStringAsync();
        if ((int)resp.StatusCode != 201) throw new InvalidOperationException($"POST {path} failed: {(int)resp.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public virtual async Task DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
        Anonymous?.Dispose();
        Admin?.Dispose();
        await DropDatabaseAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
