using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Primitives;

namespace Stratus.Network.Api;

/// <summary>
/// What every Neutron collection shares: the body shapes (<c>{"network": {...}}</c>, bulk
/// <c>{"networks": [...]}</c>), unknown and read-only attributes refused, filters by any attribute
/// (repeated values OR'd), tag filters, <c>fields</c>, sorting, and paging with <c>*_links</c>.
/// </summary>
sealed class Collection(string singular, string plural, IReadOnlyDictionary<string, Access> attributes)
{
    public string Singular => singular;
    public string Plural => plural;

    static readonly HashSet<string> Reserved = ["fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse", "tags", "tags-any", "not-tags", "not-tags-any"];

    /// <summary>The resources of a create: one, or several in a bulk request (created all or none).</summary>
    public async Task<(List<JsonObject> Items, bool Bulk)> ReadCreateAsync(HttpRequest request, CancellationToken ct)
    {
        var body = await ReadAsync(request, ct);
        if (body[plural] is JsonArray many)
        {
            var items = many.Select(n => n as JsonObject ?? throw NeutronErrors.BadRequest($"Resource body required")).ToList();
            if (items.Count == 0) throw NeutronErrors.BadRequest("Resources required");
            foreach (var i in items) Check(i, update: false);
            return (items, true);
        }
        var one = body[singular] as JsonObject ?? throw NeutronErrors.BadRequest($"Unable to find '{singular}' in request body");
        Check(one, update: false);
        return ([one], false);
    }

    public async Task<JsonObject> ReadUpdateAsync(HttpRequest request, CancellationToken ct)
    {
        var body = await ReadAsync(request, ct);
        var one = body[singular] as JsonObject ?? throw NeutronErrors.BadRequest($"Unable to find '{singular}' in request body");
        Check(one, update: true);
        return one;
    }

    static async Task<JsonObject> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        try
        {
            return await JsonBody.ReadObjectAsync(request, ct);
        }
        catch (OpenStackError e) when (e.Code == 400)
        {
            throw NeutronErrors.BadRequest("Malformed request body");
        }
    }

    void Check(JsonObject item, bool update)
    {
        var unknown = item.Select(p => p.Key).Where(k => !attributes.ContainsKey(k)).ToList();
        if (unknown.Count > 0) throw NeutronErrors.BadRequest($"Unrecognized attribute(s) '{string.Join(", ", unknown)}'");
        foreach (var (k, _) in item)
        {
            var access = attributes[k];
            if (update && !access.HasFlag(Access.Put)) throw NeutronErrors.BadRequest($"Cannot update read-only attribute {k}");
            if (!update && !access.HasFlag(Access.Post)) throw NeutronErrors.BadRequest($"Attribute '{k}' not allowed in POST");
        }
        if (!update && item["tenant_id"] is JsonNode t && item["project_id"] is JsonNode p && (string?)t != (string?)p)
            throw NeutronErrors.BadRequest("'project_id' and 'tenant_id' do not match");
    }

    /// <summary>
    /// A list answer: the views filtered, sorted and paged on all their attributes (as Neutron's database
    /// query does), then shown as the caller may see them (<paramref name="shown"/>: policy's attribute
    /// rules) and cut to <c>fields</c>. Unsorted and unpaged, the views are made, written and let go one at a
    /// time as the answer is written (<paramref name="views"/> may be lazy): a list of thousands never holds all.
    /// </summary>
    public IResult List(HttpContext http, IEnumerable<JsonObject> views, Func<JsonObject, JsonObject>? shown = null)
    {
        var q = http.Request.Query;
        var (limit, reverse) = Paging(q);
        var fields = q["fields"];
        IEnumerable<JsonObject> matching = views.Where(v => Matches(v, q));
        if (InOrder(q, limit, reverse))
            return JsonResponse.Writing(w => Write(w, matching, shown, fields, links: null));

        var items = Sort(matching.ToList(), q);
        if (reverse) items.Reverse();
        if (q["marker"].FirstOrDefault() is { Length: > 0 } marker)
        {
            var at = items.FindIndex(v => (string?)v["id"] == marker);
            items = at < 0 ? items : items[(at + 1)..];
        }
        var more = limit is { } lim && items.Count > lim;
        if (limit is { } take) items = items.Take(take).ToList();
        if (reverse) items.Reverse();
        JsonArray? links = null;
        if (limit is not null)
        {
            links = [];
            var url = $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}{http.Request.Path}";
            string Link(string m, bool rev)
            {
                var rest = q.Where(p => p.Key is not ("marker" or "page_reverse"))
                    .SelectMany(p => p.Value.Select(v => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(v ?? "")}"));
                return $"{url}?{string.Join("&", rest.Append($"marker={m}").Concat(rev ? ["page_reverse=True"] : []))}";
            }
            if (items.Count > 0 && (more || reverse && q.ContainsKey("marker")))
                links.Add(new JsonObject { ["rel"] = "next", ["href"] = Link(reverse ? (string)items[0]["id"]! : (string)items[^1]["id"]!, reverse) });
            if (items.Count > 0 && (q.ContainsKey("marker") && !reverse || reverse && more))
                links.Add(new JsonObject { ["rel"] = "previous", ["href"] = Link(reverse ? (string)items[^1]["id"]! : (string)items[0]["id"]!, !reverse) });
        }
        return JsonResponse.Writing(w => Write(w, items, shown, fields, links is { Count: > 0 } ? links : null));
    }

    /// <summary>
    /// As <see cref="List"/>, of views read as the answer is written: unsorted and unpaged, each goes out as it comes
    /// (<see cref="JsonResponse.Streaming"/>) and the answer never holds them all; else they are all read first.
    /// </summary>
    public async Task<IResult> ListAsync(HttpContext http, IAsyncEnumerable<JsonObject> views, Func<JsonObject, JsonObject>? shown = null)
    {
        var q = http.Request.Query;
        var (limit, reverse) = Paging(q);
        if (!InOrder(q, limit, reverse))
        {
            var all = new List<JsonObject>();
            await foreach (var v in views) all.Add(v);
            return List(http, all, shown);
        }
        var fields = q["fields"];
        return JsonResponse.Streaming(async (w, flush) =>
        {
            w.WriteStartObject();
            w.WriteStartArray(plural);
            await foreach (var v in views)
                if (Matches(v, q))
                {
                    Fields(shown is null ? v : shown(v), fields).WriteTo(w);
                    await flush();
                }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary>The query's filters checked, and its <c>limit</c> (0: none) and <c>page_reverse</c>.</summary>
    (int? Limit, bool Reverse) Paging(IQueryCollection q)
    {
        foreach (var key in q.Keys)
            if (!Reserved.Contains(key) && !attributes.ContainsKey(key))
                throw NeutronErrors.BadRequest($"[{key}] is invalid attribute for filtering");
        int? limit = null;
        if (q["limit"].FirstOrDefault() is { } l)
        {
            if (!int.TryParse(l, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n < 0)
                throw NeutronErrors.BadRequest($"Limit must be an integer 0 or greater and not '{l}'");
            if (n > 0) limit = n;
        }
        return (limit, IsTrue(q["page_reverse"]));
    }

    /// <summary>Whether the list is the views in their order, whole: nothing to sort, no page.</summary>
    static bool InOrder(IQueryCollection q, int? limit, bool reverse) =>
        !q.ContainsKey("sort_key") && !q.ContainsKey("sort_dir") && limit is null && !q.ContainsKey("marker") && !reverse;

    /// <summary><c>{"ports": [...], "ports_links": [...]}</c>, each item shown and cut as it is written.</summary>
    void Write(Utf8JsonWriter w, IEnumerable<JsonObject> items, Func<JsonObject, JsonObject>? shown, StringValues fields, JsonArray? links)
    {
        w.WriteStartObject();
        w.WriteStartArray(plural);
        foreach (var v in items) Fields(shown is null ? v : shown(v), fields).WriteTo(w);
        w.WriteEndArray();
        if (links is not null)
        {
            w.WritePropertyName(plural + "_links");
            links.WriteTo(w);
        }
        w.WriteEndObject();
    }

    /// <summary>One resource's answer, cut to <c>fields</c> when asked.</summary>
    public IResult Show(HttpContext http, JsonObject view, int status = 200) =>
        new JsonResponse(new JsonObject { [singular] = Fields(view, http.Request.Query["fields"]) }, status);

    public static JsonObject Fields(JsonObject view, StringValues fields)
    {
        var wanted = fields.SelectMany(f => (f ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)).ToHashSet(StringComparer.Ordinal);
        if (wanted.Count == 0) return view;
        var cut = new JsonObject();
        foreach (var (k, v) in view)
            if (wanted.Contains(k)) cut[k] = v?.DeepClone();
        return cut;
    }

    static bool IsTrue(StringValues v) => v.FirstOrDefault() is { } s && (s.Equals("true", StringComparison.OrdinalIgnoreCase) || s == "1");

    static bool Matches(JsonObject view, IQueryCollection q)
    {
        foreach (var (key, values) in q)
        {
            switch (key)
            {
                case "tags": if (!TagsMatch(view, values, all: true)) return false; continue;
                case "tags-any": if (!TagsMatch(view, values, all: false)) return false; continue;
                case "not-tags": if (TagsMatch(view, values, all: true)) return false; continue;
                case "not-tags-any": if (TagsMatch(view, values, all: false)) return false; continue;
            }
            if (Reserved.Contains(key)) continue;
            var have = view[key];
            if (key == "fixed_ips")
            {
                if (!values.All(v => FixedIpMatches(have as JsonArray, v ?? ""))) return false;
                continue;
            }
            if (!view.ContainsKey(key)) return false;
            if (!values.Any(v => ValueMatches(have, v ?? ""))) return false;
        }
        return true;
    }

    /// <summary><c>fixed_ips=ip_address=10.0.0.3</c>, <c>fixed_ips=subnet_id=...</c>, <c>fixed_ips=ip_address_substr=10.0</c>.</summary>
    static bool FixedIpMatches(JsonArray? ips, string filter)
    {
        var eq = filter.IndexOf('=');
        if (eq < 0) return false;
        var (k, v) = (filter[..eq], filter[(eq + 1)..]);
        return (ips ?? []).OfType<JsonObject>().Any(ip => k == "ip_address_substr"
            ? ((string?)ip["ip_address"] ?? "").Contains(v, StringComparison.Ordinal)
            : (string?)ip[k] == v);
    }

    static bool TagsMatch(JsonObject view, StringValues values, bool all)
    {
        var tags = (view["tags"] as JsonArray ?? []).Select(t => (string?)t).ToHashSet();
        var wanted = values.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)).ToList();
        return all ? wanted.All(tags.Contains) : wanted.Any(tags.Contains);
    }

    static bool ValueMatches(JsonNode? have, string want) => have switch
    {
        null => want is "" or "None" or "null",
        JsonArray a => a.Any(x => ValueMatches(x, want)),
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False =>
            bool.TryParse(want, out var b) ? b == v.GetValue<bool>() : want == (v.GetValue<bool>() ? "1" : "0"),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.ToJsonString() == want,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>() == want,
        _ => false,
    };

    List<JsonObject> Sort(List<JsonObject> items, IQueryCollection q)
    {
        var keys = q["sort_key"].Where(k => k is not null).Select(k => k!).ToList();
        var dirs = q["sort_dir"].Select(d => d ?? "asc").ToList();
        foreach (var k in keys)
            if (!attributes.ContainsKey(k)) throw NeutronErrors.BadRequest($"{k} is an invalid attribute for sort_keys");
        foreach (var d in dirs)
            if (d is not ("asc" or "desc")) throw NeutronErrors.BadRequest($"{d} is an invalid value for sort_dirs, valid values are 'asc' and 'desc'");
        if (dirs.Count > keys.Count) throw NeutronErrors.BadRequest("The number of sort_keys and sort_dirs must be same");
        if (keys.Count == 0) return items;
        if (!keys.Contains("id")) { keys.Add("id"); dirs.Add(dirs.FirstOrDefault() ?? "asc"); }
        IOrderedEnumerable<JsonObject>? sorted = null;
        for (var i = 0; i < keys.Count; i++)
        {
            var key = keys[i];
            var desc = i < dirs.Count && dirs[i] == "desc";
            Func<JsonObject, JsonNode?> by = v => v[key];
            sorted = sorted is null
                ? desc ? items.OrderByDescending(by, NodeComparer.Instance) : items.OrderBy(by, NodeComparer.Instance)
                : desc ? sorted.ThenByDescending(by, NodeComparer.Instance) : sorted.ThenBy(by, NodeComparer.Instance);
        }
        return sorted!.ToList();
    }

    sealed class NodeComparer : IComparer<JsonNode?>
    {
        public static readonly NodeComparer Instance = new();

        public int Compare(JsonNode? x, JsonNode? y)
        {
            if (x is null || y is null) return (x is null ? 0 : 1) - (y is null ? 0 : 1);
            if (x is JsonValue a && y is JsonValue b && a.GetValueKind() == JsonValueKind.Number && b.GetValueKind() == JsonValueKind.Number)
                return a.GetValue<double>().CompareTo(b.GetValue<double>());
            return string.CompareOrdinal(x.ToJsonString(), y.ToJsonString());
        }
    }
}

/// <summary>Where an attribute may be given: on create, on update (Neutron's allow_post / allow_put).</summary>
[Flags]
enum Access { None = 0, Post = 1, Put = 2, Both = Post | Put }

/// <summary>Neutron's timestamps and the standard attributes every view has.</summary>
static class Standard
{
    public static string Time(DateTime t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>The attributes every resource accepts: name, description, project (tenant) and the read-only rest.</summary>
    public static Dictionary<string, Access> Attributes(params (string Name, Access Access)[] own)
    {
        var d = new Dictionary<string, Access>(StringComparer.Ordinal)
        {
            ["id"] = Access.None, ["name"] = Access.Both, ["description"] = Access.Both, ["tenant_id"] = Access.Post, ["project_id"] = Access.Post,
            ["created_at"] = Access.None, ["updated_at"] = Access.None, ["revision_number"] = Access.None, ["tags"] = Access.None,
        };
        foreach (var (n, a) in own) d[n] = a;
        return d;
    }

    public static void Write(JsonObject view, StandardRow row, IReadOnlyDictionary<string, List<string>> tags)
    {
        view["tenant_id"] = row.ProjectId;
        view["project_id"] = row.ProjectId;
        view["description"] = row.Description;
        view["tags"] = new JsonArray([.. (tags.GetValueOrDefault(row.Id) ?? []).Order(StringComparer.Ordinal).Select(t => (JsonNode)t)]);
        view["created_at"] = Time(row.CreatedAt);
        view["updated_at"] = Time(row.UpdatedAt);
        view["revision_number"] = row.RevisionNumber;
    }

    /// <summary>The project a resource is made for: the body's (admins may name another), else the caller's.</summary>
    public static string ProjectOf(JsonObject body, Caller caller) =>
        (string?)body["project_id"] ?? (string?)body["tenant_id"] ?? caller.ProjectId ?? "";

    public static void Touch(StandardRow row, DateTime now)
    {
        row.UpdatedAt = now;
        row.RevisionNumber++;
    }

    public static string? Text(JsonObject o, string name, int max = 255)
    {
        if (!o.TryGetPropertyValue(name, out var n)) return null;
        if (n is null) return null;
        if (n.GetValueKind() != JsonValueKind.String)
            throw NeutronErrors.InvalidAttribute(name, $"'{n.ToJsonString()}' is not a valid string");
        var s = n.GetValue<string>();
        if (s.Length > max) throw NeutronErrors.InvalidAttribute(name, $"'{s}' exceeds maximum length of {max}");
        return s;
    }

    public static bool? Bool(JsonObject o, string name)
    {
        if (!o.TryGetPropertyValue(name, out var n) || n is null) return null;
        return n.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String when bool.TryParse(n.GetValue<string>(), out var b) => b,
            _ => throw NeutronErrors.InvalidAttribute(name, $"'{n.ToJsonString()}' cannot be converted to boolean"),
        };
    }

    public static int? Int(JsonObject o, string name)
    {
        if (!o.TryGetPropertyValue(name, out var n) || n is null) return null;
        if (n.GetValueKind() == JsonValueKind.Number && n.AsValue().TryGetValue<int>(out var i)) return i;
        if (n.GetValueKind() == JsonValueKind.String && int.TryParse(n.GetValue<string>(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var j)) return j;
        throw NeutronErrors.InvalidAttribute(name, $"'{n.ToJsonString()}' is not an integer");
    }

    public static JsonArray? Array(JsonObject o, string name)
    {
        if (!o.TryGetPropertyValue(name, out var n) || n is null) return null;
        return n as JsonArray ?? throw NeutronErrors.InvalidAttribute(name, $"'{n.ToJsonString()}' is not a list");
    }

    public static string Json(JsonNode? node) => node?.ToJsonString() ?? "null";

    // Most ports' pairs, options, profile and details are empty: no parser for those.
    public static JsonNode? Parse(string json) => json switch
    {
        "[]" => new JsonArray(),
        "{}" => new JsonObject(),
        _ => JsonNode.Parse(json),
    };
}

/// <summary>
/// Creates that pick something free (an address, a MAC, a VNI) and leave it to the database's unique keys
/// to keep it free: a save that loses the race to a concurrent request is retried with fresh picks.
/// </summary>
static class RacedSave
{
    /// <summary>True when saved; false when a concurrent request took a pick and <paramref name="mayRetry"/> (the tracker is cleared: pick again); else the error.</summary>
    public static async Task<bool> SaveAsync(NetworkDb db, bool mayRetry, Func<OpenStackError> exhausted, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateException) when (mayRetry)
        {
            db.ChangeTracker.Clear();
            return false;
        }
        catch (DbUpdateException)
        {
            throw exhausted();
        }
    }

    /// <summary>As above, for rows added without EF Core (<see cref="NetworkStore"/>), in one transaction.</summary>
    public static async Task<bool> AddAsync(NetworkStore store, IEnumerable<object> rows, bool mayRetry, Func<OpenStackError> exhausted, CancellationToken ct)
    {
        try
        {
            await store.AddAsync(rows, ct);
            return true;
        }
        catch (DbException e) when (SqlDatabase.IsDuplicate(e))
        {
            return mayRetry ? false : throw exhausted();
        }
    }
}
