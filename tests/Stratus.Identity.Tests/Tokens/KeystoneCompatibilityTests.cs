using System.Text.Json.Nodes;
using Stratus.Identity.Tokens;

namespace Stratus.Identity.Tests.Tokens;

/// <summary>Tokens made by the real Keystone (keystone-vectors.json, from make-vectors.py) validate here, field for field.</summary>
public class KeystoneCompatibilityTests
{
    public static TheoryData<string> TokenNames() => [.. KeystoneVectors.Tokens.Select(t => (string)t["name"]!)];

    static string? Text(JsonNode? node) => node is null ? null : (string)node!;

    static string[] Strings(JsonNode? node) => [.. node!.AsArray().Select(n => (string)n!)];

    [Theory]
    [MemberData(nameof(TokenNames))]
    public void Unpacks_keystones_token_with_every_field_as_keystone_reads_it(string name)
    {
        var vector = KeystoneVectors.Token(name);
        var expected = vector["expected"]!.AsObject();
        using var dir = KeystoneVectors.KeyDirectory();
        var formatter = new TokenFormatter(dir.Repository());

        var p = formatter.Unpack((string)vector["token"]!);

        Assert.NotNull(p);
        Assert.Equal((string)expected["user_id"]!, p.UserId);
        Assert.Equal(Strings(expected["methods"]), p.Methods);
        Assert.Equal(Strings(expected["audit_ids"]), p.AuditIds);
        Assert.Equal(Text(expected["project_id"]), p.ProjectId);
        Assert.Equal(Text(expected["domain_id"]), p.DomainId);
        Assert.Equal(Text(expected["system"]) == "all", p.System);
        Assert.Equal(Text(expected["trust_id"]), p.TrustId);
        Assert.Equal(Text(expected["app_cred_id"]), p.AppCredId);
        Assert.Equal(Text(expected["access_token_id"]), p.AccessTokenId);
        Assert.Equal(KeystoneVectors.Time((string)expected["issued_at"]!), p.IssuedAt);
        Assert.Equal(KeystoneVectors.Time((string)expected["expires_at"]!), p.ExpiresAt);
        Assert.Equal(DateTimeKind.Utc, p.IssuedAt.Kind);
        Assert.Equal(DateTimeKind.Utc, p.ExpiresAt.Kind);
    }

    [Theory]
    [MemberData(nameof(TokenNames))]
    public void Serializes_the_same_fields_to_the_same_bytes_as_keystone(string name)
    {
        var vector = KeystoneVectors.Token(name);
        var input = vector["input"]!.AsObject();
        using var dir = KeystoneVectors.KeyDirectory();
        var repo = dir.Repository();
        var formatter = new TokenFormatter(repo);

        // Keystone's plaintext, decrypted with our Fernet.
        Assert.True(Fernet.TryDecrypt(repo.LoadKeys(), (string)vector["token"]!, out var plaintext, out _));
        Assert.Equal((string)vector["payload"]!, Convert.ToHexStringLower(plaintext));

        var payload = new TokenPayload
        {
            UserId = (string)input["user_id"]!,
            Methods = Strings(input["methods"]),
            ProjectId = Text(input["project_id"]),
            DomainId = Text(input["domain_id"]),
            System = Text(input["system"]) == "all",
            AppCredId = Text(input["app_cred_id"]),
            TrustId = Text(input["trust_id"]),
            AccessTokenId = Text(input["access_token_id"]),
            ExpiresAt = KeystoneVectors.Time((string)input["expires_at"]!),
            AuditIds = Strings(input["audit_ids"]),
        };
        var ours = Convert.ToHexStringLower(formatter.Serialize(payload));
        if (payload.UserId.Any(char.IsAsciiLetterUpper))
        {
            // Keystone turns an uppercase UUID into bytes (and hands it back lowercase); we keep it as text.
            Assert.NotEqual((string)vector["payload"]!, ours);
            Assert.Equal((string)vector["payload"]!, Convert.ToHexStringLower(formatter.Serialize(payload with { UserId = payload.UserId.ToLowerInvariant() })));
        }
        else
            Assert.Equal((string)vector["payload"]!, ours);
    }

    [Fact]
    public void Tokens_made_before_keystones_rotation_use_the_secondary_key()
    {
        using var dir = KeystoneVectors.KeyDirectory();
        var keys = dir.Repository().LoadKeys();
        foreach (var vector in KeystoneVectors.Tokens)
        {
            var primary = (string)vector["primary_key"]!;
            var key = keys[primary == "2" ? 0 : 1];
            Assert.True(Fernet.TryDecrypt([key], (string)vector["token"]!, out _, out _), (string)vector["name"]!);
        }
    }

    [Fact]
    public void The_vectors_come_from_keystones_defaults()
    {
        var root = KeystoneVectors.Root;
        Assert.Equal(TokenFormatter.DefaultAuthMethods, Strings(root["auth_methods"]));
        Assert.Equal("default", (string)root["default_domain_id"]!);
        Assert.Equal("0o700", (string)root["directory_mode"]!);
        Assert.All(root["key_modes"]!.AsObject(), m => Assert.Equal("0o600", (string)m.Value!));
    }
}
