using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Stratus.Core.Catalog;

namespace Stratus.Core.Auth;

/// <summary>
/// What keystoneauth's session with a password plugin is to an OpenStack service: it logs in to the
/// identity at <c>auth_url</c> as the service user, keeps that token until shortly before it expires,
/// and finds peer services in the token's catalog by type, interface and region.
/// </summary>
public sealed class KeystoneSession(KeystoneAuthtokenOptions options, HttpClient http)
{
    // keystoneauth renews a token this long before it expires.
    static readonly TimeSpan RenewBefore = TimeSpan.FromSeconds(120);

    readonly SemaphoreSlim _login = new(1, 1);
    ServiceToken? _current;

    public KeystoneAuthtokenOptions Options => options;
    public HttpClient Http => http;

    /// <summary>The identity API root (…/v3) that <c>auth_url</c> names, versioned or not.</summary>
    public string IdentityV3 { get; } = V3Root(options.AuthUrl);

    public static string V3Root(string url)
    {
        var u = url.TrimEnd('/');
        return u.EndsWith("/v3", StringComparison.Ordinal) ? u : u + "/v3";
    }

    public async Task<ServiceToken> GetTokenAsync(CancellationToken ct = default)
    {
        var t = _current;
        if (t is not null && t.ExpiresAt - RenewBefore > DateTimeOffset.UtcNow) return t;
        await _login.WaitAsync(ct);
        try
        {
            t = _current;
            if (t is not null && t.ExpiresAt - RenewBefore > DateTimeOffset.UtcNow) return t;
            return _current = await LoginAsync(ct);
        }
        finally
        {
            _login.Release();
        }
    }

    /// <summary>Forgets the service token (the identity rejected it), so the next call logs in again.</summary>
    public void Invalidate(ServiceToken rejected) => Interlocked.CompareExchange(ref _current, null, rejected);

    /// <summary>The URL of a peer service, found as keystoneauth finds it (see <see cref="ServiceCatalog"/>).</summary>
    public async Task<string> EndpointForAsync(string serviceType, string? @interface = null, string? region = null, CancellationToken ct = default)
    {
        var token = await GetTokenAsync(ct);
        return token.Catalog.EndpointFor(serviceType, @interface ?? options.Interface, region ?? options.RegionName, token.ProjectId);
    }

    async Task<ServiceToken> LoginAsync(CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["auth"] = new JsonObject
            {
                ["identity"] = new JsonObject
                {
                    ["methods"] = new JsonArray("password"),
                    ["password"] = new JsonObject
                    {
                        ["user"] = new JsonObject
                        {
                            ["name"] = options.Username,
                            ["domain"] = new JsonObject { ["name"] = options.UserDomainName },
                            ["password"] = options.Password,
                        },
                    },
                },
                ["scope"] = new JsonObject
                {
                    ["project"] = new JsonObject
                    {
                        ["name"] = options.ProjectName,
                        ["domain"] = new JsonObject { ["name"] = options.ProjectDomainName },
                    },
                },
            },
        };
        var url = IdentityV3 + "/auth/tokens";
        HttpResponseMessage response;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(options.HttpConnectTimeout + TimeSpan.FromSeconds(25));
            response = await http.PostAsJsonAsync(url, body, timeout.Token);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            throw new IdentityUnreachableException(url, e.Message);
        }
        using (response)
        {
            if (response.StatusCode == HttpStatusCode.Unauthorized)
                throw new ServiceCredentialsRejectedException(
                    $"The identity service at {url} answered 401 to the service user '{options.Username}' of {options.Source}: " +
                    "check username, password, project_name, user_domain_name and project_domain_name there.");
            if (!response.IsSuccessStatusCode)
                throw new IdentityUnreachableException(url, $"it answered {(int)response.StatusCode} to the service user's login");
            var token = response.Headers.TryGetValues("X-Subject-Token", out var v) ? v.First() : null;
            var json = await response.Content.ReadFromJsonAsync<JsonObject>(ct);
            var t = json?["token"] as JsonObject;
            if (token is null || t is null) throw new IdentityUnreachableException(url, "its answer to the service user's login has no token");
            return new ServiceToken(token, DateTimeOffset.Parse((string)t["expires_at"]!, System.Globalization.CultureInfo.InvariantCulture),
                (string?)t["project"]?["id"], new ServiceCatalog(t["catalog"] as JsonArray ?? []));
        }
    }
}

public sealed record ServiceToken(string Token, DateTimeOffset ExpiresAt, string? ProjectId, ServiceCatalog Catalog);

/// <summary>The identity service could not be reached, or answered as no identity service should.</summary>
public sealed class IdentityUnreachableException(string url, string why)
    : Exception($"The identity service at {url} could not be reached: {why}")
{
    public string Url { get; } = url;
}

/// <summary>The identity refused the service user's own credentials: a configuration error.</summary>
public sealed class ServiceCredentialsRejectedException(string message) : Exception(message);
