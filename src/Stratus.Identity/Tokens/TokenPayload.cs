using System.Buffers;
using System.Buffers.Text;
using System.Text;
using MessagePack;

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
    /// <summary>The OAuth1 access token of a token issued for one (Keystone's OAuth-scoped payload, project-scoped).</summary>
    public string? AccessTokenId { get; init; }
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
        && AccessTokenId == other.AccessTokenId
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
/// Payload versions: 0 unscoped, 1 domain, 2 project, 3 trust, 7 OAuth1, 8 system, 9 application
/// credential (4-6 federated unpack to null). Ids that are UUIDs in hex are carried as
/// <c>(true, 16 bytes)</c>, others as <c>(false, text)</c>; a domain id is 16 bare bytes, or the
/// default domain id as text; the trust id 16 bare bytes; the methods a bit mask; the expiry a float
/// timestamp; the audit ids their decoded bytes. Keys are re-read when the repository changes (see
/// <see cref="FernetKeyRepository.CurrentKeys"/>).
/// </remarks>
public sealed class TokenFormatter(FernetKeyRepository keys)
{
    const int Unscoped = 0, DomainScoped = 1, ProjectScoped = 2, TrustScoped = 3, OAuthScoped = 7, SystemScoped = 8, AppCredScoped = 9;
    const string SystemAll = "all";

    /// <summary>Keystone's default <c>[auth] methods</c>: bit 1, 2, 4... in this order.</summary>
    public static readonly IReadOnlyList<string> DefaultAuthMethods =
        ["external", "password", "token", "oauth1", "mapped", "application_credential"];

    // Keystone's method names that are no auth plugin, with fixed high bits (keystone.auth.plugins.core).
    static readonly (long Bit, string Name)[] PseudoMethods = [(1L << 32, "ec2credential"), (1L << 33, "oauth2_credential")];

    static readonly UTF8Encoding StrictUtf8 = new(false, true);
    static readonly SearchValues<char> HexDigits = SearchValues.Create("0123456789abcdefABCDEF");
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
        // Pooled rather than on the stack, as the msgpack reader reads memory, not a span.
        var plaintext = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            if (!Fernet.TryDecrypt(keys, token, plaintext.AsSpan(0, max), out var length, out var timestamp)) return null;
            if (timestamp > MaxUnixSeconds) return null;
            return Deserialize(plaintext.AsMemory(0, length), DateTime.UnixEpoch.AddSeconds(timestamp));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(plaintext, clearArray: true);
        }
    }

    /// <summary>
    /// Keystone's serialized payload (the msgpack plaintext of the token), byte for byte what Keystone
    /// produces for the same fields. The payload version follows Keystone's precedence: OAuth1, trust,
    /// application credential, project, domain, system, unscoped.
    /// </summary>
    /// <remarks>
    /// The writer's forms are those of Python's msgpack 1.x <c>packb</c> defaults, which Keystone uses:
    /// text as str, bytes as bin (<c>use_bin_type=True</c>), every integer in its smallest form, floats
    /// as float64 (keystone-vectors.json holds Python's bytes for each form, and the tests compare).
    /// </remarks>
    /// <exception cref="ArgumentException">
    /// Fields that would be silently dropped (a domain or system scope beside a project, trust or
    /// application credential; a trust beside an application credential), an unknown auth method, a
    /// domain id that is neither a UUID nor the default domain id, a trust id that is not a UUID, an
    /// audit id that is not urlsafe base64, or an id that is not valid UTF-16.
    /// </exception>
    public byte[] Serialize(TokenPayload payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        ArgumentNullException.ThrowIfNull(payload.UserId);
        ArgumentNullException.ThrowIfNull(payload.AuditIds);
        var p = payload;
        if ((p.ProjectId ?? p.AppCredId ?? p.TrustId ?? p.AccessTokenId) is not null && (p.DomainId is not null || p.System))
            throw new ArgumentException("a token scoped to a project, trust, application credential or OAuth1 access token cannot also be domain- or system-scoped");
        if (p.DomainId is not null && p.System) throw new ArgumentException("a token cannot be both domain- and system-scoped");
        if (p.TrustId is not null && p.AppCredId is not null) throw new ArgumentException("a trust-scoped token cannot carry an application credential");
        if (p.AccessTokenId is not null && (p.TrustId ?? p.AppCredId) is not null)
            throw new ArgumentException("an OAuth1 token cannot carry a trust or an application credential");

        var version = p.AccessTokenId is not null ? OAuthScoped
            : p.TrustId is not null ? TrustScoped
            : p.AppCredId is not null ? AppCredScoped
            : p.ProjectId is not null ? ProjectScoped
            : p.DomainId is not null ? DomainScoped
            : p.System ? SystemScoped
            : Unscoped;
        var buffer = new ArrayBufferWriter<byte>(128);
        var w = new MessagePackWriter(buffer);
        w.WriteArrayHeader(FieldCount(version));
        w.Write(version);
        WriteMaybeUuid(ref w, p.UserId);
        w.Write(MethodsToInteger(p.Methods));
        switch (version)
        {
            case TrustScoped or AppCredScoped or ProjectScoped: WriteMaybeUuid(ref w, p.ProjectId); break;
            // Keystone's OAuth payload puts the access token id between the project and the expiry.
            case OAuthScoped: WriteMaybeUuid(ref w, p.ProjectId); WriteMaybeUuid(ref w, p.AccessTokenId); break;
            case DomainScoped: WriteDomain(ref w, p.DomainId!); break;
            case SystemScoped: w.Write(SystemAll); break;
        }
        w.Write(ExpiresToFloat(p.ExpiresAt));
        w.WriteArrayHeader(p.AuditIds.Count);
        foreach (var auditId in p.AuditIds) WriteAuditId(ref w, auditId);
        if (version == TrustScoped && !TryWriteUuid(ref w, p.TrustId!)) throw new ArgumentException($"a token's trust id must be a UUID in hex, not '{p.TrustId}'");
        else if (version == AppCredScoped) WriteMaybeUuid(ref w, p.AppCredId);
        w.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>How many fields (the version included) Keystone's payload of a version has; 0 for one we do not read.</summary>
    static int FieldCount(long version) => version switch
    {
        Unscoped => 5,
        DomainScoped or ProjectScoped or SystemScoped => 6,
        TrustScoped or AppCredScoped or OAuthScoped => 7,
        _ => 0,
    };

    /// <summary>Reads a serialized payload (see <see cref="Serialize"/>); null when it is not a valid one of the supported versions.</summary>
    public TokenPayload? Deserialize(ReadOnlyMemory<byte> serialized, DateTime issuedAt)
    {
        try
        {
            var r = new MessagePackReader(serialized);
            if (r.NextMessagePackType != MessagePackType.Array) return null;
            var count = r.ReadArrayHeader();
            if (count == 0 || r.NextMessagePackType != MessagePackType.Integer) return null;
            var version = r.ReadInt64();
            var fields = FieldCount(version);
            if (fields == 0 || count < fields) return null;
            // The fields in Keystone's order (see Serialize): the scope's between the methods and the expiry.
            var userId = ReadUserId(ref r);
            var methods = ReadMethods(ref r);
            string? projectId = null, domainId = null, accessTokenId = null;
            var system = false;
            switch (version)
            {
                case TrustScoped or AppCredScoped or ProjectScoped: projectId = ReadId(ref r); break;
                case OAuthScoped: projectId = ReadId(ref r); accessTokenId = ReadId(ref r) ?? throw new FormatException("no access token id"); break;
                case DomainScoped: domainId = ReadDomain(ref r); break;
                case SystemScoped: system = ReadSystem(ref r); break;
            }
            // Member initializers run in the order written: the reads below take the next fields in turn.
            var payload = new TokenPayload
            {
                UserId = userId,
                Methods = methods,
                ProjectId = projectId,
                DomainId = domainId,
                System = system,
                ExpiresAt = ReadExpires(ref r),
                AuditIds = ReadAuditIds(ref r),
                TrustId = version == TrustScoped ? ReadUuid(ref r) : null,
                AppCredId = version == AppCredScoped ? ReadId(ref r) : null,
                AccessTokenId = accessTokenId,
                IssuedAt = Utc(issuedAt),
            };
            // As Keystone: fields after the ones a version defines are ignored.
            Skip(ref r, count - fields);
            return r.End ? payload : null;
        }
        catch (Exception e) when (e is FormatException or MessagePackSerializationException or EndOfStreamException
            or OverflowException or ArgumentOutOfRangeException)
        {
            // The reader's answers to an unexpected type, truncated data, a uint64 beyond a long, and a
            // 32-bit str, bin or extension length beyond int.MaxValue.
            return null;
        }
    }

    /// <summary>
    /// Skips <paramref name="count"/> values, however deeply nested, without recursing. Not only the
    /// reader's Skip: that one takes a 32-bit array or map length beyond int.MaxValue for an empty one,
    /// where ReadArrayHeader and ReadMapHeader check every length against the data.
    /// </summary>
    static void Skip(ref MessagePackReader r, long count)
    {
        for (; count > 0; count--)
        {
            switch (r.NextMessagePackType)
            {
                case MessagePackType.Array: count += r.ReadArrayHeader(); break;
                case MessagePackType.Map: count += 2L * r.ReadMapHeader(); break;
                default: r.Skip(); break;
            }
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
    List<string> ReadMethods(ref MessagePackReader r)
    {
        if (r.NextMessagePackType != MessagePackType.Integer) throw new FormatException("methods are not an integer");
        var mask = r.ReadInt64();
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
    static void WriteMaybeUuid(ref MessagePackWriter w, string? id)
    {
        w.WriteArrayHeader(2);
        var isUuid = id is not null && IsCanonicalUuidHex(id);
        w.Write(isUuid);
        if (isUuid) TryWriteUuid(ref w, id!);
        else WriteText(ref w, id);
    }

    /// <summary>Keystone's convert_uuid_hex_to_bytes (trust and domain ids): any 32 hex digits as 16 bytes; false, writing nothing, if not.</summary>
    static bool TryWriteUuid(ref MessagePackWriter w, string id)
    {
        if (id.Length != 32 || id.AsSpan().ContainsAnyExcept(HexDigits)) return false;
        // Straight into the writer's buffer: it takes no span from the stack.
        w.WriteBinHeader(16);
        Convert.FromHexString(id, w.GetSpan(16), out _, out _);
        w.Advance(16);
        return true;
    }

    void WriteDomain(ref MessagePackWriter w, string domainId)
    {
        if (TryWriteUuid(ref w, domainId)) return;
        if (domainId != DefaultDomainId)
            throw new ArgumentException($"a domain-scoped token needs a UUID domain id or the default domain id ('{DefaultDomainId}'), not '{domainId}'");
        w.Write(domainId);
    }

    /// <summary>A str, or nil for null.</summary>
    static void WriteText(ref MessagePackWriter w, string? text)
    {
        // The writer would put U+FFFD for an unpaired surrogate, an id Keystone could not pack nor we read back.
        try
        {
            if (text is not null) StrictUtf8.GetByteCount(text);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException("an id with unpaired surrogates cannot go into a token", e);
        }
        w.Write(text);
    }

    static string ReadUserId(ref MessagePackReader r) => ReadId(ref r) ?? throw new FormatException("no user id");

    /// <summary>Keystone's (is_stored_as_bytes, value) pair.</summary>
    static string? ReadId(ref MessagePackReader r)
    {
        if (r.NextMessagePackType != MessagePackType.Array || r.ReadArrayHeader() != 2 || r.NextMessagePackType != MessagePackType.Boolean)
            throw new FormatException("an id is not an (is_bytes, value) pair");
        if (r.ReadBoolean()) return ReadUuid(ref r);
        if (r.TryReadNil()) return null;
        return r.NextMessagePackType switch
        {
            MessagePackType.String => ReadText(ref r),
            MessagePackType.Binary => Utf8(ReadBin(ref r)),
            _ => throw new FormatException("an id is neither text nor bytes"),
        };
    }

    static string ReadUuid(ref MessagePackReader r)
    {
        var bytes = ReadBin(ref r);
        return bytes.Length == 16 ? Convert.ToHexStringLower(bytes) : throw new FormatException("a UUID is not 16 bytes");
    }

    string ReadDomain(ref MessagePackReader r)
    {
        if (r.NextMessagePackType == MessagePackType.Binary)
        {
            var bytes = ReadBin(ref r);
            if (bytes.Length == 16) return Convert.ToHexStringLower(bytes);
            if (Utf8(bytes) == DefaultDomainId) return DefaultDomainId;
        }
        else if (r.NextMessagePackType == MessagePackType.String && ReadText(ref r) == DefaultDomainId)
            return DefaultDomainId;
        throw new FormatException("a domain id is neither a UUID nor the default domain id");
    }

    static bool ReadSystem(ref MessagePackReader r)
    {
        var scope = r.NextMessagePackType switch
        {
            MessagePackType.String => ReadText(ref r),
            MessagePackType.Binary => Utf8(ReadBin(ref r)),
            _ => null,
        };
        return scope == SystemAll ? true : throw new FormatException("system scope other than 'all'");
    }

    // The reader reads one contiguous block of memory, so a value's sequence is a single span.

    /// <summary>A bin's bytes (the reader's ReadBytes would also take a str).</summary>
    static ReadOnlySpan<byte> ReadBin(ref MessagePackReader r) =>
        r.NextMessagePackType == MessagePackType.Binary ? r.ReadBytes()!.Value.FirstSpan : throw new FormatException("bytes expected");

    /// <summary>A str, strictly UTF-8 as Python decodes it (the reader's ReadString would replace invalid bytes).</summary>
    static string ReadText(ref MessagePackReader r) => Utf8(r.ReadStringSequence()!.Value.FirstSpan);

    static string Utf8(ReadOnlySpan<byte> bytes)
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

    static void WriteAuditId(ref MessagePackWriter w, string auditId)
    {
        ArgumentNullException.ThrowIfNull(auditId);
        var body = auditId.AsSpan().TrimEnd('=');
        if (body.Length % 4 == 1 || body.ContainsAnyExcept(Fernet.Base64UrlAlphabet)) throw NotBase64(auditId);
        var length = body.Length * 3 / 4;
        w.WriteBinHeader(length);
        if (Base64Url.DecodeFromChars(body, w.GetSpan(length), out _, out var written) != OperationStatus.Done || written != length)
            throw NotBase64(auditId);
        w.Advance(length);
    }

    static ArgumentException NotBase64(string auditId) => new($"audit id '{auditId}' is not urlsafe base64");

    static List<string> ReadAuditIds(ref MessagePackReader r)
    {
        if (r.NextMessagePackType != MessagePackType.Array) throw new FormatException("audit ids are not a list");
        var count = r.ReadArrayHeader();
        var ids = new List<string>(count);
        for (var i = 0; i < count; i++) ids.Add(Base64Url.EncodeToString(ReadBin(ref r)));
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

    static DateTime ReadExpires(ref MessagePackReader r)
    {
        var seconds = r.NextMessagePackType switch
        {
            MessagePackType.Integer => r.ReadInt64(),
            MessagePackType.Float => WholeSeconds(r.ReadDouble()),
            _ => throw new FormatException("expires_at is not a timestamp"),
        };
        if (seconds is < MinUnixSeconds or > MaxUnixSeconds) throw new FormatException("expires_at out of range");
        return DateTime.UnixEpoch.AddSeconds(seconds);
    }

    /// <summary>
    /// Keystone's reading: datetime.utcfromtimestamp (rounding half-even to the microsecond), then
    /// isotime drops the microseconds.
    /// </summary>
    static long WholeSeconds(double timestamp)
    {
        if (!double.IsFinite(timestamp) || Math.Abs(timestamp) >= 1e15) throw new FormatException("expires_at is not a timestamp");
        var whole = Math.Truncate(timestamp);
        var micro = Math.Round((timestamp - whole) * 1e6, MidpointRounding.ToEven);
        if (micro >= 1e6) whole += 1;
        else if (micro < 0) whole -= 1;
        return (long)whole;
    }
}
