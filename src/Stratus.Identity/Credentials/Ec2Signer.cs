using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Stratus.Identity.Credentials;

/// <summary>
/// The AWS signatures an EC2 credential's secret makes, computed as Keystone checks them:
/// keystoneclient's Ec2Signer for <c>/v3/ec2tokens</c> (signature versions 0, 1, 2 and 4) and
/// keystone/api/s3tokens.py for <c>/v3/s3tokens</c> (HMAC-SHA1 of the string to sign, or AWS4).
/// </summary>
public static partial class Ec2Signer
{
    /// <summary>
    /// Ec2Signer.generate: the signature of the request that <paramref name="credentials"/> describes
    /// (<c>params</c>, <c>verb</c>, <c>host</c>, <c>path</c>, <c>headers</c>, <c>body_hash</c>); null when
    /// it names no signature scheme this signer knows, or its v4 date and scope disagree.
    /// </summary>
    public static string? Generate(string secret, JsonObject credentials)
    {
        var parameters = Strings(credentials["params"]);
        var headers = Strings(credentials["headers"]);
        var verb = Text(credentials["verb"]);
        var host = Text(credentials["host"]);
        var path = Text(credentials["path"]);
        var key = Encoding.UTF8.GetBytes(secret);
        switch (parameters.GetValueOrDefault("SignatureVersion"))
        {
            case "0":
                return Base64(HMACSHA1.HashData(key, Utf8(parameters.GetValueOrDefault("Action") + parameters.GetValueOrDefault("Timestamp"))));
            case "1":
                {
                    // Keys sorted ignoring case, each key and value fed to one HMAC.
                    var data = new StringBuilder();
                    foreach (var k in parameters.Keys.OrderBy(k => k.ToLowerInvariant(), StringComparer.Ordinal)) data.Append(k).Append(parameters[k]);
                    return Base64(HMACSHA1.HashData(key, Utf8(data.ToString())));
                }
            case "2":
                // keystoneclient signs with HMAC-SHA256 whatever the client asked, and says so in the parameters.
                parameters["SignatureMethod"] = "HmacSHA256";
                return Base64(HMACSHA256.HashData(key, Utf8($"{verb}\n{host}\n{path}\n{CanonicalQuery(parameters)}")));
            case null when IsV4(parameters, headers):
                return SignatureV4(secret, parameters, verb, host, path, headers, Text(credentials["body_hash"]));
            default:
                return null;
        }
    }

    static bool IsV4(Dictionary<string, string> parameters, Dictionary<string, string> headers) =>
        headers.TryGetValue("Authorization", out var auth)
            ? auth.StartsWith("AWS4-HMAC-SHA256", StringComparison.Ordinal)
            : parameters.GetValueOrDefault("X-Amz-Algorithm") == "AWS4-HMAC-SHA256";

    static string? SignatureV4(string secret, Dictionary<string, string> parameters, string verb, string host, string path,
        Dictionary<string, string> headers, string bodyHash)
    {
        // A part of the Authorization header ("Credential=...,SignedHeaders=...") or its X-Amz-* query parameter.
        string AuthParam(string name)
        {
            if (!headers.TryGetValue("Authorization", out var auth)) return parameters.GetValueOrDefault("X-Amz-" + name) ?? "";
            var at = auth.IndexOf(name + "=", StringComparison.Ordinal);
            return at < 0 ? "" : auth[(at + name.Length + 1)..].Split(',')[0];
        }
        var lower = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in headers) lower[k.ToLowerInvariant().Trim()] = v.Trim();
        // Boto before 2.9.3 signed the host without its port.
        var stripPort = OldBoto().IsMatch(lower.GetValueOrDefault("user-agent", ""));
        var signedHeaders = AuthParam("SignedHeaders");
        var canonicalHeaders = new StringBuilder();
        foreach (var h in signedHeaders.Split(';'))
            if (lower.TryGetValue(h, out var value))
                canonicalHeaders.Append(h).Append(':').Append(h == "host" && stripPort ? value.Split(':')[0] : value).Append('\n');
        // POST requests carry their parameters in the body: no query string.
        var query = verb.Equals("POST", StringComparison.OrdinalIgnoreCase) ? "" : CanonicalQuery(parameters);
        var request = string.Join('\n', verb.ToUpperInvariant(), path, query, canonicalHeaders.ToString(), signedHeaders, bodyHash);

        var credential = AuthParam("Credential").Split('/');
        if (credential.Length < 4) return null;
        var date = headers.GetValueOrDefault("X-Amz-Date") ?? parameters.GetValueOrDefault("X-Amz-Date") ?? "";
        if (!date.StartsWith(credential[1], StringComparison.Ordinal)) return null; // "Request date mismatch error"
        var toSign = string.Join('\n', "AWS4-HMAC-SHA256", date, string.Join('/', credential[1..]), Hex(SHA256.HashData(Utf8(request))));
        return Hex(HMACSHA256.HashData(SigningKey(secret, Utf8(credential[1]), Utf8(credential[2]), Utf8(credential[3])), Utf8(toSign)));
    }

    /// <summary>keystone/api/s3tokens.py: the signature of a base64 (URL-safe) string to sign; null when it is no valid one.</summary>
    public static string? S3Signature(string secret, string token)
    {
        byte[] toSign;
        try
        {
            var b64 = token.Replace('-', '+').Replace('_', '/');
            toSign = Convert.FromBase64String(b64.PadRight(b64.Length + (4 - b64.Length % 4) % 4, '='));
        }
        catch (FormatException)
        {
            return null;
        }
        if (!toSign.AsSpan().StartsWith("AWS4"u8)) return Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(secret), toSign));
        // AWS4-HMAC-SHA256 \n date \n yyyymmdd/region/service/aws4_request \n hash, for s3, iam or sts only.
        var parts = Split(toSign, (byte)'\n');
        if (parts.Count != 4 || !parts[0].SequenceEqual("AWS4-HMAC-SHA256"u8.ToArray())) return null;
        var scope = Split(parts[2], (byte)'/');
        if (scope.Count != 4 || !scope[3].SequenceEqual("aws4_request"u8.ToArray())
            || Encoding.ASCII.GetString(scope[2]) is not ("s3" or "iam" or "sts")) return null;
        return Hex(HMACSHA256.HashData(SigningKey(secret, scope[0], scope[1], scope[2]), toSign));
    }

    /// <summary>Keystone's auth_str_equal: equal in constant time.</summary>
    public static bool Matches(string? given, string? expected) =>
        given is not null && expected is not null && CryptographicOperations.FixedTimeEquals(Utf8(given), Utf8(expected));

    static byte[] SigningKey(string secret, byte[] date, byte[] region, byte[] service)
    {
        var key = HMACSHA256.HashData(Utf8("AWS4" + secret), date);
        key = HMACSHA256.HashData(key, region);
        key = HMACSHA256.HashData(key, service);
        return HMACSHA256.HashData(key, "aws4_request"u8);
    }

    /// <summary>Ec2Signer._canonical_qs: keys sorted, keys and values percent-encoded but for unreserved characters.</summary>
    static string CanonicalQuery(Dictionary<string, string> parameters) =>
        string.Join('&', parameters.Keys.Order(StringComparer.Ordinal).Select(k => Uri.EscapeDataString(k) + "=" + Uri.EscapeDataString(parameters[k])));

    static List<byte[]> Split(byte[] data, byte separator)
    {
        var parts = new List<byte[]>();
        var start = 0;
        for (var i = 0; i <= data.Length; i++)
            if (i == data.Length || data[i] == separator)
            {
                parts.Add(data[start..i]);
                start = i + 1;
            }
        return parts;
    }

    /// <summary>A JSON object's members as Python's str() shows them (the signer signs str(value)).</summary>
    static Dictionary<string, string> Strings(JsonNode? node)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node is JsonObject o)
            foreach (var (k, v) in o) result[k] = Text(v);
        return result;
    }

    static string Text(JsonNode? v) => v?.GetValueKind() switch
    {
        null or JsonValueKind.Null => v is null ? "" : "None",
        JsonValueKind.String => v.GetValue<string>(),
        JsonValueKind.True => "True",
        JsonValueKind.False => "False",
        _ => v.ToJsonString(),
    };

    static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
    static string Base64(byte[] b) => Convert.ToBase64String(b);
    static string Hex(byte[] b) => Convert.ToHexStringLower(b);

    [GeneratedRegex(@"^Boto/2\.[0-9]\.[0-2]")]
    private static partial Regex OldBoto();
}
