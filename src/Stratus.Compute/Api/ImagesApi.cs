using System.Globalization;
using System.Net.Http.Headers;
using Stratus.Compute.Images;
using Stratus.Compute.Servers;
using Stratus.Core.Catalog;

namespace Stratus.Compute.Api;

/// <summary>
/// Nova's proxy to the region's image service, as nova.image.glance speaks to Glance v2 with the caller's
/// token: <c>/images</c>, <c>/images/detail</c>, show and delete up to 2.35, and an image's properties as
/// <c>/images/{id}/metadata</c> up to 2.38 (404 above, as Nova). Images appear in Nova's v1-like shape:
/// minRam, minDisk, a status in capitals, the extra properties as "metadata".
/// </summary>
public static class ImagesApi
{
    /// <summary>Nova's MAX_IMAGE_META_PROXY_API_VERSION.</summary>
    const int MaxImageMetaProxy = 38;

    /// <summary>Glance's base image attributes (its schema's); every other attribute is a property.</summary>
    static readonly HashSet<string> BaseAttributes =
    [
        "id", "name", "status", "visibility", "protected", "os_hidden", "checksum", "os_hash_algo", "os_hash_value", "owner", "size",
        "virtual_size", "container_format", "disk_format", "created_at", "updated_at", "tags", "direct_url", "min_ram", "min_disk",
        "self", "file", "stores", "schema", "locations",
    ];

    /// <summary>Nova's query parameters and the Glance v2 filter each becomes (images.SUPPORTED_FILTERS, _extract_query_params_v2).</summary>
    static readonly Dictionary<string, string> Filters = new()
    {
        ["name"] = "name", ["status"] = "status", ["server"] = "instance_uuid", ["type"] = "image_type", ["minRam"] = "min_ram", ["minDisk"] = "min_disk",
    };

    public static RouteGroupBuilder MapImages(this RouteGroupBuilder v21)
    {
        var images = v21.MapGroup("/images");
        images.MapGet("", (HttpContext http, ImageClient glance, CancellationToken ct) => ListAsync(http, glance, detail: false, ct)).UpTo(Microversion.MaxProxy);
        images.MapGet("/detail", (HttpContext http, ImageClient glance, CancellationToken ct) => ListAsync(http, glance, detail: true, ct)).UpTo(Microversion.MaxProxy);
        images.MapGet("/{id}", async (string id, HttpContext http, ImageClient glance, CancellationToken ct) =>
            new JsonResponse(new JsonObject { ["image"] = Detail(http, await GetAsync(glance, id, http.Caller().Token, notFound: "Image not found.", ct), await glance.EndpointAsync(ct).OrServiceError()) }))
            .UpTo(Microversion.MaxProxy);
        images.MapDelete("/{id}", DeleteAsync).UpTo(Microversion.MaxProxy);

        var meta = images.MapGroup("/{id}/metadata");
        meta.MapGet("", async (string id, HttpContext http, ImageClient glance, CancellationToken ct) =>
            new JsonResponse(new JsonObject { ["metadata"] = Properties(await GetAsync(glance, id, http.Caller().Token, "Image not found.", ct)) })).UpTo(MaxImageMetaProxy);
        meta.MapGet("/{key}", async (string id, string key, HttpContext http, ImageClient glance, CancellationToken ct) =>
            Properties(await GetAsync(glance, id, http.Caller().Token, "Image not found.", ct))[key] is { } value
                ? new JsonResponse(new JsonObject { ["meta"] = new JsonObject { [key] = value.DeepClone() } })
                : throw OpenStackError.NotFound("The resource could not be found.")).UpTo(MaxImageMetaProxy);
        meta.MapPost("", (string id, HttpContext http, ImageClient glance, ApiDb db, CancellationToken ct) => SetAsync(id, http, glance, db, replace: false, ct))
            .UpTo(MaxImageMetaProxy);
        meta.MapPut("", (string id, HttpContext http, ImageClient glance, ApiDb db, CancellationToken ct) => SetAsync(id, http, glance, db, replace: true, ct))
            .UpTo(MaxImageMetaProxy);
        meta.MapPut("/{key}", SetOneAsync).UpTo(MaxImageMetaProxy);
        meta.MapDelete("/{key}", async (string id, string key, HttpContext http, ImageClient glance, CancellationToken ct) =>
        {
            var properties = Properties(await GetAsync(glance, id, http.Caller().Token, "Image not found.", ct));
            if (!properties.ContainsKey(key)) throw OpenStackError.NotFound("Invalid metadata key");
            await PatchAsync(glance, id, [Operation("remove", key)], http.Caller().Token, ct);
            return Results.NoContent();
        }).UpTo(MaxImageMetaProxy);
        return v21;
    }

    static async Task<IResult> ListAsync(HttpContext http, ImageClient glance, bool detail, CancellationToken ct)
    {
        var q = http.Request.Query;
        var query = new List<string>();
        foreach (var (key, values) in q)
        {
            var value = values.ToString();
            if (Filters.TryGetValue(key, out var filter))
                query.Add($"{filter}={Uri.EscapeDataString(key switch
                {
                    "status" => value.ToLowerInvariant(),
                    "server" => ServerFields.LastSegment(value),
                    _ => value,
                })}");
            else if (key.StartsWith("property-", StringComparison.Ordinal)) query.Add($"{Uri.EscapeDataString(key["property-".Length..])}={Uri.EscapeDataString(value)}");
            else if (key == "changes-since") query.Add("updated_at=" + Uri.EscapeDataString("gte:" + value));
            else if (key == "marker") query.Add("marker=" + Uri.EscapeDataString(value));
        }
        // Nova's common.get_pagination_params: limit (or page_size) caps what glanceclient gathers page by page.
        int? limit = null;
        foreach (var name in new[] { "limit", "page_size" })
            if (q[name].FirstOrDefault() is { } text)
            {
                if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                    throw OpenStackError.BadRequest($"Invalid input for query parameters {name}. Value: {text}. '{text}' does not match '^[0-9]*$'");
                if (name == "limit") limit = n;
                else query.Add("limit=" + n);
            }
        var token = http.Caller().Token;
        var images = new List<JsonObject>();
        var path = "/v2/images?" + string.Join('&', query);
        while (path is not null && (limit is null || images.Count < limit))
        {
            var page = await CallAsync(glance, HttpMethod.Get, path, null, token, notFound: null, ct);
            images.AddRange((page?["images"] as JsonArray ?? []).OfType<JsonObject>());
            path = (string?)page?["next"];
        }
        if (limit is { } l) images = [.. images.Take(l)];
        var endpoint = await glance.EndpointAsync(ct).OrServiceError();
        var answer = new JsonObject
        {
            ["images"] = new JsonArray([.. images.Select(i => (JsonNode)(detail ? Detail(http, i, endpoint) : Basic(http, i, endpoint)))]),
        };
        // common.ViewBuilder._get_collection_links: a next link when the page is as long as it could be.
        if (images.Count > 0 && images.Count == Math.Min(limit ?? 1000, 1000))
            answer["images_links"] = Paging.NextLinks(http, (string)images[^1]["id"]!);
        return new JsonResponse(answer);
    }

    static async Task<IResult> DeleteAsync(string id, HttpContext http, ImageClient glance, CancellationToken ct)
    {
        var (status, body) = await glance.SendAsync(HttpMethod.Delete, $"/v2/images/{Uri.EscapeDataString(id)}", null, http.Caller().Token, ct).OrServiceError();
        return status switch
        {
            < 300 => Results.NoContent(),
            404 => throw OpenStackError.NotFound("Image not found."),
            403 => throw OpenStackError.Forbidden("You are not allowed to delete the image."),
            // ImageDeleteConflict is not among the errors Nova's delete expects: its 500.
            _ => throw Unexpected(status, body),
        };
    }

    static async Task<IResult> SetAsync(string id, HttpContext http, ImageClient glance, ApiDb db, bool replace, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        body.Only("body", "metadata");
        if (body["metadata"] is not JsonObject) throw NovaBody.Invalid("body", body, "'metadata' is a required property");
        var given = ServerFields.Metadata(body);
        var token = http.Caller().Token;
        var properties = Properties(await GetAsync(glance, id, token, "Image not found.", ct));
        var wanted = replace ? [] : (JsonObject)properties.DeepClone();
        foreach (var (k, v) in given) wanted[k] = v?.DeepClone();
        await CheckQuotaAsync(db, http.Caller(), replace ? given : wanted, ct);
        await PatchAsync(glance, id, Diff(properties, wanted), token, ct);
        return new JsonResponse(new JsonObject { ["metadata"] = wanted });
    }

    static async Task<IResult> SetOneAsync(string id, string key, HttpContext http, ImageClient glance, ApiDb db, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        body.Only("body", "meta");
        if (body["meta"] is not JsonObject) throw NovaBody.Invalid("body", body, "'meta' is a required property");
        var given = ServerFields.Metadata(body, "meta");
        if (given.Count != 1) throw NovaBody.Invalid("meta", body["meta"], given.Count == 0 ? "does not have enough properties" : "has too many properties");
        if (!given.ContainsKey(key)) throw OpenStackError.BadRequest("Request body and URI mismatch");
        var token = http.Caller().Token;
        var properties = Properties(await GetAsync(glance, id, token, "Image not found.", ct));
        var wanted = (JsonObject)properties.DeepClone();
        wanted[key] = given[key]?.DeepClone();
        await CheckQuotaAsync(db, http.Caller(), wanted, ct);
        await PatchAsync(glance, id, Diff(properties, wanted), token, ct);
        return new JsonResponse(new JsonObject { ["meta"] = given });
    }

    /// <summary>common.check_img_metadata_properties_quota: the project's metadata_items limit.</summary>
    static async Task CheckQuotaAsync(ApiDb db, Caller caller, JsonObject metadata, CancellationToken ct)
    {
        var limit = (await Quotas.LimitsAsync(db, caller.ProjectId ?? "", ct))["metadata_items"];
        if (limit >= 0 && metadata.Count > limit) throw OpenStackError.Forbidden("Image metadata limit exceeded");
    }

    /// <summary>What glanceclient sends for an update with purge_props: add or replace what changed, remove what went.</summary>
    static List<JsonObject> Diff(JsonObject before, JsonObject after)
    {
        var ops = new List<JsonObject>();
        foreach (var (k, v) in after)
            if (!before.TryGetPropertyValue(k, out var old)) ops.Add(Operation("add", k, v));
            else if (!JsonNode.DeepEquals(old, v)) ops.Add(Operation("replace", k, v));
        foreach (var (k, _) in before)
            if (!after.ContainsKey(k)) ops.Add(Operation("remove", k));
        return ops;
    }

    static JsonObject Operation(string op, string key, JsonNode? value = null)
    {
        // RFC 6901: "~" and "/" in a property's name are escaped in its path.
        var o = new JsonObject { ["op"] = op, ["path"] = "/" + key.Replace("~", "~0").Replace("/", "~1") };
        if (op != "remove") o["value"] = value?.DeepClone();
        return o;
    }

    static async Task PatchAsync(ImageClient glance, string id, List<JsonObject> ops, string token, CancellationToken ct)
    {
        if (ops.Count == 0) return;
        var content = new StringContent(new JsonArray([.. ops]).ToJsonString());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/openstack-images-v2.1-json-patch");
        var (status, body) = await glance.SendAsync(HttpMethod.Patch, $"/v2/images/{Uri.EscapeDataString(id)}", content, token, ct).OrServiceError();
        if (status < 300) return;
        throw status switch
        {
            404 => OpenStackError.NotFound("Image not found."),
            403 => OpenStackError.Forbidden($"Not authorized for image {id}."),
            // Glance's own refusals of a property (a reserved name, too long a value) are the caller's.
            400 or 409 or 413 => OpenStackError.BadRequest(GlanceMessage(body) ?? $"The image service refused the update (HTTP {status})."),
            _ => Unexpected(status, body),
        };
    }

    static Task<JsonObject> GetAsync(ImageClient glance, string id, string? token, string notFound, CancellationToken ct) =>
        CallAsync(glance, HttpMethod.Get, $"/v2/images/{Uri.EscapeDataString(id)}", null, token, notFound, ct)!;

    /// <summary>A call whose 404 (and Glance's 400 for an id that is not one, Nova's InvalidImageRef) is <paramref name="notFound"/>.</summary>
    static async Task<JsonObject?> CallAsync(ImageClient glance, HttpMethod method, string path, HttpContent? content, string? token, string? notFound, CancellationToken ct)
    {
        var (status, body) = await glance.SendAsync(method, path, content, token ?? "", ct).OrServiceError();
        if (status < 300) return body ?? [];
        if (notFound is not null && status is 404 or 400) throw OpenStackError.NotFound(notFound);
        if (status == 400) throw OpenStackError.BadRequest(GlanceMessage(body) ?? "The image service refused the query.");
        if (status == 403) throw OpenStackError.Forbidden(GlanceMessage(body) ?? "Not authorized for image.");
        throw Unexpected(status, body);
    }

    static OpenStackError Unexpected(int status, JsonObject? body) =>
        new(500, "Internal Server Error", $"Unexpected API Error. The image service answered HTTP {status}: {GlanceMessage(body)}");

    static string? GlanceMessage(JsonObject? body) => (string?)body?["message"] ?? (string?)body?["error"]?["message"];

    /// <summary>The image service cannot be found or reached: 503 naming it, as the create's image check answers.</summary>
    static async Task<T> OrServiceError<T>(this Task<T> call)
    {
        try
        {
            return await call;
        }
        catch (Exception e) when (e is EndpointNotFoundException or IdentityUnreachableException or ServiceCredentialsRejectedException)
        {
            throw OpenStackError.Unavailable($"The image service could not be found: {e.Message}");
        }
        catch (ImageServiceException e)
        {
            throw OpenStackError.Unavailable($"The image service at {e.Endpoint} could not be reached: {e.Message}");
        }
    }

    /// <summary>nova.image.glance._extract_attributes_v2: what is not a base attribute is a property.</summary>
    static JsonObject Properties(JsonObject image)
    {
        var properties = new JsonObject();
        foreach (var (k, v) in image)
            if (!BaseAttributes.Contains(k)) properties[k] = v?.DeepClone();
        return properties;
    }

    static JsonObject Basic(HttpContext http, JsonObject image, string glanceEndpoint) => new()
    {
        ["id"] = (string?)image["id"], ["name"] = (string?)image["name"], ["links"] = ImageLinks(http, (string)image["id"]!, glanceEndpoint),
    };

    /// <summary>views.images.ViewBuilder.show.</summary>
    static JsonObject Detail(HttpContext http, JsonObject image, string glanceEndpoint)
    {
        var id = (string)image["id"]!;
        var status = (string?)image["status"];
        var properties = Properties(image);
        var o = new JsonObject
        {
            ["id"] = id,
            ["name"] = (string?)image["name"],
            ["minRam"] = (int?)image["min_ram"] ?? 0,
            ["minDisk"] = (int?)image["min_disk"] ?? 0,
            ["metadata"] = properties,
            ["created"] = IsoTime(image["created_at"]),
            ["updated"] = IsoTime(image["updated_at"]),
            ["status"] = status switch
            {
                "active" => "ACTIVE", "queued" or "saving" => "SAVING", "deleted" or "pending_delete" => "DELETED", "killed" => "ERROR", _ => "UNKNOWN",
            },
            ["progress"] = status switch { "queued" => 25, "saving" => 50, "active" => 100, _ => 0 },
            ["OS-EXT-IMG-SIZE:size"] = (long?)image["size"] ?? 0,
            ["links"] = ImageLinks(http, id, glanceEndpoint),
        };
        if ((string?)properties["instance_uuid"] is { } server)
            o["server"] = new JsonObject { ["id"] = server, ["links"] = Links.For(http, "servers", server) };
        if ((string?)properties["auto_disk_config"] is { } auto)
            o["OS-DCF:diskConfig"] = auto.ToLowerInvariant() is "true" or "1" or "yes" or "on" or "y" or "t" ? "AUTO" : "MANUAL";
        return o;
    }

    /// <summary>self and bookmark, and the image in the image service as "alternate".</summary>
    static JsonArray ImageLinks(HttpContext http, string id, string glanceEndpoint)
    {
        var links = Links.For(http, "images", id);
        links.Add(new JsonObject { ["rel"] = "alternate", ["type"] = "application/vnd.openstack.image", ["href"] = $"{glanceEndpoint}/images/{id}" });
        return links;
    }

    /// <summary>utils.isotime: seconds, and Z for UTC.</summary>
    static string? IsoTime(JsonNode? time) =>
        (string?)time is { } t && DateTime.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var when)
            ? when.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) : null;
}
