using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Image.Store;

namespace Stratus.Image.Api;

/// <summary>
/// Image data: <c>PUT/GET /v2/images/{id}/file</c>, and the interoperable import
/// (<c>PUT /stage</c>, <c>POST /import</c>). The record's status moves first (queued → saving →
/// active), so an upload that breaks leaves a queued image and no bytes, never an active one with
/// wrong bytes.
/// </summary>
public static class ImageDataApi
{
    public static RouteGroupBuilder MapImageData(this RouteGroupBuilder images)
    {
        images.MapPut("/{id}/file", Upload);
        images.MapGet("/{id}/file", Download);
        images.MapPut("/{id}/stage", Stage);
        images.MapPost("/{id}/import", Import);
        images.MapGet("/{id}/tasks", Tasks);
        return images;
    }

    static async Task<IResult> Upload(string id, HttpContext http, ImageDb db, FileStore store, ImageOptions options, CancellationToken ct)
    {
        var image = await BeginWriteAsync(id, http, db, options, "upload_image", ImageStatus.Saving, ct);
        var stored = await ReceiveAsync(http, db, store, image, options, revertTo: ImageStatus.Queued);
        await CompleteAsync(db, image.Id, stored, ImageStatus.Active);
        return Results.NoContent();
    }

    static async Task<IResult> Stage(string id, HttpContext http, ImageDb db, ImageOptions options, CancellationToken ct)
    {
        if (!options.EnabledImportMethods.Contains("glance-direct"))
            throw OpenStackError.NotFound("The glance-direct import method is not enabled on this site.");
        var image = await BeginWriteAsync(id, http, db, options, "upload_image", ImageStatus.Uploading, ct);
        var staging = new FileStore(options.StagingDir);
        var stored = await ReceiveAsync(http, db, staging, image, options, revertTo: ImageStatus.Queued);
        // Staged data waits, still "uploading", for POST /import; only the import makes it active.
        var fresh = await db.Images.FirstOrDefaultAsync(i => i.Id == image.Id && !i.Deleted, CancellationToken.None);
        if (fresh is null)
        {
            FileStore.TryDelete(stored.Path);
            throw new OpenStackError(410, "Gone", $"Image {id} could not be found after upload. The image may have been deleted during the upload.");
        }
        fresh.Location = stored.Path;
        fresh.Size = stored.Size;
        fresh.Touch();
        await db.SaveChangesAsync(CancellationToken.None);
        return Results.NoContent();
    }

    /// <summary>Checks that data may be written now and moves the image to <paramref name="status"/>, atomically.</summary>
    static async Task<ImageRecord> BeginWriteAsync(string id, HttpContext http, ImageDb db, ImageOptions options, string rule, string status, CancellationToken ct)
    {
        var caller = http.Caller();
        var image = await ImageAccess.FindAsync(db, id, caller, ct);
        http.Enforce(rule, image);
        ImageAccess.EnsureCanModify(caller, image, "upload data to");
        if (image.DiskFormat is null || image.ContainerFormat is null)
            throw OpenStackError.BadRequest("Properties disk_format, container_format must be set prior to saving data.");
        if (image.Status != ImageStatus.Queued)
            throw OpenStackError.Conflict($"Image status transition from {image.Status} to {status} is not allowed");
        if (http.Request.ContentLength > options.ImageSizeCap)
            throw OpenStackError.TooLarge($"Image exceeds the storage quota: the limit is {options.ImageSizeCap} bytes.");
        image.Status = status;
        image.Touch();
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw OpenStackError.Conflict($"Image {id} is being changed by another request; retry.");
        }
        return image;
    }

    /// <summary>Streams the request body into <paramref name="store"/>; on any failure the image goes back to <paramref name="revertTo"/>.</summary>
    static async Task<StoredData> ReceiveAsync(HttpContext http, ImageDb db, FileStore store, ImageRecord image, ImageOptions options, string revertTo)
    {
        // Image data is limited by image_size_cap, not by the API's request size limit.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = null;
        try
        {
            return await store.WriteAsync(image.Id, http.Request.Body, options.ImageSizeCap, http.RequestAborted);
        }
        catch (Exception e)
        {
            await RevertAsync(http, image.Id, revertTo);
            throw e switch
            {
                ImageTooLargeException => OpenStackError.TooLarge(e.Message),
                BadHttpRequestException b => new OpenStackError(b.StatusCode == 413 ? 413 : 400, OpenStackError.TitleFor(b.StatusCode == 413 ? 413 : 400),
                    "The image data could not be read: " + b.Message),
                IOException when !http.RequestAborted.IsCancellationRequested => OpenStackError.Unavailable(
                    "The image could not be stored: " + e.Message),
                _ => e,
            };
        }
    }

    /// <summary>Puts a failed write's image back, in a context of its own: the request's may be gone with the client.</summary>
    static async Task RevertAsync(HttpContext http, string id, string status)
    {
        await using var scope = http.RequestServices.GetRequiredService<IServiceScopeFactory>().CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ImageDb>();
        var image = await db.Images.FirstOrDefaultAsync(i => i.Id == id && !i.Deleted);
        if (image is null || image.Status is ImageStatus.Active) return;
        image.Status = status;
        image.Touch();
        await db.SaveChangesAsync();
    }

    /// <summary>Records the stored data and the final status; data for an image deleted meanwhile is removed.</summary>
    internal static async Task CompleteAsync(ImageDb db, string id, StoredData stored, string status)
    {
        db.ChangeTracker.Clear();
        var image = await db.Images.FirstOrDefaultAsync(i => i.Id == id && !i.Deleted, CancellationToken.None);
        if (image is null)
        {
            FileStore.TryDelete(stored.Path);
            throw new OpenStackError(410, "Gone", $"Image {id} could not be found after upload. The image may have been deleted during the upload.");
        }
        image.Location = stored.Path;
        image.Size = stored.Size;
        image.Checksum = stored.Md5;
        image.OsHashAlgo = "sha512";
        image.OsHashValue = stored.Sha512;
        image.VirtualSize = stored.VirtualSize ?? (image.DiskFormat is "raw" or "iso" ? stored.Size : null);
        image.Status = status;
        image.Touch();
        await db.SaveChangesAsync(CancellationToken.None);
    }

    static async Task<IResult> Download(string id, HttpContext http, ImageDb db, FileStore store, CancellationToken ct)
    {
        var caller = http.Caller();
        var image = await ImageAccess.FindAsync(db, id, caller, ct);
        http.Enforce("download_image", image);
        if (image.Status == ImageStatus.Deactivated && !caller.IsAdmin)
            throw OpenStackError.Forbidden("The requested image has been deactivated. Image data download is forbidden.");
        if (image.Status is not (ImageStatus.Active or ImageStatus.Deactivated) || image.Location is null) return Results.NoContent();
        ImageReader file;
        try
        {
            file = store.OpenReader(image.Location);
        }
        catch (FileNotFoundException)
        {
            throw OpenStackError.NotFound($"The data of image {id} is missing from the store.");
        }
        using (file)
        {
            var size = file.Length;
            var (offset, count) = ByteRange.Parse(http.Request.Headers.Range.ToString(), size);
            var response = http.Response;
            response.ContentType = "application/octet-stream";
            response.Headers["Content-MD5"] = image.Checksum;
            response.ContentLength = count;
            if (count != size || http.Request.Headers.Range.Count > 0)
            {
                response.StatusCode = 206;
                response.Headers.ContentRange = $"bytes {offset}-{offset + count - 1}/{size}";
            }
            await file.CopyAsync(offset, count, response.Body, ct);
        }
        return Results.Empty;
    }

    static async Task<IResult> Import(string id, HttpContext http, ImageDb db, ImageOptions options, ImportWorker worker, CancellationToken ct)
    {
        var caller = http.Caller();
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var method = body["method"] as JsonObject ?? throw OpenStackError.BadRequest("Import request requires a 'method' field.");
        var name = (string?)method["name"] ?? throw OpenStackError.BadRequest("Import request requires a 'method' field with a 'name'.");
        if (!options.EnabledImportMethods.Contains(name)) throw OpenStackError.BadRequest($"Import method {name} is not enabled.");
        var image = await ImageAccess.FindAsync(db, id, caller, ct);
        http.Enforce("modify_image", image);
        ImageAccess.EnsureCanModify(caller, image, "import data to");
        switch (name)
        {
            case "glance-direct" when image.Status != ImageStatus.Uploading:
                throw OpenStackError.Conflict("Image needs to be staged before 'glance-direct' method can be used");
            case "glance-download":
                if (image.Status != ImageStatus.Queued) throw OpenStackError.Conflict($"Image status {image.Status} is not valid for glance-download: it must be queued.");
                if (!Guid.TryParse((string?)method["glance_image_id"], out _))
                    throw OpenStackError.BadRequest("Remote image id does not look like a UUID: " + (string?)method["glance_image_id"]);
                if (method["glance_region"] is not JsonValue) throw OpenStackError.BadRequest("glance-download needs a 'glance_region'.");
                break;
            case "web-download":
                if (image.Status != ImageStatus.Queued) throw OpenStackError.Conflict($"Image status {image.Status} is not valid for web-download: it must be queued.");
                var uri = (string?)method["uri"];
                if (!Uri.TryCreate(uri, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https"))
                    throw OpenStackError.BadRequest("web-download needs an http(s) 'uri'.");
                break;
        }
        if (image.DiskFormat is null || image.ContainerFormat is null)
            throw OpenStackError.BadRequest("'disk_format' needs to be set before import");
        image.Status = ImageStatus.Importing;
        image.Touch();
        var task = NewTask(http, image.Id, body);
        db.Tasks.Add(task);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw OpenStackError.Conflict($"Image {id} is being changed by another request; retry.");
        }
        worker.Enqueue(task.Id, name == "glance-download" ? caller : null);
        return Results.StatusCode(202);
    }

    /// <summary>A pending task that imports <paramref name="importRequest"/> into an image, for the caller of this request.</summary>
    public static ImportTask NewTask(HttpContext http, string imageId, JsonObject importRequest)
    {
        var caller = http.Caller();
        var now = DateTime.UtcNow;
        return new ImportTask
        {
            Id = Guid.NewGuid().ToString(),
            ImageId = imageId,
            ImportRequest = importRequest.ToJsonString(),
            RequestId = http.RequestId(),
            UserId = caller.UserId,
            Owner = caller.ProjectId,
            CreatedAt = now,
            UpdatedAt = now,
        };
    }

    static async Task<IResult> Tasks(string id, HttpContext http, ImageDb db, CancellationToken ct)
    {
        var image = await ImageAccess.FindAsync(db, id, http.Caller(), ct);
        http.Enforce("get_image", image);
        var tasks = await db.Tasks.Where(t => t.ImageId == id).OrderBy(t => t.CreatedAt).ToListAsync(ct);
        return new JsonResponse(new JsonObject { ["tasks"] = new JsonArray([.. tasks.Select(t => (JsonNode)ImageView.Task(t))]) });
    }
}
