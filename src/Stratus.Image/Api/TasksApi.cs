using Stratus.Image.Schemas;
using Stratus.Image.Store;

namespace Stratus.Image.Api;

/// <summary>
/// <c>/v2/tasks</c> as Glance Zed serves its (deprecated) tasks API: admins only by default
/// (<c>tasks_api_access</c>), listing every task — an image's interoperable imports and the legacy
/// <c>import</c> tasks made here, which create an image from <c>image_properties</c> and fetch its data
/// from <c>import_from</c> as web-download does. Tasks cannot be deleted (405).
/// </summary>
public static class TasksApi
{
    static readonly string[] Statuses = ["pending", "processing", "success", "failure"];
    static readonly string[] SortKeys = ["created_at", "updated_at", "id", "status", "type", "owner"];

    public static RouteGroupBuilder MapTasks(this RouteGroupBuilder v2)
    {
        v2.MapGet("/schemas/task", () => new JsonResponse(ImageSchemas.Task));
        v2.MapGet("/schemas/tasks", () => new JsonResponse(ImageSchemas.Tasks));
        var tasks = v2.MapGroup("/tasks");
        tasks.MapGet("/", List);
        tasks.MapPost("/", Create);
        tasks.MapGet("/{id}", Show);
        tasks.MapDelete("/{id}", IResult (HttpContext http) =>
        {
            http.Enforce("tasks_api_access");
            http.Response.Headers.Allow = "GET";
            throw new OpenStackError(405, "Method Not Allowed",
                "This operation is currently not permitted on Glance Tasks. They are auto deleted after reaching the time based on their expires_at property.");
        });
        return v2;
    }

    static async Task<IResult> List(HttpContext http, ImageDb db, ImageOptions options, CancellationToken ct)
    {
        http.Enforce("tasks_api_access");
        http.Enforce("get_tasks");
        var q = http.Request.Query;
        var sortDir = q["sort_dir"].FirstOrDefault() ?? "desc";
        if (sortDir is not ("asc" or "desc")) throw OpenStackError.BadRequest($"Invalid sort direction: {sortDir}");
        var sortKey = q["sort_key"].FirstOrDefault() ?? "created_at";
        if (!SortKeys.Contains(sortKey)) throw OpenStackError.BadRequest($"Unable to sort on {sortKey}");
        var limit = options.LimitParamDefault;
        if (q["limit"].FirstOrDefault() is { } rawLimit)
        {
            if (!int.TryParse(rawLimit, out limit)) throw OpenStackError.BadRequest("limit param must be an integer");
            if (limit < 0) throw OpenStackError.BadRequest("limit param must be positive");
        }
        limit = Math.Min(limit, options.ApiLimitMax);
        var marker = q["marker"].FirstOrDefault();
        if (marker is not null && !Guid.TryParse(marker, out _)) throw OpenStackError.BadRequest("Invalid marker format");
        var query = db.Tasks.AsNoTracking().AsQueryable();
        if (q["status"].FirstOrDefault() is { Length: > 0 } status)
            query = Statuses.Contains(status) ? query.Where(t => t.Status == status) : throw OpenStackError.BadRequest($"Invalid status value: {status}");
        if (q["type"].FirstOrDefault() is { Length: > 0 } type)
            query = type == "import" ? query.Where(t => t.Type == type) : throw OpenStackError.BadRequest($"Invalid type value: {type}");
        var caller = http.Caller();
        if (!caller.IsAdmin) query = query.Where(t => t.Owner == caller.ProjectId);
        // Few tasks, ordered in memory by the key and then the id, so that a marker always finds its place.
        var all = await query.ToListAsync(ct);
        Func<ImportTask, IComparable?> key = sortKey switch
        {
            "updated_at" => t => t.UpdatedAt,
            "id" => t => t.Id,
            "status" => t => t.Status,
            "type" => t => t.Type,
            "owner" => t => t.Owner,
            _ => t => t.CreatedAt,
        };
        var ordered = (sortDir == "asc" ? all.OrderBy(key).ThenBy(t => t.Id, StringComparer.Ordinal) : all.OrderByDescending(key).ThenByDescending(t => t.Id, StringComparer.Ordinal)).ToList();
        if (marker is not null)
        {
            var at = ordered.FindIndex(t => t.Id == marker);
            if (at < 0) throw OpenStackError.BadRequest($"Task with identifier {marker} not found");
            ordered = ordered[(at + 1)..];
        }
        var page = ordered.Take(limit).ToList();
        var parameters = q.Where(p => p.Key != "marker").Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value.ToString())}").ToList();
        var body = new JsonObject
        {
            ["tasks"] = new JsonArray([.. page.Select(t => (JsonNode)ImageView.TaskStub(t))]),
            ["first"] = parameters.Count > 0 ? "/v2/tasks?" + string.Join('&', parameters) : "/v2/tasks",
            ["schema"] = "/v2/schemas/tasks",
        };
        if (page.Count > 0 && page.Count == limit)
            body["next"] = "/v2/tasks?" + string.Join('&', parameters.Append("marker=" + page[^1].Id));
        return new JsonResponse(body);
    }

    static async Task<IResult> Show(string id, HttpContext http, ImageDb db, CancellationToken ct)
    {
        http.Enforce("tasks_api_access");
        http.Enforce("get_task");
        var caller = http.Caller();
        var task = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id && (caller.IsAdmin || t.Owner == caller.ProjectId), ct)
            ?? throw OpenStackError.NotFound($"Task with identifier {id} not found");
        return new JsonResponse(Detail(task));
    }

    /// <summary>POST /v2/tasks: an <c>import</c> task, as Glance's legacy import flow takes its input.</summary>
    static async Task<IResult> Create(HttpContext http, ImageDb db, ImageOptions options, ImportWorker worker, CancellationToken ct)
    {
        http.Enforce("tasks_api_access");
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        foreach (var required in new[] { "type", "input" })
            if (!body.ContainsKey(required)) throw OpenStackError.BadRequest($"Task '{required}' is required");
        http.Enforce("add_task");
        var type = (string?)(body["type"] as JsonValue);
        if (type is not ("import" or "api_image_import"))
            throw OpenStackError.BadRequest($"Provided object does not match schema 'task': {body["type"]?.ToJsonString()} is not one of ['import', 'api_image_import']");
        if (type != "import") throw OpenStackError.BadRequest("Task type api_image_import is made by POST /v2/images/{image_id}/import, not here.");
        var input = body["input"] as JsonObject ?? throw OpenStackError.BadRequest("Provided object does not match schema 'task': 'input' is not of type 'object'");
        foreach (var key in new[] { "import_from", "import_from_format", "image_properties" })
            if (!input.ContainsKey(key)) throw OpenStackError.BadRequest($"Input does not contain '{key}' field");
        var from = (string?)(input["import_from"] as JsonValue);
        if (!Uri.TryCreate(from, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw OpenStackError.BadRequest($"The given uri is not valid. Please specify a valid uri from the following list of supported uri ['http', 'https']");
        var properties = (input["image_properties"] as JsonObject)?.DeepClone().AsObject()
            ?? throw OpenStackError.BadRequest("Input 'image_properties' must be an object");
        properties["disk_format"] = input["import_from_format"]?.DeepClone();
        if (!properties.ContainsKey("container_format")) properties["container_format"] = "bare";
        var image = await ImagesApi.NewImageAsync(http, db, options, properties, ct);
        image.Status = ImageStatus.Importing;
        var task = ImageDataApi.NewTask(http, image.Id, new JsonObject { ["method"] = new JsonObject { ["name"] = "web-download", ["uri"] = from } });
        task.Type = "import";
        task.Input = input.ToJsonString();
        db.Tasks.Add(task);
        await db.SaveChangesAsync(ct);
        worker.Enqueue(task.Id);
        return new JsonResponse(Detail(task), 201).WithHeader("Location", $"/v2/tasks/{task.Id}");
    }

    /// <summary>Glance's task view: the image's task view without the database's deletion fields, with its links.</summary>
    static JsonObject Detail(ImportTask task)
    {
        var view = ImageView.Task(task);
        foreach (var key in new[] { "deleted", "deleted_at", "expires_at" }) view.Remove(key);
        view["self"] = $"/v2/tasks/{task.Id}";
        view["schema"] = "/v2/schemas/task";
        return view;
    }
}
