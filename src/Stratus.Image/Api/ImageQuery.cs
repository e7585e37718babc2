using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace Stratus.Image.Api;

/// <summary>
/// The query of <c>GET /v2/images</c>: filters (attributes, extra properties, tags, size range,
/// <c>in:</c> lists, time comparisons), sorting (both the classic sort_key/sort_dir and the new
/// <c>sort=name:asc</c> syntax) and paging (limit, marker), validated as Glance validates them.
/// </summary>
sealed class ImageQuery
{
    static readonly string[] SortKeys = ["name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at"];
    static readonly HashSet<string> NotFilters = ["limit", "marker", "sort", "sort_key", "sort_dir", "visibility", "member_status"];

    readonly IQueryCollection _raw;
    readonly List<(string Key, bool Descending)> _sort = [];
    readonly List<Func<ImageRecord, bool>> _filters = [];

    public string? Visibility { get; private init; }
    public string MemberStatus { get; private init; } = "accepted";
    public string? Marker { get; private init; }
    public int Limit { get; private init; }

    ImageQuery(IQueryCollection raw) => _raw = raw;

    public static ImageQuery Parse(IQueryCollection query, ImageOptions options)
    {
        var visibility = Single(query, "visibility");
        if (visibility is not null and not ("community" or "public" or "private" or "shared" or "all"))
            throw OpenStackError.BadRequest($"Invalid visibility value: {visibility}");
        var memberStatus = Single(query, "member_status") ?? "accepted";
        if (memberStatus is not ("pending" or "accepted" or "rejected" or "all"))
            throw OpenStackError.BadRequest($"Invalid status: {memberStatus}");
        if (query.ContainsKey("changes-since"))
            throw OpenStackError.BadRequest("The \"changes-since\" filter is no longer available on v2.");
        var limit = options.LimitParamDefault;
        if (Single(query, "limit") is { } l)
        {
            if (!int.TryParse(l, NumberStyles.Integer, CultureInfo.InvariantCulture, out limit)) throw OpenStackError.BadRequest("limit param must be an integer");
            if (limit < 0) throw OpenStackError.BadRequest("limit param must be positive");
        }
        var q = new ImageQuery(query)
        {
            Visibility = visibility,
            MemberStatus = memberStatus,
            Marker = Single(query, "marker"),
            Limit = Math.Min(limit, options.ApiLimitMax),
        };
        q.ParseSort(query);
        q.ParseFilters(query);
        return q;
    }

    static string? Single(IQueryCollection q, string key) => q.TryGetValue(key, out var v) ? v.ToString() : null;

    void ParseSort(IQueryCollection query)
    {
        if (query.TryGetValue("sort", out var sort))
        {
            if (query.ContainsKey("sort_key") || query.ContainsKey("sort_dir"))
                throw OpenStackError.BadRequest("Old and new sorting syntax cannot be combined");
            foreach (var part in sort.ToString().Split(','))
            {
                var (key, _, dir) = part.Partition(':');
                _sort.Add((SortKey(key.Trim()), Descending(dir.Length == 0 ? "desc" : dir.Trim())));
            }
        }
        else
        {
            var keys = query["sort_key"].Select(k => SortKey(k!.Trim())).ToList();
            var dirs = query["sort_dir"].Select(d => Descending(d!.Trim())).ToList();
            if (dirs.Count > 1 && dirs.Count != keys.Count)
                throw OpenStackError.BadRequest("Number of sort dirs does not match the number of sort keys");
            if (keys.Count == 0) keys.Add("created_at");
            for (var i = 0; i < keys.Count; i++) _sort.Add((keys[i], dirs.Count == 0 ? true : dirs[Math.Min(i, dirs.Count - 1)]));
        }
        // Ties end on created_at and id, as Glance's paging does, so markers are stable.
        if (!_sort.Any(s => s.Key == "created_at")) _sort.Add(("created_at", _sort[0].Descending));
        if (!_sort.Any(s => s.Key == "id")) _sort.Add(("id", _sort[0].Descending));
    }

    static string SortKey(string key) =>
        SortKeys.Contains(key) ? key : throw OpenStackError.BadRequest($"Invalid sort key: {key}. It must be one of the following: {string.Join(", ", SortKeys)}.");

    static bool Descending(string dir) => dir switch
    {
        "asc" => false,
        "desc" => true,
        _ => throw OpenStackError.BadRequest($"Invalid sort direction: {dir}"),
    };

    void ParseFilters(IQueryCollection query)
    {
        foreach (var (key, values) in query)
        {
            if (NotFilters.Contains(key)) continue;
            switch (key)
            {
                case "tag":
                    var tags = values.Select(v => v!).ToList();
                    _filters.Add(i => tags.All(t => i.Tags.Any(x => x.Value == t)));
                    break;
                case "size_min" or "size_max":
                    var bound = ParseLong(key, values);
                    _filters.Add(key == "size_min" ? i => i.Size >= bound : i => i.Size <= bound);
                    break;
                case "created_at" or "updated_at":
                    var (op, when) = ParseTime(key, values.ToString());
                    _filters.Add(i => Compare(key == "created_at" ? i.CreatedAt : i.UpdatedAt, op, when));
                    break;
                case "protected" or "os_hidden":
                    var flag = values.ToString() switch
                    {
                        "true" or "True" => true,
                        "false" or "False" => false,
                        var v => throw OpenStackError.BadRequest($"Invalid value '{v}' for '{key}': it must be true or false."),
                    };
                    _filters.Add(i => (key == "protected" ? i.Protected : i.OsHidden) == flag);
                    break;
                default:
                    var text = values.ToString();
                    var wanted = text.StartsWith("in:", StringComparison.Ordinal) ? InList(text[3..]) : [text];
                    _filters.Add(i => Attribute(i, key) is { } v && wanted.Contains(v));
                    break;
            }
        }
        // Hidden images are listed only when asked for.
        if (!query.ContainsKey("os_hidden")) _filters.Add(i => !i.OsHidden);
    }

    static long ParseLong(string key, StringValues v) =>
        long.TryParse(v.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw OpenStackError.BadRequest($"Invalid value for {key}: '{v}' is not an integer.");

    static (string Op, DateTime When) ParseTime(string key, string text)
    {
        var (op, _, value) = text.Partition(':');
        if (value.Length == 0 || op is not ("gt" or "gte" or "lt" or "lte" or "eq" or "neq")) { value = text; op = "eq"; }
        if (!DateTime.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var when))
            throw OpenStackError.BadRequest($"Invalid value for {key}: '{value}' is not an ISO 8601 time.");
        return (op, when);
    }

    static bool Compare(DateTime t, string op, DateTime when) => op switch
    {
        "gt" => t > when,
        "gte" => t >= when,
        "lt" => t < when,
        "lte" => t <= when,
        "neq" => t != when,
        _ => t == when,
    };

    /// <summary>"in:" lists: comma-separated, with values that contain commas in double quotes.</summary>
    static List<string> InList(string text)
    {
        var result = new List<string>();
        var current = new System.Text.StringBuilder();
        var quoted = false;
        foreach (var ch in text)
        {
            if (ch == '"') { quoted = !quoted; continue; }
            if (ch == ',' && !quoted) { result.Add(current.ToString()); current.Clear(); continue; }
            current.Append(ch);
        }
        result.Add(current.ToString());
        return result;
    }

    static string? Attribute(ImageRecord i, string key) => key switch
    {
        "id" => i.Id,
        "name" => i.Name,
        "status" => i.Status,
        "owner" => i.Owner,
        "container_format" => i.ContainerFormat,
        "disk_format" => i.DiskFormat,
        "checksum" => i.Checksum,
        "os_hash_value" => i.OsHashValue,
        "size" => i.Size?.ToString(CultureInfo.InvariantCulture),
        "min_ram" => i.MinRam.ToString(CultureInfo.InvariantCulture),
        "min_disk" => i.MinDisk.ToString(CultureInfo.InvariantCulture),
        _ => i.Properties.FirstOrDefault(p => p.Name == key)?.Value,
    };

    public bool Matches(ImageRecord i) => _filters.TrueForAll(f => f(i));

    public int Compare(ImageRecord a, ImageRecord b)
    {
        foreach (var (key, descending) in _sort)
        {
            var c = key switch
            {
                "size" => Nullable.Compare(a.Size, b.Size),
                "created_at" => a.CreatedAt.CompareTo(b.CreatedAt),
                "updated_at" => a.UpdatedAt.CompareTo(b.UpdatedAt),
                _ => string.CompareOrdinal(Attribute(a, key), Attribute(b, key)),
            };
            if (c != 0) return descending ? -c : c;
        }
        return 0;
    }

    /// <summary>The list's own URL with the same query, starting after <paramref name="marker"/>.</summary>
    public string Link(string? marker)
    {
        var parts = _raw.Where(kv => kv.Key != "marker").SelectMany(kv => kv.Value.Select(v => (kv.Key, Value: v ?? "")))
            .Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}").ToList();
        if (marker is not null) parts.Add("marker=" + Uri.EscapeDataString(marker));
        return parts.Count == 0 ? "/v2/images" : "/v2/images?" + string.Join("&", parts);
    }
}

static class StringPartition
{
    /// <summary>Python's str.partition.</summary>
    public static (string Before, string Separator, string After) Partition(this string s, char sep)
    {
        var at = s.IndexOf(sep, StringComparison.Ordinal);
        return at < 0 ? (s, "", "") : (s[..at], sep.ToString(), s[(at + 1)..]);
    }
}
