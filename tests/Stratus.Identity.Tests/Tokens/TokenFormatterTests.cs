using System.Globalization;
using System.Security.Cryptography;
using MessagePack;
using Microsoft.Extensions.Time.Testing;
using Stratus.Identity.Tokens;

namespace Stratus.Identity.Tests.Tokens;

public sealed class TokenFormatterTests : IDisposable
{
    const string User = "0c7e3a9d5f1b4e2a8d6c4b2a1f0e9d8c";
    const string Project = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";
    const string Domain = "1a2b3c4d5e6f708192a3b4c5d6e7f809";
    static readonly DateTime Expires = new(2030, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    readonly TempKeyDirectory _dir = new();
    readonly FernetKeyRepository _keys;
    readonly TokenFormatter _formatter;

    public TokenFormatterTests()
    {
        _keys = _dir.Repository();
        _keys.Setup();
        _formatter = new TokenFormatter(_keys);
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>A serialized payload's fields as the MessagePack library reads any value (an integer as the smallest .NET type that holds it).</summary>
    static object?[] Fields(byte[] serialized) => Assert.IsType<object?[]>(MessagePackSerializer.Deserialize<object>(serialized));

    static long Integer(object? field) => Convert.ToInt64(field, CultureInfo.InvariantCulture);

    static string NewAuditId() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    static TokenPayload Payload(string user = User) => new()
    {
        UserId = user,
        Methods = ["password"],
        ExpiresAt = Expires,
        AuditIds = [NewAuditId()],
    };

    public static TheoryData<string, int> Kinds() => new()
    {
        { "unscoped", 0 },
        { "domain", 1 },
        { "default-domain", 1 },
        { "project", 2 },
        { "trust", 3 },
        { "oauth1", 7 },
        { "system", 8 },
        { "application-credential", 9 },
        { "text-ids", 9 },
        { "rescoped", 2 },
    };

    static TokenPayload Sample(string kind) => kind switch
    {
        "unscoped" => Payload(),
        "domain" => Payload() with { DomainId = Domain },
        "default-domain" => Payload() with { DomainId = "default" },
        "project" => Payload() with { ProjectId = Project },
        "trust" => Payload() with { ProjectId = Project, TrustId = "00112233445566778899aabbccddeeff", Methods = ["token"] },
        "oauth1" => Payload() with { ProjectId = Project, AccessTokenId = "ffeeddccbbaa99887766554433221100", Methods = ["oauth1"] },
        "system" => Payload() with { System = true, Methods = ["token", "password"] },
        "application-credential" => Payload() with { ProjectId = Project, AppCredId = "aabbccddeeff00112233445566778899", Methods = ["application_credential"] },
        "text-ids" => Payload("admin") with { ProjectId = "my-project", AppCredId = "My App Cred ✓", Methods = ["application_credential"] },
        "rescoped" => Payload() with { ProjectId = Project, Methods = ["token", "password"], AuditIds = [NewAuditId(), NewAuditId()] },
        _ => throw new ArgumentException(kind),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Round_trips_every_payload_kind(string kind, int version)
    {
        var payload = Sample(kind);
        var before = DateTime.UtcNow;
        var token = _formatter.Pack(payload);

        Assert.DoesNotContain('=', token);
        Assert.StartsWith("gAAAAA", token); // 0x80 and a timestamp below 2^40
        Assert.Equal(version, Integer(Fields(_formatter.Serialize(payload))[0]));

        var unpacked = _formatter.Unpack(token);
        Assert.NotNull(unpacked);
        Assert.InRange(unpacked.IssuedAt, before.AddTicks(-before.Ticks % TimeSpan.TicksPerSecond), DateTime.UtcNow);
        Assert.Equal(DateTimeKind.Utc, unpacked.IssuedAt.Kind);
        Assert.Equal(DateTimeKind.Utc, unpacked.ExpiresAt.Kind);
        Assert.Equal(payload with { IssuedAt = unpacked.IssuedAt }, unpacked);
    }

    [Fact]
    public void Pack_with_an_issue_time_sets_the_fernet_timestamp()
    {
        var issued = new DateTime(2029, 5, 6, 7, 8, 9, 999, DateTimeKind.Utc);
        var unpacked = _formatter.Unpack(_formatter.Pack(Payload(), issued));
        Assert.Equal(new DateTime(2029, 5, 6, 7, 8, 9, DateTimeKind.Utc), unpacked!.IssuedAt);
    }

    [Fact]
    public void Methods_come_back_in_keystones_order()
    {
        var payload = Payload() with { Methods = ["password", "token", "ec2credential", "external"] };
        Assert.Equal(["ec2credential", "token", "password", "external"], _formatter.Unpack(_formatter.Pack(payload))!.Methods);
        Assert.Empty(_formatter.Unpack(_formatter.Pack(Payload() with { Methods = [] }))!.Methods);
    }

    [Fact]
    public void Expiry_keeps_microseconds_on_the_wire_and_reads_whole_seconds_like_keystone()
    {
        var expires = new DateTime(2030, 6, 7, 8, 9, 10, DateTimeKind.Utc).AddTicks(6_543_210);
        var payload = Payload() with { ExpiresAt = expires };
        var fields = Fields(_formatter.Serialize(payload));
        Assert.Equal(1907050150.654321, Assert.IsType<double>(fields[3]));
        Assert.Equal(new DateTime(2030, 6, 7, 8, 9, 10, DateTimeKind.Utc), _formatter.Unpack(_formatter.Pack(payload))!.ExpiresAt);
    }

    [Fact]
    public void Uuid_ids_travel_as_16_bytes_and_others_as_text()
    {
        var fields = Fields(_formatter.Serialize(Payload() with { ProjectId = "my-project" }));
        var user = (object?[])fields[1]!;
        Assert.Equal(true, user[0]);
        Assert.Equal(Convert.FromHexString(User), user[1]);
        Assert.Equal(new object?[] { false, "my-project" }, (object?[])fields[3]!);

        // An uppercase UUID stays text, so it comes back exactly as given.
        var upper = User.ToUpperInvariant();
        Assert.Equal(new object?[] { false, upper }, (object?[])Fields(_formatter.Serialize(Payload(upper)))[1]!);
        Assert.Equal(upper, _formatter.Unpack(_formatter.Pack(Payload(upper)))!.UserId);
    }

    [Fact]
    public void Tampered_tokens_unpack_to_null()
    {
        var token = _formatter.Pack(Sample("project"));
        Assert.NotNull(_formatter.Unpack(token));
        for (var i = 0; i < token.Length; i++)
        {
            var chars = token.ToCharArray();
            chars[i] = chars[i] == 'x' ? 'y' : 'x';
            Assert.Null(_formatter.Unpack(new string(chars)));
        }
        for (var n = 0; n < token.Length; n++) Assert.Null(_formatter.Unpack(token[..n]));
        Assert.Null(_formatter.Unpack(token + "A"));
        Assert.Null(_formatter.Unpack(token + token));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("gAAAAA")]
    [InlineData("=====")]
    [InlineData("%%%%")]
    [InlineData("ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ")]
    public void Garbage_unpacks_to_null(string? token)
    {
        Assert.Null(_formatter.Unpack(token));
    }

    [Fact]
    public void Random_strings_unpack_to_null()
    {
        var random = new Random(42);
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ ";
        for (var i = 0; i < 2000; i++)
        {
            var chars = new char[random.Next(0, 300)];
            for (var j = 0; j < chars.Length; j++) chars[j] = alphabet[random.Next(alphabet.Length)];
            if (i % 2 == 0 && chars.Length > 6) "gAAAAA".CopyTo(chars);
            Assert.Null(_formatter.Unpack(new string(chars)));
        }
        Assert.Null(_formatter.Unpack(new string('A', Fernet.MaxTokenLength + 1)));
    }

    [Fact]
    public void A_token_from_another_repository_unpacks_to_null()
    {
        using var other = new TempKeyDirectory();
        var repo = other.Repository();
        repo.Setup();
        var token = new TokenFormatter(repo).Pack(Payload());
        Assert.Null(_formatter.Unpack(token));
    }

    [Fact]
    public void Authentic_but_unsupported_or_malformed_payloads_unpack_to_null()
    {
        var key = _keys.LoadKeys()[0];
        string Seal(object? payload) => Fernet.Encrypt(key, MessagePackSerializer.Serialize(payload), padding: false);
        object?[] user = [true, Convert.FromHexString(User)];
        object?[] audit = [RandomNumberGenerator.GetBytes(16)];

        Assert.NotNull(_formatter.Unpack(Seal(new object?[] { 0, user, 2, 1.9e9, audit })));
        Assert.NotNull(_formatter.Unpack(Seal(new object?[] { 0, user, 2, 1.9e9, audit, "extra fields are ignored, as by Keystone" })));
        Assert.Null(_formatter.Unpack(Seal(new object?[] { 4, user, 2, new object?[0], user, "saml2", 1.9e9, audit }))); // federated
        Assert.Equal(User, _formatter.Unpack(Seal(new object?[] { 7, user, 2, user, user, 1.9e9, audit }))!.AccessTokenId); // OAuth1
        Assert.Null(_formatter.Unpack(Seal(new object?[] { 7, user, 2, user, new object?[] { false, null }, 1.9e9, audit }))); // OAuth1 without its access token
        Assert.Null(_formatter.Unpack(Seal(new object?[] { 10, user, 2, 1.9e9, audit }))); // unknown version
        Assert.Null(_formatter.Unpack(Seal(new object?[] { 0, user, 2, 1.9e9 }))); // too short
        Assert.Null(_formatter.Unpack(Seal(new object?[] { "0", user, 2, 1.9e9, audit })));
        Assert.Null(_formatter.Unpack(Seal(new object?[] { 0, new object?[] { true, new byte[15] }, 2, 1.9e9, audit })));
        Assert.Null(_formatter.Unpack(Seal(new object?[] { 0, new object?[] { 1, "x" }, 2, 1.9e9, audit })));
        Assert.Null(_formatter.Unpack(Seal(new object?[] { 0, new object?[] { false, null }, 2, 1.9e9, audit })));
        Assert.Null(_formatter.Unpack(Seal(new object?[] { 0, user, "password", 1.9e9, audit })));
        Assert.Null(_formatter.Unpack(Seal(new object?[] { 0, user, 2, "2030-01-01", audit })));
        Assert.Null(_formatter.Unpack(Seal(new object?[] { 0, user, 2, double.NaN, audit })));
        Assert.Null(_formatter.Unpack(Seal(new object?[] { 0, user, 2, 1e300, audit })));
        Assert.Null(_formatter.Unpack(Seal(new object?[] { 0, user, 2, 1.9e9, new object?[] { "not bytes" } })));
        Assert.Null(_formatter.Unpack(Seal(new object?[] { 1, user, 2, "other-domain", 1.9e9, audit })));
        Assert.Null(_formatter.Unpack(Seal(new object?[] { 8, user, 2, "domain", 1.9e9, audit })));
        Assert.Null(_formatter.Unpack(Seal(new object?[] { 3, user, 2, user, 1.9e9, audit, "not-a-uuid" })));
        Assert.Null(_formatter.Unpack(Seal(0L))); // not an array
        Assert.Null(_formatter.Unpack(Fernet.Encrypt(key, [0xc1], padding: false))); // not msgpack
        Assert.Null(_formatter.Unpack(Fernet.Encrypt(key, [], padding: false)));
    }

    /// <summary>An unscoped payload, field by field in msgpack hex, with field <paramref name="index"/> replaced (or, past the end, added).</summary>
    static byte[] UnscopedWith(int index, string hex)
    {
        List<string> fields =
        [
            "00", // version: unscoped
            "92c3c410" + User, // user id: (True, 16 bytes)
            "02", // methods: password
            "cb41dc4fecc0000000", // expires_at: 1.9e9
            "91c410" + Project, // one audit id of 16 bytes
        ];
        if (index < fields.Count) fields[index] = hex;
        else fields.Add(hex);
        return Convert.FromHexString($"{0x90 | fields.Count:x2}" + string.Concat(fields));
    }

    [Fact]
    public void The_hand_made_unscoped_payload_is_valid()
    {
        var p = _formatter.Deserialize(UnscopedWith(0, "00"), DateTime.UnixEpoch);
        Assert.NotNull(p);
        Assert.Equal(User, p.UserId);
        Assert.Equal(["password"], p.Methods);
        Assert.Equal(new DateTime(2030, 3, 17, 17, 46, 40, DateTimeKind.Utc), p.ExpiresAt);
    }

    [Theory]
    [InlineData(5, "")] // a sixth field announced but missing
    [InlineData(5, "c1")] // never used
    [InlineData(5, "0102")] // trailing bytes
    [InlineData(5, "92")] // array missing its items
    [InlineData(5, "dd7fffffff")] // array32 claiming 2^31-1 items
    [InlineData(5, "ddffffffff")] // array32 beyond int
    [InlineData(5, "dfffffffff")] // map32 beyond int
    [InlineData(5, "dbffffffff")] // str32 beyond int
    [InlineData(5, "c6ffffffff")] // bin32 beyond int
    [InlineData(5, "c9ffffffff01")] // ext32 beyond int
    [InlineData(5, "9181a161")] // a map missing its value
    [InlineData(1, "92c2dbffffffff")] // user id: str32 beyond int
    [InlineData(5, "c6000000ff00")] // bin32 longer than the data
    [InlineData(5, "a3ab")] // truncated str
    [InlineData(5, "cd01")] // truncated uint16
    [InlineData(5, "cb0000")] // truncated float64
    [InlineData(0, "cf8000000000000000")] // version: uint64 beyond long
    [InlineData(0, "c3")] // version: not an integer
    [InlineData(1, "92c2a2c328")] // user id: invalid UTF-8
    [InlineData(1, "92c2a1ff")] // user id: invalid UTF-8
    [InlineData(1, "92c3b0" + "00112233445566778899aabbccddeeff")] // user id: a UUID as str, not bin
    [InlineData(1, "93c2a161a161")] // user id: three items
    [InlineData(2, "cf8000000000000000")] // methods: uint64 beyond long
    [InlineData(2, "ca3fc00000")] // methods: a float
    [InlineData(3, "80")] // expires_at: a map
    [InlineData(3, "d40100")] // expires_at: an extension type
    [InlineData(3, "a131")] // expires_at: a str
    [InlineData(4, "c0")] // audit ids: nil
    [InlineData(4, "91a26162")] // audit ids: a str, not bin
    public void Malformed_msgpack_deserializes_to_null(int field, string hex)
    {
        Assert.Null(_formatter.Deserialize(UnscopedWith(field, hex), DateTime.UnixEpoch));
    }

    [Theory]
    [InlineData("80")] // a map
    [InlineData("d40100")] // an extension type
    [InlineData("cf8000000000000000")] // a uint64 beyond long
    [InlineData("93c0c2ca3fc00000")] // an array
    [InlineData("9281a161a16291c0")] // nested arrays and maps
    public void Fields_after_a_versions_own_are_skipped_whatever_they_hold(string hex)
    {
        // As Keystone, which indexes the fields it knows and never looks at the rest.
        Assert.NotNull(_formatter.Deserialize(UnscopedWith(5, hex), DateTime.UnixEpoch));
        var deep = string.Concat(Enumerable.Repeat("91", 10_000)) + "c0";
        Assert.NotNull(_formatter.Deserialize(UnscopedWith(5, deep), DateTime.UnixEpoch));
    }

    [Fact]
    public void Random_and_mutated_payloads_deserialize_without_throwing()
    {
        var random = new Random(12345);
        var valid = _formatter.Serialize(Sample("project"));
        var parsed = 0;
        for (var i = 0; i < 20_000; i++)
        {
            byte[] data;
            if (i % 2 == 0)
            {
                data = new byte[random.Next(0, 64)];
                random.NextBytes(data);
            }
            else
            {
                data = (byte[])valid.Clone();
                data[random.Next(data.Length)] = (byte)random.Next(256);
                if (random.Next(4) == 0) data = data[..random.Next(data.Length)];
            }
            if (_formatter.Deserialize(data, DateTime.UnixEpoch) is not null) parsed++;
        }
        Assert.InRange(parsed, 1, 10_000); // some mutations land in the bytes of an id and still parse
    }

    [Fact]
    public void Payloads_keystone_cannot_represent_are_refused()
    {
        Assert.Throws<ArgumentException>(() => _formatter.Pack(Payload() with { Methods = ["totp"] }));
        Assert.Throws<ArgumentException>(() => _formatter.Pack(Payload() with { DomainId = "my-domain" }));
        Assert.Throws<ArgumentException>(() => _formatter.Pack(Payload() with { ProjectId = Project, TrustId = "my-trust" }));
        Assert.Throws<ArgumentException>(() => _formatter.Pack(Payload() with { ProjectId = Project, AccessTokenId = User, TrustId = User }));
        Assert.Throws<ArgumentException>(() => _formatter.Pack(Payload() with { ProjectId = Project, DomainId = Domain }));
        Assert.Throws<ArgumentException>(() => _formatter.Pack(Payload() with { ProjectId = Project, System = true }));
        Assert.Throws<ArgumentException>(() => _formatter.Pack(Payload() with { DomainId = Domain, System = true }));
        Assert.Throws<ArgumentException>(() => _formatter.Pack(Payload() with { AuditIds = ["not base64!"] }));
        Assert.Throws<ArgumentException>(() => _formatter.Pack(Payload() with { ProjectId = "\ud800" })); // Python cannot encode it as UTF-8
    }

    [Fact]
    public void Configured_default_domain_and_auth_methods_are_honoured()
    {
        var formatter = new TokenFormatter(_keys) { DefaultDomainId = "my-domain", AuthMethods = ["password", "token", "totp"] };
        var payload = Payload() with { DomainId = "my-domain", Methods = ["totp", "password"] };
        var fields = Fields(formatter.Serialize(payload));
        Assert.Equal("my-domain", fields[3]);
        Assert.Equal(5L, Integer(fields[2]));
        var unpacked = formatter.Unpack(formatter.Pack(payload))!;
        Assert.Equal(["totp", "password"], unpacked.Methods);
        Assert.Equal("my-domain", unpacked.DomainId);
        Assert.Null(_formatter.Unpack(formatter.Pack(payload))); // "my-domain" is not the default here
    }

    [Fact]
    public void A_token_survives_one_rotation_and_dies_when_its_key_is_pruned()
    {
        var token = _formatter.Pack(Sample("project"));
        _keys.Rotate(); // its key (1) is now secondary
        Assert.NotNull(_formatter.Unpack(token));
        var newer = _formatter.Pack(Sample("project"));
        _keys.Rotate(); // key 1 is pruned (max_active_keys = 3)
        Assert.Null(_formatter.Unpack(token));
        Assert.NotNull(_formatter.Unpack(newer));
        _keys.Rotate();
        Assert.Null(_formatter.Unpack(newer));
    }

    [Fact]
    public void A_token_made_with_the_staged_key_is_accepted_before_the_rotation_reaches_this_node()
    {
        // Node B rotated and issued a token with its new primary (our staged key 0) before we synced.
        var staged = _keys.LoadKeys()[^1];
        var fromB = Fernet.Encrypt(staged, _formatter.Serialize(Payload()), padding: false);
        Assert.NotNull(_formatter.Unpack(fromB));
    }

    [Fact]
    public void Another_formatter_sees_a_rotation_within_a_second()
    {
        var clock = new FakeTimeProvider();
        var otherNode = new TokenFormatter(new FernetKeyRepository(_dir.Path, time: clock));
        var token = otherNode.Pack(Payload());
        for (var i = 0; i < 3; i++) _keys.Rotate();
        Assert.NotNull(otherNode.Unpack(token)); // its keys are at most a second old
        clock.Advance(FernetKeyRepository.RecheckInterval);
        Assert.Null(otherNode.Unpack(token));
        Assert.NotNull(otherNode.Unpack(_formatter.Pack(Payload())));
    }

    [Fact]
    public void Unpack_throws_only_for_a_missing_key_repository()
    {
        using var empty = new TempKeyDirectory();
        var formatter = new TokenFormatter(empty.Repository());
        Assert.Null(formatter.Unpack(""));
        var e = Assert.Throws<InvalidOperationException>(() => formatter.Unpack("gAAAAABrBji01PUitDYim7Bs"));
        Assert.Contains(empty.Path, e.Message);
    }
}
