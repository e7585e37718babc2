using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Stratus.Identity;

namespace Stratus.Testing;

/// <summary>
/// A real identity service for tests: a node hosting only the identity, initialised as <c>node init</c>
/// does it (its SQLite database, Fernet keys and <c>keystone-manage bootstrap</c> of <see cref="Region"/>),
/// on port 5000 of an address of its own. Use as <c>IClassFixture&lt;IdentityServer&gt;</c>.
/// </summary>
public class IdentityServer : IAsyncLifetime
{
    public const string AdminPassword = TestNode.AdminPassword;
    public const string Region = TestNode.Region;

    public TestNode Node { get; private set; } = null!;
    public string BaseUrl { get; private set; } = "";
    public IdentityOptions Options { get; private set; } = null!;

    /// <summary>No token.</summary>
    public HttpClient Anonymous { get; private set; } = null!;

    /// <summary>The bootstrap admin, scoped to the admin project.</summary>
    public HttpClient Admin { get; private set; } = null!;

    public string AdminToken { get; private set; } = "";

    /// <summary>The server's clock (the key repository's re-checks); a test may pass a fake one and advance it.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>keystone.conf's <c>[database] connection</c>, before init bootstraps it; null keeps the node's SQLite file.</summary>
    protected virtual Task<string?> CreateDatabaseAsync() => Task.FromResult<string?>(null);

    protected virtual Task DropDatabaseAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        var database = await CreateDatabaseAsync();
        Node = await TestNode.InitAsync(TestNode.Services(m => m is IdentityModule), TestNode.NewSpec(database is null ? null
            : new Dictionary<string, string> { [IdentityModule.KeystoneConf] = $"[database]\nconnection = {database}\n" }));
        Node.Time = Time;
        await Node.StartAsync();
        Options = Node.Options<IdentityOptions>();
        BaseUrl = $"http://{Options.BindHost}:{Options.BindPort}";
        Anonymous = NewClient(null);
        AdminToken = await IssueTokenAsync("admin", AdminPassword, project: "admin");
        Admin = NewClient(AdminToken);
    }

    /// <summary>Stops serving (the identity becomes unreachable), for tests of its clients.</summary>
    public Task StopAsync() => Node.StopAsync();

    public HttpClient NewClient(string? token) => TestHttp.Client(BaseUrl, token);

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

    /// <summary>The project a project-scoped token is scoped to.</summary>
    public async Task<string> ProjectIdAsync(string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v3/auth/tokens");
        request.Headers.Add("X-Subject-Token", token);
        using var response = await Admin.SendAsync(request);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        return (string)body!["token"]!["project"]!["id"]!;
    }

    /// <summary>
    /// The environment of the real <c>openstack</c> CLI acting as <paramref name="user"/> (the admin by
    /// default), scoped to <paramref name="project"/> unless null, users and projects in <paramref name="domain"/>.
    /// </summary>
    public Dictionary<string, string> CliEnv(string user = "admin", string password = AdminPassword, string? project = "admin", string domain = "Default")
    {
        var env = new Dictionary<string, string>
        {
            ["OS_AUTH_URL"] = BaseUrl + "/v3", ["OS_USERNAME"] = user, ["OS_PASSWORD"] = password, ["OS_USER_DOMAIN_NAME"] = domain,
            ["OS_REGION_NAME"] = Region, ["OS_IDENTITY_API_VERSION"] = "3", ["OS_INTERFACE"] = "public",
        };
        if (project is not null)
        {
            env["OS_PROJECT_NAME"] = project;
            env["OS_PROJECT_DOMAIN_NAME"] = domain;
        }
        return env;
    }

    /// <summary>Runs <c>openstack ARGS -f json</c> with <paramref name="env"/> and returns what it printed; fails on a non-zero exit.</summary>
    public static async Task<JsonNode> OpenStackAsync(IDictionary<string, string> env, params string[] args) =>
        (await ProcessRunner.RunAsync("openstack", [.. args, "-f", "json"], env)).EnsureSuccess("openstack " + string.Join(' ', args)).Json;
    /// <summary>The environment the real <c>openstack</c> CLI needs to act as the admin in the region.</summary>
    public IDictionary<string, string> AdminEnv() => CliEnv();

    /// <summary>Runs <c>openstack ... -f json</c> as the admin and returns what it printed; fails on a non-zero exit.</summary>
    public Task<JsonNode> OpenStackAsync(params string[] args) => OpenStackAsync(AdminEnv(), args);

    /// <summary>POST as admin, expecting 201, returning the body.</summary>
    public async Task<JsonObject> PostAsync(string path, JsonObject body)
    {
        var resp = await Admin.PostAsJsonAsync(path, body);
        var text = await resp.Content.ReadAsStringAsync();
        if ((int)resp.StatusCode != 201) throw new InvalidOperationException($"POST {path} failed: {(int)resp.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public async Task DisposeAsync()
    {
        if (Node is not null) await Node.DisposeAsync();
        Anonymous?.Dispose();
        Admin?.Dispose();
        await DropDatabaseAsync();
    }
}
