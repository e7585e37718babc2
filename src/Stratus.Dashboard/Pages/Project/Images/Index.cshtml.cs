using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Stratus.Dashboard.OpenStack;

namespace Stratus.Dashboard.Pages.Project.Images;

/// <summary>The images the project sees in the selected region: list, upload (streamed on to the image service), delete.</summary>
[DisableRequestSizeLimit]
[RequestFormLimits(MultipartBodyLengthLimit = long.MaxValue)]
public sealed class IndexModel : CloudPageModel
{
    public static readonly string[] DiskFormats = ["qcow2", "raw", "iso", "vmdk", "vdi", "vhd", "vhdx", "ami", "aki", "ari", "ploop"];

    public IReadOnlyList<JsonObject> Images { get; private set; } = [];

    [BindProperty] public string? Name { get; set; }
    [BindProperty] public string DiskFormat { get; set; } = "qcow2";
    [BindProperty] public string Visibility { get; set; } = "private";
    [BindProperty] public IFormFile? Upload { get; set; }

    public async Task OnGetAsync()
    {
        Images = ((await TryAsync(() => Cloud.GetAsync("image", "/v2/images?limit=1000&sort=name:asc")))?["images"] as JsonArray ?? [])
            .OfType<JsonObject>().ToList();
    }

    public async Task<IActionResult> OnPostUploadAsync()
    {
        Name = Name?.Trim();
        if (string.IsNullOrEmpty(Name)) Errors.Add("Image Name is required.");
        if (Upload is null || Upload.Length == 0) Errors.Add("Choose a file to upload.");
        if (!DiskFormats.Contains(DiskFormat)) Errors.Add($"'{DiskFormat}' is not a disk format.");
        if (Visibility is not ("private" or "shared" or "community" or "public")) Errors.Add($"'{Visibility}' is not a visibility.");
        if (Errors.Count == 0)
        {
            string? id = null;
            try
            {
                var created = await Cloud.PostAsync("image", "/v2/images", new JsonObject
                {
                    ["name"] = Name,
                    ["disk_format"] = DiskFormat,
                    ["container_format"] = "bare",
                    ["visibility"] = Visibility,
                });
                id = (string?)created?["id"] ?? throw new CloudException(502, "The image service answered without an image id.");
                await using var data = Upload!.OpenReadStream();
                await Cloud.PutStreamAsync("image", $"/v2/images/{id}/file", data, Upload.Length);
                Flash = $"Uploaded image {Name} ({Size(Upload.Length)}).";
                // The page's script sent the form (for its progress bar): it navigates itself, so the message is not spent on a redirect it follows.
                if (Request.Headers.XRequestedWith == "XMLHttpRequest") return new JsonResult(new { location = Url.Page("/Project/Images/Index") });
                return RedirectToPage();
            }
            catch (CloudException e) when (e.Status != 401)
            {
                Errors.Add(e.Message);
                // No half-made image is left behind.
                if (id is not null) await TryAsync(() => Cloud.DeleteAsync("image", "/v2/images/" + id));
            }
        }
        Response.StatusCode = 400;
        await OnGetAsync();
        return Page();
    }

    public Task<IActionResult> OnPostDeleteAsync([FromForm] string id, [FromForm] string? name) =>
        ActAsync(() => Cloud.DeleteAsync("image", "/v2/images/" + Uri.EscapeDataString(id)), $"Deleted image {name ?? id}.");
}
