using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Prometheus;
using Stratus.Core.Catalog;
using Stratus.Core.Operations;

namespace Stratus.Core.Auth;

/// <summary>
/// Validates user tokens as keystonemiddleware's auth_token does: <c>GET /v3/auth/tokens</c> on the
/// identity endpoint of the service's region (found in the service user's catalog), with the service's
/// own token, and a cache of the answers for <c>token_cache_time</c>. A valid token the identity can
/// no longer be asked about is still honoured from the cache until it expires.
/// </summary>
public sealed class TokenValidator(KeystoneSession session, ITokenCache cache, TimeProvider time, ILogger<TokenValidator> log,
    ServiceMetrics? metrics = null)
{
    readonly Counter? _hits = metrics?.Factory.CreateCounter("stratus_token_cache_hits_total",
        "Token validations answered from the token cache (token_cache_time).");
    readonly Counter? _misses = metrics?.Factory.CreateCounter("stratus_token_cache_misses_total",
        "Token validations the identity service was asked for.");

    public KeystoneAuthtokenOptions Options => session.Options;

    /// <summary>The caller, or null when the identity says the token is not valid.</summary>
    /// <exception cref="IdentityUnreachableException">The identity could not answer, and nothing usable is cached.</exception>
    public async Task<Caller?> ValidateAsync(string token, CancellationToken ct)
    {
        var key = cache.KeyOf(token);
        var now = time.GetUtcNow();
        var cached = await cache.GetAsync(key, ct);
        if (cached is not null && cached.FreshUntil > now && (!cached.IsValid || cached.ExpiresAt > now))
        {
            _hits?.Inc();
            return Parse(token, cached);
        }
        _misses?.Inc();
        try
        {
            var fresh = await AskIdentityAsync(token, ct);
            await cache.SetAsync(key, fresh, ct);
            return Parse(token, fresh);
        }
        catch (IdentityUnreachableException e) when (cached is { IsValid: true } && cached.ExpiresAt > now)
        {
            log.LogWarning("{Error}; serving a cached validation of a token that expires at {Expires:O}", e.Message, cached.ExpiresAt);
            return Parse(token, cached);
        }
    }

    /// <summary>The callers of the validations cached in this process, parsed once rather than at each request.</summary>
    static readonly ConditionalWeakTable<CachedValidation, Caller> Parsed = [];

    static Caller? Parse(string token, CachedValidation v)
    {
        if (v.Body is null) return null;
        if (Parsed.TryGetValue(v, out var known)) return known;
        var caller = Caller.FromTokenBody(token, JsonNode.Parse(v.Body) as JsonObject);
        if (caller is not null) Parsed.TryAdd(v, caller);
        return caller;
    }

    async Task<CachedValidation> AskIdentityAsync(string token, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var service = await session.GetTokenAsync(ct);
            string url;
            try
            {
                url = KeystoneLogin.V3Root(service.Catalog.EndpointFor("identity", Options.Interface, Options.RegionName, service.ProjectId))
                    + "/auth/tokens";
            }
            catch (EndpointNotFoundException e)
            {
                throw new IdentityUnreachableException(session.IdentityV3,
                    $"{e.Message} Check region_name and interface in {Options.Source}.");
            }
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Add("X-Auth-Token", service.Token);
            request.Headers.Add("X-Subject-Token", token);
            HttpResponseMessage response;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(30));
                response = await session.Http.SendAsync(request, timeout.Token);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                throw new IdentityUnreachableException(url, e.Message);
            }
            using (response)
            {
                var now = time.GetUtcNow();
                switch (response.StatusCode)
                {
                    case HttpStatusCode.OK:
                        var body = await response.Content.ReadAsStringAsync(ct);
                        var caller = Caller.FromTokenBody(token, JsonNode.Parse(body) as JsonObject)
                            ?? throw new IdentityUnreachableException(url, "its answer is not a token");
                        var freshUntil = Min(now + Options.TokenCacheTime, caller.ExpiresAt);
                        return new CachedValidation(body, freshUntil, caller.ExpiresAt);
                    case HttpStatusCode.NotFound:
                        return new CachedValidation(null, now + Options.TokenCacheTime, now + Options.TokenCacheTime);
                    case HttpStatusCode.Unauthorized when attempt == 0:
                        // Our own token was revoked or the keys rotated past it: log in again, once.
                        session.Invalidate(service);
                        continue;
                    case HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden:
                        throw new ServiceCredentialsRejectedException(
                            $"The identity service at {url} answered {(int)response.StatusCode} when the service user " +
                            $"'{Options.Username}' of {Options.Source} asked it to validate a token: the user needs the admin or service role on project '{Options.ProjectName}'.");
                    default:
                        throw new IdentityUnreachableException(url, $"it answered {(int)response.StatusCode} {response.ReasonPhrase}");
                }
            }
        }
    }

    static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
