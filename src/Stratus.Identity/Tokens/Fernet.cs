using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Stratus.Identity.Tokens;

/// <summary>
/// The Fernet spec (https://github.com/fernet/spec, what Python's <c>cryptography.fernet</c> implements):
/// <c>base64url(0x80 ‖ timestamp (8 bytes, big-endian seconds) ‖ IV (16) ‖ AES-128-CBC/PKCS7 ciphertext ‖
/// HMAC-SHA256 of everything before it)</c>. A key is 32 bytes: the signing key, then the encryption key.
/// </summary>
/// <remarks>
/// No time-to-live is enforced here: Keystone decrypts with <c>ttl=None</c> and checks the payload's own
/// expiry instead. Decoding is strict where Python's is lenient: only the base64url alphabet, no
/// whitespace, no non-zero trailing bits, padding either absent or exactly right. Every token Fernet
/// implementations produce passes; equivalent spellings of one token do not (one token, one string).
/// </remarks>
public static class Fernet
{
    public const byte Version = 0x80;
    /// <summary>Bytes in a Fernet key: 16 signing (HMAC) then 16 encryption (AES-128).</summary>
    public const int KeySize = 32;
    /// <summary>Longer tokens are rejected without decoding (Keystone's are a few hundred characters).</summary>
    public const int MaxTokenLength = 64 * 1024;

    const int TimestampOffset = 1, IvOffset = 9, HeaderLength = 25, BlockSize = 16, MacLength = 32;
    const int StackLimit = 1024;

    internal static readonly SearchValues<char> Base64UrlAlphabet =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    /// <summary>Encrypts at the current time with a random IV.</summary>
    /// <param name="padding">Keep the trailing '=' padding of the spec; Keystone strips it.</param>
    public static string Encrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext, bool padding = true)
    {
        Span<byte> iv = stackalloc byte[BlockSize];
        RandomNumberGenerator.Fill(iv);
        return Encrypt(key, plaintext, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), iv, padding);
    }

    /// <summary>Encrypts with the given timestamp (Unix seconds) and IV: deterministic, for tests and vectors.</summary>
    public static string Encrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext, long timestamp, ReadOnlySpan<byte> iv, bool padding = true)
    {
        if (key.Length != KeySize) throw new ArgumentException($"a Fernet key has {KeySize} bytes", nameof(key));
        if (iv.Length != BlockSize) throw new ArgumentException($"a Fernet IV has {BlockSize} bytes", nameof(iv));
        ArgumentOutOfRangeException.ThrowIfNegative(timestamp);

        var cipherLength = (plaintext.Length / BlockSize + 1) * BlockSize;
        var total = HeaderLength + cipherLength + MacLength;
        byte[]? rented = null;
        var raw = total <= StackLimit ? stackalloc byte[total] : (rented = ArrayPool<byte>.Shared.Rent(total)).AsSpan(0, total);
        try
        {
            raw[0] = Version;
            BinaryPrimitives.WriteInt64BigEndian(raw[TimestampOffset..], timestamp);
            iv.CopyTo(raw[IvOffset..]);
            var written = AesFor(key[16..]).EncryptCbc(plaintext, iv, raw.Slice(HeaderLength, cipherLength), PaddingMode.PKCS7);
            if (written != cipherLength) throw new CryptographicException("unexpected AES-CBC output length");
            HMACSHA256.HashData(key[..16], raw[..(HeaderLength + cipherLength)], raw[(HeaderLength + cipherLength)..]);
            var unpadded = Base64Url.GetEncodedLength(total);
            var length = padding ? (unpadded + 3) / 4 * 4 : unpadded;
            var chars = length <= StackLimit ? stackalloc char[length] : new char[length];
            if (Base64Url.EncodeToChars(raw, chars, out _, out _) != OperationStatus.Done)
                throw new CryptographicException("base64url encoding failed");
            chars[unpadded..].Fill('=');
            return new string(chars);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Decrypts with the first key whose MAC matches; false when none does or the token is malformed.</summary>
    /// <param name="timestamp">The token's creation time (Unix seconds).</param>
    public static bool TryDecrypt(IReadOnlyList<byte[]> keys, ReadOnlySpan<char> token,
        [NotNullWhen(true)] out byte[]? plaintext, out long timestamp)
    {
        plaintext = null;
        if (token.Length > MaxTokenLength) { timestamp = 0; return false; }
        var max = GetMaxPlaintextLength(token.Length);
        byte[]? rented = null;
        var buffer = max <= StackLimit ? stackalloc byte[max] : (rented = ArrayPool<byte>.Shared.Rent(max)).AsSpan(0, max);
        try
        {
            if (!TryDecrypt(keys, token, buffer, out var written, out timestamp)) return false;
            plaintext = buffer[..written].ToArray();
            return true;
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented, clearArray: true);
        }
    }

    /// <summary>The largest plaintext a token of <paramref name="tokenLength"/> characters can hold.</summary>
    public static int GetMaxPlaintextLength(int tokenLength) =>
        Math.Max(0, Base64Url.GetMaxDecodedLength(Math.Min(tokenLength, MaxTokenLength)) - HeaderLength - MacLength);

    /// <summary>
    /// Decrypts into <paramref name="destination"/> (at least <see cref="GetMaxPlaintextLength"/> bytes)
    /// with the first key whose MAC matches, allocating nothing. False when no key matches or the token
    /// is malformed (or the destination too small); never throws for a bad token.
    /// </summary>
    /// <exception cref="ArgumentException">A key that is not <see cref="KeySize"/> bytes.</exception>
    public static bool TryDecrypt(IReadOnlyList<byte[]> keys, ReadOnlySpan<char> token, Span<byte> destination,
        out int bytesWritten, out long timestamp)
    {
        ArgumentNullException.ThrowIfNull(keys);
        bytesWritten = 0;
        timestamp = 0;
        if (token.Length > MaxTokenLength) return false;

        // Keystone's restore_padding: padding may be absent, or present and exactly right.
        var body = token.TrimEnd('=');
        var padding = token.Length - body.Length;
        if (padding > 2 || (padding > 0 && token.Length % 4 != 0) || body.Length % 4 == 1) return false;
        if (body.ContainsAnyExcept(Base64UrlAlphabet)) return false;

        var maxRaw = Base64Url.GetMaxDecodedLength(body.Length);
        byte[]? rented = null;
        var raw = maxRaw <= StackLimit ? stackalloc byte[maxRaw] : (rented = ArrayPool<byte>.Shared.Rent(maxRaw)).AsSpan(0, maxRaw);
        try
        {
            if (Base64Url.DecodeFromChars(body, raw, out _, out var rawLength) != OperationStatus.Done) return false;
            raw = raw[..rawLength];
            var cipherLength = rawLength - HeaderLength - MacLength;
            if (cipherLength < BlockSize || cipherLength % BlockSize != 0 || raw[0] != Version) return false;
            if (destination.Length < cipherLength - 1) return false; // see GetMaxPlaintextLength

            var ts = BinaryPrimitives.ReadUInt64BigEndian(raw[TimestampOffset..]);
            var signed = raw[..(HeaderLength + cipherLength)];
            var mac = raw[(HeaderLength + cipherLength)..];
            Span<byte> expected = stackalloc byte[MacLength];
            for (var i = 0; i < keys.Count; i++)
            {
                var key = keys[i];
                if (key is not { Length: KeySize }) throw new ArgumentException($"a Fernet key has {KeySize} bytes", nameof(keys));
                HMACSHA256.HashData(key.AsSpan(0, 16), signed, expected);
                if (!CryptographicOperations.FixedTimeEquals(expected, mac)) continue;
                // Authentic. Python accepts any 64-bit timestamp here; a long is plenty, later ones are refused.
                if (ts > long.MaxValue) return false;
                if (!AesFor(key.AsSpan(16)).TryDecryptCbc(raw.Slice(HeaderLength, cipherLength), raw.Slice(IvOffset, BlockSize),
                        destination, out bytesWritten, PaddingMode.PKCS7))
                    return false;
                timestamp = (long)ts;
                return true;
            }
            return false;
        }
        catch (CryptographicException)
        {
            // Bad PKCS7 padding under a valid MAC: only a buggy or hostile key holder makes such a token.
            bytesWritten = 0;
            return false;
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    // One AES object per thread, re-keyed only when the key changes: no allocation per token.
    [ThreadStatic] static Aes? t_aes;
    [ThreadStatic] static byte[]? t_aesKey;

    static Aes AesFor(ReadOnlySpan<byte> encryptionKey)
    {
        var aes = t_aes;
        var current = t_aesKey;
        if (aes is null || current is null)
        {
            t_aes = aes = Aes.Create();
            t_aesKey = current = new byte[16];
            aes.SetKey(encryptionKey);
            encryptionKey.CopyTo(current);
        }
        else if (!encryptionKey.SequenceEqual(current))
        {
            aes.SetKey(encryptionKey);
            encryptionKey.CopyTo(current);
        }
        return aes;
    }
}
