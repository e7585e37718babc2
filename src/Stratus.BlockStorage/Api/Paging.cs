using System.Globalization;

namespace Stratus.BlockStorage.Api;

/// <summary>
/// Cinder's collection parameters: <c>sort=key:dir,...</c> (or <c>sort_key</c>/<c>sort_dir</c>), <c>limit</c>
/// (at most <c>osapi_max_limit</c>) and <c>marker</c>, and the <c>next</c> link when a page is full.
/// </summary>
public sealed record Paging(IReadOnlyList<(string Key, bool Desc)> Sort, int? Limit, string? Marker, int Offset = 0)
{
    public static Paging Parse(HttpContext http, int maxLimit, IReadOnlyCollection<string> sortKeys)
    {
        var q = http.Request.Query;
        var sort = new List<(string, bool)>();
        if (q["sort"].FirstOrDefault() is { Length: > 0 } s)
        {
            if (q.ContainsKey("sort_key") || q.ContainsKey("sort_dir"))
                throw OpenStackError.BadRequest("Invalid input received: The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.");
            foreach (var part in s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var kv = part.Split(':', 2);
                sort.Add((kv[0], Direction(kv.Length > 1 ? kv[1] : "desc")));
            }
        }
        else if (q["sort_key"].FirstOrDefault() is { Length: > 0 } key) sort.Add((key, Direction(q["sort_dir"].FirstOrDefault() ?? "desc")));
        foreach (var (key, _) in sort)
            if (!sortKeys.Contains(key)) throw OpenStackError.BadRequest($"Invalid input received: Invalid sort key {key}");
        int? limit = null;
        if (q["limit"].FirstOrDefault() is { } l)
        {
            if (!int.TryParse(l, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
                throw OpenStackError.BadRequest("Invalid input received: limit param must be an integer");
            if (n < 0) throw OpenStackError.BadRequest("Invalid input received: limit param must be positive");
            limit = n;
        }
        limit = Math.Min(limit ?? maxLimit, maxLimit);
        var offset = 0;
        if (q["offset"].FirstOrDefault() is { } o && (!int.TryParse(o, NumberStyles.None, CultureInfo.InvariantCulture, out offset)))
            throw OpenStackError.BadRequest($"Invalid input received: offset param must be an integer");
        return new Paging(sort, limit, q["marker"].FirstOrDefault(), offset);
    }

    static bool Direction(string dir) => dir.ToLowerInvariant() switch
    {
        "asc" => false,
        "desc" => true,
        _ => throw OpenStackError.BadRequest($"Invalid input received: Unknown sort direction, must be 'desc' or 'asc'"),
    };

    /// <summary>Sorts (created_at, then id, descending by default), skips past the marker and cuts to the limit.</summary>
    public List<T> Apply<T>(IEnumerable<T> items, Func<T, string> id, Func<T, string, IComparable?> key, string what)
    {
        var keys = Sort.Count > 0 ? [.. Sort] : new List<(string Key, bool Desc)> { ("created_at", true) };
        if (!keys.Any(k => k.Key == "id")) keys.Add(("id", keys[0].Desc));
        IOrderedEnumerable<T>? ordered = null;
        foreach (var (k, desc) in keys)
        {
            Func<T, IComparable?> f = k == "id" ? x => id(x) : x => key(x, k);
            ordered = ordered is null
                ? desc ? items.OrderByDescending(f, NullsFirst.Instance) : items.OrderBy(f, NullsFirst.Instance)
                : desc ? ordered.ThenByDescending(f, NullsFirst.Instance) : ordered.ThenBy(f, NullsFirst.Instance);
        }
        var list = ordered!.ToList();
        if (Marker is not null)
        {
            var i = list.FindIndex(x => id(x) == Marker);
            if (i < 0) throw OpenStackError.NotFound($"Marker {Marker} could not be found.");
            list = list[(i + 1)..];
        }
        if (Offset > 0) list = [.. list.Skip(Offset)];
        return Limit is { } n ? [.. list.Take(n)] : list;
    }

    /// <summary>The <c>*_links</c> of a full page: the same query with the last item as marker.</summary>
    public JsonArray? NextLinks(HttpContext http, int count, string? lastId, string collection)
    {
        if (Limit is not { } n || count < n || n == 0 || lastId is null) return null;
        var r = http.Request;
        var query = r.Query.Where(p => p.Key != "marker").SelectMany(p => p.Value.Select(v => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(v ?? "")}"))
            .Append("marker=" + Uri.EscapeDataString(lastId));
        var project = http.GetRouteValue("project_id");
        var version = r.Path.StartsWithSegments("/v2") ? "v2" : "v3";
        return [new JsonObject { ["rel"] = "next", ["href"] = $"{r.Scheme}://{r.Host}/{version}/{project}/{collection}?{string.Join('&', query)}" }];
    }

    sealed class NullsFirst : IComparer<IComparable?>
    {
        public static readonly NullsFirst Instance = new();

        public int Compare(IComparable? a, IComparable? b) =>
            a is null ? (b is null ? 0 : -1) : b is null ? 1
            : a is string sa && b is string sb ? string.CompareOrdinal(sa, sb) : a.CompareTo(b);
    }
}
