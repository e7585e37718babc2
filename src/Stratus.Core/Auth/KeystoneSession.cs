using System.Collections.Concurrent;
using System.Net;
using Stratus.Core.Catalog;

namespace Stratus.Core.Auth;

/// <summary>
/// What keystoneauth's session with a password plugin is to an OpenStack service, and how it calls its
/// peers: it logs in to the identity at <c>auth_url</c> as the service user, keeps that token until shortly
/// before it expires, finds peer services in the token's catalog by type, interface and region, and sends
/// requests to them, logging in again once when a peer answers 401. The sessions of one process that log in
/// as the same user to the same project share their token: a node runs several services whose sections name
/// the same user (nova's <c>[keystone_authtoken]</c> and neutron's <c>[nova]</c>), and every login is a
/// password check at the identity (bcrypt, about 250 ms of a core).
/// </summary>
public sealed class KeystoneSession(KeystoneAuthtokenOptions options, HttpClient http)
{
    // keystoneauth renews a token this long before it expires.
    static readonly TimeSpan RenewBefore = TimeSpan.FromSeconds(120);

    readonly KeystoneLogin _identity = new(http, options.AuthUrl, options.HttpConnectTimeout + TimeSpan.FromSeconds(25));
    readonly SharedLogin _shared = Logins.GetOrAdd(new Credentials(KeystoneLogin.V3Root(options.AuthUrl), options.Username, options.UserDomainName,
        options.Password, options.ProjectName, options.ProjectDomainName), _ => new SharedLogin());

    static readonly ConcurrentDictionary<Credentials, SharedLogin> Logins = new();

    readonly record struct Credentials(string IdentityV3, string Username, string UserDomain, string Password, string Project, string ProjectDomain);

    /// <summary>The token of one user's login, and the lock that makes its sessions log in one at a time.</summary>
    sealed class SharedLogin
    {
        public readonly SemaphoreSlim Lock = new(1, 1);
        public ServiceToken? Current;
    }

    public KeystoneAuthtokenOptions Options => options;
    public HttpClient Http => http;

    /// <summary>The identity API root (…/v3) that <c>auth_url</c> names, versioned or not.</summary>
    public string IdentityV3 => _identity.IdentityV3;

    public async Task<ServiceToken> GetTokenAsync(CancellationToken ct = default)
    {
        var t = _shared.Current;
        if (t is not null && t.ExpiresAt - RenewBefore > DateTimeOffset.UtcNow) return t;
        await _shared.Lock.WaitAsync(ct);
        try
        {
            t = _shared.Current;
            if (t is not null && t.ExpiresAt - RenewBefore > DateTimeOffset.UtcNow) return t;
            return _shared.Current = await LoginAsync(ct);
        }
        finally
        {
            _shared.Lock.Release();
        }
    }

    /// <summary>Forgets the service token (the identity rejected it), so the next call, of any session sharing it, logs in again.</summary>
    public void Invalidate(ServiceToken rejected) => Interlocked.CompareExchange(ref _shared.Current, null, rejected);

    /// <summary>The URL of a peer service, found as keystoneauth finds it (see <see cref="ServiceCatalog"/>).</summary>
    public async Task<string> EndpointForAsync(string serviceType, string? @interface = null, string? region = null, CancellationToken ct = default)
    {
        var token = await GetTokenAsync(ct);
        return token.Catalog.EndpointFor(serviceType, @interface ?? options.Interface, region ?? options.RegionName, token.ProjectId);
    }

    /// <summary>A request to a peer, as the service user, in the session's interface and region.</summary>
    public Task<HttpResponseMessage> SendAsync(string serviceType, Func<Uri, HttpRequestMessage> build, CancellationToken ct = default) =>
        SendAsync(new PeerEndpoint(serviceType), build, HttpCompletionOption.ResponseContentRead, ct);

    /// <summary>
    /// A request to a peer as the service user: the peer's endpoint from the service user's catalog, the
    /// token in X-Auth-Token, and, when the peer answers 401 (it no longer accepts the token: revoked, or the
    /// identity's keys rotated past it), a new login and the request once more, as keystoneauth does.
    /// </summary>
    /// <param name="build">Makes the request from the peer's endpoint, which ends in a slash so that relative
    /// paths resolve under it; called again for the second attempt.</param>
    /// <exception cref="EndpointNotFoundException">The catalog has no such endpoint.</exception>
    /// <exception cref="IdentityUnreachableException">The service user could not log in.</exception>
    /// <exception cref="ServiceCredentialsRejectedException">The identity refused the service user.</exception>
    /// <exception cref="PeerUnreachableException">The peer did not answer.</exception>
    public async Task<HttpResponseMessage> SendAsync(PeerEndpoint peer, Func<Uri, HttpRequestMessage> build, HttpCompletionOption completion, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var token = await GetTokenAsync(ct);
            var response = await SendAsync(token.Token, token.Catalog, token.ProjectId, peer, build, completion, ct);
            if (response.StatusCode != HttpStatusCode.Unauthorized || attempt > 0) return response;
            response.Dispose();
            Invalidate(token);
        }
    }

    /// <summary>
    /// A request to a peer on behalf of a caller, with the caller's token and the endpoint from the caller's
    /// catalog, as Nova and Glance pass the request's context on. A 401 is the caller's: their token cannot be
    /// renewed here, so there is no second attempt.
    /// </summary>
    /// <exception cref="EndpointNotFoundException">The caller's catalog has no such endpoint.</exception>
    /// <exception cref="PeerUnreachableException">The peer did not answer.</exception>
    public Task<HttpResponseMessage> SendAsync(Caller caller, PeerEndpoint peer, Func<Uri, HttpRequestMessage> build, HttpCompletionOption completion, CancellationToken ct) =>
        SendAsync(caller.Token, caller.Catalog, caller.ProjectId, peer, build, completion, ct);

    async Task<HttpResponseMessage> SendAsync(string token, ServiceCatalog catalog, string? projectId, PeerEndpoint peer,
        Func<Uri, HttpRequestMessage> build, HttpCompletionOption completion, CancellationToken ct)
    {
        var endpoint = catalog.EndpointFor(peer.ServiceType, peer.Interface ?? options.Interface, peer.Region ?? options.RegionName, projectId).TrimEnd('/');
        using var request = build(new Uri(endpoint + "/"));
        request.Headers.Remove("X-Auth-Token");
        request.Headers.Add("X-Auth-Token", token);
        try
        {
            return await http.SendAsync(request, completion, ct);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            throw new PeerUnreachableException(peer.ServiceType, endpoint, e.Message);
        }
    }

    async Task<ServiceToken> LoginAsync(CancellationToken ct)
    {
        IssuedToken t;
        try
        {
            t = await _identity.PasswordAsync(new PasswordUser(options.Username, DomainRef.Named(options.UserDomainName), options.Password),
                LoginScope.Project(options.ProjectName, DomainRef.Named(options.ProjectDomainName)), withCatalog: true, ct);
        }
        catch (KeystoneLoginException e) when (e.Status == (int)HttpStatusCode.Unauthorized)
        {
            throw new ServiceCredentialsRejectedException(
                $"The identity service at {e.Url} answered 401 to the service user '{options.Username}' of {options.Source}: " +
                "check username, password, project_name, user_domain_name and project_domain_name there.");
        }
        catch (KeystoneLoginException e)
        {
            throw new IdentityUnreachableException(e.Url, e.Status switch
            {
                0 => e.Detail,
                < 300 => "its answer to the service user's login has no token",
                _ => $"it answered {e.Status} to the service user's login",
            });
        }
        return new ServiceToken(t.Id, t.ExpiresAt, t.ProjectId, t.Catalog);
    }
}

public sealed record ServiceToken(string Token, DateTimeOffset ExpiresAt, string? ProjectId, ServiceCatalog Catalog);

/// <summary>Which peer a request goes to, as keystoneauth's endpoint filter says it; null means the session's own interface and region.</summary>
public sealed record PeerEndpoint(string ServiceType, string? Interface = null, string? Region = null);

/// <summary>The identity service could not be reached, or answered as no identity service should.</summary>
public sealed class IdentityUnreachableException(string url, string why)
    : Exception($"The identity service at {url} could not be reached: {why}")
{
    public string Url { get; } = url;
}

/// <summary>The identity refused the service user's own credentials: a configuration error.</summary>
public sealed class ServiceCredentialsRejectedException(string message) : Exception(message);

/// <summary>A peer service found in the catalog did not answer.</summary>
public sealed class PeerUnreachableException(string serviceType, string endpoint, string why)
    : Exception($"The {serviceType} service at {endpoint} could not be reached: {why}")
{
    public string Endpoint { get; } = endpoint;
    public string Why { get; } = why;
}
