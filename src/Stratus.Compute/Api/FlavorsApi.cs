using System.Globalization;

namespace Stratus.Compute.Api;

/// <summary><c>/flavors</c>: list, detail, show; create, update (2.55 description) and delete by admins; extra specs; access for private flavors.</summary>
public static class FlavorsApi
{
    public static RouteGroupBuilder MapFlavors(this RouteGroupBuilder v21)
    {
        var flavors = v21.MapGroup("/flavors");
        flavors.MapGet("", (HttpContext http, ApiDb db, CancellationToken ct) => ListAsync(http, db, detail: false, ct));
        flavors.MapGet("/detail", (HttpContext http, ApiDb db, CancellationToken ct) => ListAsync(http, db, detail: true, ct));
        flavors.MapGet("/{id}", Show);
        flavors.MapPost("", Create).RequirePolicy("os_compute_api:os-flavor-manage:create");
        flavors.MapPut("/{id}", Update).RequirePolicy("os_compute_api:os-flavor-manage:update");
        flavors.MapDelete("/{id}", Delete).RequirePolicy("os_compute_api:os-flavor-manage:delete");
        flavors.MapGet("/{id}/os-extra_specs", ListSpecs);
        flavors.MapPost("/{id}/os-extra_specs", CreateSpecs).RequirePolicy("os_compute_api:os-flavor-extra-specs:create");
        flavors.MapGet("/{id}/os-extra_specs/{key}", ShowSpec);
        flavors.MapPut("/{id}/os-extra_specs/{key}", UpdateSpec).RequirePolicy("os_compute_api:os-flavor-extra-specs:update");
        flavors.MapDelete("/{id}/os-extra_specs/{key}", DeleteSpec).RequirePolicy("os_compute_api:os-flavor-extra-specs:delete");
        flavors.MapGet("/{id}/os-flavor-access", ListAccess).RequirePolicy("os_compute_api:os-flavor-access");
        flavors.MapPost("/{id}/action", Action);
        return flavors;
    }

    static IQueryable<Flavor> Visible(ApiDb db, Caller caller, bool includePrivate) =>
        db.Flavors.Include(f => f.ExtraSpecs).Include(f => f.Projects).AsSplitQuery()
            .Where(f => f.IsPublic || (includePrivate && (caller.IsAdmin || f.Projects.Any(p => p.ProjectId == caller.ProjectId))));

    static async Task<Flavor> FindAsync(ApiDb db, string id, Caller caller, CancellationToken ct) =>
        await Visible(db, caller, includePrivate: true).FirstOrDefaultAsync(f => f.FlavorId == id, ct)
        ?? throw OpenStackError.NotFound($"Flavor {id} could not be found.");

    static async Task<IResult> ListAsync(HttpContext http, ApiDb db, bool detail, CancellationToken ct)
    {
        var caller = http.Caller();
        var q = http.Request.Query;
        // is_public: true (default) lists public flavors plus the caller's private ones; None/all lists all (admin).
        // Nova's _parse_is_public (admins only; others always get the public ones and their own): absent means
        // public plus those shared with the caller's project, "none" all, else a strict boolean.
        bool? isPublic = true;
        if (caller.IsAdmin && q["is_public"].FirstOrDefault() is { } asked)
            isPublic = asked.ToLowerInvariant() switch
            {
                "none" => null,
                "1" or "t" or "true" or "on" or "y" or "yes" => true,
                "0" or "f" or "false" or "off" or "n" or "no" => false,
                _ => throw OpenStackError.BadRequest($"Invalid is_public filter [{asked}]"),
            };
        var flavors = await db.Flavors.Include(f => f.ExtraSpecs).Include(f => f.Projects).AsSplitQuery().ToListAsync(ct);
        flavors = isPublic switch
        {
            null => flavors,
            true => flavors.Where(f => f.IsPublic || f.Projects.Any(p => p.ProjectId == caller.ProjectId)).ToList(),
            false => flavors.Where(f => !f.IsPublic && (caller.IsAdmin || f.Projects.Any(p => p.ProjectId == caller.ProjectId))).ToList(),
        };
        if (!caller.IsAdmin) flavors = flavors.Where(f => !f.Disabled).ToList();
        if (int.TryParse(q["minRam"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var minRam)) flavors = flavors.Where(f => f.MemoryMb >= minRam).ToList();
        if (int.TryParse(q["minDisk"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var minDisk)) flavors = flavors.Where(f => f.RootGb >= minDisk).ToList();
        var sortKey = q["sort_key"].FirstOrDefault() ?? "flavorid";
        var desc = q["sort_dir"].FirstOrDefault() == "desc";
        Func<Flavor, IComparable> key = sortKey switch
        {
            "name" => f => f.Name,
            "memory_mb" => f => f.MemoryMb,
            "vcpus" => f => f.Vcpus,
            "root_gb" => f => f.RootGb,
            "id" or "flavorid" => f => f.FlavorId,
            "created_at" => f => f.CreatedAt,
            _ => throw OpenStackError.BadRequest($"Invalid input for query parameters sort_key. Value: {sortKey}."),
        };
        flavors = (desc ? flavors.OrderByDescending(key) : flavors.OrderBy(key)).ToList();
        var v = Microversion.Of(http);
        var page = Paging.Apply(flavors, f => f.FlavorId, q);
        var body = new JsonObject { ["flavors"] = new JsonArray([.. page.Items.Select(f => (JsonNode)View(http, f, detail, v))]) };
        if (page.Next is not null) body["flavors_links"] = Paging.NextLinks(http, page.Next);
        return new JsonResponse(body);
    }

    public static JsonObject View(HttpContext http, Flavor f, bool detail, ApiVersionRequest v)
    {
        var o = new JsonObject
        {
            ["id"] = f.FlavorId,
            ["name"] = f.Name,
            ["links"] = Links.For(http, "flavors", f.FlavorId),
        };
        if (v.AtLeast(55)) o["description"] = f.Description;
        if (!detail) return o;
        o["ram"] = f.MemoryMb;
        o["disk"] = f.RootGb;
        o["swap"] = f.Swap == 0 ? "" : f.Swap;
        o["OS-FLV-EXT-DATA:ephemeral"] = f.EphemeralGb;
        o["OS-FLV-DISABLED:disabled"] = f.Disabled;
        o["vcpus"] = f.Vcpus;
        o["os-flavor-access:is_public"] = f.IsPublic;
        o["rxtx_factor"] = f.RxtxFactor;
        if (v.AtLeast(61)) o["extra_specs"] = Specs(f);
        return o;
    }

    static JsonObject Specs(Flavor f) => new(f.ExtraSpecs.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => KeyValuePair.Create(s.Key, (JsonNode?)s.Value)));

    static async Task<IResult> Show(string id, HttpContext http, ApiDb db, CancellationToken ct) =>
        new JsonResponse(new JsonObject { ["flavor"] = View(http, await FindAsync(db, id, http.Caller(), ct), true, Microversion.Of(http)) });

    static async Task<IResult> Create(HttpContext http, ApiDb db, CancellationToken ct)
    {
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("flavor");
        var name = body.RequiredString("name");
        if (name.Trim().Length == 0) throw OpenStackError.BadRequest("Invalid input for field/attribute name. Value: . '' is too short");
        var id = body["id"] is JsonValue idv ? (string?)idv.ToString() : null;
        if (string.IsNullOrEmpty(id) || id == "auto") id = Guid.NewGuid().ToString();
        var flavor = new Flavor
        {
            FlavorId = id,
            Name = name,
            MemoryMb = Bounded(body, "ram", 1),
            Vcpus = Bounded(body, "vcpus", 1),
            RootGb = Bounded(body, "disk", 0),
            EphemeralGb = body.ContainsKey("OS-FLV-EXT-DATA:ephemeral") ? Bounded(body, "OS-FLV-EXT-DATA:ephemeral", 0) : 0,
            Swap = body["swap"] is JsonValue sv && sv.ToString() != "" ? Bounded(body, "swap", 0) : 0,
            RxtxFactor = body["rxtx_factor"] is JsonValue r ? double.Parse(r.ToString(), CultureInfo.InvariantCulture) : 1.0,
            IsPublic = body.NovaBool("os-flavor-access:is_public") ?? true,
            Description = Microversion.Of(http).AtLeast(55) ? body.OptionalString("description", 65535, allowEmpty: true) : null,
            CreatedAt = DateTime.UtcNow,
        };
        if (await db.Flavors.AnyAsync(f => f.FlavorId == flavor.FlavorId, ct)) throw OpenStackError.Conflict($"Flavor with ID {flavor.FlavorId} already exists.");
        if (await db.Flavors.AnyAsync(f => f.Name == flavor.Name, ct)) throw OpenStackError.Conflict($"Flavor with name {flavor.Name} already exists.");
        db.Flavors.Add(flavor);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["flavor"] = View(http, flavor, true, Microversion.Of(http)) });
    }

    static int Bounded(JsonObject body, string key, int min)
    {
        var node = body[key] ?? throw OpenStackError.BadRequest($"'{key}' is a required property");
        if (!int.TryParse(node.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n < min)
            throw OpenStackError.BadRequest($"Invalid input for field/attribute {key}. Value: {node.ToJsonString()}. It must be an integer >= {min}.");
        return n;
    }

    static async Task<IResult> Update(string id, HttpContext http, ApiDb db, CancellationToken ct)
    {
        if (!Microversion.Of(http).AtLeast(55)) throw OpenStackError.MethodNotAllowed();
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("flavor");
        var flavor = await FindAsync(db, id, http.Caller(), ct);
        flavor.Description = body.OptionalString("description", 65535, allowEmpty: true);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["flavor"] = View(http, flavor, true, Microversion.Of(http)) });
    }

    static async Task<IResult> Delete(string id, HttpContext http, ApiDb db, CancellationToken ct)
    {
        var flavor = await FindAsync(db, id, http.Caller(), ct);
        db.Flavors.Remove(flavor);
        await db.SaveChangesAsync(ct);
        return Results.StatusCode(202);
    }

    static async Task<IResult> ListSpecs(string id, HttpContext http, ApiDb db, CancellationToken ct) =>
        new JsonResponse(new JsonObject { ["extra_specs"] = Specs(await FindAsync(db, id, http.Caller(), ct)) });

    static async Task<IResult> CreateSpecs(string id, HttpContext http, ApiDb db, CancellationToken ct)
    {
        var specs = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("extra_specs");
        var flavor = await FindAsync(db, id, http.Caller(), ct);
        foreach (var (key, value) in specs) SetSpec(flavor, key, value);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["extra_specs"] = specs.DeepClone() });
    }

    static void SetSpec(Flavor flavor, string key, JsonNode? value)
    {
        if (key.Length is 0 or > 255) throw OpenStackError.BadRequest($"Invalid extra spec key '{key}'.");
        if (value is not JsonValue v || v.GetValueKind() is System.Text.Json.JsonValueKind.Object or System.Text.Json.JsonValueKind.Array)
            throw OpenStackError.BadRequest($"Invalid input for field/attribute extra_specs. Value of {key} must be a string.");
        var text = v.GetValueKind() == System.Text.Json.JsonValueKind.String ? (string)v! : v.ToJsonString();
        if (text.Length > 255) throw OpenStackError.BadRequest($"Invalid input for extra spec {key}: the value is longer than 255 characters.");
        var existing = flavor.ExtraSpecs.FirstOrDefault(s => s.Key == key);
        if (existing is null) flavor.ExtraSpecs.Add(new FlavorExtraSpec { FlavorDbId = flavor.Id, Key = key, Value = text });
        else existing.Value = text;
    }

    static async Task<IResult> ShowSpec(string id, string key, HttpContext http, ApiDb db, CancellationToken ct)
    {
        var spec = (await FindAsync(db, id, http.Caller(), ct)).ExtraSpecs.FirstOrDefault(s => s.Key == key)
            ?? throw OpenStackError.NotFound($"Flavor {id} has no extra specs with key {key}.");
        return new JsonResponse(new JsonObject { [key] = spec.Value });
    }

    static async Task<IResult> UpdateSpec(string id, string key, HttpContext http, ApiDb db, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        if (body.Count != 1 || !body.ContainsKey(key)) throw OpenStackError.BadRequest("Request body and URI mismatch");
        var flavor = await FindAsync(db, id, http.Caller(), ct);
        SetSpec(flavor, key, body[key]);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(body.DeepClone());
    }

    static async Task<IResult> DeleteSpec(string id, string key, HttpContext http, ApiDb db, CancellationToken ct)
    {
        var flavor = await FindAsync(db, id, http.Caller(), ct);
        var spec = flavor.ExtraSpecs.FirstOrDefault(s => s.Key == key) ?? throw OpenStackError.NotFound($"Flavor {id} has no extra specs with key {key}.");
        db.FlavorExtraSpecs.Remove(spec);
        await db.SaveChangesAsync(ct);
        return Results.Ok();
    }

    static JsonObject AccessList(Flavor f) => new()
    {
        ["flavor_access"] = new JsonArray([.. f.Projects.Select(p => (JsonNode)new JsonObject { ["flavor_id"] = f.FlavorId, ["tenant_id"] = p.ProjectId })]),
    };

    static async Task<IResult> ListAccess(string id, HttpContext http, ApiDb db, CancellationToken ct)
    {
        var flavor = await FindAsync(db, id, http.Caller(), ct);
        if (flavor.IsPublic) throw OpenStackError.NotFound("Access list not available for public flavors.");
        return new JsonResponse(AccessList(flavor));
    }

    static async Task<IResult> Action(string id, HttpContext http, ApiDb db, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        http.Enforce($"os_compute_api:os-flavor-access:{(body.ContainsKey("removeTenantAccess") ? "remove_tenant_access" : "add_tenant_access")}");
        var flavor = await FindAsync(db, id, http.Caller(), ct);
        if (body["addTenantAccess"] is JsonObject add)
        {
            var tenant = add.RequiredString("tenant");
            if (flavor.IsPublic) throw OpenStackError.Conflict("Can not add access to a public flavor.");
            if (flavor.Projects.Any(p => p.ProjectId == tenant))
                throw OpenStackError.Conflict($"Flavor access already exists for flavor {id} and project {tenant} combination.");
            flavor.Projects.Add(new FlavorProject { FlavorDbId = flavor.Id, ProjectId = tenant });
        }
        else if (body["removeTenantAccess"] is JsonObject remove)
        {
            var tenant = remove.RequiredString("tenant");
            var access = flavor.Projects.FirstOrDefault(p => p.ProjectId == tenant)
                ?? throw OpenStackError.NotFound($"Flavor access not found for {id} / {tenant} combination.");
            db.FlavorProjects.Remove(access);
            flavor.Projects.Remove(access);
        }
        else throw OpenStackError.BadRequest("Unknown flavor action: use addTenantAccess or removeTenantAccess.");
        await db.SaveChangesAsync(ct);
        return new JsonResponse(AccessList(flavor));
    }
}
