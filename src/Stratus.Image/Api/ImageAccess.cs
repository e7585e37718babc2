
namespace Stratus.Image.Api;

/// <summary>
/// Who may see and change an image, as Glance decides it beside the data: admins everything; a
/// project its own images; everyone public and community images; members the shared images they
/// were added to. An image the caller may not see does not exist for them (404); one they may see
/// but not change answers 403.
/// </summary>
static class ImageAccess
{
    public static bool CanSee(Caller caller, ImageRecord image) =>
        caller.IsAdmin
        || (image.Owner is not null && image.Owner == caller.ProjectId)
        || image.Visibility is "public" or "community"
        || (image.Visibility == "shared" && image.Members.Any(m => m.Member == caller.ProjectId));

    public static bool CanModify(Caller caller, ImageRecord image) =>
        caller.IsAdmin || (image.Owner is not null && image.Owner == caller.ProjectId);

    /// <summary>The image with its properties, tags and members; 404 unless the caller may see it.</summary>
    public static async Task<ImageRecord> FindAsync(ImageDb db, string id, Caller caller, CancellationToken ct)
    {
        var image = await db.Images.Include(i => i.Properties).Include(i => i.Tags).Include(i => i.Members)
            .AsSplitQuery().FirstOrDefaultAsync(i => i.Id == id && !i.Deleted, ct);
        if (image is null || !CanSee(caller, image)) throw OpenStackError.NotFound($"No image found with ID {id}");
        return image;
    }

    public static void EnsureCanModify(Caller caller, ImageRecord image, string what)
    {
        if (!CanModify(caller, image)) throw OpenStackError.Forbidden($"You are not permitted to {what} this image.");
    }

    /// <summary>Glance's policy target for an image: its owner as project_id, its visibility, the caller as member.</summary>
    public static void Enforce(this HttpContext http, string rule, ImageRecord? image = null)
    {
        var caller = http.Caller();
        var target = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["project_id"] = image?.Owner ?? caller.ProjectId,
            ["owner"] = image?.Owner ?? caller.ProjectId,
            ["visibility"] = image?.Visibility,
            ["member_id"] = image?.Members.Any(m => m.Member == caller.ProjectId) == true ? caller.ProjectId : null,
        };
        PolicyEndpoints.Enforce(http, rule, target);
    }
}
