namespace Stratus.Compute.Api;

/// <summary>Nova's <c>links</c>: self (versioned, with the project when the URL has it) and bookmark.</summary>
static class Links
{
    public static JsonArray For(HttpContext http, string collection, string id)
    {
        var root = $"{http.Request.Scheme}://{http.Request.Host}";
        return new JsonArray(
            new JsonObject { ["rel"] = "self", ["href"] = $"{root}/v2.1/{collection}/{id}" },
            new JsonObject { ["rel"] = "bookmark", ["href"] = $"{root}/{collection}/{id}" });
    }
}

/// <summary>limit/marker paging, with the <c>next</c> link Nova adds when a page is full.</summary>
static class Paging
{
    public sealed record Page<T>(List<T> Items, string? Next);

    public static Page<T> Apply<T>(List<T> items, Func<T, string> id, IQueryCollection q, int max = 1000)
    {
        var limit = max;
        if (q["limit"].FirstOrDefault() is { } l && (!int.TryParse(l, out limit) || limit < 0))
            throw OpenStackError.BadRequest($"Invalid input for query parameters limit. Value: {l}.");
        limit = Math.Min(limit, max);
        var start = 0;
        if (q["marker"].FirstOrDefault() is { } marker)
        {
            var at = items.FindIndex(i => id(i) == marker);
            if (at < 0) throw OpenStackError.BadRequest($"marker [{marker}] not found");
            start = at + 1;
        }
        var page = items.Skip(start).Take(limit).ToList();
        return new Page<T>(page, page.Count > 0 && page.Count == limit && start + limit < items.Count ? id(page[^1]) : null);
    }

    /// <summary>Nova's common.limited: <c>offset</c> and <c>limit</c> (none, 0 or above the maximum is the maximum).</summary>
    public static List<T> Limited<T>(IEnumerable<T> items, IQueryCollection q, int max = 1000)
    {
        var offset = NonNegative(q, "offset") ?? 0;
        var limit = NonNegative(q, "limit") is int l and > 0 ? Math.Min(l, max) : max;
        return [.. items.Skip(offset).Take(limit)];
    }

    static int? NonNegative(IQueryCollection q, string name) => q[name].FirstOrDefault() is not { } text ? null
        : int.TryParse(text, out var n) && n >= 0 ? n : throw OpenStackError.BadRequest($"{name} param must be an integer");

    public static JsonArray NextLinks(HttpContext http, string marker)
    {
        var query = string.Join('&', http.Request.Query.Where(kv => kv.Key != "marker")
            .SelectMany(kv => kv.Value.Select(v => $"{Uri.EscapeDataString(kv.Key)}={Uri.EscapeDataString(v ?? "")}"))
            .Append("marker=" + Uri.EscapeDataString(marker)));
        return new JsonArray(new JsonObject { ["rel"] = "next", ["href"] = $"{http.Request.Scheme}://{http.Request.Host}{http.Request.Path}?{query}" });
    }
}
