using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Stratus.Core.Auth;

namespace Stratus.Core.Modules;

/// <summary>
/// Registers services in an identity through its API as the admin (the install guide's
/// <c>openstack user create</c>, <c>role add</c>, <c>service create</c>, <c>endpoint create</c>),
/// idempotently: how a node registers in the shared identity on another node. With a <paramref name="dryRun"/>
/// writer it only reads, and writes there each call that would change something (passwords left out).
/// </summary>
public sealed class IdentityApiRegistry(string identityUrl, string adminPassword, TextWriter? dryRun = null) : ICatalogRegistry
{
    readonly HashSet<string> _planned = [];
    /// <summary>The existing service users whose password this registry has checked (a service registers several entries).</summary>
    readonly HashSet<string> _passwordsChecked = [];

    public async Task RegisterAsync(ServiceRegistration r, CancellationToken ct = default)
    {
        using var http = await ClientAsync(ct);
        if (r.Username is not null && r.Password is not null) await EnsureServiceUserAsync(http, r.Username, r.Password, ct);
        using (var region = await http.GetAsync($"regions/{Uri.EscapeDataString(r.Region)}", ct))
            if (region.StatusCode == HttpStatusCode.NotFound)
                await SendAsync(http, HttpMethod.Post, "regions", new JsonObject { ["region"] = new JsonObject { ["id"] = r.Region } }, ct);
        var service = await FindOrCreateAsync(http, "services", "service", $"?type={Uri.EscapeDataString(r.Type)}",
            new JsonObject { ["type"] = r.Type, ["name"] = r.Name, ["description"] = r.Description }, ct);
        var existing = (await GetAsync(http, $"endpoints?service_id={service}&region_id={Uri.EscapeDataString(r.Region)}", ct))["endpoints"]!.AsArray();
        foreach (var iface in new[] { "public", "internal", "admin" })
        {
            var endpoint = existing.FirstOrDefault(e => (string?)e!["interface"] == iface);
            if (endpoint is null)
                await SendAsync(http, HttpMethod.Post, "endpoints", new JsonObject
                {
                    ["endpoint"] = new JsonObject { ["service_id"] = service, ["interface"] = iface, ["region_id"] = r.Region, ["url"] = r.Url },
                }, ct);
            else if ((string?)endpoint["url"] != r.Url)
                await SendAsync(http, HttpMethod.Patch, $"endpoints/{endpoint["id"]}", new JsonObject { ["endpoint"] = new JsonObject { ["url"] = r.Url } }, ct);
        }
    }

    /// <summary>
    /// Takes a region's service out of the catalog: its endpoints in that region and, when asked, its service user
    /// (the region's own user; a user the regions share stays). The service itself stays for the other regions.
    /// </summary>
    public async Task UnregisterAsync(ServiceRegistration r, bool deleteUser, CancellationToken ct = default)
    {
        using var http = await ClientAsync(ct);
        if (await FindAsync(http, "services", $"?type={Uri.EscapeDataString(r.Type)}", ct) is { } service)
            foreach (var endpoint in (await GetAsync(http, $"endpoints?service_id={service}&region_id={Uri.EscapeDataString(r.Region)}", ct))["endpoints"]!.AsArray())
                await SendAsync(http, HttpMethod.Delete, $"endpoints/{endpoint!["id"]}", null, ct);
        if (deleteUser && r.Username is not null && await FindAsync(http, "users", $"?name={Uri.EscapeDataString(r.Username)}&domain_id=default", ct) is { } user)
            await SendAsync(http, HttpMethod.Delete, $"users/{user}", null, ct);
    }

    /// <summary>
    /// Deletes a region, with its identity endpoints, once no other service has endpoints there (while a compute node
    /// leaves, its controller's services keep the region).
    /// </summary>
    public async Task DeleteRegionIfUnusedAsync(string region, CancellationToken ct = default)
    {
        using var http = await ClientAsync(ct);
        using var found = await http.GetAsync($"regions/{Uri.EscapeDataString(region)}", ct);
        if (!found.IsSuccessStatusCode) return;
        var identity = await FindAsync(http, "services", "?type=identity", ct);
        var endpoints = (await GetAsync(http, $"endpoints?region_id={Uri.EscapeDataString(region)}", ct))["endpoints"]!.AsArray();
        if (endpoints.Any(e => (string?)e!["service_id"] != identity)) return;
        foreach (var endpoint in endpoints) await SendAsync(http, HttpMethod.Delete, $"endpoints/{endpoint!["id"]}", null, ct);
        await SendAsync(http, HttpMethod.Delete, $"regions/{Uri.EscapeDataString(region)}", null, ct);
    }

    async Task<HttpClient> ClientAsync(CancellationToken ct)
    {
        var http = new HttpClient { BaseAddress = new Uri(identityUrl.TrimEnd('/') + "/") };
        http.DefaultRequestHeaders.Add("X-Auth-Token", await LoginAsync(ct));
        return http;
    }

    async Task<string> LoginAsync(CancellationToken ct)
    {
        var admin = DomainRef.ById("default");
        try
        {
            return (await PasswordLoginAsync(new PasswordUser("admin", admin, adminPassword), LoginScope.Project("admin", admin), ct)).Id;
        }
        catch (KeystoneLoginException e) when (e.Unreachable)
        {
            throw new RegistrationException($"the identity at {identityUrl} could not be reached: {e.Detail}");
        }
        catch (KeystoneLoginException e)
        {
            throw new RegistrationException($"the identity at {identityUrl} refused the admin's login ({e.Status}): check --password");
        }
    }

    async Task EnsureServiceUserAsync(HttpClient http, string username, string password, CancellationToken ct)
    {
        var project = await FindOrCreateAsync(http, "projects", "project", "?name=service&domain_id=default",
            new JsonObject { ["name"] = "service", ["domain_id"] = "default", ["description"] = "Service Project" }, ct);
        // A user made here has its password; one that was there gets it set only if it does not log in with it
        // already: a password change revokes the user's tokens, those of the service's running sessions among them.
        var user = await FindAsync(http, "users", $"?name={Uri.EscapeDataString(username)}&domain_id=default", ct);
        if (user is null)
            user = await CreateAsync(http, "users", "user", new JsonObject { ["name"] = username, ["domain_id"] = "default", ["password"] = password }, ct);
        else if (_passwordsChecked.Add(username) && !await LogsInAsync(username, password, ct))
            await SendAsync(http, HttpMethod.Patch, $"users/{user}", new JsonObject { ["user"] = new JsonObject { ["password"] = password } }, ct);
        var admin = await FindAsync(http, "roles", "?name=admin", ct) ?? throw new RegistrationException("the identity has no admin role: run bootstrap first");
        await SendAsync(http, HttpMethod.Put, $"projects/{project}/users/{user}/roles/{admin}", null, ct);
    }

    async Task<IssuedToken> PasswordLoginAsync(PasswordUser user, LoginScope scope, CancellationToken ct)
    {
        using var http = new HttpClient();
        return await new KeystoneLogin(http, identityUrl).PasswordAsync(user, scope, withCatalog: false, ct);
    }

    async Task<bool> LogsInAsync(string username, string password, CancellationToken ct)
    {
        try
        {
            await PasswordLoginAsync(new PasswordUser(username, DomainRef.ById("default"), password), LoginScope.Unscoped, ct);
            return true;
        }
        catch (KeystoneLoginException e) when (e.Status == (int)HttpStatusCode.Unauthorized)
        {
            return false;
        }
    }

    async Task<string?> FindAsync(HttpClient http, string collection, string query, CancellationToken ct)
    {
        var list = (await GetAsync(http, collection + query, ct))[collection]!.AsArray();
        return list.Count == 0 ? null : (string?)list[0]!["id"];
    }

    async Task<string> FindOrCreateAsync(HttpClient http, string collection, string member, string query, JsonObject create, CancellationToken ct) =>
        await FindAsync(http, collection, query, ct) ?? await CreateAsync(http, collection, member, create, ct);

    async Task<string> CreateAsync(HttpClient http, string collection, string member, JsonObject create, CancellationToken ct) =>
        (string)(await SendAsync(http, HttpMethod.Post, collection, new JsonObject { [member] = create }, ct))![member]!["id"]!;

    async Task<JsonObject> GetAsync(HttpClient http, string path, CancellationToken ct) =>
        (JsonObject)(await SendAsync(http, HttpMethod.Get, path, null, ct))!;

    async Task<JsonNode?> SendAsync(HttpClient http, HttpMethod method, string path, JsonObject? body, CancellationToken ct)
    {
        if (dryRun is not null && method != HttpMethod.Get)
        {
            // Each change once, though several services would make it (their region, a shared user).
            var line = $"{method} {http.BaseAddress}{path}{(body is null ? "" : " " + WithoutPasswords(body).ToJsonString())}";
            if (_planned.Add(line)) await dryRun.WriteLineAsync(line);
            // What a create would answer, enough for the calls that follow it: the new member with an id to name it by.
            return body is { Count: 1 } && body.First() is { Value: JsonObject created } member
                ? new JsonObject { [member.Key] = new JsonObject { ["id"] = $"new-{member.Key}-{(string?)created["name"] ?? (string?)created["id"]}" } }
                : null;
        }
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
            throw new RegistrationException($"the identity answered {(int)response.StatusCode} to {method} {path}: {text}");
        return text.Length == 0 ? null : JsonNode.Parse(text);
    }

    static JsonObject WithoutPasswords(JsonObject body)
    {
        var copy = body.DeepClone().AsObject();
        foreach (var member in copy.Select(p => p.Value).OfType<JsonObject>())
            if (member.ContainsKey("password")) member["password"] = "***";
        return copy;
    }
}

/// <summary>The identity refused a registration: the message says what it answered and what to check.</summary>
public sealed class RegistrationException(string message) : Exception(message);
