using Stratus.Image.Schemas;
using Stratus.Image.Store;

namespace Stratus.Image.Api;

/// <summary><c>/v2/images</c>: create, list, show, update (JSON patch), delete, deactivate/reactivate.</summary>
public static class ImagesApi
{
    static readonly string[] Disallowed = ["direct_url", "self", "file", "schema", "stores"];
    static readonly string[] ReadOnly = ["created_at", "updated_at", "status", "checksum", "size", "virtual_size", "direct_url",
        "self", "file", "schema", "id", "os_hash_algo", "os_hash_value"];
    static readonly string[] Reserved = ["location", "deleted", "deleted_at"];

    public static RouteGroupBuilder MapImages(this RouteGroupBuilder v2)
    {
        var images = v2.MapGroup("/images");
        images.MapGet("/", List);
        images.MapPost("/", Create);
        images.MapGet("/{id}", Show);
        images.MapMethods("/{id}", ["PATCH"], Update);
        images.MapDelete("/{id}", Delete);
        images.MapPost("/{id}/actions/deactivate", Deactivate);
        images.MapPost("/{id}/actions/reactivate", Reactivate);
        return images;
    }

    static async Task<IResult> Create(HttpContext http, ImageDb db, ImageOptions options, CancellationToken ct)
    {
        var image = await NewImageAsync(http, db, options, await JsonBody.ReadObjectAsync(http.Request, ct), ct);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(ImageView.Render(image), 201).WithHeader("Location", $"/v2/images/{image.Id}");
    }

    /// <summary>An image record as a create request describes it, checked and added to <paramref name="db"/> (not yet saved).</summary>
    public static async Task<ImageRecord> NewImageAsync(HttpContext http, ImageDb db, ImageOptions options, JsonObject body, CancellationToken ct)
    {
        var caller = http.Caller();
        foreach (var key in Disallowed)
            if (body.ContainsKey(key)) throw OpenStackError.Forbidden($"Attribute '{key}' is read-only.");
        ImageSchemas.ValidateImage(body);
        foreach (var (key, _) in body)
        {
            if (key.Length > 255) throw OpenStackError.BadRequest("Custom property should not be greater than 255 characters.");
            if (key != "id" && ReadOnly.Contains(key)) throw OpenStackError.Forbidden($"Attribute '{key}' is read-only.");
            if (Reserved.Contains(key) || key.StartsWith("os_glance", StringComparison.Ordinal))
                throw OpenStackError.Forbidden($"Attribute '{key}' is reserved.");
        }
        var now = DateTime.UtcNow;
        var image = new ImageRecord
        {
            Id = (string?)body["id"] ?? Guid.NewGuid().ToString(),
            Owner = body.ContainsKey("owner") ? (string?)body["owner"] : caller.ProjectId,
            CreatedAt = now,
            UpdatedAt = now,
        };
        if (!caller.IsAdmin && image.Owner != caller.ProjectId)
            throw OpenStackError.Forbidden($"You are not permitted to create images owned by '{image.Owner}'.");
        http.Enforce("add_image", image);
        foreach (var (key, value) in body)
        {
            switch (key)
            {
                case "id" or "owner":
                    break;
                case "tags":
                    foreach (var tag in ((JsonArray)value!).Select(t => (string)t!).Distinct(StringComparer.Ordinal))
                        image.Tags.Add(new ImageTag { ImageId = image.Id, Value = tag });
                    break;
                default:
                    SetAttribute(http, image, key, value, creating: true);
                    break;
            }
        }
        CheckQuotas(image, options);
        if (await db.Images.AnyAsync(i => i.Id == image.Id, ct))
            throw OpenStackError.Conflict($"Image with identifier {image.Id} already exists!");
        db.Images.Add(image);
        return image;
    }

    /// <summary>Sets a base attribute or an extra property, with Glance's rules for each.</summary>
    static void SetAttribute(HttpContext http, ImageRecord image, string key, JsonNode? value, bool creating)
    {
        var caller = http.Caller();
        switch (key)
        {
            case "name": image.Name = (string?)value; break;
            case "visibility":
                var visibility = (string)value!;
                if (visibility == "public" && image.Visibility != "public") http.Enforce("publicize_image", image);
                if (visibility == "community" && image.Visibility != "community") http.Enforce("communitize_image", image);
                image.Visibility = visibility;
                break;
            case "protected": image.Protected = (bool)value!; break;
            case "os_hidden": image.OsHidden = (bool)value!; break;
            case "min_ram": image.MinRam = NonNegative(key, value); break;
            case "min_disk": image.MinDisk = NonNegative(key, value); break;
            case "owner":
                if (!caller.IsAdmin) throw OpenStackError.Forbidden("Owner can't be updated by non admin.");
                image.Owner = (string?)value;
                break;
            case "disk_format" or "container_format":
                if (!creating && image.Status != ImageStatus.Queued)
                    throw OpenStackError.Forbidden($"Attribute {key} can be only replaced for a queued image.");
                if (key == "disk_format") image.DiskFormat = (string?)value; else image.ContainerFormat = (string?)value;
                break;
            case "tags":
                image.Tags.Clear();
                foreach (var tag in ((JsonArray)value!).Select(t => (string)t!).Distinct(StringComparer.Ordinal))
                    image.Tags.Add(new ImageTag { ImageId = image.Id, Value = tag });
                break;
            default:
                var existing = image.Properties.FirstOrDefault(p => p.Name == key);
                if (existing is null) image.Properties.Add(new ImageProperty { ImageId = image.Id, Name = key, Value = (string)value! });
                else existing.Value = (string)value!;
                break;
        }
    }

    static int NonNegative(string key, JsonNode? value)
    {
        var n = (long)value!;
        if (n is < 0 or > int.MaxValue) throw OpenStackError.BadRequest($"Invalid value for {key}: it must be between 0 and {int.MaxValue}.");
        return (int)n;
    }

    static void CheckQuotas(ImageRecord image, ImageOptions options)
    {
        if (image.Properties.Count > options.ImagePropertyQuota)
            throw OpenStackError.TooLarge($"Attempted: {image.Properties.Count}, Maximum: {options.ImagePropertyQuota}: the image has too many properties.");
        if (image.Tags.Count > options.ImageTagQuota)
            throw OpenStackError.TooLarge($"Attempted: {image.Tags.Count}, Maximum: {options.ImageTagQuota}: the image has too many tags.");
    }

    static async Task<IResult> Show(string id, HttpContext http, ImageDb db, CancellationToken ct)
    {
        var image = await ImageAccess.FindAsync(db, id, http.Caller(), ct);
        http.Enforce("get_image", image);
        return new JsonResponse(ImageView.Render(image));
    }

    static async Task<IResult> Update(string id, HttpContext http, ImageDb db, ImageOptions options, CancellationToken ct)
    {
        var changes = await ImagePatch.ReadAsync(http.Request, ct);
        var caller = http.Caller();
        var image = await ImageAccess.FindAsync(db, id, caller, ct);
        http.Enforce("modify_image", image);
        foreach (var change in changes)
        {
            if (!ImageAccess.CanModify(caller, image))
                throw OpenStackError.Forbidden($"You are not permitted to modify '{change.Path}' on this image.");
            var isBase = ImageSchemas.IsBaseProperty(change.Path);
            var present = isBase || image.Properties.Any(p => p.Name == change.Path);
            switch (change.Op)
            {
                case "remove":
                    if (isBase) throw OpenStackError.Forbidden($"Property {change.Path} may not be removed.");
                    if (!present) throw OpenStackError.Conflict($"Property {change.Path} does not exist.");
                    image.Properties.RemoveAll(p => p.Name == change.Path);
                    break;
                case "replace" when !present:
                    throw OpenStackError.Conflict($"Property {change.Path} does not exist.");
                case "add" when present && change.DraftVersion == 4:
                    throw OpenStackError.Conflict($"Property {change.Path} already present.");
                default:
                    SetAttribute(http, image, change.Path, change.Value, creating: false);
                    break;
            }
        }
        CheckQuotas(image, options);
        if (changes.Count > 0)
        {
            image.Touch();
            await db.SaveChangesAsync(ct);
        }
        return new JsonResponse(ImageView.Render(image));
    }

    static async Task<IResult> Delete(string id, HttpContext http, ImageDb db, FileStore store, CancellationToken ct)
    {
        var caller = http.Caller();
        var image = await ImageAccess.FindAsync(db, id, caller, ct);
        http.Enforce("delete_image", image);
        ImageAccess.EnsureCanModify(caller, image, "delete");
        if (image.Protected) throw OpenStackError.Forbidden($"Image {id} is protected and cannot be deleted.");
        var location = image.Location;
        image.Status = ImageStatus.Deleted;
        image.Deleted = true;
        image.DeletedAt = DateTime.UtcNow;
        image.Location = null;
        image.Touch();
        await db.SaveChangesAsync(ct);
        // The record says "deleted" first: a crash now leaves an orphan file, never an image without data.
        FileStore.TryDelete(location);
        return Results.NoContent();
    }

    static async Task<IResult> Deactivate(string id, HttpContext http, ImageDb db, CancellationToken ct) =>
        await SetActivationAsync(id, http, db, "deactivate", ImageStatus.Deactivated, ct);

    static async Task<IResult> Reactivate(string id, HttpContext http, ImageDb db, CancellationToken ct) =>
        await SetActivationAsync(id, http, db, "reactivate", ImageStatus.Active, ct);

    static async Task<IResult> SetActivationAsync(string id, HttpContext http, ImageDb db, string action, string target, CancellationToken ct)
    {
        var caller = http.Caller();
        var image = await ImageAccess.FindAsync(db, id, caller, ct);
        http.Enforce(action, image);
        ImageAccess.EnsureCanModify(caller, image, action);
        if (image.Status == target) return Results.NoContent();
        if (image.Status is not (ImageStatus.Active or ImageStatus.Deactivated))
            throw OpenStackError.BadRequest($"Not allowed to {action} image in status '{image.Status}'");
        image.Status = target;
        image.Touch();
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    static async Task<IResult> List(HttpContext http, ImageDb db, ImageOptions options, CancellationToken ct)
    {
        var caller = http.Caller();
        http.Enforce("get_images");
        var q = ImageQuery.Parse(http.Request.Query, options);
        var project = caller.ProjectId;
        IQueryable<ImageRecord> query = db.Images.Where(i => !i.Deleted).Include(i => i.Properties).Include(i => i.Tags)
            .Include(i => i.Members).AsSplitQuery();
        // Which images a caller lists without asking for a visibility (Glance's default view).
        query = (q.Visibility, caller.IsAdmin) switch
        {
            (null, true) => query.Where(i => i.Visibility != "community" || i.Owner == project),
            (null, false) => query.Where(i => i.Owner == project || i.Visibility == "public"
                || (i.Visibility == "shared" && i.Members.Any(m => m.Member == project && (q.MemberStatus == "all" || m.Status == q.MemberStatus)))),
            ("all", true) => query,
            ("all", false) => query.Where(i => i.Owner == project || i.Visibility == "public" || i.Visibility == "community"
                || (i.Visibility == "shared" && i.Members.Any(m => m.Member == project && (q.MemberStatus == "all" || m.Status == q.MemberStatus)))),
            ("shared", true) => query.Where(i => i.Visibility == "shared"),
            ("shared", false) => query.Where(i => i.Visibility == "shared" && (i.Owner == project
                || i.Members.Any(m => m.Member == project && (q.MemberStatus == "all" || m.Status == q.MemberStatus)))),
            ("private", true) => query.Where(i => i.Visibility == "private"),
            ("private", false) => query.Where(i => i.Visibility == "private" && i.Owner == project),
            (var v, _) => query.Where(i => i.Visibility == v),
        };
        var images = (await query.ToListAsync(ct)).Where(q.Matches).ToList();
        images.Sort(q.Compare);
        if (q.Marker is not null)
        {
            var at = images.FindIndex(i => i.Id == q.Marker);
            if (at < 0)
            {
                var marker = await db.Images.Include(i => i.Members).FirstOrDefaultAsync(i => i.Id == q.Marker && !i.Deleted, ct);
                if (marker is null || !ImageAccess.CanSee(caller, marker)) throw OpenStackError.BadRequest($"Marker {q.Marker} could not be found.");
                at = images.FindLastIndex(i => q.Compare(i, marker) < 0);
            }
            images = images.Skip(at + 1).ToList();
        }
        var page = images.Take(q.Limit).ToList();
        var result = new JsonObject
        {
            ["images"] = new JsonArray([.. page.Select(i => (JsonNode)ImageView.Render(i))]),
            ["first"] = q.Link(null),
            ["schema"] = "/v2/schemas/images",
        };
        if (page.Count > 0 && page.Count == q.Limit) result["next"] = q.Link(page[^1].Id);
        return new JsonResponse(result);
    }
}
