using System.Text;

namespace Stratus.Identity.Tokens;

/// <summary>What a Fernet token carries (Keystone's payload fields).</summary>
public sealed record TokenPayload
{
    public required string UserId { get; init; }
    public required IReadOnlyList<string> Methods { get; init; }
    public string? ProjectId { get; init; }
    public string? DomainId { get; init; }
    /// <summary>System scope ("all" in Keystone's payload).</summary>
    public bool System { get; init; }
    public string? AppCredId { get; init; }
    public string? TrustId { get; init; }
    public required DateTime ExpiresAt { get; init; }
    /// <summary>This token's audit id, then (when rescoped) the audit id of the chain it came from.</summary>
    public required IReadOnlyList<string> AuditIds { get; init; }
    /// <summary>From the Fernet timestamp (whole seconds), as Keystone takes it.</summary>
    public DateTime IssuedAt { get; init; }
}

/// <summary>
/// Packs and unpacks token payloads exactly as Keystone's FernetFormatter does (msgpack of a
/// versioned tuple, UUID ids as 16 raw bytes, methods as a bit mask, base64 padding stripped), so
/// a token from a real Keystone with the same key repository validates here and vice versa.
/// </summary>
public sealed class TokenFormatter(FernetKeyRepository keys)
{
    const int Unscoped = 0, DomainScoped = 1, ProjectScoped = 2, TrustScoped = 3, SystemScoped = 8, AppCredScoped = 9;
    const string DefaultDomainId = "default";

    // Keystone's default [auth] methods, each a power of two in this order.
    static readonly string[] MethodNames = ["external", "password", "token", "oauth1", "mapped", "application_credential"];

    public string Pack(TokenPayload p)
    {
        var methods = 0L;
        foreach (var m in p.Methods)
        {
            var i = Array.IndexOf(MethodNames, m);
            if (i >= 0) methods |= 1L << i;
        }
        var user = MaybeUuid(p.UserId);
        var expires = (p.ExpiresAt - DateTime.UnixEpoch).TotalSeconds;
        var audit = p.AuditIds.Select(a => (object?)AuditBytes(a)).ToList();
        List<object?> payload =
            p.AppCredId is not null ? [AppCredScoped, user, methods, MaybeUuid(p.ProjectId!), expires, audit, MaybeUuid(p.AppCredId)]
            : p.TrustId is not null ? [TrustScoped, user, methods, MaybeUuid(p.ProjectId!), expires, audit, UuidBytes(p.TrustId)]
            : p.ProjectId is not null ? [ProjectScoped, user, methods, MaybeUuid(p.ProjectId), expires, audit]
            : p.DomainId is not null ? [DomainScoped, user, methods, p.DomainId == DefaultDomainId ? p.DomainId : UuidBytes(p.DomainId), expires, audit]
            : p.System ? [SystemScoped, user, methods, "all", expires, audit]
            : [Unscoped, user, methods, expires, audit];
        var token = Fernet.Encrypt(keys.LoadKeys()[0], MsgPack.Encode(payload), DateTimeOffset.UtcNow);
        return token.TrimEnd('=');
    }

    /// <summary>The payload of a valid token, or null for anything else (never throws on bad input).</summary>
    public TokenPayload? Unpack(string token)
    {
        if (token.Length is 0 or > 1024) return null;
        var padded = (token.Length % 4) switch { 0 => token, var m => token + new string('=', 4 - m) };
        var result = Fernet.Decrypt(keys.LoadKeys(), padded);
        if (result is not { } r) return null;
        try
        {
            if (MsgPack.Decode(r.Plaintext) is not object?[] a || a.Length < 5 || a[0] is not long version) return null;
            var user = FromMaybeUuid(a[1]);
            var methods = Methods((long)a[2]!);
            var issued = r.Timestamp.UtcDateTime;
            return version switch
            {
                Unscoped => new TokenPayload { UserId = user, Methods = methods, ExpiresAt = Time(a[3]), AuditIds = Audit(a[4]), IssuedAt = issued },
                DomainScoped => new TokenPayload { UserId = user, Methods = methods, DomainId = DomainFrom(a[3]), ExpiresAt = Time(a[4]), AuditIds = Audit(a[5]), IssuedAt = issued },
                ProjectScoped => new TokenPayload { UserId = user, Methods = methods, ProjectId = FromMaybeUuid(a[3]), ExpiresAt = Time(a[4]), AuditIds = Audit(a[5]), IssuedAt = issued },
                TrustScoped => new TokenPayload { UserId = user, Methods = methods, ProjectId = FromMaybeUuid(a[3]), ExpiresAt = Time(a[4]), AuditIds = Audit(a[5]), TrustId = Hex((byte[])a[6]!), IssuedAt = issued },
                SystemScoped => new TokenPayload { UserId = user, Methods = methods, System = Text(a[3]) == "all", ExpiresAt = Time(a[4]), AuditIds = Audit(a[5]), IssuedAt = issued },
                AppCredScoped => new TokenPayload { UserId = user, Methods = methods, ProjectId = FromMaybeUuid(a[3]), ExpiresAt = Time(a[4]), AuditIds = Audit(a[5]), AppCredId = FromMaybeUuid(a[6]), IssuedAt = issued },
                _ => null,
            };
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or IndexOutOfRangeException or NullReferenceException or OverflowException or ArgumentException)
        {
            return null;
        }
    }

    static List<string> Methods(long mask)
    {
        var list = new List<string>();
        for (var i = 0; i < MethodNames.Length; i++)
            if ((mask & (1L << i)) != 0) list.Add(MethodNames[i]);
        return list;
    }

    static bool IsUuidHex(string s) => s.Length == 32 && s.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    /// <summary>Keystone's attempt_convert_uuid_hex_to_bytes: (true, 16 bytes) or (false, text).</summary>
    static object?[] MaybeUuid(string id) => IsUuidHex(id) ? [true, Convert.FromHexString(id)] : [false, id];

    static byte[] UuidBytes(string id) => IsUuidHex(id) ? Convert.FromHexString(id) : throw new ArgumentException("not a UUID: " + id);

    static string FromMaybeUuid(object? v) =>
        v is object?[] { Length: 2 } pair && pair[0] is bool asBytes
            ? asBytes ? Hex((byte[])pair[1]!) : Text(pair[1])
            : throw new FormatException("bad id in token payload");

    static string DomainFrom(object? v) => v is byte[] { Length: 16 } b ? Hex(b) : Text(v) == DefaultDomainId ? DefaultDomainId : throw new FormatException("bad domain id");

    static string Hex(byte[] b) => b.Length == 16 ? Convert.ToHexStringLower(b) : throw new FormatException("bad uuid bytes");

    static string Text(object? v) => v switch
    {
        string s => s,
        byte[] b => Encoding.UTF8.GetString(b),
        _ => throw new FormatException("expected text in token payload"),
    };

    static DateTime Time(object? v)
    {
        var seconds = v switch { double d => d, long l => l, _ => throw new FormatException("bad expiry") };
        return DateTime.UnixEpoch.AddTicks((long)Math.Round(seconds * 1_000_000) * 10);
    }

    static byte[] AuditBytes(string auditId) =>
        Convert.FromBase64String(auditId.Replace('-', '+').Replace('_', '/') + new string('=', (4 - auditId.Length % 4) % 4));

    static List<string> Audit(object? v) =>
        ((object?[])v!).Select(x => Convert.ToBase64String((byte[])x!).TrimEnd('=').Replace('+', '-').Replace('/', '_')).ToList();
}
