using Stratus.Network.Ipam;
using Stratus.Network.Policy;

namespace Stratus.Network.Api;

/// <summary>
/// <c>/v2.0/subnetpools</c> (subnet_allocation): prefixes subnets are carved from, with their bounds
/// (min, default, max prefix length), sharing and a default pool per IP version; and the allocation of a
/// subnet's CIDR from a pool, as Neutron's subnet allocator does it.
/// </summary>
static class SubnetPoolsApi
{
    public static readonly Collection Pools = new("subnetpool", "subnetpools", Standard.Attributes(
        ("prefixes", Access.Both), ("default_prefixlen", Access.Both), ("min_prefixlen", Access.Both), ("max_prefixlen", Access.Both),
        ("shared", Access.Post), ("is_default", Access.Both), ("default_quota", Access.Both), ("address_scope_id", Access.Both), ("ip_version", Access.None)));

    static readonly Dictionary<string, JsonNode?> Defaults = new() { ["shared"] = false, ["is_default"] = false };

    public static IEndpointRouteBuilder MapSubnetPools(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v2.0/subnetpools", ListAsync);
        app.MapGet("/v2.0/subnetpools/{id}", ShowAsync);
        app.MapPost("/v2.0/subnetpools", CreateAsync);
        app.MapPut("/v2.0/subnetpools/{id}", UpdateAsync);
        app.MapDelete("/v2.0/subnetpools/{id}", DeleteAsync);
        return app;
    }

    static JsonObject View(SubnetPoolRow p, IReadOnlyDictionary<string, List<string>> tags)
    {
        var v = new JsonObject
        {
            ["id"] = p.Id, ["name"] = p.Name, ["ip_version"] = p.IpVersion, ["prefixes"] = Standard.Parse(p.Prefixes),
            ["default_prefixlen"] = p.DefaultPrefixLength, ["min_prefixlen"] = p.MinPrefixLength, ["max_prefixlen"] = p.MaxPrefixLength,
            ["shared"] = p.Shared, ["is_default"] = p.IsDefault, ["default_quota"] = p.DefaultQuota, ["address_scope_id"] = p.AddressScopeId,
        };
        Standard.Write(v, p, tags);
        return v;
    }

    static async Task<IResult> ListAsync(HttpContext http, NetworkDb db, CancellationToken ct)
    {
        var caller = http.Caller();
        var rows = await (caller.IsAdmin ? db.SubnetPools : db.SubnetPools.Where(p => p.ProjectId == caller.ProjectId || p.Shared))
            .AsNoTracking().OrderBy(p => p.CreatedAt).ThenBy(p => p.Id).ToListAsync(ct);
        var tags = await Tags.OfAsync(db, rows.Select(r => r.Id).ToList(), ct);
        var views = rows.Select(r => View(r, tags)).Where(v => NeutronPolicy.CanSee(http, "subnetpool", NeutronPolicy.Target(v)));
        return Pools.List(http, views, v => NeutronPolicy.Visible(http, "subnetpool", v, NeutronPolicy.Target(v)));
    }

    public static async Task<SubnetPoolRow> FindAsync(HttpContext http, NetworkDb db, string id, CancellationToken ct)
    {
        var p = await db.SubnetPools.FindAsync([id], ct);
        if (p is null || !NeutronPolicy.CanSee(http, "subnetpool", NeutronPolicy.Target(View(p, new Dictionary<string, List<string>>()))))
            throw new OpenStackError(404, "SubnetPoolNotFound", $"Subnet pool {id} could not be found.");
        return p;
    }

    static async Task<IResult> ShowAsync(string id, HttpContext http, NetworkDb db, CancellationToken ct)
    {
        var p = await FindAsync(http, db, id, ct);
        var v = View(p, await Tags.OfAsync(db, [id], ct));
        return Pools.Show(http, NeutronPolicy.Visible(http, "subnetpool", v, NeutronPolicy.Target(v)));
    }

    /// <summary>The pool's prefixes, normalised and compacted (overlapping and adjacent ones merged) as Neutron stores them.</summary>
    static (int Version, List<IpNetwork> Prefixes) ReadPrefixes(JsonArray given, IEnumerable<IpNetwork> keep)
    {
        if (given.Count == 0) throw new OpenStackError(400, "EmptySubnetPoolPrefixList", "Empty subnet pool prefix list.");
        var parsed = new List<IpNetwork>();
        foreach (var g in given)
        {
            var text = g is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
            if (!IpNetwork.TryParse(text, out var n, out _, strict: false))
                throw NeutronErrors.InvalidAttribute("prefixes", $"'{g?.ToJsonString()}' is not a valid IP subnet");
            parsed.Add(n);
        }
        var version = parsed[0].Version;
        if (parsed.Any(p => p.Version != version)) throw new OpenStackError(400, "PrefixVersionMismatch", "Cannot mix IPv4 and IPv6 prefixes in a subnet pool.");
        var set = new PrefixSet(version);
        foreach (var p in parsed.Concat(keep)) set.Add(p);
        return (version, set.Cidrs());
    }

    static void CheckBounds(int version, int min, int max, int def)
    {
        var bits = version == 4 ? 32 : 128;
        OpenStackError Illegal(string type, int len, string baseType, int baseLen) => new(400, "IllegalSubnetPoolPrefixBounds",
            $"Illegal prefix bounds: {type}={len}, {baseType}={baseLen}.");
        if (min < 0) throw new OpenStackError(400, "UnsupportedMinSubnetPoolPrefix", $"Unsupported minimum subnet pool prefix {min}");
        if (max > bits) throw Illegal("max_prefixlen", max, "ip_version_max", bits);
        if (min > max) throw Illegal("min_prefixlen", min, "max_prefixlen", max);
        if (def < min) throw Illegal("default_prefixlen", def, "min_prefixlen", min);
        if (def > max) throw Illegal("default_prefixlen", def, "max_prefixlen", max);
    }

    static async Task<IResult> CreateAsync(HttpContext http, NetworkDb db, TimeProvider time, CancellationToken ct)
    {
        var caller = http.Caller();
        var (items, bulk) = await Pools.ReadCreateAsync(http.Request, ct);
        var now = time.GetUtcNow().UtcDateTime;
        var created = new List<SubnetPoolRow>();
        foreach (var body in items)
        {
            var project = Standard.ProjectOf(body, caller);
            var target = NeutronPolicy.Target(body);
            target["project_id"] = target["tenant_id"] = project;
            NeutronPolicy.Enforce(http, "create", "subnetpool", body, target, Defaults);
            var (version, prefixes) = ReadPrefixes(Standard.Array(body, "prefixes")
                ?? throw NeutronErrors.BadRequest("Failed to parse request. Required attribute 'prefixes' not specified"), []);
            var min = Standard.Int(body, "min_prefixlen") ?? (version == 4 ? 8 : 64);
            var max = Standard.Int(body, "max_prefixlen") ?? (version == 4 ? 32 : 128);
            var def = Standard.Int(body, "default_prefixlen") ?? min;
            CheckBounds(version, min, max, def);
            var isDefault = Standard.Bool(body, "is_default") ?? false;
            if (isDefault) await CheckOneDefaultAsync(db, version, null, ct);
            var p = new SubnetPoolRow
            {
                Id = Guid.NewGuid().ToString(), ProjectId = project, Name = Standard.Text(body, "name") ?? "", Description = Standard.Text(body, "description") ?? "",
                IpVersion = version, Prefixes = Standard.Json(new JsonArray([.. prefixes.Select(x => (JsonNode)x.ToString())])),
                MinPrefixLength = min, MaxPrefixLength = max, DefaultPrefixLength = def, Shared = Standard.Bool(body, "shared") ?? false,
                IsDefault = isDefault, DefaultQuota = Standard.Int(body, "default_quota"), AddressScopeId = Standard.Text(body, "address_scope_id"),
                CreatedAt = now, UpdatedAt = now, RevisionNumber = 0,
            };
            db.SubnetPools.Add(p);
            created.Add(p);
        }
        await db.SaveChangesAsync(ct);
        var none = new Dictionary<string, List<string>>();
        var views = created.Select(p => View(p, none)).Select(v => NeutronPolicy.Visible(http, "subnetpool", v, NeutronPolicy.Target(v))).ToList();
        return bulk ? new JsonResponse(new JsonObject { ["subnetpools"] = new JsonArray([.. views]) }, 201) : Pools.Show(http, views[0], 201);
    }

    static async Task CheckOneDefaultAsync(NetworkDb db, int version, string? except, CancellationToken ct)
    {
        if (await db.SubnetPools.AnyAsync(p => p.IsDefault && p.IpVersion == version && p.Id != except, ct))
            throw NeutronErrors.InvalidInput($"A default subnetpool for this IP family has already been set. Only one default may exist per IP family");
    }

    static async Task<IResult> UpdateAsync(string id, HttpContext http, NetworkDb db, TimeProvider time, CancellationToken ct)
    {
        var body = await Pools.ReadUpdateAsync(http.Request, ct);
        var p = await FindAsync(http, db, id, ct);
        NeutronPolicy.Enforce(http, "update", "subnetpool", body, NeutronPolicy.Target(View(p, new Dictionary<string, List<string>>())));
        if (body.ContainsKey("name")) p.Name = Standard.Text(body, "name") ?? "";
        if (body.ContainsKey("description")) p.Description = Standard.Text(body, "description") ?? "";
        if (body.ContainsKey("prefixes"))
        {
            // Prefixes only grow: what subnets were carved from must stay in the pool.
            var current = (Standard.Parse(p.Prefixes) as JsonArray ?? []).Select(x => IpNetwork.TryParse((string?)x, out var n, out _) ? n : default).ToList();
            var (version, prefixes) = ReadPrefixes(Standard.Array(body, "prefixes") ?? [], []);
            var set = new PrefixSet(version);
            foreach (var n in prefixes) set.Add(n);
            if (version != p.IpVersion || current.Any(c => !set.Covers(c)))
                throw new OpenStackError(400, "IllegalSubnetPoolPrefixUpdate", $"Illegal update to prefixes: Existing prefixes must be a subset of the new prefixes.");
            p.Prefixes = Standard.Json(new JsonArray([.. prefixes.Select(x => (JsonNode)x.ToString())]));
        }
        var min = Standard.Int(body, "min_prefixlen") ?? p.MinPrefixLength;
        var max = Standard.Int(body, "max_prefixlen") ?? p.MaxPrefixLength;
        var def = Standard.Int(body, "default_prefixlen") ?? p.DefaultPrefixLength;
        CheckBounds(p.IpVersion, min, max, def);
        (p.MinPrefixLength, p.MaxPrefixLength, p.DefaultPrefixLength) = (min, max, def);
        if (Standard.Bool(body, "is_default") is { } isDefault)
        {
            if (isDefault) await CheckOneDefaultAsync(db, p.IpVersion, p.Id, ct);
            p.IsDefault = isDefault;
        }
        if (body.ContainsKey("default_quota")) p.DefaultQuota = Standard.Int(body, "default_quota");
        if (body.ContainsKey("address_scope_id")) p.AddressScopeId = Standard.Text(body, "address_scope_id");
        Standard.Touch(p, time.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync(ct);
        var v = View(p, await Tags.OfAsync(db, [id], ct));
        return Pools.Show(http, NeutronPolicy.Visible(http, "subnetpool", v, NeutronPolicy.Target(v)));
    }

    static async Task<IResult> DeleteAsync(string id, HttpContext http, NetworkDb db, CancellationToken ct)
    {
        var p = await FindAsync(http, db, id, ct);
        NeutronPolicy.Enforce(http, "delete_subnetpool", NeutronPolicy.Target(View(p, new Dictionary<string, List<string>>())));
        if (await db.Subnets.AnyAsync(s => s.SubnetPoolId == id, ct))
            throw new OpenStackError(409, "SubnetPoolInUse", $"Unable to complete operation on subnet pool {id}. Subnet pool has existing allocations.");
        await Tags.RemoveAsync(db, id, ct);
        db.SubnetPools.Remove(p);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    /// <summary>
    /// A subnet's CIDR from its pool: the one asked for, if it lies in the pool and no other subnet of the
    /// pool has any of it, else the first free block of the prefix length asked (or the pool's default).
    /// </summary>
    public static async Task<IpNetwork> AllocateAsync(NetworkDb db, SubnetPoolRow pool, IEnumerable<SubnetRow> pending, int version, string? cidrText, int? prefixLength, CancellationToken ct)
    {
        if (pool.IpVersion != version)
            throw new OpenStackError(400, "BadRequest", $"Cannot allocate IPv{version} subnet from IPv{pool.IpVersion} subnet pool");
        var available = new PrefixSet(pool.IpVersion);
        foreach (var x in Standard.Parse(pool.Prefixes) as JsonArray ?? [])
            if (IpNetwork.TryParse((string?)x, out var n, out _)) available.Add(n);
        var taken = await db.Subnets.AsNoTracking().Where(s => s.SubnetPoolId == pool.Id).Select(s => s.Cidr).ToListAsync(ct);
        foreach (var t in taken.Concat(pending.Where(s => s.SubnetPoolId == pool.Id).Select(s => s.Cidr)))
            if (IpNetwork.TryParse(t, out var n, out _)) available.Remove(n);
        IpNetwork cidr;
        if (cidrText is not null)
        {
            if (!IpNetwork.TryParse(cidrText, out cidr, out var normalized))
                throw NeutronErrors.InvalidAttribute("cidr", $"'{cidrText}' isn't a recognized IP subnet cidr, '{normalized}' is recommended");
            CheckLength(pool, cidr.PrefixLength);
            if (!available.Covers(cidr))
                throw new OpenStackError(400, "SubnetAllocationError", "Failed to allocate subnet: Cannot allocate requested subnet from the available set of prefixes.");
            return cidr;
        }
        var length = prefixLength ?? pool.DefaultPrefixLength;
        CheckLength(pool, length);
        return available.FirstFree(length)
            ?? throw new OpenStackError(400, "SubnetAllocationError", $"Failed to allocate subnet: Insufficient prefix space to allocate subnet size /{length}.");
    }

    static void CheckLength(SubnetPoolRow pool, int length)
    {
        if (length > pool.MaxPrefixLength)
            throw new OpenStackError(400, "MaxPrefixSubnetAllocationError",
                $"Unable to allocate subnet with prefix length {length}, maximum allowed prefix is {pool.MaxPrefixLength}.");
        if (length < pool.MinPrefixLength)
            throw new OpenStackError(400, "MinPrefixSubnetAllocationError",
                $"Unable to allocate subnet with prefix length {length}, minimum allowed prefix is {pool.MinPrefixLength}.");
    }
}
