using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Stratus.Identity.Tokens;

/// <summary>What a Fernet token carries: the fields of Keystone's token payloads.</summary>
/// <remarks>Equality compares <see cref="Methods"/> and <see cref="AuditIds"/> element by element.</remarks>
public sealed record TokenPayload
{
    public required string UserId { get; init; }
    /// <summary>Auth method names ("password", "token", "application_credential"...). Unpacked in Keystone's order: highest bit first.</summary>
    public required IReadOnlyList<string> Methods { get; init; }
    public string? ProjectId { get; init; }
    public string? DomainId { get; init; }
    /// <summary>System scope ("all" in Keystone's payload).</summary>
    public bool System { get; init; }
    public string? AppCredId { get; init; }
    public string? TrustId { get; init; }
    /// <summary>UTC. Packed as a float timestamp with microseconds; unpacked to whole seconds, as Keystone reads it.</summary>
    public required DateTime ExpiresAt { get; init; }
    /// <summary>This token's audit id, then (when rescoped) the audit id of the chain it came from: 22-character urlsafe base64 without padding.</summary>
    public required IReadOnlyList<string> AuditIds { get; init; }
    /// <summary>UTC, whole seconds: the Fernet timestamp, set on unpack (Keystone's issued_at). Ignored by Pack.</summary>
    public DateTime IssuedAt { get; init; }

    public bool Equals(TokenPayload? other) =>
        other is not null
        && UserId == other.UserId
        && ProjectId == other.ProjectId
        && DomainId == other.DomainId
        && System == other.System
        && AppCredId == other.AppCredId
        && TrustId == other.TrustId
        && ExpiresAt == other.ExpiresAt
        && IssuedAt == other.IssuedAt
        && Methods.SequenceEqual(other.Methods)
        && AuditIds.SequenceEqual(other.AuditIds);

    public override int GetHashCode() => HashCode.Combine(UserId, ProjectId, DomainId, System, AppCredId, TrustId, ExpiresAt, IssuedAt);
}

/// <summary>
/// Packs and unpacks token payloads exactly as Keystone's fernet TokenFormatter does, so that a token
/// from a real Keystone sharing the key repository validates here and vice versa: the payload is the
/// msgpack of a tuple (version, fields...), sealed with Fernet under the primary key, padding stripped.
/// </summary>
/// <remarks>
/// Payload versions: 0 unscoped, 1 domain, 2 project, 3 trust, 8 system, 9 application credential
/// (4-6 federated and 7 OAuth1 unpack to null). Ids that are UUIDs in hex are carried as
/// <c>(true, 16 bytes)</c>, others as <c>(false, text)</c>; a domain id is 16 bare bytes, or the
/// default domain id as text; the trust id 16 bare bytes; the methods a bit mask; the expiry a float
/// timestamp; the audit ids their decoded bytes. Keys are re-read when the repository changes (see
/// <see cref="FernetKeyRepository.CurrentKeys"/>).
/// </remarks>
public sealed class TokenFormatter(FernetKeyRepository keys)
{
    const int Unscoped = 0, DomainScoped = 1, ProjectScoped = 2, TrustScoped = 3, SystemScoped = 8, AppCredScoped = 9;
    const string SystemAll = "all";
    const int StackLimit = 1024;

    /// <summary>Keystone's default <c>[auth] methods</c>: bit 1, 2, 4... in this order.</summary>
    public static readonly IReadOnlyList<string> DefaultAuthMethods =
        ["external", "password", "token", "oauth1", "mapped", "application_credential"];

    // Keystone's method names that are no auth plugin, with fixed high bits (keystone.auth.plugins.core).
    static readonly (long Bit, string Name)[] PseudoMethods = [(1L << 32, "ec2credential"), (1L << 33, "oauth2_credential")];

    static readonly UTF8Encoding StrictUtf8 = new(false, true);
    static readonly (long Bit, string Name)[] DefaultMethodMap = MethodMap(DefaultAuthMethods);

    readonly FernetKeyRepository _keys = keys ?? throw new ArgumentNullException(nameof(keys));
    (long Bit, string Name)[] _methodMap = DefaultMethodMap; // highest bit first

    /// <summary>Keystone's <c>[identity] default_domain_id</c>: the one domain id that need not be a UUID.</summary>
    public string DefaultDomainId { get; init; } = "default";

    /// <summary>Keystone's <c>[auth] methods</c> (the order gives the bits); must match the other nodes.</summary>
    public IReadOnlyList<string> AuthMethods
    {
        get;
        init
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Count > 32) throw new ArgumentException("at most 32 auth methods");
            field = value;
            _methodMap = MethodMap(value);
        }
    } = DefaultAuthMethods;

    static (long Bit, string Name)[] MethodMap(IReadOnlyList<string> methods) =>
        [.. methods.Select((name, i) => (Bit: 1L << i, Name: name)).Concat(PseudoMethods).OrderByDescending(m => m.Bit)];

    /// <summary>A token for <paramref name="payload"/>, issued now.</summary>
    /// <exception cref="ArgumentException">A payload Keystone could not represent (see <see cref="Serialize"/>).</exception>
    public string Pack(TokenPayload payload) => Pack(payload, DateTime.UtcNow);

    /// <summary>A token for <paramref name="payload"/> whose Fernet timestamp (issued_at) is <paramref name="issuedAt"/>.</summary>
    /// <exception cref="ArgumentException">A payload Keystone could not represent (see <see cref="Serialize"/>).</exception>
    public string Pack(TokenPayload payload, DateTime issuedAt)
    {
        var serialized = Serialize(payload);
        var seconds = Math.Max(0, (Utc(issuedAt).Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerSecond);
        Span<byte> iv = stackalloc byte[16];
        System.Security.Cryptography.RandomNumberGenerator.Fill(iv);
        // Keystone strips the base64 padding: it is not URL-safe.
        return Fernet.Encrypt(_keys.CurrentKeys()[0], serialized, seconds, iv, padding: false);
    }

    /// <summary>
    /// The payload of a valid token, or null for anything else: bad base64, a MAC no key matches, an
    /// unknown payload version, malformed fields. Never throws for a bad token.
    /// </summary>
    /// <exception cref="InvalidOperationException">The key repository has no usable keys (a deployment error, not a bad token).</exception>
    public TokenPayload? Unpack(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > Fernet.MaxTokenLength) return null;
        var keys = _keys.CurrentKeys();
        var max = Fernet.GetMaxPlaintextLength(token.Length);
        byte[]? rented = null;
        var plaintext = max <= StackLimit ? stackalloc byte[max] : (rented = ArrayPool<byte>.Shared.Rent(max)).AsSpan(0, max);
        try
        {
            if (!Fernet.TryDecrypt(keys, token, plaintext, out var length, out var timestamp)) return null;
            if (timestamp > MaxUnixSeconds) return null;
            return Deserialize(plaintext[..length], DateTime.UnixEpoch.AddSeconds(timestamp));
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented, clearArray: true);
        }
    }

    /// <summary>
    /// Keystone's serialized payload (the msgpack plaintext of the token), byte for byte what Keystone
    /// produces for the same fields. The payload version follows Keystone's precedence: trust,
    /// application credential, project, domain, system, unscoped.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// Fields that would be silently dropped (a domain or system scope beside a project, trust or
    /// application credential; a trust beside an application credential), an unknown auth method, a
    /// domain id that is neither a UUID nor the default domain id, a trust id that is not a UUID, or an
    /// audit id that is not urlsafe base64.
    /// </exception>
    public byte[] Serialize(TokenPayload payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        ArgumentNullException.ThrowIfNull(payload.UserId);
        var p = payload;
        if ((p.ProjectId ?? p.AppCredId ?? p.TrustId) is not null && (p.DomainId is not null || p.System))
            throw new ArgumentException("a token scoped to a project, trust or application credential cannot also be domain- or system-scoped");
        if (p.DomainId is not null && p.System) throw new ArgumentException("a token cannot be both domain- and system-scoped");
        if (p.TrustId is not null && p.AppCredId is not null) throw new ArgumentException("a trust-scoped token cannot carry an application credential");

        var user = MaybeUuid(p.UserId);
        var methods = MethodsToInteger(p.Methods);
        var expires = ExpiresToFloat(p.ExpiresAt);
        var audit = new object?[p.AuditIds.Count];
        for (var i = 0; i < audit.Length; i++) audit[i] = AuditIdBytes(p.AuditIds[i]);

        object?[] fields =
            p.TrustId is not null ? [TrustScoped, user, methods, MaybeUuid(p.ProjectId), expires, audit, StrictUuidBytes(p.TrustId, "trust id")]
            : p.AppCredId is not null ? [AppCredScoped, user, methods, MaybeUuid(p.ProjectId), expires, audit, MaybeUuid(p.AppCredId)]
            : p.ProjectId is not null ? [ProjectScoped, user, methods, MaybeUuid(p.ProjectId), expires, audit]
            : p.DomainId is not null ? [DomainScoped, user, methods, DomainValue(p.DomainId), expires, audit]
            : p.System ? [SystemScoped, user, methods, SystemAll, expires, audit]
            : [Unscoped, user, methods, expires, audit];
        return MsgPack.Encode(fields);
    }

    /// <summary>Reads a serialized payload (see <see cref="Serialize"/>); null when it is not a valid one of the supported versions.</summary>
    public TokenPayload? Deserialize(ReadOnlySpan<byte> serialized, DateTime issuedAt)
    {
        try
        {
            // As Keystone: (version, fields...); fields after the ones a version defines are ignored.
            if (MsgPack.Decode(serialized) is not object?[] { Length: > 0 } a || a[0] is not long version) return null;
            var issued = Utc(issuedAt);
            return version switch
            {
                Unscoped when a.Length >= 5 => new TokenPayload
                {
                    UserId = UserIdFrom(a[1]),
                    Methods = MethodsFrom(a[2]),
                    ExpiresAt = ExpiresFrom(a[3]),
                    AuditIds = AuditIdsFrom(a[4]),
                    IssuedAt = issued,
                },
                DomainScoped when a.Length >= 6 => new TokenPayload
                {
                    UserId = UserIdFrom(a[1]),
                    Methods = MethodsFrom(a[2]),
                    DomainId = DomainFrom(a[3]),
                    ExpiresAt = ExpiresFrom(a[4]),
                    AuditIds = AuditIdsFrom(a[5]),
                    IssuedAt = issued,
                },
                ProjectScoped when a.Length >= 6 => new TokenPayload
                {
                    UserId = UserIdFrom(a[1]),
                    Methods = MethodsFrom(a[2]),
                    ProjectId = IdFrom(a[3]),
                    ExpiresAt = ExpiresFrom(a[4]),
                    AuditIds = AuditIdsFrom(a[5]),
                    IssuedAt = issued,
                },
                TrustScoped when a.Length >= 7 => new TokenPayload
                {
                    UserId = UserIdFrom(a[1]),
                    Methods = MethodsFrom(a[2]),
                    ProjectId = IdFrom(a[3]),
                    ExpiresAt = ExpiresFrom(a[4]),
                    AuditIds = AuditIdsFrom(a[5]),
                    TrustId = UuidFrom(a[6]),
                    IssuedAt = issued,
                },
                SystemScoped when a.Length >= 6 => new TokenPayload
                {
                    UserId = UserIdFrom(a[1]),
                    Methods = MethodsFrom(a[2]),
                    System = SystemFrom(a[3]),
                    ExpiresAt = ExpiresFrom(a[4]),
                    AuditIds = AuditIdsFrom(a[5]),
                    IssuedAt = issued,
                },
                AppCredScoped when a.Length >= 7 => new TokenPayload
                {
                    UserId = UserIdFrom(a[1]),
                    Methods = MethodsFrom(a[2]),
                    ProjectId = IdFrom(a[3]),
                    ExpiresAt = ExpiresFrom(a[4]),
                    AuditIds = AuditIdsFrom(a[5]),
                    AppCredId = IdFrom(a[6]),
                    IssuedAt = issued,
                },
                _ => null,
            };
        }
        catch (FormatException)
        {
            return null;
        }
    }

    // ---- Methods: Keystone's bit mask ----

    long MethodsToInteger(IReadOnlyList<string> methods)
    {
        ArgumentNullException.ThrowIfNull(methods);
        var mask = 0L;
        foreach (var name in methods)
        {
            var bit = 0L;
            foreach (var m in _methodMap)
                if (m.Name == name) { bit = m.Bit; break; }
            if (bit == 0) throw new ArgumentException($"auth method '{name}' has no bit in [auth] methods, so a token cannot carry it");
            mask |= bit;
        }
        return mask;
    }

    /// <summary>Keystone's convert_integer_to_method_list: highest bit first; a bit outside the map hides the lower ones, as there.</summary>
    List<string> MethodsFrom(object? value)
    {
        if (value is not long mask) throw new FormatException("methods are not an integer");
        var list = new List<string>(2);
        if (mask == 0) return list;
        foreach (var (bit, name) in _methodMap)
        {
            if (mask / bit != 1) continue;
            list.Add(name);
            mask -= bit;
        }
        return list;
    }

    // ---- Ids ----

    /// <summary>32 lowercase hex digits: what uuid.UUID(id).hex gives back unchanged.</summary>
    static bool IsCanonicalUuidHex(string id)
    {
        if (id.Length != 32) return false;
        foreach (var c in id)
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f')) return false;
        return true;
    }

    /// <summary>
    /// Keystone's attempt_convert_uuid_hex_to_bytes: (true, 16 bytes) for a UUID, else (false, id).
    /// Only lowercase hex converts (Keystone's ids always are): Python would also convert uppercase or
    /// dashed UUIDs and hand them back in another spelling; kept as text they come back unchanged and
    /// Keystone still reads them.
    /// </summary>
    static object?[] MaybeUuid(string? id) =>
        id is not null && IsCanonicalUuidHex(id) ? [true, Convert.FromHexString(id)] : [false, id];

    /// <summary>Keystone's convert_uuid_hex_to_bytes (trust and domain ids): any 32 hex digits; null if not.</summary>
    static byte[]? UuidBytes(string id)
    {
        if (id.Length != 32) return null;
        var bytes = new byte[16];
        return Convert.FromHexString(id.AsSpan(), bytes, out _, out _) == OperationStatus.Done ? bytes : null;
    }

    static byte[] StrictUuidBytes(string id, string what) =>
        UuidBytes(id) ?? throw new ArgumentException($"a token's {what} must be a UUID in hex, not '{id}'");

    object DomainValue(string domainId) =>
        (object?)UuidBytes(domainId) ?? (domainId == DefaultDomainId
            ? domainId
            : throw new ArgumentException($"a domain-scoped token needs a UUID domain id or the default domain id ('{DefaultDomainId}'), not '{domainId}'"));

    static string UserIdFrom(object? value) => IdFrom(value) ?? throw new FormatException("no user id");

    /// <summary>Keystone's (is_stored_as_bytes, value) pair.</summary>
    static string? IdFrom(object? value)
    {
        if (value is not object?[] { Length: 2 } pair || pair[0] is not bool asBytes) throw new FormatException("an id is not an (is_bytes, value) pair");
        return asBytes ? UuidFrom(pair[1]) : pair[1] switch
        {
            null => null,
            string s => s,
            byte[] b => Utf8(b),
            _ => throw new FormatException("an id is neither text nor bytes"),
        };
    }

    static string UuidFrom(object? value) =>
        value is byte[] { Length: 16 } b ? Convert.ToHexStringLower(b) : throw new FormatException("a UUID is not 16 bytes");

    string DomainFrom(object? value) => value switch
    {
        byte[] { Length: 16 } b => Convert.ToHexStringLower(b),
        string s when s == DefaultDomainId => s,
        byte[] b when Utf8(b) == DefaultDomainId => DefaultDomainId,
        _ => throw new FormatException("a domain id is neither a UUID nor the default domain id"),
    };

    static bool SystemFrom(object? value) => value switch
    {
        SystemAll => true,
        byte[] b when Utf8(b) == SystemAll => true,
        _ => throw new FormatException("system scope other than 'all'"),
    };

    static string Utf8(byte[] bytes)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new FormatException("invalid UTF-8", e);
        }
    }

    // ---- Audit ids: urlsafe base64 without padding <-> their bytes ----

    static byte[] AuditIdBytes(string auditId)
    {
        ArgumentNullException.ThrowIfNull(auditId);
        var body = auditId.AsSpan().TrimEnd('=');
        var decoded = new byte[Base64Url.GetMaxDecodedLength(body.Length)];
        if (body.Length % 4 == 1 || body.ContainsAnyExcept(Fernet.Base64UrlAlphabet)
            || Base64Url.DecodeFromChars(body, decoded, out _, out var written) != OperationStatus.Done)
            throw new ArgumentException($"audit id '{auditId}' is not urlsafe base64");
        return written == decoded.Length ? decoded : decoded[..written];
    }

    static List<string> AuditIdsFrom(object? value)
    {
        if (value is not object?[] items) throw new FormatException("audit ids are not a list");
        var ids = new List<string>(items.Length);
        foreach (var item in items)
            ids.Add(item is byte[] b ? Base64Url.EncodeToString(b) : throw new FormatException("an audit id is not bytes"));
        return ids;
    }

    // ---- Times ----

    const long MinUnixSeconds = -62135596800, MaxUnixSeconds = 253402300799; // 0001-01-01 .. 9999-12-31T23:59:59

    static DateTime Utc(DateTime t) => t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : DateTime.SpecifyKind(t, DateTimeKind.Utc);

    /// <summary>Keystone's _convert_time_string_to_float: seconds since the epoch, to the microsecond.</summary>
    static double ExpiresToFloat(DateTime expiresAt)
    {
        var micro = Math.DivRem(Utc(expiresAt).Ticks - DateTime.UnixEpoch.Ticks, 10, out var rest);
        if (rest < 0) micro--;
        return micro / 1e6;
    }

    /// <summary>
    /// Keystone's reading: datetime.utcfromtimestamp (rounding half-even to the microsecond), then
    /// isotime drops the microseconds.
    /// </summary>
    static DateTime ExpiresFrom(object? value)
    {
        long seconds;
        switch (value)
        {
            case long l:
                seconds = l;
                break;
            case double d when double.IsFinite(d) && Math.Abs(d) < 1e15:
                {
                    var whole = Math.Truncate(d);
                    var micro = Math.Round((d - whole) * 1e6, MidpointRounding.ToEven);
                    if (micro >= 1e6) whole += 1;
                    else if (micro < 0) whole -= 1;
                    seconds = (long)whole;
                    break;
                }
            default:
                throw new FormatException("expires_at is not a timestamp");
        }
        if (seconds is < MinUnixSeconds or > MaxUnixSeconds) throw new FormatException("expires_at out of range");
        return DateTime.UnixEpoch.AddSeconds(seconds);
    }
}
