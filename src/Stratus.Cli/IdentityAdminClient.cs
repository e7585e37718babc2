using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Stratus.Core.Auth;
using Stratus.Identity;

namespace Stratus.Cli;

/// <summary>
/// Registers a regional service in an identity on another node, through the identity API as the
/// admin (the install guide's <c>openstack user create</c>, <c>role add</c>, <c>service create</c>,
/// <c>endpoint create</c>), idempotently.
/// </summary>
sealed class IdentityAdminClient : IDisposable
{
    readonly HttpClient _http;

    IdentityAdminClient(string identityUrl, string token)
    {
        _http = new HttpClient { BaseAddress = new Uri(identityUrl.TrimEnd('/') + "/") };
        _http.DefaultRequestHeaders.Add("X-Auth-Token", token);
    }

    public void Dispose() => _http.Dispose();

    public static async Task RegisterAsync(string identityUrl, string adminPassword, ServiceRegistration r)
    {
        using var client = new IdentityAdminClient(identityUrl, await LoginAsync(identityUrl, adminPassword));
        await client.RegisterAsync(r);
    }

    static async Task<string> LoginAsync(string identityUrl, string password)
    {
        using var http = new HttpClient();
        var admin = DomainRef.ById("default");
        try
        {
            var token = await new KeystoneLogin(http, identityUrl).PasswordAsync(new PasswordUser("admin", admin, password),
                LoginScope.Project("admin", admin), withCatalog: false, CancellationToken.None);
            return token.Id;
        }
        catch (KeystoneLoginException e) when (e.Unreachable)
        {
            throw new UsageException($"the identity at {identityUrl} could not be reached: {e.Detail}");
        }
        catch (KeystoneLoginException e)
        {
            throw new UsageException($"the identity at {identityUrl} refused the admin's login ({e.Status}): check --password");
        }
    }

    async Task RegisterAsync(ServiceRegistration r)
    {
        if (r.Username is not null && r.Password is not null) await EnsureServiceUserAsync(r.Username, r.Password);
        using (var region = await _http.GetAsync($"regions/{Uri.EscapeDataString(r.Region)}"))
            if (region.StatusCode == HttpStatusCode.NotFound)
                await SendAsync(HttpMethod.Post, "regions", new JsonObject { ["region"] = new JsonObject { ["id"] = r.Region } });
        var service = await FindOrCreateAsync("services", "service", $"?type={Uri.EscapeDataString(r.Type)}",
            new JsonObject { ["type"] = r.Type, ["name"] = r.Name, ["description"] = r.Description });
        var existing = (await GetAsync($"endpoints?service_id={service}&region_id={Uri.EscapeDataString(r.Region)}"))["endpoints"]!.AsArray();
        foreach (var iface in new[] { "public", "internal", "admin" })
        {
            var endpoint = existing.FirstOrDefault(e => (string?)e!["interface"] == iface);
            if (endpoint is null)
                await SendAsync(HttpMethod.Post, "endpoints", new JsonObject
                {
                    ["endpoint"] = new JsonObject { ["service_id"] = service, ["interface"] = iface, ["region_id"] = r.Region, ["url"] = r.Url },
                });
            else if ((string?)endpoint["url"] != r.Url)
                await SendAsync(HttpMethod.Patch, $"endpoints/{endpoint["id"]}", new JsonObject { ["endpoint"] = new JsonObject { ["url"] = r.Url } });
        }
    }

    async Task EnsureServiceUserAsync(string username, string password)
    {
        var project = await FindOrCreateAsync("projects", "project", "?name=service&domain_id=default",
            new JsonObject { ["name"] = "service", ["domain_id"] = "default", ["description"] = "Service Project" });
        var user = await FindOrCreateAsync("users", "user", $"?name={Uri.EscapeDataString(username)}&domain_id=default",
            new JsonObject { ["name"] = username, ["domain_id"] = "default", ["password"] = password });
        await SendAsync(HttpMethod.Patch, $"users/{user}", new JsonObject { ["user"] = new JsonObject { ["password"] = password } });
        var admin = await FindAsync("roles", "?name=admin") ?? throw new UsageException("the identity has no admin role: run bootstrap first");
        await SendAsync(HttpMethod.Put, $"projects/{project}/users/{user}/roles/{admin}", null);
    }

    async Task<string?> FindAsync(string collection, string query)
    {
        var list = (await GetAsync(collection + query))[collection]!.AsArray();
        return list.Count == 0 ? null : (string?)list[0]!["id"];
    }

    async Task<string> FindOrCreateAsync(string collection, string member, string query, JsonObject create) =>
        await FindAsync(collection, query)
        ?? (string)(await SendAsync(HttpMethod.Post, collection, new JsonObject { [member] = create }))![member]!["id"]!;

    async Task<JsonObject> GetAsync(string path) =>
        (JsonObject)(await SendAsync(HttpMethod.Get, path, null))!;

    async Task<JsonNode?> SendAsync(HttpMethod method, string path, JsonObject? body)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
            throw new UsageException($"the identity answered {(int)response.StatusCode} to {method} {path}: {text}");
        return text.Length == 0 ? null : JsonNode.Parse(text);
    }
}
