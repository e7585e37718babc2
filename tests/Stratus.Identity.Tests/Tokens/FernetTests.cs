using System.Security.Cryptography;
using System.Text;
using Stratus.Identity.Tokens;

namespace Stratus.Identity.Tests.Tokens;

public class FernetTests
{
    static byte[] Key(string base64url) => Convert.FromBase64String(base64url.Replace('-', '+').Replace('_', '/'));

    [Fact]
    public void Matches_the_Fernet_spec_vector()
    {
        // github.com/fernet/spec generate.json / verify.json
        const string token = "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==";
        var key = Key("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=");
        var now = new DateTimeOffset(1985, 10, 26, 1, 20, 0, TimeSpan.FromHours(-7)).ToUnixTimeSeconds();
        var iv = Enumerable.Range(0, 16).Select(i => (byte)i).ToArray();

        Assert.Equal(token, Fernet.Encrypt(key, "hello"u8, now, iv));
        Assert.True(Fernet.TryDecrypt([key], token, out var plaintext, out var timestamp));
        Assert.Equal("hello", Encoding.UTF8.GetString(plaintext));
        Assert.Equal(now, timestamp);
    }

    [Fact]
    public void Matches_python_cryptography()
    {
        foreach (var v in KeystoneVectors.Root["fernet"]!.AsArray().Select(n => n!.AsObject()))
        {
            var key = Key((string)v["key"]!);
            var plaintext = Convert.FromHexString((string)v["plaintext"]!);
            var token = (string)v["token"]!;
            Assert.Equal(token, Fernet.Encrypt(key, plaintext, (long)v["timestamp"]!, Convert.FromHexString((string)v["iv"]!)));
            Assert.True(Fernet.TryDecrypt([key], token, out var decrypted, out var timestamp));
            Assert.Equal(plaintext, decrypted);
            Assert.Equal((long)v["timestamp"]!, timestamp);
            // Without padding, as Keystone carries it.
            Assert.True(Fernet.TryDecrypt([key], token.TrimEnd('='), out decrypted, out _));
            Assert.Equal(plaintext, decrypted);
        }
    }

    [Fact]
    public void Tries_every_key_and_rejects_unknown_ones()
    {
        var k1 = RandomNumberGenerator.GetBytes(32);
        var k2 = RandomNumberGenerator.GetBytes(32);
        var k3 = RandomNumberGenerator.GetBytes(32);
        var token = Fernet.Encrypt(k2, "payload"u8);
        Assert.True(Fernet.TryDecrypt([k1, k2], token, out var p, out var ts));
        Assert.Equal("payload"u8.ToArray(), p);
        Assert.InRange(ts, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 5, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.False(Fernet.TryDecrypt([k1, k3], token, out _, out _));
        Assert.False(Fernet.TryDecrypt([], token, out _, out _));
    }

    [Fact]
    public void Any_altered_byte_or_character_is_rejected()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var token = Fernet.Encrypt(key, "some payload that spans two blocks"u8, padding: false);
        var raw = Convert.FromBase64String(Pad(token).Replace('-', '+').Replace('_', '/'));
        for (var i = 0; i < raw.Length; i++)
        {
            var bad = (byte[])raw.Clone();
            bad[i] ^= 0x01;
            Assert.False(Fernet.TryDecrypt([key], Convert.ToBase64String(bad).Replace('+', '-').Replace('/', '_'), out _, out _), $"byte {i}");
        }
        for (var i = 0; i < token.Length; i++)
        {
            var chars = token.ToCharArray();
            chars[i] = chars[i] == 'A' ? 'B' : 'A';
            Assert.False(Fernet.TryDecrypt([key], new string(chars), out _, out _), $"char {i}");
        }
        for (var n = 0; n < token.Length; n++)
            Assert.False(Fernet.TryDecrypt([key], token.AsSpan(0, n), out _, out _), $"truncated to {n}");
    }

    static string Pad(string s) => s.Length % 4 == 0 ? s : s + new string('=', 4 - s.Length % 4);

    [Fact]
    public void Accepts_one_spelling_of_a_token_only()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var padded = Fernet.Encrypt(key, "x"u8); // 89 bytes: base64 ends with "=="
        Assert.EndsWith("==", padded);
        var bare = padded.TrimEnd('=');
        Assert.True(Fernet.TryDecrypt([key], padded, out _, out _));
        Assert.True(Fernet.TryDecrypt([key], bare, out _, out _));
        Assert.False(Fernet.TryDecrypt([key], bare + "=", out _, out _)); // partial padding
        Assert.False(Fernet.TryDecrypt([key], padded + "=", out _, out _));
        Assert.False(Fernet.TryDecrypt([key], padded + "==", out _, out _));
        Assert.False(Fernet.TryDecrypt([key], " " + bare, out _, out _));
        Assert.False(Fernet.TryDecrypt([key], bare[..40] + "\n" + bare[40..], out _, out _));
        Assert.False(Fernet.TryDecrypt([key], bare.Replace('-', '+').Replace('_', '/') + "AAAA", out _, out _));
        // The last character carries 4 unused bits: Python ignores them, we want them zero.
        var last = bare[^1];
        var alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        var sibling = alphabet[alphabet.IndexOf(last) ^ 1];
        Assert.False(Fernet.TryDecrypt([key], bare[..^1] + sibling, out _, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("=")]
    [InlineData("gAAAAA")]
    [InlineData("not a token")]
    [InlineData("gAAAAABrBji01PUitDYim7BsF6PfE-ZgWU69V10RprC02cIp2b1dZy-FJY2AmSYZyoke_rq7_hTF7THWBljlVMFQvmYQ-iRaIj0yEk9KBq86BpiWKCoHJaHHxjrR1tIzX_l_yPf9MwGOJFL5ccTzf4nEYfgu2mqRWg")]
    public void Garbage_is_rejected(string token)
    {
        Assert.False(Fernet.TryDecrypt([RandomNumberGenerator.GetBytes(32)], token, out _, out _));
    }

    [Fact]
    public void A_valid_MAC_over_a_wrong_version_or_bad_padding_is_rejected()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        // Version byte other than 0x80, correctly signed.
        var raw = Convert.FromBase64String(Fernet.Encrypt(key, "hi"u8).Replace('-', '+').Replace('_', '/'));
        raw[0] = 0x81;
        HMACSHA256.HashData(key.AsSpan(0, 16), raw.AsSpan(0, raw.Length - 32), raw.AsSpan(raw.Length - 32));
        Assert.False(Fernet.TryDecrypt([key], Convert.ToBase64String(raw).Replace('+', '-').Replace('/', '_'), out _, out _));

        // A ciphertext whose PKCS7 padding is invalid, correctly signed.
        var iv = new byte[16];
        using var aes = Aes.Create();
        aes.Key = key[16..];
        var cipher = aes.EncryptCbc(new byte[16] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 99 }, iv, PaddingMode.None);
        var forged = new byte[25 + cipher.Length + 32];
        forged[0] = 0x80;
        cipher.CopyTo(forged, 25);
        HMACSHA256.HashData(key.AsSpan(0, 16), forged.AsSpan(0, 25 + cipher.Length), forged.AsSpan(25 + cipher.Length));
        Assert.False(Fernet.TryDecrypt([key], Convert.ToBase64String(forged).Replace('+', '-').Replace('/', '_'), out _, out _));
    }

    [Fact]
    public void Large_payloads_round_trip()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var plaintext = RandomNumberGenerator.GetBytes(20_000);
        var token = Fernet.Encrypt(key, plaintext, padding: false);
        Assert.True(Fernet.TryDecrypt([key], token, out var decrypted, out _));
        Assert.Equal(plaintext, decrypted);
        Assert.False(Fernet.TryDecrypt([key], new string('A', Fernet.MaxTokenLength + 4), out _, out _));
    }

    [Fact]
    public void Keys_must_have_32_bytes()
    {
        Assert.Throws<ArgumentException>(() => Fernet.Encrypt(new byte[16], "x"u8));
        var token = Fernet.Encrypt(new byte[32], "x"u8);
        Assert.Throws<ArgumentException>(() => Fernet.TryDecrypt([new byte[31]], token, out _, out _));
    }
}
