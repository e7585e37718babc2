using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Memory;
using Stratus.Core.Auth;
using Stratus.Core.Catalog;

namespace Stratus.Dashboard.OpenStack;

/// <summary>A project-scoped token as the identity issued it.</summary>
public sealed record ScopedToken(string Token, DateTimeOffset ExpiresAt, string UserId, string ProjectId, string ProjectName, IReadOnlyList<string> Roles, ServiceCatalog Catalog);

/// <summary>
/// The dashboard's side of the shared identity (Horizon's django_openstack_auth): password login, the
/// user's projects, rescoping, revocation and the token's catalog, all over Keystone's v3 API at
/// OPENSTACK_KEYSTONE_URL.
/// </summary>
public sealed class KeystoneClient(DashboardOptions options, HttpClient http, IMemoryCache cache)
{
    KeystoneLogin? _login;

    KeystoneLogin Login => _login ??= new KeystoneLogin(http, options.KeystoneUrl!);

    string V3 => Login.IdentityV3;

    /// <summary>An unscoped token for the user's password (the password goes no further than this call).</summary>
    public async Task<string> LoginAsync(string domain, string username, string password, CancellationToken ct)
    {
        try
        {
            return (await Login.PasswordAsync(new PasswordUser(username, DomainRef.Named(domain), password), LoginScope.Unscoped, withCatalog: false, ct)).Id;
        }
        catch (KeystoneLoginException e) when (e.Status == 401)
        {
            throw new CloudException(401, "Invalid credentials.");
        }
        catch (KeystoneLoginException e)
        {
            throw Failure(e);
        }
    }

    /// <summary>GET /v3/auth/projects: the projects the user can scope a token to.</summary>
    public async Task<IReadOnlyList<(string Id, string Name)>> ProjectsAsync(string token, CancellationToken ct)
    {
        var json = await GetAsync("/auth/projects", token, ct);
        return (json["projects"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(p => ((string)p["id"]!, (string?)p["name"] ?? (string)p["id"]!))
            .OrderBy(p => p.Item2, StringComparer.Ordinal).ToList();
    }

    /// <summary>Rescopes the unscoped token to a project (the token method), as Horizon does on login and on a project switch.</summary>
    public async Task<ScopedToken> ScopeAsync(string unscopedToken, string projectId, CancellationToken ct)
    {
        IssuedToken t;
        try
        {
            t = await Login.RescopeAsync(unscopedToken, LoginScope.ProjectById(projectId), ct);
        }
        catch (KeystoneLoginException e)
        {
            throw Failure(e);
        }
        var raw = t.RawCatalog;
        cache.Set(CatalogKey(t.Id), (JsonArray)raw.DeepClone(), TimeSpan.FromMinutes(5));
        var body = t.Body;
        return new ScopedToken(t.Id, t.ExpiresAt, (string?)body["user"]?["id"] ?? "", (string)body["project"]!["id"]!, (string?)body["project"]!["name"] ?? "",
            (body["roles"] as JsonArray ?? []).Select(r => (string?)r?["name"]).OfType<string>().ToList(), new ServiceCatalog(raw));
    }

    CloudException Failure(KeystoneLoginException e) => e.Status switch
    {
        0 => new CloudException(0, $"The identity service at {V3} could not be reached: {e.Detail}"),
        < 300 => new CloudException(502, "The identity service answered without a token."),
        _ => new CloudException(e.Status, CloudException.MessageOf(e.Status, e.Detail)),
    };

    /// <summary>DELETE /v3/auth/tokens: the token stops validating everywhere.</summary>
    public async Task RevokeAsync(string token, CancellationToken ct)
    {
        cache.Remove(CatalogKey(token));
        using var request = new HttpRequestMessage(HttpMethod.Delete, V3 + "/auth/tokens");
        request.Headers.Add("X-Auth-Token", token);
        request.Headers.Add("X-Subject-Token", token);
        using var response = await SendAsync(request, ct);
        // Already invalid (404) is as good as revoked.
        if ((int)response.StatusCode != 404) await EnsureSuccessAsync(response, ct);
    }

    /// <summary>The token's catalog (GET /v3/auth/catalog), cached a few minutes per token.</summary>
    public async Task<(ServiceCatalog Catalog, JsonArray Raw)> CatalogAsync(string token, CancellationToken ct)
    {
        var key = CatalogKey(token);
        if (!cache.TryGetValue(key, out JsonArray? raw) || raw is null)
        {
            raw = (await GetAsync("/auth/catalog", token, ct))["catalog"] as JsonArray ?? [];
            cache.Set(key, raw, TimeSpan.FromMinutes(5));
        }
        return (new ServiceCatalog(raw), raw);
    }

    /// <summary>A GET on the identity API with the user's token.</summary>
    public async Task<JsonObject> GetAsync(string path, string token, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Get, path, token, null, ct);
        await EnsureSuccessAsync(response, ct);
        return await response.Content.ReadFromJsonAsync<JsonObject>(ct) ?? [];
    }

    Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, JsonNode? body, CancellationToken ct)
    {
        var request = new HttpRequestMessage(method, V3 + path);
        if (token is not null) request.Headers.Add("X-Auth-Token", token);
        if (body is not null) request.Content = JsonContent.Create(body);
        return SendAsync(request, ct);
    }

    async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        try
        {
            return await http.SendAsync(request, ct);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            throw new CloudException(0, $"The identity service at {V3} could not be reached: {e.Message}");
        }
        finally
        {
            request.Dispose();
        }
    }

    internal static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        var text = await response.Content.ReadAsStringAsync(ct);
        throw new CloudException((int)response.StatusCode, CloudException.MessageOf((int)response.StatusCode, text));
    }

    static string CatalogKey(string token) => "catalog:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
