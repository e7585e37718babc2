namespace Stratus.Image.Api;

/// <summary>
/// <c>/v2/images/{id}/members</c>: the owner shares an image with other projects; each member
/// accepts or rejects it (only then, or with member_status, does it show in their list).
/// </summary>
public static class MembersApi
{
    public static RouteGroupBuilder MapMembers(this RouteGroupBuilder images)
    {
        images.MapGet("/{id}/members", List);
        images.MapPost("/{id}/members", Create);
        images.MapGet("/{id}/members/{member}", Show);
        images.MapPut("/{id}/members/{member}", Update);
        images.MapDelete("/{id}/members/{member}", Delete);
        return images;
    }

    static async Task<IResult> List(string id, HttpContext http, ImageDb db, CancellationToken ct)
    {
        var caller = http.Caller();
        var image = await ImageAccess.FindAsync(db, id, caller, ct);
        http.Enforce("get_members", image);
        EnsureShared(image);
        // A member sees only its own membership; the owner and admins see them all.
        var members = ImageAccess.CanModify(caller, image) ? image.Members : image.Members.Where(m => m.Member == caller.ProjectId);
        return new JsonResponse(new JsonObject
        {
            ["members"] = new JsonArray([.. members.OrderBy(m => m.CreatedAt).Select(m => (JsonNode)ImageView.Member(m))]),
            ["schema"] = "/v2/schemas/members",
        });
    }

    static async Task<IResult> Show(string id, string member, HttpContext http, ImageDb db, CancellationToken ct)
    {
        var caller = http.Caller();
        var image = await ImageAccess.FindAsync(db, id, caller, ct);
        http.Enforce("get_member", image);
        EnsureShared(image);
        var m = image.Members.FirstOrDefault(x => x.Member == member);
        if (m is null || (!ImageAccess.CanModify(caller, image) && member != caller.ProjectId))
            throw OpenStackError.NotFound($"Member {member} not found for image {id}");
        return new JsonResponse(ImageView.Member(m));
    }

    static async Task<IResult> Create(string id, HttpContext http, ImageDb db, ImageOptions options, CancellationToken ct)
    {
        var caller = http.Caller();
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var member = body["member"] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length is > 0 and <= 255
            ? s
            : throw OpenStackError.BadRequest("Member to be added not specified");
        var image = await ImageAccess.FindAsync(db, id, caller, ct);
        http.Enforce("add_member", image);
        if (!ImageAccess.CanModify(caller, image)) throw OpenStackError.Forbidden("You are not permitted to add members to this image.");
        if (image.Visibility != "shared")
            throw OpenStackError.Forbidden($"Image {id} could not be shared: only shared images have members (visibility is {image.Visibility}).");
        if (image.Members.Any(m => m.Member == member))
            throw OpenStackError.Conflict($"Member {member} already associated with image {id}.");
        if (image.Members.Count >= options.ImageMemberQuota)
            throw OpenStackError.TooLarge($"Attempted: {image.Members.Count + 1}, Maximum: {options.ImageMemberQuota}: the image has too many members.");
        var now = DateTime.UtcNow;
        var m = new ImageMember { ImageId = id, Member = member, Status = "pending", CreatedAt = now, UpdatedAt = now };
        image.Members.Add(m);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(ImageView.Member(m));
    }

    static async Task<IResult> Update(string id, string member, HttpContext http, ImageDb db, CancellationToken ct)
    {
        var caller = http.Caller();
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var status = (string?)(body["status"] as JsonValue);
        if (status is not ("pending" or "accepted" or "rejected"))
            throw OpenStackError.BadRequest($"Provided object does not match schema 'member': '{status}' is not one of ['pending', 'accepted', 'rejected']");
        var image = await ImageAccess.FindAsync(db, id, caller, ct);
        var m = image.Members.FirstOrDefault(x => x.Member == member)
            ?? throw OpenStackError.NotFound($"Member {member} not found for image {id}");
        http.Enforce("modify_member", image);
        // Only the member itself decides whether it takes the image, not the owner.
        if (member != caller.ProjectId && !caller.IsAdmin)
            throw OpenStackError.Forbidden("You are not permitted to modify the status of this member.");
        m.Status = status;
        m.UpdatedAt = DateTime.UtcNow;
        await db.SaveChangesAsync(ct);
        return new JsonResponse(ImageView.Member(m));
    }

    static async Task<IResult> Delete(string id, string member, HttpContext http, ImageDb db, CancellationToken ct)
    {
        var caller = http.Caller();
        var image = await ImageAccess.FindAsync(db, id, caller, ct);
        http.Enforce("delete_member", image);
        var m = image.Members.FirstOrDefault(x => x.Member == member);
        if (!ImageAccess.CanModify(caller, image))
        {
            if (m is null || member != caller.ProjectId) throw OpenStackError.NotFound($"Member {member} not found for image {id}");
            throw OpenStackError.Forbidden("You are not permitted to remove members of this image.");
        }
        if (m is null) throw OpenStackError.NotFound($"Member {member} not found for image {id}");
        image.Members.Remove(m);
        db.Members.Remove(m);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    static void EnsureShared(ImageRecord image)
    {
        if (image.Visibility != "shared")
            throw OpenStackError.Forbidden($"Only shared images have members (image {image.Id} is {image.Visibility}).");
    }
}
