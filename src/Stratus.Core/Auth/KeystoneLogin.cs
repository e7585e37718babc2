using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Stratus.Core.Catalog;

namespace Stratus.Core.Auth;

/// <summary>
/// Asking the identity for a token (<c>POST /v3/auth/tokens</c>) as keystoneauth's v3 password and token
/// plugins do: the one place that writes the request and reads X-Subject-Token, expires_at and the catalog.
/// A failure is a <see cref="KeystoneLoginException"/> saying how it failed; each caller words it for its
/// reader (the operator's config file, the dashboard's user, the CLI's admin).
/// </summary>
/// <param name="timeout">How long to wait for the identity's answer, beyond the client's own timeout.</param>
public sealed class KeystoneLogin(HttpClient http, string authUrl, TimeSpan? timeout = null)
{
    /// <summary>The identity API root (…/v3) that <c>auth_url</c> names, versioned or not.</summary>
    public string IdentityV3 { get; } = V3Root(authUrl);

    public string TokensUrl => IdentityV3 + "/auth/tokens";

    public static string V3Root(string url)
    {
        var u = url.TrimEnd('/');
        return u.EndsWith("/v3", StringComparison.Ordinal) ? u : u + "/v3";
    }

    /// <summary>The password method; <paramref name="withCatalog"/> false asks for no catalog (<c>?nocatalog</c>).</summary>
    public Task<IssuedToken> PasswordAsync(PasswordUser user, LoginScope scope, bool withCatalog, CancellationToken ct) =>
        IssueAsync(new JsonObject
        {
            ["methods"] = new JsonArray("password"),
            ["password"] = new JsonObject
            {
                ["user"] = new JsonObject { ["name"] = user.Name, ["domain"] = user.Domain.ToJson(), ["password"] = user.Password },
            },
        }, scope, withCatalog, ct);

    /// <summary>The token method: a new token for another scope (Horizon's project switch).</summary>
    public Task<IssuedToken> RescopeAsync(string token, LoginScope scope, CancellationToken ct) =>
        IssueAsync(new JsonObject
        {
            ["methods"] = new JsonArray("token"),
            ["token"] = new JsonObject { ["id"] = token },
        }, scope, withCatalog: true, ct);

    async Task<IssuedToken> IssueAsync(JsonObject identity, LoginScope scope, bool withCatalog, CancellationToken ct)
    {
        var auth = new JsonObject { ["identity"] = identity };
        if (scope.ToJson() is { } s) auth["scope"] = s;
        var url = TokensUrl;
        using var request = new HttpRequestMessage(HttpMethod.Post, withCatalog ? url : url + "?nocatalog")
        {
            Content = JsonContent.Create(new JsonObject { ["auth"] = auth }),
        };
        HttpResponseMessage response;
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            if (timeout is { } t) deadline.CancelAfter(t);
            response = await http.SendAsync(request, deadline.Token);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            throw new KeystoneLoginException(url, 0, e.Message);
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            var status = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode) throw new KeystoneLoginException(url, status, text);
            var id = response.Headers.TryGetValues("X-Subject-Token", out var v) ? v.FirstOrDefault() : null;
            var body = ParseToken(text);
            if (id is null || body is null
                || !DateTimeOffset.TryParse((string?)body["expires_at"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expires))
                throw new KeystoneLoginException(url, status, "the answer has no token");
            return new IssuedToken(id, expires, body);
        }
    }

    static JsonObject? ParseToken(string text)
    {
        try
        {
            return JsonNode.Parse(text)?["token"] as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>A domain as the identity API names one: by id or by name.</summary>
public sealed record DomainRef
{
    DomainRef() { }

    public string? Id { get; private init; }
    public string? Name { get; private init; }

    public static DomainRef ById(string id) => new() { Id = id };
    public static DomainRef Named(string name) => new() { Name = name };

    public JsonObject ToJson() => Id is not null ? new JsonObject { ["id"] = Id } : new JsonObject { ["name"] = Name };
}

/// <summary>The user of a password login (keystoneauth's username, user_domain_*, password).</summary>
public sealed record PasswordUser(string Name, DomainRef Domain, string Password)
{
    // The password is a secret: never in a log line that prints the record.
    public override string ToString() => $"{Name} in domain {Domain.Id ?? Domain.Name}";
}

/// <summary>What a token is for: a project, a domain, the system, or nothing (an unscoped token).</summary>
public sealed class LoginScope
{
    readonly JsonObject? _scope;

    LoginScope(JsonObject? scope) => _scope = scope;

    public static LoginScope Unscoped { get; } = new(null);
    public static LoginScope System { get; } = new(new JsonObject { ["system"] = new JsonObject { ["all"] = true } });

    public static LoginScope Project(string name, DomainRef domain) =>
        new(new JsonObject { ["project"] = new JsonObject { ["name"] = name, ["domain"] = domain.ToJson() } });

    public static LoginScope ProjectById(string id) => new(new JsonObject { ["project"] = new JsonObject { ["id"] = id } });

    public static LoginScope Domain(DomainRef domain) => new(new JsonObject { ["domain"] = domain.ToJson() });

    public JsonObject? ToJson() => _scope?.DeepClone() as JsonObject;
}

/// <summary>A token as the identity issued it: its id (X-Subject-Token), expiry, and the <c>token</c> object of the answer.</summary>
public sealed record IssuedToken(string Id, DateTimeOffset ExpiresAt, JsonObject Body)
{
    public string? ProjectId => (string?)Body["project"]?["id"];
    public JsonArray RawCatalog => Body["catalog"] as JsonArray ?? [];
    public ServiceCatalog Catalog => new(RawCatalog);

    // The id is as secret as a password.
    public override string ToString() => $"a token that expires at {ExpiresAt:O}";
}

/// <summary>The identity issued no token.</summary>
/// <param name="status">The identity's HTTP status: 0 when no answer came; a success status when the answer held no token.</param>
/// <param name="detail">The identity's answer (its body text), or why no answer came.</param>
public sealed class KeystoneLoginException(string url, int status, string detail)
    : Exception(status == 0 ? $"POST {url}: no answer: {detail}" : $"POST {url}: {status}: {detail}")
{
    public string Url { get; } = url;
    public int Status { get; } = status;
    public string Detail { get; } = detail;
    public bool Unreachable => Status == 0;
}
