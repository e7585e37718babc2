using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Stratus.Identity.Credentials;
using Stratus.Identity.Tokens;
using Stratus.Identity.Trusts;

namespace Stratus.Identity.Api;

/// <summary>
/// /v3/ec2tokens and /v3/s3tokens (keystone/api/ec2tokens.py, s3tokens.py, _shared/EC2_S3_Resource.py):
/// a service (Swift's s3api, an EC2 API) hands over a request signed with an EC2 credential's
/// secret; a good signature gets a token for the credential's user and project.
/// </summary>
public static class Ec2TokensApi
{
    public static RouteGroupBuilder MapEc2Tokens(this RouteGroupBuilder v3)
    {
        v3.MapPost("/ec2tokens", Ec2).RequirePolicy("identity:ec2tokens_validate");
        v3.MapPost("/s3tokens", S3).RequirePolicy("identity:s3tokens_validate");
        v3.MapGet("/ec2tokens", NotAllowed);
        v3.MapGet("/s3tokens", NotAllowed);
        return v3;
    }

    static IResult NotAllowed() => throw OpenStackError.MethodNotAllowed();

    static async Task<IResult> Ec2(HttpContext http, TokenService tokens, IdentityStore store, IdentityOptions options, CancellationToken ct)
    {
        var info = await AuthenticateAsync(http, store, tokens, options, CheckEc2Signature, ct);
        return new JsonResponse(await tokens.RenderAsync(info, includeCatalog: true, ct)).WithHeader("X-Subject-Token", info.Token);
    }

    static async Task<IResult> S3(HttpContext http, TokenService tokens, IdentityStore store, IdentityOptions options, CancellationToken ct)
    {
        var info = await AuthenticateAsync(http, store, tokens, options, CheckS3Signature, ct);
        return new JsonResponse(await tokens.RenderAsync(info, includeCatalog: true, ct));
    }

    /// <summary>EC2TokensResource._check_signature: the signature as sent, or as some clients make it, without the host's port.</summary>
    static bool CheckEc2Signature(string secret, JsonObject credentials)
    {
        var signature = credentials["signature"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
        if (string.IsNullOrEmpty(signature)) return false;
        if (Ec2Signer.Matches(signature, Ec2Signer.Generate(secret, credentials))) return true;
        if (credentials["host"] is not JsonValue h || h.GetValueKind() != JsonValueKind.String || !h.GetValue<string>().Contains(':')) return false;
        var copy = credentials.DeepClone().AsObject();
        copy["host"] = HostWithoutPort(h.GetValue<string>());
        return Ec2Signer.Matches(signature, Ec2Signer.Generate(secret, copy));
    }

    /// <summary>Python's urlsplit("//" + host).hostname: the host lowercased, without port or brackets.</summary>
    static string HostWithoutPort(string host)
    {
        var h = host.Contains(']') ? host[..(host.IndexOf(']') + 1)] : host[..host.LastIndexOf(':')];
        return h.Trim('[', ']').ToLowerInvariant();
    }

    static bool CheckS3Signature(string secret, JsonObject credentials) =>
        credentials["token"] is JsonValue t && t.GetValueKind() == JsonValueKind.String
        && credentials["signature"] is JsonValue s && s.GetValueKind() == JsonValueKind.String
        && Ec2Signer.Matches(s.GetValue<string>(), Ec2Signer.S3Signature(secret, t.GetValue<string>()));

    /// <summary>
    /// EC2_S3_Resource.handle_authenticate: the credential named by the access key, its signature, its
    /// user and project enabled, the signature's timestamp recent, then a token with the roles the
    /// credential stands for (the user's on the project, or its trust's or application credential's).
    /// Every refusal is Keystone's 401 without details.
    /// </summary>
    static async Task<TokenInfo> AuthenticateAsync(HttpContext http, IdentityStore store, TokenService tokens, IdentityOptions options,
        Func<string, JsonObject, bool> checkSignature, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        if (body.Count == 0) throw OpenStackError.BadRequest("request must include a request body");
        // Keystone takes "credentials", else "credential", else "ec2Credentials".
        var credentials = new[] { "credentials", "credential", "ec2Credentials" }.Select(k => body[k] as JsonObject).FirstOrDefault(c => c is { Count: > 0 }) ?? [];
        if (credentials["access"] is not JsonValue a || a.GetValueKind() != JsonValueKind.String) throw OpenStackError.Unauthorized();

        var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(a.GetValue<string>())));
        var cred = await store.CredentialAsync(id, ct);
        if (cred is null || cred.Type != "ec2" || cred.ProjectId is null) throw OpenStackError.Unauthorized();
        var blob = JsonNode.Parse(cred.Blob) as JsonObject ?? [];
        string? Field(string name) => blob[name] is JsonValue f && f.GetValueKind() == JsonValueKind.String ? f.GetValue<string>() : null;
        if (Field("secret") is not { } secret || !checkSignature(secret, credentials)) throw OpenStackError.Unauthorized();

        var project = await store.ProjectAsync(cred.ProjectId, ct) ?? throw OpenStackError.NotFound($"Could not find project: {cred.ProjectId}.");
        var user = await store.UserAsync(cred.UserId, ct) ?? throw OpenStackError.NotFound($"Could not find user: {cred.UserId}.");
        if (!user.Enabled || !project.Enabled) throw OpenStackError.Unauthorized();
        CheckTimestamp(credentials, options.CredentialAuthTtl);

        var trustId = Field("trust_id");
        var appCredId = Field("app_cred_id");
        var userId = user.Id;
        if (trustId is not null)
        {
            var trust = await store.TrustAsync(trustId, ct);
            if (trust is null || !TrustRules.IsLive(trust, DateTime.UtcNow)) throw OpenStackError.NotFound($"Could not find trust: {trustId}.");
            // A credential made with an impersonating trust's token belongs to the trustor; the token is the trustee's.
            if (trust.Impersonation) userId = trust.TrusteeUserId;
        }
        else if (appCredId is not null)
        {
            var appCred = await store.ApplicationCredentialAsync(appCredId, ct) ?? throw OpenStackError.NotFound($"Could not find Application Credential: {appCredId}.");
            if (appCred.ProjectId != project.Id) throw OpenStackError.Unauthorized();
        }
        var accessTokenId = trustId is null && appCredId is null ? Field("access_token_id") : null;
        if (accessTokenId is not null && (await store.AccessTokenAsync(accessTokenId, ct) ?? throw OpenStackError.NotFound("Access token not found")).ProjectId != project.Id)
            throw OpenStackError.Unauthorized();
        // No roles on the project ("User not valid for project.") and the like: the token would not validate.
        return await tokens.IssueForCredentialAsync(userId, "ec2credential", project.Id, trustId, appCredId, accessTokenId, ct) ?? throw OpenStackError.Unauthorized();
    }

    /// <summary>A signature's Timestamp (v1/v2) or X-Amz-Date (v4) must be a time no older than [credential] auth_ttl.</summary>
    static void CheckTimestamp(JsonObject credentials, int ttlMinutes)
    {
        static string? Get(JsonNode? o, string key) =>
            o is JsonObject obj && obj[key] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
        var text = Get(credentials["params"], "Timestamp") ?? Get(credentials["headers"], "X-Amz-Date") ?? Get(credentials["params"], "X-Amz-Date");
        if (string.IsNullOrEmpty(text)) return; // the signer left it out on purpose
        var styles = DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal;
        if (!DateTime.TryParseExact(text, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, styles, out var at)
            && !DateTime.TryParse(text, CultureInfo.InvariantCulture, styles, out at))
            throw OpenStackError.Unauthorized(); // "Credential timestamp is invalid"
        if (DateTime.UtcNow > at.AddMinutes(ttlMinutes)) throw OpenStackError.Unauthorized(); // "Credential is expired"
    }
}
