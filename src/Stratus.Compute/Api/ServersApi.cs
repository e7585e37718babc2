using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Stratus.Compute.Conductor;
using Stratus.Compute.Placement;
using Stratus.Compute.Rpc;
using Stratus.Core.Catalog;
using Stratus.Core.Messaging;

namespace Stratus.Compute.Api;

/// <summary><c>/servers</c>: create (handed to the conductor), list, detail, show, update, delete.</summary>
public static partial class ServersApi
{
    static readonly HttpClient Glance = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) }) { Timeout = TimeSpan.FromSeconds(30) };

    public static RouteGroupBuilder MapServers(this RouteGroupBuilder v21)
    {
        var servers = v21.MapGroup("/servers");
        servers.MapPost("", Create);
        servers.MapGet("", (HttpContext http, CellDb db, CancellationToken ct) => ListAsync(http, db, detail: false, ct));
        servers.MapGet("/detail", (HttpContext http, CellDb db, CancellationToken ct) => ListAsync(http, db, detail: true, ct));
        servers.MapGet("/{id}", Show);
        servers.MapPut("/{id}", Update);
        servers.MapDelete("/{id}", Delete);
        return servers;
    }

    static async Task<IResult> Create(HttpContext http, CellDb db, ApiDb apiDb, IMessageBus bus, NovaOptions options, CancellationToken ct)
    {
        http.RequireMember("os_compute_api:servers:create");
        var caller = http.Caller();
        var v = Microversion.Of(http);
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("server");
        var name = body.RequiredString("name");
        if (name.Trim().Length == 0) throw OpenStackError.BadRequest("Invalid input for field/attribute name. Value: . '' is too short");
        var flavorId = LastSegment(body.RequiredString("flavorRef", 65535));
        var flavor = await apiDb.Flavors.Include(f => f.ExtraSpecs).Include(f => f.Projects).AsSplitQuery()
            .FirstOrDefaultAsync(f => f.FlavorId == flavorId, ct);
        if (flavor is null || (!flavor.IsPublic && !caller.IsAdmin && !flavor.Projects.Any(p => p.ProjectId == caller.ProjectId)))
            throw OpenStackError.BadRequest($"Flavor {flavorId} could not be found.");
        if (flavor.Disabled) throw OpenStackError.BadRequest($"Flavor {flavorId} is disabled.");
        var imageRef = body.OptionalString("imageRef", 65535, allowEmpty: true) is { Length: > 0 } img ? LastSegment(img) : "";
        if (imageRef.Length == 0) throw OpenStackError.BadRequest("Missing imageRef attribute: booting from volume needs the block storage service, which this region does not have.");
        await CheckImageAsync(http, caller, options, imageRef, flavor, ct);
        CheckNetworks(body, v, caller, options);
        string? keyData = null;
        var keyName = body.OptionalString("key_name");
        if (keyName is not null)
            keyData = (await apiDb.KeyPairs.FirstOrDefaultAsync(k => k.UserId == caller.UserId && k.Name == keyName, ct))?.PublicKey
                ?? throw OpenStackError.BadRequest("Invalid key_name provided.");
        var zone = body.OptionalString("availability_zone");
        if (zone is not null)
        {
            zone = zone.Split(':')[0];
            if (!await db.Services.AnyAsync(s => s.Binary == NovaOptions.Compute && s.AvailabilityZone == zone, ct))
                throw OpenStackError.BadRequest($"The requested availability zone is not available");
        }
        var userData = body.OptionalString("user_data", 65535, allowEmpty: true);
        if (userData is not null && !IsBase64(userData)) throw OpenStackError.BadRequest("Invalid input for field/attribute user_data. Value: not base64 encoded.");
        var metadata = body["metadata"] as JsonObject ?? [];
        if (metadata.Any(m => m.Value is not JsonValue mv || mv.GetValueKind() != JsonValueKind.String))
            throw OpenStackError.BadRequest("Invalid input for field/attribute metadata: values must be strings.");
        var minCount = (int?)body.OptionalInt("min_count") ?? 1;
        var maxCount = (int?)body.OptionalInt("max_count") ?? minCount;
        if (minCount < 1 || maxCount < minCount) throw OpenStackError.BadRequest("min_count must be >= 1 and <= max_count.");
        await Quotas.CheckAsync(db, apiDb, caller.ProjectId!, maxCount, flavor, ct);

        var flavorJson = new JsonObject
        {
            ["id"] = flavor.FlavorId, ["name"] = flavor.Name, ["vcpus"] = flavor.Vcpus, ["ram"] = flavor.MemoryMb, ["disk"] = flavor.RootGb,
            ["ephemeral"] = flavor.EphemeralGb, ["swap"] = flavor.Swap,
            ["extra_specs"] = new JsonObject(flavor.ExtraSpecs.Select(s => KeyValuePair.Create(s.Key, (JsonNode?)s.Value))),
        }.ToJsonString();
        var now = DateTime.UtcNow;
        var created = new List<Instance>();
        for (var n = 1; n <= maxCount; n++)
        {
            var displayName = maxCount > 1 ? $"{name}-{n}" : name;
            var instance = new Instance
            {
                Uuid = Guid.NewGuid().ToString(),
                DisplayName = displayName,
                Description = v.AtLeast(19) ? body.OptionalString("description", 255, allowEmpty: true) : null,
                ProjectId = caller.ProjectId!,
                UserId = caller.UserId,
                Hostname = Hostname(displayName),
                FlavorJson = flavorJson,
                ImageRef = imageRef,
                KeyName = keyName,
                KeyData = keyData,
                UserData = userData,
                MetadataJson = metadata.ToJsonString(),
                TagsJson = v.AtLeast(52) && body["tags"] is JsonArray tags ? tags.ToJsonString() : "[]",
                AvailabilityZone = zone ?? options.DefaultAvailabilityZone,
                AccessIpV4 = body.OptionalString("accessIPv4"),
                AccessIpV6 = body.OptionalString("accessIPv6"),
                ConfigDrive = body["config_drive"] is JsonValue cd && cd.ToString().ToLowerInvariant() is "true" or "1",
                CreatedAt = now,
                UpdatedAt = now,
            };
            db.Instances.Add(instance);
            InstanceActions.Start(db, http, instance.Uuid, "create");
            created.Add(instance);
        }
        await db.SaveChangesAsync(ct);
        var token = caller.Token;
        foreach (var instance in created)
            await bus.CastAsync(ComputeRpc.ConductorTopic, null, "build_instance", new JsonObject { ["uuid"] = instance.Uuid, ["token"] = token }, ct);
        if (body.OptionalBool("return_reservation_id") == true)
            return new JsonResponse(new JsonObject { ["reservation_id"] = "r-" + created[0].Uuid[..8] }, 202);
        var first = created[0];
        var server = ServerView.Brief(http, first);
        server["OS-DCF:diskConfig"] = "MANUAL";
        server["security_groups"] = new JsonArray(new JsonObject { ["name"] = "default" });
        server["adminPass"] = body.OptionalString("adminPass") ?? Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(9));
        return new JsonResponse(new JsonObject { ["server"] = server }, 202)
            .WithHeader("Location", $"{http.Request.Scheme}://{http.Request.Host}/v2.1/servers/{first.Uuid}");
    }

    static string LastSegment(string reference) => reference.TrimEnd('/').Split('/')[^1];

    static bool IsBase64(string s)
    {
        try
        {
            Convert.FromBase64String(s);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    static string Hostname(string name)
    {
        var h = HostnameChars().Replace(name.ToLowerInvariant().Replace(' ', '-'), "").Trim('-', '.');
        return h.Length == 0 ? "server" : h[..Math.Min(h.Length, 63)];
    }

    [GeneratedRegex("[^a-z0-9.-]")]
    private static partial Regex HostnameChars();

    /// <summary>The image must exist for the caller in this region's image service, be active, and fit the flavor.</summary>
    static async Task CheckImageAsync(HttpContext http, Caller caller, NovaOptions options, string imageRef, Flavor flavor, CancellationToken ct)
    {
        string endpoint;
        try
        {
            endpoint = options.GlanceApiServers.Count > 0
                ? options.GlanceApiServers[0].TrimEnd('/')
                : caller.Catalog.EndpointFor("image", "public", options.Authtoken.RegionName, caller.ProjectId).TrimEnd('/');
        }
        catch (EndpointNotFoundException e)
        {
            throw OpenStackError.BadRequest($"Image {imageRef} could not be found: {e.Message}");
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{endpoint}/v2/images/{Uri.EscapeDataString(imageRef)}");
        request.Headers.Add("X-Auth-Token", caller.Token);
        HttpResponseMessage response;
        try
        {
            response = await Glance.SendAsync(request, ct);
        }
        catch (HttpRequestException e)
        {
            throw OpenStackError.Unavailable($"The image service at {endpoint} could not be reached: {e.Message}");
        }
        using (response)
        {
            if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest or HttpStatusCode.Forbidden)
                throw OpenStackError.BadRequest($"Image {imageRef} could not be found.");
            if (!response.IsSuccessStatusCode)
                throw OpenStackError.BadRequest($"Invalid image identifier or unable to access requested image. (HTTP {(int)response.StatusCode} from {endpoint})");
            var image = JsonNode.Parse(await response.Content.ReadAsStringAsync(ct))!;
            if ((string?)image["status"] != "active") throw OpenStackError.BadRequest($"Image {imageRef} is not active.");
            if ((int?)image["min_ram"] is { } minRam && minRam > flavor.MemoryMb) throw OpenStackError.BadRequest("Flavor's memory is too small for requested image.");
            if ((int?)image["min_disk"] is { } minDisk && flavor.RootGb > 0 && minDisk > flavor.RootGb)
                throw OpenStackError.BadRequest("Flavor's disk is too small for requested image.");
        }
    }

    /// <summary>From 2.37 networks are required ("none", "auto" or a list); ports need the network service.</summary>
    static void CheckNetworks(JsonObject body, Microversion v, Caller caller, NovaOptions options)
    {
        var networks = body["networks"];
        if (networks is null)
        {
            if (v.AtLeast(37)) throw OpenStackError.BadRequest("Invalid input for field/attribute server. 'networks' is a required property");
            return;
        }
        if (networks is JsonValue s && s.GetValueKind() == JsonValueKind.String)
        {
            var value = (string)s!;
            if (!v.AtLeast(37) || value is not ("none" or "auto")) throw OpenStackError.BadRequest($"Invalid input for field/attribute networks. Value: {value}.");
            if (value == "none") return;
        }
        else if (networks is not JsonArray list || list.Count == 0 && v.AtLeast(37))
            throw OpenStackError.BadRequest("Invalid input for field/attribute networks.");
        else if (list.Count == 0) return;
        try
        {
            caller.Catalog.EndpointFor("network", "public", options.NeutronRegion ?? options.Authtoken.RegionName, caller.ProjectId);
        }
        catch (EndpointNotFoundException e)
        {
            throw OpenStackError.BadRequest($"Networks were requested, but there is no network service: {e.Message} Use \"networks\": \"none\".");
        }
        throw OpenStackError.BadRequest("Networks were requested, but port binding through the network service is not available yet. Use \"networks\": \"none\".");
    }

    static async Task<IResult> ListAsync(HttpContext http, CellDb db, bool detail, CancellationToken ct)
    {
        var caller = http.Caller();
        var q = http.Request.Query;
        IQueryable<Instance> query = db.Instances;
        var allTenants = q.ContainsKey("all_tenants") && caller.IsAdmin && q["all_tenants"].ToString().ToLowerInvariant() is "" or "1" or "true" or "t" or "yes";
        if (!allTenants) query = query.Where(i => i.ProjectId == caller.ProjectId);
        else if (q["project_id"].FirstOrDefault() is { } project) query = query.Where(i => i.ProjectId == project);
        var deleted = caller.IsAdmin && q["deleted"].ToString().ToLowerInvariant() is "true" or "1";
        query = query.Where(i => i.Deleted == deleted);
        if (caller.IsAdmin && q["host"].FirstOrDefault() is { } host) query = query.Where(i => i.Host == host);
        if (q["image"].FirstOrDefault() is { } image) query = query.Where(i => i.ImageRef == LastSegment(image));
        var instances = await query.ToListAsync(ct);
        if (q["status"].FirstOrDefault() is { } status)
            instances = instances.Where(i => string.Equals(ServerView.Status(i), status, StringComparison.OrdinalIgnoreCase)).ToList();
        if (q["name"].FirstOrDefault() is { } name)
        {
            var regex = new Regex(name, RegexOptions.None, TimeSpan.FromSeconds(1));
            instances = instances.Where(i => regex.IsMatch(i.DisplayName)).ToList();
        }
        if (q["flavor"].FirstOrDefault() is { } flavor)
            instances = instances.Where(i => (string?)JsonNode.Parse(i.FlavorJson)!["id"] == LastSegment(flavor)).ToList();
        if (q["changes-since"].FirstOrDefault() is { } since)
        {
            if (!DateTime.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t))
                throw OpenStackError.BadRequest($"Invalid input for query parameters changes-since. Value: {since}.");
            instances = instances.Where(i => i.UpdatedAt >= t).ToList();
        }
        var descending = q["sort_dir"].FirstOrDefault() != "asc";
        instances = (descending ? instances.OrderByDescending(i => i.CreatedAt).ThenByDescending(i => i.Uuid)
            : instances.OrderBy(i => i.CreatedAt).ThenBy(i => i.Uuid)).ToList();
        var page = Paging.Apply(instances, i => i.Uuid, q);
        var faults = detail ? await LatestFaultsAsync(db, page.Items.Where(i => i.VmState == VmStates.Error).Select(i => i.Uuid).ToList(), ct) : [];
        var body = new JsonObject
        {
            ["servers"] = new JsonArray([.. page.Items.Select(i => (JsonNode)(detail ? ServerView.Detail(http, i, faults.GetValueOrDefault(i.Uuid)) : ServerView.Brief(http, i)))]),
        };
        if (page.Next is not null) body["servers_links"] = Paging.NextLinks(http, page.Next);
        return new JsonResponse(body);
    }

    static async Task<Dictionary<string, InstanceFault>> LatestFaultsAsync(CellDb db, List<string> uuids, CancellationToken ct) =>
        uuids.Count == 0 ? [] : (await db.Faults.Where(f => uuids.Contains(f.InstanceUuid)).ToListAsync(ct))
            .GroupBy(f => f.InstanceUuid).ToDictionary(g => g.Key, g => g.OrderByDescending(f => f.Id).First());

    public static async Task<JsonObject> DetailAsync(HttpContext http, CellDb db, Instance i, CancellationToken ct)
    {
        var fault = i.VmState == VmStates.Error ? (await LatestFaultsAsync(db, [i.Uuid], ct)).GetValueOrDefault(i.Uuid) : null;
        return ServerView.Detail(http, i, fault);
    }

    static async Task<IResult> Show(string id, HttpContext http, CellDb db, CancellationToken ct)
    {
        var instance = await ComputeAccess.FindServerAsync(db, id, http.Caller(), ct);
        return new JsonResponse(new JsonObject { ["server"] = await DetailAsync(http, db, instance, ct) });
    }

    static async Task<IResult> Update(string id, HttpContext http, CellDb db, CancellationToken ct)
    {
        http.RequireMember("os_compute_api:servers:update");
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("server");
        var instance = await ComputeAccess.FindServerAsync(db, id, http.Caller(), ct);
        if (body.OptionalString("name") is { } name)
        {
            if (name.Trim().Length == 0) throw OpenStackError.BadRequest("Invalid input for field/attribute name. Value: . '' is too short");
            instance.DisplayName = name;
        }
        if (body.ContainsKey("description"))
        {
            if (!Microversion.Of(http).AtLeast(19)) throw OpenStackError.BadRequest("Additional properties are not allowed ('description' was unexpected)");
            instance.Description = body.OptionalString("description", 255, allowEmpty: true);
        }
        if (body.ContainsKey("accessIPv4")) instance.AccessIpV4 = body.OptionalString("accessIPv4", 255, allowEmpty: true);
        if (body.ContainsKey("accessIPv6")) instance.AccessIpV6 = body.OptionalString("accessIPv6", 255, allowEmpty: true);
        instance.Touch();
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["server"] = await DetailAsync(http, db, instance, ct) });
    }

    static async Task<IResult> Delete(string id, HttpContext http, CellDb db, IMessageBus bus, NovaOptions options, PlacementClient placement, CancellationToken ct)
    {
        http.RequireMember("os_compute_api:servers:delete");
        var caller = http.Caller();
        var instance = await ComputeAccess.FindServerAsync(db, id, caller, ct);
        if (instance.Locked && !caller.IsAdmin) throw OpenStackError.Conflict($"Instance {id} is locked");
        InstanceActions.Start(db, http, id, "delete");
        var upSince = DateTime.UtcNow - options.ServiceDownTime;
        var hostUp = instance.Host is not null && await db.Services.AnyAsync(s => s.Host == instance.Host && s.Binary == NovaOptions.Compute
            && !s.ForcedDown && s.LastSeenUp >= upSince, ct);
        if (!hostUp)
        {
            // Nova's local delete: nothing runs anywhere (never scheduled, or its host is down); the host reaps the guest if it returns.
            ConductorService.MarkDeleted(instance);
            await db.SaveChangesAsync(ct);
            try
            {
                await placement.DeleteAllocationsAsync(id, ct);
            }
            catch (PlacementException)
            {
            }
            return Results.NoContent();
        }
        instance.TaskState = TaskStates.Deleting;
        instance.Touch();
        await db.SaveChangesAsync(ct);
        await bus.CastAsync(ComputeRpc.ComputeTopic, instance.Host, "terminate_instance", new JsonObject { ["uuid"] = id }, ct);
        return Results.NoContent();
    }
}
