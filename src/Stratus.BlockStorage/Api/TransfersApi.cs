using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Stratus.BlockStorage.Api;

/// <summary>
/// <c>/os-volume-transfer</c> and, from 3.55, <c>/volume-transfers</c>: a project offers an available volume (and its
/// snapshots unless <c>no_snapshots</c>) with an auth key; another project that knows the key accepts it, and the volume,
/// its snapshots and their quota usage become the recipient's.
/// </summary>
public static class TransfersApi
{
    public static void MapTransfers(this RouteGroupBuilder project)
    {
        Map(project.MapGroup("/os-volume-transfer"), newApi: false);
        Map(project.MapGroup("/volume-transfers"), newApi: true).From(55);
    }

    static RouteGroupBuilder Map(RouteGroupBuilder transfers, bool newApi)
    {
        transfers.MapGet("", (HttpContext http, CinderDb db, CinderOptions o, CancellationToken ct) => List(http, db, o, detail: false, ct));
        transfers.MapGet("/detail", (HttpContext http, CinderDb db, CinderOptions o, CancellationToken ct) => List(http, db, o, detail: true, ct));
        transfers.MapGet("/{id}", Show);
        transfers.MapPost("", (HttpContext http, CinderDb db, CancellationToken ct) => Create(http, db, newApi, ct));
        transfers.MapPost("/{id}/accept", Accept);
        transfers.MapDelete("/{id}", Delete);
        return transfers;
    }

    static JsonObject Summary(HttpContext http, Transfer t) => new()
    {
        ["id"] = t.Id,
        ["volume_id"] = t.VolumeId,
        ["name"] = t.Name,
        ["links"] = CinderApi.Links(http, "os-volume-transfer", t.Id),
    };

    static JsonObject Detail(HttpContext http, Transfer t, string? authKey = null)
    {
        var o = new JsonObject
        {
            ["id"] = t.Id,
            ["created_at"] = CinderApi.Time(t.CreatedAt),
            ["name"] = t.Name,
            ["volume_id"] = t.VolumeId,
        };
        if (authKey is not null) o["auth_key"] = authKey;
        o["links"] = CinderApi.Links(http, "os-volume-transfer", t.Id);
        var v = http.Version();
        if (v.AtLeast(55)) o["no_snapshots"] = t.NoSnapshots;
        if (v.AtLeast(57))
        {
            o["destination_project_id"] = t.DestinationProjectId;
            o["source_project_id"] = t.SourceProjectId;
            o["accepted"] = t.Accepted;
        }
        return o;
    }

    /// <summary>A pending transfer; for a non-admin only one of a volume of their project (Cinder's transfer_get).</summary>
    static async Task<Transfer> FindAsync(HttpContext http, CinderDb db, string id, bool anyProject, CancellationToken ct)
    {
        var t = await db.Transfers.FirstOrDefaultAsync(x => x.Id == id && !x.Deleted, ct);
        var volume = t is null ? null : await db.Volumes.AsNoTracking().FirstOrDefaultAsync(v => v.Id == t.VolumeId, ct);
        return t is not null && volume is not null && (anyProject || http.CanSee(volume.ProjectId))
            ? t : throw OpenStackError.NotFound($"Transfer {id} could not be found.");
    }

    static readonly string[] SortKeys = ["created_at", "id", "name", "volume_id"];

    static async Task<IResult> List(HttpContext http, CinderDb db, CinderOptions options, bool detail, CancellationToken ct)
    {
        http.Enforce("volume:get_all_transfers");
        var q = http.Request.Query;
        var allTenants = http.IsAdmin() && q["all_tenants"].FirstOrDefault() is { } all && all is "1" or "true" or "True" or "yes";
        var project = http.ProjectId();
        var rows = await (from t in db.Transfers.AsNoTracking()
                          join v in db.Volumes.AsNoTracking() on t.VolumeId equals v.Id
                          where !t.Deleted && (allTenants || v.ProjectId == project)
                          select t).ToListAsync(ct);
        if (q["name"].FirstOrDefault() is { } name) rows = [.. rows.Where(t => t.Name == name)];
        if (q["volume_id"].FirstOrDefault() is { } volumeId) rows = [.. rows.Where(t => t.VolumeId == volumeId)];
        // Paging and sorting came with 3.59; before, oldest first.
        var paging = http.Version().AtLeast(59)
            ? Paging.Parse(http, options.OsapiMaxLimit, SortKeys)
            : new Paging([("created_at", false), ("id", false)], null, null);
        var page = paging.Apply(rows, t => t.Id, (t, key) => key switch
        {
            "created_at" => t.CreatedAt,
            "name" => t.Name,
            "volume_id" => t.VolumeId,
            _ => null,
        }, "transfer");
        var body = new JsonObject { ["transfers"] = new JsonArray([.. page.Select(t => (JsonNode)(detail ? Detail(http, t) : Summary(http, t)))]) };
        if (paging.NextLinks(http, page.Count, page.LastOrDefault()?.Id, "os-volume-transfer") is { } links) body["transfers_links"] = links;
        return new JsonResponse(body);
    }

    static async Task<IResult> Show(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("volume:get_transfer");
        return new JsonResponse(new JsonObject { ["transfer"] = Detail(http, await FindAsync(http, db, id, anyProject: false, ct)) });
    }

    static async Task<IResult> Create(HttpContext http, CinderDb db, bool newApi, CancellationToken ct)
    {
        var body = await http.BodyAsync("transfer");
        var noSnapshotsAllowed = newApi && http.Version().AtLeast(55);
        foreach (var key in body.Select(p => p.Key))
            if (key is not ("volume_id" or "name") && !(key == "no_snapshots" && noSnapshotsAllowed))
                throw CinderApi.Invalid("transfer", body, $"Additional properties are not allowed ('{key}' was unexpected)");
        var volumeNode = body["volume_id"];
        if (volumeNode is null) throw CinderApi.Invalid("transfer", body, "'volume_id' is a required property");
        if (volumeNode.GetValueKind() != JsonValueKind.String || !Guid.TryParse(volumeNode.GetValue<string>(), out _))
            throw CinderApi.Invalid("volume_id", volumeNode, volumeNode.GetValueKind() == JsonValueKind.String ? $"'{volumeNode.GetValue<string>()}' is not a 'uuid'" : $"{volumeNode.ToJsonString()} is not of type 'string'");
        var name = Name(body);
        var noSnapshots = body.ContainsKey("no_snapshots") && CinderApi.Bool(body, "no_snapshots");

        var volume = await VolumesApi.FindAsync(http, db, volumeNode.GetValue<string>(), ct);
        http.Authorize("volume:create_transfer", volume.ProjectId, volume.UserId);
        if (volume.Status != VolumeStatus.Available) throw OpenStackError.BadRequest("Invalid volume: status must be available");
        if (!noSnapshots && await db.Snapshots.AsNoTracking().FirstOrDefaultAsync(s => s.VolumeId == volume.Id && s.Status != "available", ct) is { } busy)
            throw OpenStackError.BadRequest($"Invalid snapshot: snapshot: {busy.Id} status must be available");

        var salt = RandomNumberGenerator.GetHexString(8, lowercase: true);
        var authKey = RandomNumberGenerator.GetHexString(16, lowercase: true);
        var now = http.Now();
        var t = new Transfer
        {
            VolumeId = volume.Id,
            Name = name,
            Salt = salt,
            CryptHash = CryptHash(salt, authKey),
            NoSnapshots = noSnapshots,
            SourceProjectId = volume.ProjectId,
            CreatedAt = now,
        };
        volume.Status = "awaiting-transfer";
        volume.Touch(now);
        db.Transfers.Add(t);
        try { await db.SaveChangesAsync(ct); }
        catch (DbUpdateConcurrencyException)
        {
            throw OpenStackError.BadRequest($"Invalid volume: Transfer {t.Id}: Volume id {volume.Id} expected in available state.");
        }
        return new JsonResponse(new JsonObject { ["transfer"] = Detail(http, t, authKey) }, 202);
    }

    /// <summary>Cinder's name_skip_leading_trailing_spaces: a string or null, stripped, not blank.</summary>
    static string? Name(JsonObject body)
    {
        var node = body["name"];
        if (node is null) return null;
        if (node.GetValueKind() != JsonValueKind.String) throw CinderApi.Invalid("name", node, $"{node.ToJsonString()} is not valid under any of the given schemas");
        var name = node.GetValue<string>().Trim();
        if (name.Length == 0) throw CinderApi.Invalid("name", node, "The 'name' can not be empty.");
        if (name.Length > 255) throw CinderApi.Invalid("name", node, $"'{name}' is too long");
        return name;
    }

    /// <summary>HMAC-SHA1 of the auth key under the salt, in hex, as Cinder's _get_crypt_hash.</summary>
    internal static string CryptHash(string salt, string authKey) =>
        Convert.ToHexStringLower(HMACSHA1.HashData(Encoding.UTF8.GetBytes(salt), Encoding.UTF8.GetBytes(authKey)));

    static async Task<IResult> Accept(string id, HttpContext http, CinderDb db, Quotas quotas, CancellationToken ct)
    {
        var body = await http.BodyAsync("accept");
        var keyNode = body["auth_key"];
        if (keyNode is null) throw CinderApi.Invalid("accept", body, "'auth_key' is a required property");
        foreach (var key in body.Select(p => p.Key).Where(k => k != "auth_key"))
            throw CinderApi.Invalid("accept", body, $"Additional properties are not allowed ('{key}' was unexpected)");
        var authKey = keyNode.GetValueKind() switch
        {
            JsonValueKind.String => keyNode.GetValue<string>(),
            JsonValueKind.Number when keyNode.AsValue().TryGetValue<long>(out var n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => throw CinderApi.Invalid("auth_key", keyNode, $"{keyNode.ToJsonString()} is not of type 'string', 'integer'"),
        };
        http.Enforce("volume:accept_transfer");
        var t = await FindAsync(http, db, id, anyProject: true, ct);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(CryptHash(t.Salt, authKey)), Encoding.ASCII.GetBytes(t.CryptHash)))
            throw OpenStackError.BadRequest($"Invalid auth key: Attempt to transfer {id} with invalid auth key.");
        var volume = await db.Volumes.FirstAsync(v => v.Id == t.VolumeId, ct);
        if (volume.Status != "awaiting-transfer")
            throw OpenStackError.BadRequest($"Invalid volume: Transfer {id}: Volume id {volume.Id} expected in awaiting-transfer state.");
        var caller = http.Caller();
        var recipient = http.ProjectId();
        var snapshots = t.NoSnapshots ? [] : await db.Snapshots.Where(s => s.VolumeId == volume.Id).ToListAsync(ct);
        if (snapshots.FirstOrDefault(s => s.Status != "available") is { } busy)
            throw OpenStackError.BadRequest($"Invalid snapshot: Transfer {id}: Snapshot {busy.Id} is not in the expected available state.");
        // What moves counts against the recipient's quotas; the donor's usage drops as the rows change hands.
        if (recipient != volume.ProjectId)
            await quotas.CheckAsync(recipient, volumes: 1, snapshots: snapshots.Count, gigabytes: volume.Size + snapshots.Sum(s => s.VolumeSize), volumeSize: volume.Size, volume.VolumeTypeId, ct);

        var now = http.Now();
        volume.Status = VolumeStatus.Available;
        volume.ProjectId = recipient;
        volume.UserId = caller.UserId;
        volume.Touch(now);
        foreach (var s in snapshots)
        {
            s.ProjectId = recipient;
            s.UserId = caller.UserId;
            s.Touch(now);
        }
        foreach (var a in await db.Attachments.Where(a => a.VolumeId == volume.Id).ToListAsync(ct)) a.ProjectId = recipient;
        t.Accepted = true;
        t.Deleted = true;
        t.DestinationProjectId = recipient;
        t.DeletedAt = t.UpdatedAt = now;
        try { await db.SaveChangesAsync(ct); }
        catch (DbUpdateConcurrencyException)
        {
            throw OpenStackError.BadRequest($"Invalid volume: Transfer {id}: Volume id {volume.Id} expected in awaiting-transfer state.");
        }
        return new JsonResponse(new JsonObject { ["transfer"] = Summary(http, t) }, 202);
    }

    static async Task<IResult> Delete(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        var t = await FindAsync(http, db, id, anyProject: false, ct);
        var volume = await db.Volumes.FirstAsync(v => v.Id == t.VolumeId, ct);
        http.Authorize("volume:delete_transfer", volume.ProjectId, volume.UserId);
        var now = http.Now();
        if (volume.Status == "awaiting-transfer")
        {
            volume.Status = VolumeStatus.Available;
            volume.Touch(now);
        }
        t.Deleted = true;
        t.DeletedAt = t.UpdatedAt = now;
        await db.SaveChangesAsync(ct);
        return Results.Accepted();
    }
}
