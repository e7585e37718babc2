using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Stratus.Identity.Tokens;

/// <summary>
/// The Fernet spec (what Python's cryptography.fernet implements): version 0x80, big-endian
/// timestamp, IV, AES-128-CBC ciphertext, HMAC-SHA256; base64url. A key is 32 bytes: signing key
/// then encryption key.
/// </summary>
public static class Fernet
{
    const byte Version = 0x80;
    const int HeaderLength = 1 + 8 + 16;
    const int MacLength = 32;

    public static string Encrypt(byte[] key, ReadOnlySpan<byte> plaintext, DateTimeOffset now)
    {
        var iv = RandomNumberGenerator.GetBytes(16);
        using var aes = Aes.Create();
        aes.Key = key[16..];
        var cipher = aes.EncryptCbc(plaintext, iv, PaddingMode.PKCS7);
        var token = new byte[HeaderLength + cipher.Length + MacLength];
        token[0] = Version;
        BinaryPrimitives.WriteInt64BigEndian(token.AsSpan(1), now.ToUnixTimeSeconds());
        iv.CopyTo(token, 9);
        cipher.CopyTo(token, HeaderLength);
        HMACSHA256.HashData(key.AsSpan(0, 16), token.AsSpan(0, HeaderLength + cipher.Length), token.AsSpan(HeaderLength + cipher.Length));
        return Convert.ToBase64String(token).Replace('+', '-').Replace('/', '_');
    }

    /// <summary>Decrypts with the first key whose MAC matches; null when none does or the token is malformed.</summary>
    public static (byte[] Plaintext, DateTimeOffset Timestamp)? Decrypt(IReadOnlyList<byte[]> keys, string token)
    {
        byte[] raw;
        try
        {
            raw = Convert.FromBase64String(token.Replace('-', '+').Replace('_', '/'));
        }
        catch (FormatException)
        {
            return null;
        }
        if (raw.Length < HeaderLength + 16 + MacLength || raw[0] != Version || (raw.Length - HeaderLength - MacLength) % 16 != 0)
            return null;
        var signed = raw.AsSpan(0, raw.Length - MacLength);
        var mac = raw.AsSpan(raw.Length - MacLength);
        Span<byte> expected = stackalloc byte[MacLength];
        foreach (var key in keys)
        {
            HMACSHA256.HashData(key.AsSpan(0, 16), signed, expected);
            if (!CryptographicOperations.FixedTimeEquals(expected, mac)) continue;
            try
            {
                using var aes = Aes.Create();
                aes.Key = key[16..];
                var plain = aes.DecryptCbc(raw.AsSpan(HeaderLength, raw.Length - HeaderLength - MacLength), raw.AsSpan(9, 16), PaddingMode.PKCS7);
                var ts = BinaryPrimitives.ReadInt64BigEndian(raw.AsSpan(1, 8));
                return (plain, DateTimeOffset.FromUnixTimeSeconds(ts));
            }
            catch (CryptographicException)
            {
                return null;
            }
        }
        return null;
    }
}
