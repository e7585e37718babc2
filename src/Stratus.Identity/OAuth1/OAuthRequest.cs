using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Stratus.Identity.OAuth1;

/// <summary>
/// An OAuth 1.0a signed request (RFC 5849) as Keystone checks one: oauthlib's endpoints with
/// keystone/oauth1/validator.py (ids in lowercase hex, no SSL required, 600 seconds of clock skew).
/// The oauth_* parameters come in the Authorization header; the URL signed is the one the request reached.
/// </summary>
public sealed class OAuthRequest
{
    const int TimestampLifetime = 600;
    static readonly string[] SignatureMethods = ["HMAC-SHA1", "HMAC-SHA256", "HMAC-SHA512", "PLAINTEXT"];

    readonly List<(string Key, string Value)> _params;

    OAuthRequest(string method, string baseUri, List<(string, string)> parameters, Dictionary<string, string> oauth)
    {
        Method = method;
        BaseUri = baseUri;
        _params = parameters;
        OAuth = oauth;
    }

    public string Method { get; }
    /// <summary>The base string URI: scheme and host in lowercase, no default port, no query.</summary>
    public string BaseUri { get; }
    /// <summary>The Authorization header's oauth_* parameters, decoded (realm left out).</summary>
    public Dictionary<string, string> OAuth { get; }

    public string? ConsumerKey => OAuth.GetValueOrDefault("oauth_consumer_key");
    public string? Token => OAuth.GetValueOrDefault("oauth_token");
    public string? Verifier => OAuth.GetValueOrDefault("oauth_verifier");
    public string? Callback => OAuth.GetValueOrDefault("oauth_callback");

    /// <summary>The request's OAuth parameters, or Keystone's 400 when it has no OAuth Authorization header.</summary>
    public static OAuthRequest From(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("OAuth ", StringComparison.OrdinalIgnoreCase))
            throw OpenStackError.BadRequest("No Authorization headers found, cannot proceed with OAuth related calls. " +
                "If running under HTTPd or Apache, ensure WSGIPassAuthorization is set to On.");
        var oauth = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in header[6..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0) continue;
            var key = Uri.UnescapeDataString(part[..eq].Trim());
            var value = Uri.UnescapeDataString(part[(eq + 1)..].Trim().Trim('"'));
            if (key != "realm") oauth[key] = value;
        }
        var parameters = oauth.Where(p => p.Key != "oauth_signature").Select(p => (p.Key, p.Value)).ToList();
        foreach (var (key, values) in request.Query)
            foreach (var value in values) parameters.Add((key, value ?? ""));
        var host = request.Host.Value!.ToLowerInvariant();
        var scheme = request.Scheme.ToLowerInvariant();
        if ((scheme == "http" && host.EndsWith(":80", StringComparison.Ordinal)) || (scheme == "https" && host.EndsWith(":443", StringComparison.Ordinal)))
            host = host[..host.LastIndexOf(':')];
        var path = (request.PathBase + request.Path).Value is { Length: > 0 } p ? p : "/";
        return new OAuthRequest(request.Method.ToUpperInvariant(), $"{scheme}://{host}{path}", parameters, oauth);
    }

    /// <summary>
    /// oauthlib's checks of the mandatory parameters, and of the token and verifier a request must
    /// carry: Keystone's 400 "Validation failed with errors: ..." naming the first one missed.
    /// </summary>
    public void CheckParameters(bool needsToken = false, bool needsVerifier = false, bool needsCallback = false)
    {
        if (Problem(needsToken, needsVerifier, needsCallback) is var (error, description))
            throw OpenStackError.BadRequest($"Validation failed with errors: {error}, detail message is: {description}.");
    }

    /// <summary>oauthlib's error and its description for the first check the request fails, or null.</summary>
    public (string Error, string Description)? Problem(bool needsToken = false, bool needsVerifier = false, bool needsCallback = false)
    {
        const string Invalid = "invalid_request";
        string? Get(string key) => OAuth.TryGetValue(key, out var v) && v.Length > 0 ? v : null;
        if (new[] { "oauth_signature", "oauth_consumer_key", "oauth_nonce", "oauth_timestamp", "oauth_signature_method" }.Any(k => Get(k) is null))
            return (Invalid, "Missing mandatory OAuth parameters.");
        var method = Get("oauth_signature_method")!;
        if (!SignatureMethods.Contains(method))
            return ("invalid_signature_method", $"Invalid signature, {method} not in ('{string.Join("', '", SignatureMethods)}').");
        if (OAuth.TryGetValue("oauth_version", out var version) && version != "1.0") return (Invalid, "Invalid OAuth version.");
        var timestamp = Get("oauth_timestamp")!;
        if (timestamp.Length != 10) return (Invalid, "Invalid timestamp size");
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var ts)) return (Invalid, "Timestamp must be an integer.");
        if (Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - ts) > TimestampLifetime)
            return (Invalid, $"Timestamp given is invalid, differ from allowed by over {TimestampLifetime} seconds.");
        if (!IsHexId(ConsumerKey!)) return (Invalid, "Invalid client key format.");
        if (!Get("oauth_nonce")!.All(IsLowerHex)) return (Invalid, "Invalid nonce format.");
        if (needsCallback && Callback is not { Length: > 0 }) return (Invalid, "Missing callback URI.");
        if (needsToken && Token is not { Length: > 0 }) return (Invalid, "Missing resource owner.");
        if (needsToken && !IsHexId(Token!)) return (Invalid, "Invalid resource owner key format.");
        if (needsVerifier && Verifier is not { Length: > 0 }) return (Invalid, "Missing verifier.");
        if (needsVerifier && (Verifier!.Length != 8 || !Verifier.All(VerifierChars.Contains))) return (Invalid, "Invalid verifier format.");
        return null;
    }

    /// <summary>Keystone's ids (uuid4 hex): 32 lowercase hex digits.</summary>
    public static bool IsHexId(string id) => id.Length == 32 && id.All(IsLowerHex);

    static bool IsLowerHex(char c) => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f';

    /// <summary>Letters and digits without those easily confused (Keystone's VERIFIER_CHARS).</summary>
    public const string VerifierChars = "abcdefghkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

    /// <summary>Whether oauth_signature is the request's signature with the consumer's secret and the token's (RFC 5849 3.4).</summary>
    public bool SignatureMatches(string consumerSecret, string? tokenSecret)
    {
        var key = Escape(consumerSecret) + "&" + Escape(tokenSecret ?? "");
        var normalized = string.Join('&', _params.Select(p => (Key: Escape(p.Key), Value: Escape(p.Value)))
            .OrderBy(p => p.Key, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value));
        var baseString = Encoding.UTF8.GetBytes($"{Method}&{Escape(BaseUri)}&{Escape(normalized)}");
        var keyBytes = Encoding.UTF8.GetBytes(key);
        var expected = OAuth["oauth_signature_method"] switch
        {
            "HMAC-SHA1" => Convert.ToBase64String(HMACSHA1.HashData(keyBytes, baseString)),
            "HMAC-SHA256" => Convert.ToBase64String(HMACSHA256.HashData(keyBytes, baseString)),
            "HMAC-SHA512" => Convert.ToBase64String(HMACSHA512.HashData(keyBytes, baseString)),
            _ => key, // PLAINTEXT
        };
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(OAuth.GetValueOrDefault("oauth_signature", "")));
    }

    /// <summary>RFC 5849 3.6: percent-encoding of all but the unreserved characters.</summary>
    static string Escape(string s) => Uri.EscapeDataString(s);
}
