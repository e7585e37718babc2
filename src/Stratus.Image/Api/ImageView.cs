using System.Globalization;

namespace Stratus.Image.Api;

/// <summary>An image as Glance v2 renders it: base attributes (nulls included), tags, links, and the extra properties at the top level.</summary>
static class ImageView
{
    public static JsonObject Render(ImageRecord i)
    {
        var o = new JsonObject();
        foreach (var p in i.Properties.OrderBy(p => p.Name, StringComparer.Ordinal)) o[p.Name] = p.Value;
        o["name"] = i.Name;
        o["disk_format"] = i.DiskFormat;
        o["container_format"] = i.ContainerFormat;
        o["visibility"] = i.Visibility;
        o["size"] = i.Size;
        o["virtual_size"] = i.VirtualSize;
        o["status"] = i.Status;
        o["checksum"] = i.Checksum;
        o["protected"] = i.Protected;
        o["min_ram"] = i.MinRam;
        o["min_disk"] = i.MinDisk;
        o["owner"] = i.Owner;
        o["os_hidden"] = i.OsHidden;
        o["os_hash_algo"] = i.OsHashAlgo;
        o["os_hash_value"] = i.OsHashValue;
        o["id"] = i.Id;
        o["created_at"] = Time(i.CreatedAt);
        o["updated_at"] = Time(i.UpdatedAt);
        o["tags"] = new JsonArray([.. i.Tags.Select(t => JsonValue.Create(t.Value)).OrderBy(t => (string?)t, StringComparer.Ordinal)]);
        o["self"] = $"/v2/images/{i.Id}";
        o["file"] = $"/v2/images/{i.Id}/file";
        o["schema"] = "/v2/schemas/image";
        if (i.Status == ImageStatus.Active) o["stores"] = "file";
        return o;
    }

    public static JsonObject Member(ImageMember m) => new()
    {
        ["created_at"] = Time(m.CreatedAt),
        ["image_id"] = m.ImageId,
        ["member_id"] = m.Member,
        ["schema"] = "/v2/schemas/member",
        ["status"] = m.Status,
        ["updated_at"] = Time(m.UpdatedAt),
    };

    /// <summary>A task as Glance shows it (<c>/v2/tasks/{id}</c>, an image's tasks).</summary>
    public static JsonObject Task(ImportTask t) => new()
    {
        ["id"] = t.Id,
        ["type"] = t.Type,
        ["status"] = t.Status,
        ["owner"] = t.Owner,
        ["user_id"] = t.UserId,
        ["request_id"] = t.RequestId,
        ["image_id"] = t.ImageId,
        ["input"] = t.Input is { } input ? JsonNode.Parse(input) : new JsonObject
        {
            ["image_id"] = t.ImageId,
            ["import_req"] = JsonNode.Parse(t.ImportRequest),
            ["backend"] = new JsonArray("file"),
        },
        ["result"] = t.Status == "success" ? new JsonObject { ["image_id"] = t.ImageId } : null,
        ["message"] = t.Message,
        ["created_at"] = Time(t.CreatedAt),
        ["updated_at"] = Time(t.UpdatedAt),
        ["expires_at"] = null,
        ["deleted"] = false,
        ["deleted_at"] = null,
    };

    /// <summary>A task in a list (Glance's task stub: no input, result or message).</summary>
    public static JsonObject TaskStub(ImportTask t) => new()
    {
        ["id"] = t.Id,
        ["type"] = t.Type,
        ["status"] = t.Status,
        ["owner"] = t.Owner,
        ["created_at"] = Time(t.CreatedAt),
        ["updated_at"] = Time(t.UpdatedAt),
        ["self"] = $"/v2/tasks/{t.Id}",
        ["schema"] = "/v2/schemas/task",
    };

    /// <summary>Glance's timestamps: seconds, UTC, with a Z.</summary>
    public static string Time(DateTime t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
