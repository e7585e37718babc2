using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Stratus.Compute.Api;

/// <summary><c>/os-keypairs</c>: a user's SSH keys; imported, or generated here (before 2.92) with the private key returned once.</summary>
public static partial class KeyPairsApi
{
    public static RouteGroupBuilder MapKeyPairs(this RouteGroupBuilder v21)
    {
        var keys = v21.MapGroup("/os-keypairs");
        keys.MapGet("", List);
        keys.MapPost("", Create);
        keys.MapGet("/{name}", Show);
        keys.MapDelete("/{name}", Delete);
        return keys;
    }

    /// <summary>Whose keys: the caller's, or (2.10+, admins) the user_id asked for.</summary>
    static string Owner(HttpContext http, string? asked)
    {
        var caller = http.Caller();
        if (asked is null || asked == caller.UserId) return caller.UserId;
        if (!Microversion.Of(http).AtLeast(10) || !caller.IsAdmin) throw OpenStackError.Forbidden("Policy doesn't allow os_compute_api:os-keypairs to be performed for another user.");
        return asked;
    }

    static JsonObject View(KeyPair k, ApiVersionRequest v, bool detail)
    {
        var o = new JsonObject { ["name"] = k.Name, ["public_key"] = k.PublicKey, ["fingerprint"] = k.Fingerprint };
        if (v.AtLeast(2)) o["type"] = k.Type;
        if (!detail) return o;
        o["user_id"] = k.UserId;
        o["created_at"] = k.CreatedAt.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", System.Globalization.CultureInfo.InvariantCulture);
        o["deleted"] = false;
        o["deleted_at"] = null;
        o["updated_at"] = null;
        o["id"] = k.Id;
        return o;
    }

    static async Task<IResult> List(HttpContext http, ApiDb db, CancellationToken ct)
    {
        var owner = Owner(http, http.Request.Query["user_id"].FirstOrDefault());
        var keys = await db.KeyPairs.Where(k => k.UserId == owner).OrderBy(k => k.Name).ToListAsync(ct);
        var v = Microversion.Of(http);
        var page = v.AtLeast(35) ? Paging.Apply(keys, k => k.Name, http.Request.Query) : new Paging.Page<KeyPair>(keys, null);
        var body = new JsonObject { ["keypairs"] = new JsonArray([.. page.Items.Select(k => (JsonNode)new JsonObject { ["keypair"] = View(k, v, false) })]) };
        if (page.Next is not null) body["keypairs_links"] = Paging.NextLinks(http, page.Next);
        return new JsonResponse(body);
    }

    static async Task<IResult> Show(string name, HttpContext http, ApiDb db, CancellationToken ct)
    {
        var owner = Owner(http, http.Request.Query["user_id"].FirstOrDefault());
        var key = await db.KeyPairs.FirstOrDefaultAsync(k => k.UserId == owner && k.Name == name, ct)
            ?? throw OpenStackError.NotFound($"Keypair {name} not found for user {owner}");
        return new JsonResponse(new JsonObject { ["keypair"] = View(key, Microversion.Of(http), true) });
    }

    static async Task<IResult> Delete(string name, HttpContext http, ApiDb db, CancellationToken ct)
    {
        var owner = Owner(http, http.Request.Query["user_id"].FirstOrDefault());
        var key = await db.KeyPairs.FirstOrDefaultAsync(k => k.UserId == owner && k.Name == name, ct)
            ?? throw OpenStackError.NotFound($"Keypair {name} not found for user {owner}");
        db.KeyPairs.Remove(key);
        await db.SaveChangesAsync(ct);
        return Microversion.Of(http).AtLeast(2) ? Results.NoContent() : Results.StatusCode(202);
    }

    static async Task<IResult> Create(HttpContext http, ApiDb db, CancellationToken ct)
    {
        var v = Microversion.Of(http);
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("keypair");
        var name = body.RequiredString("name");
        if (!ValidName().IsMatch(name))
            throw OpenStackError.BadRequest("Keypair data is invalid: Keypair name contains unsafe characters");
        var owner = Owner(http, body.OptionalString("user_id"));
        var type = v.AtLeast(2) ? body.OptionalString("type") ?? "ssh" : "ssh";
        if (type is not ("ssh" or "x509")) throw OpenStackError.BadRequest($"Invalid input for field/attribute type. Value: {type}.");
        var publicKey = body.OptionalString("public_key", 65535);
        string? privateKey = null;
        if (publicKey is null)
        {
            if (v.AtLeast(92)) throw OpenStackError.BadRequest("'public_key' is a required property: keypair generation is not supported from 2.92.");
            (publicKey, privateKey) = Generate();
        }
        var fingerprint = Fingerprint(publicKey);
        if (await db.KeyPairs.AnyAsync(k => k.UserId == owner && k.Name == name, ct))
            throw OpenStackError.Conflict($"Key pair '{name}' already exists.");
        var key = new KeyPair { Name = name, UserId = owner, PublicKey = publicKey, Fingerprint = fingerprint, Type = type, CreatedAt = DateTime.UtcNow };
        db.KeyPairs.Add(key);
        await db.SaveChangesAsync(ct);
        var view = View(key, v, false);
        view["user_id"] = owner;
        if (privateKey is not null) view["private_key"] = privateKey;
        return new JsonResponse(new JsonObject { ["keypair"] = view }, v.AtLeast(2) ? 201 : 200);
    }

    /// <summary>An RSA key pair: the private key as PEM, the public key in OpenSSH's one-line format.</summary>
    static (string Public, string Private) Generate()
    {
        using var rsa = RSA.Create(2048);
        var p = rsa.ExportParameters(false);
        var blob = new MemoryStream();
        WriteString(blob, Encoding.ASCII.GetBytes("ssh-rsa"));
        WriteString(blob, MpInt(p.Exponent!));
        WriteString(blob, MpInt(p.Modulus!));
        return ($"ssh-rsa {Convert.ToBase64String(blob.ToArray())} Generated-by-Nova", rsa.ExportRSAPrivateKeyPem() + "\n");
    }

    static byte[] MpInt(byte[] unsigned) => unsigned[0] >= 0x80 ? [0, .. unsigned] : unsigned;

    static void WriteString(Stream s, byte[] data)
    {
        s.Write([(byte)(data.Length >> 24), (byte)(data.Length >> 16), (byte)(data.Length >> 8), (byte)data.Length]);
        s.Write(data);
    }

    /// <summary>Nova's fingerprint: md5 of the key blob, colon-separated; an unreadable key is refused.</summary>
    static string Fingerprint(string publicKey)
    {
        var parts = publicKey.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        try
        {
            if (parts.Length < 2 || !parts[0].StartsWith("ssh-", StringComparison.Ordinal) && !parts[0].StartsWith("ecdsa-", StringComparison.Ordinal))
                throw new FormatException();
            var blob = Convert.FromBase64String(parts[1]);
            if (!WellFormed(blob, parts[0])) throw new FormatException();
            return string.Join(':', MD5.HashData(blob).Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
        }
        catch (FormatException)
        {
            throw OpenStackError.BadRequest("Keypair data is invalid: failed to generate fingerprint");
        }
    }

    /// <summary>The key blob is a sequence of length-prefixed fields, the first naming the key's type; an RSA key has its exponent and a modulus of at most 16384 bits.</summary>
    static bool WellFormed(byte[] blob, string type)
    {
        var fields = new List<byte[]>();
        for (var at = 0; at < blob.Length;)
        {
            if (at + 4 > blob.Length) return false;
            var length = (blob[at] << 24) | (blob[at + 1] << 16) | (blob[at + 2] << 8) | blob[at + 3];
            at += 4;
            if (length < 0 || at + length > blob.Length) return false;
            fields.Add(blob[at..(at + length)]);
            at += length;
        }
        if (fields.Count < 2 || Encoding.ASCII.GetString(fields[0]) != type) return false;
        return type != "ssh-rsa" || (fields.Count == 3 && fields[1].Length > 0 && fields[2].Length is > 0 and <= 2049);
    }

    [GeneratedRegex(@"^[a-zA-Z0-9 _.@-]{1,255}$")]
    private static partial Regex ValidName();
}
