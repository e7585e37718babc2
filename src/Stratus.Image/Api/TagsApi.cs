namespace Stratus.Image.Api;

/// <summary><c>PUT/DELETE /v2/images/{id}/tags/{tag}</c>.</summary>
public static class TagsApi
{
    public static RouteGroupBuilder MapTags(this RouteGroupBuilder images)
    {
        images.MapPut("/{id}/tags/{tag}", Add);
        images.MapDelete("/{id}/tags/{tag}", Remove);
        return images;
    }

    static async Task<IResult> Add(string id, string tag, HttpContext http, ImageDb db, ImageOptions options, CancellationToken ct)
    {
        if (tag.Length > 255) throw OpenStackError.BadRequest("Provided object does not match schema 'image': the tag is too long (255 characters at most).");
        var caller = http.Caller();
        var image = await ImageAccess.FindAsync(db, id, caller, ct);
        http.Enforce("modify_image", image);
        ImageAccess.EnsureCanModify(caller, image, "tag");
        if (image.Tags.Any(t => t.Value == tag)) return Results.NoContent();
        if (image.Tags.Count >= options.ImageTagQuota)
            throw OpenStackError.TooLarge($"Attempted: {image.Tags.Count + 1}, Maximum: {options.ImageTagQuota}: the image has too many tags.");
        image.Tags.Add(new ImageTag { ImageId = id, Value = tag });
        image.Touch();
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    static async Task<IResult> Remove(string id, string tag, HttpContext http, ImageDb db, CancellationToken ct)
    {
        var caller = http.Caller();
        var image = await ImageAccess.FindAsync(db, id, caller, ct);
        http.Enforce("modify_image", image);
        ImageAccess.EnsureCanModify(caller, image, "untag");
        var t = image.Tags.FirstOrDefault(x => x.Value == tag) ?? throw OpenStackError.NotFound($"Tag {tag} not found on image {id}.");
        image.Tags.Remove(t);
        db.Tags.Remove(t);
        image.Touch();
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }
}
