using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Stratus.Compute.Hosts;
using Stratus.Compute.Images;
using Stratus.Compute.Network;
using Stratus.Compute.Placement;
using Stratus.Compute.Rpc;
using Stratus.Compute.Servers;
using Stratus.Compute.Volumes;
using Stratus.Core.Catalog;
using Stratus.Core.Services;

namespace Stratus.Compute.Api;

/// <summary><c>/servers</c>: create (handed to the conductor), list, detail, show, update, delete.</summary>
public static partial class ServersApi
{
    public static RouteGroupBuilder MapServers(this RouteGroupBuilder v21)
    {
        var servers = v21.MapGroup("/servers");
        servers.MapPost("", Create).RequirePolicy("os_compute_api:servers:create");
        servers.MapGet("", (HttpContext http, CellDb db, NeutronClient neutron, CancellationToken ct) => ListAsync(http, db, neutron, detail: false, ct));
        servers.MapGet("/detail", (HttpContext http, CellDb db, NeutronClient neutron, CancellationToken ct) => ListAsync(http, db, neutron, detail: true, ct));
        servers.MapGet("/{id}", Show);
        servers.MapPut("/{id}", Update).RequirePolicy("os_compute_api:servers:update");
        servers.MapDelete("/{id}", Delete).RequirePolicy("os_compute_api:servers:delete");
        return servers;
    }

    static async Task<IResult> Create(HttpContext http, CellDb db, ApiDb apiDb, ConductorApi conductor, ImageClient images, NeutronClient neutron, CinderClient cinder,
        NovaOptions options, CancellationToken ct)
    {
        var caller = http.Caller();
        var v = Microversion.Of(http);
        var request = await JsonBody.ReadObjectAsync(http.Request, ct);
        var body = request.Object("server");
        var name = ServerFields.ServerName(body);
        var flavorId = ServerFields.LastSegment(body["flavorRef"] is JsonValue fr && fr.GetValueKind() is JsonValueKind.String or JsonValueKind.Number
            ? fr.ToString() : throw NovaBody.Invalid("flavorRef", body["flavorRef"], "is not of type 'string', 'integer'"));
        var flavor = await apiDb.Flavors.Include(f => f.ExtraSpecs).Include(f => f.Projects).AsSplitQuery()
            .FirstOrDefaultAsync(f => f.FlavorId == flavorId, ct);
        if (flavor is null || (!flavor.IsPublic && !caller.IsAdmin && !flavor.Projects.Any(p => p.ProjectId == caller.ProjectId)))
            throw OpenStackError.BadRequest($"Flavor {flavorId} could not be found.");
        if (flavor.Disabled) throw OpenStackError.BadRequest($"Flavor {flavorId} is disabled.");
        var imageRef = body.OptionalString("imageRef", 65535, allowEmpty: true) is { Length: > 0 } img ? ServerFields.LastSegment(img) : "";
        if (imageRef.Length == 0 && !body.ContainsKey("block_device_mapping_v2") && !body.ContainsKey("block_device_mapping"))
            throw OpenStackError.BadRequest("Missing imageRef attribute");
        var blockDevices = BlockDevices.Parse(body, v, imageRef);
        // A server booted from a volume has no image of its own (Nova shows "" as its image).
        if (BlockDevices.VolumeBacked(blockDevices)) imageRef = "";
        if (body.ContainsKey("personality") && v.AtLeast(57)) throw NovaBody.Invalid("server", body, "Additional properties are not allowed ('personality' was unexpected)");
        var injectedFiles = ServerFields.Personality(body);
        var accessV4 = ServerFields.AccessIp(body, "accessIPv4", 4);
        var accessV6 = ServerFields.AccessIp(body, "accessIPv6", 6);
        var metadata = ServerFields.Metadata(body);
        var autoDisk = body.ContainsKey("OS-DCF:diskConfig") && ServerFields.DiskConfig(body);
        var userData = ServerFields.UserData(body);
        var minCount = body.ContainsKey("min_count") ? Count(body, "min_count") : 1;
        var maxCount = body.ContainsKey("max_count") ? Count(body, "max_count") : minCount;
        if (maxCount < minCount) throw OpenStackError.BadRequest("min_count must be <= max_count");
        var description = body.ContainsKey("description") ? v.AtLeast(19) ? body.OptionalString("description", 255, allowEmpty: true)
            : throw NovaBody.Invalid("server", body, "Additional properties are not allowed ('description' was unexpected)") : null;
        var tags = new List<string>();
        if (body.ContainsKey("tags"))
        {
            if (!v.AtLeast(52)) throw NovaBody.Invalid("server", body, "Additional properties are not allowed ('tags' was unexpected)");
            tags = ServerTagsApi.Validate(body["tags"]);
        }
        string? hostname = null;
        if (body.ContainsKey("hostname"))
        {
            if (!v.AtLeast(90)) throw NovaBody.Invalid("server", body, "Additional properties are not allowed ('hostname' was unexpected)");
            hostname = body.RequiredString("hostname");
            if (maxCount > 1) throw OpenStackError.BadRequest("Cannot use hostname with multiple servers: each needs its own.");
        }
        var instanceFlavor = InstanceFlavor.Of(flavor);
        if (imageRef.Length > 0) await ServerImage.CheckBootableAsync(images, imageRef, instanceFlavor, caller.Token, ct);
        await BlockDevices.CheckAsync(blockDevices, maxCount, images, cinder, caller, ct);
        var networks = await ServerNetworks.CheckAsync(body, required: v.AtLeast(37), caller, neutron, ct);
        if (await SecurityGroupsApi.RequestedAsync(body, caller, neutron, ct) is { Count: > 0 } securityGroups)
            networks = [.. networks.Select(n => n.PortId is null ? n with { SecurityGroups = securityGroups } : n)];
        var requestedNetworks = ServerNetworks.ToJson(networks);
        string? keyData = null;
        var keyName = body.OptionalString("key_name");
        if (keyName is not null)
            keyData = (await apiDb.KeyPairs.FirstOrDefaultAsync(k => k.UserId == caller.UserId && k.Name == keyName, ct))?.PublicKey
                ?? throw OpenStackError.BadRequest("Invalid key_name provided.");
        var zone = body.OptionalString("availability_zone") ?? options.DefaultScheduleZone;
        if (zone is not null)
        {
            zone = zone.Split(':')[0];
            var hostZones = await HostZones.LoadAsync(apiDb, options, ct);
            var computes = await db.Services.Where(s => s.Binary == NovaOptions.Compute).Select(s => s.Host).ToListAsync(ct);
            if (!computes.Any(h => hostZones.Of(h) == zone))
                throw OpenStackError.BadRequest($"The requested availability zone is not available");
        }
        var group = await ServerGroupsApi.FromHintsAsync(apiDb, request, caller, ct);
        var limits = await Quotas.LimitsAsync(apiDb, caller.ProjectId!, ct);
        if (limits["metadata_items"] >= 0 && metadata.Count > limits["metadata_items"])
            throw OpenStackError.Forbidden($"Quota exceeded for metadata_items: Requested {metadata.Count}, but already used 0 of {limits["metadata_items"]} metadata_items");
        ServerFields.CheckInjectedFileQuota(injectedFiles, limits);
        await Quotas.CheckAsync(db, apiDb, caller.ProjectId!, maxCount, flavor, ct);

        var flavorJson = instanceFlavor.ToJson();
        var now = DateTime.UtcNow;
        var created = new List<Instance>();
        for (var n = 1; n <= maxCount; n++)
        {
            var displayName = maxCount > 1 ? $"{name}-{n}" : name;
            var uuid = Guid.NewGuid().ToString();
            var instance = new Instance
            {
                Uuid = uuid,
                DisplayName = displayName,
                Description = description,
                ProjectId = caller.ProjectId!,
                UserId = caller.UserId,
                Hostname = hostname ?? ServerView.Hostname(displayName, uuid),
                FlavorJson = flavorJson,
                ImageRef = imageRef,
                KeyName = keyName,
                KeyData = keyData,
                UserData = userData,
                MetadataJson = metadata.ToJsonString(),
                TagsJson = new JsonArray([.. tags.Select(t => (JsonNode)t)]).ToJsonString(),
                AvailabilityZone = zone,
                RequestedAvailabilityZone = zone,
                AccessIpV4 = accessV4,
                AccessIpV6 = accessV6,
                AutoDiskConfig = autoDisk,
                RequestedNetworksJson = requestedNetworks,
                ConfigDrive = body.ContainsKey("config_drive") && body["config_drive"] is not null && NovaBody.Bool("config_drive", body["config_drive"]),
                LaunchIndex = n - 1,
                CreatedAt = now,
                UpdatedAt = now,
            };
            db.Instances.Add(instance);
            db.BlockDeviceMappings.AddRange(await BlockDevices.ReserveAsync(blockDevices, uuid, cinder, caller, ct));
            InstanceActions.Start(db, http, instance.Uuid, "create");
            created.Add(instance);
            group?.Members.Add(new ServerGroupMember { InstanceUuid = uuid });
        }
        await db.SaveChangesAsync(ct);
        if (group is not null) await apiDb.SaveChangesAsync(ct);
        var token = caller.Token;
        foreach (var instance in created)
            await conductor.CastAsync(new BuildInstance(instance.Uuid, token) { InjectedFiles = injectedFiles }, ct);
        if (body.ContainsKey("return_reservation_id") && NovaBody.Bool("return_reservation_id", body["return_reservation_id"]))
            return new JsonResponse(new JsonObject { ["reservation_id"] = "r-" + created[0].Uuid[..8] }, 202);
        var first = created[0];
        var server = new JsonObject { ["id"] = first.Uuid, ["links"] = Links.For(http, "servers", first.Uuid), ["OS-DCF:diskConfig"] = autoDisk ? "AUTO" : "MANUAL" };
        server["adminPass"] = body.OptionalString("adminPass", 255, allowEmpty: true) ?? ServerFields.NewPassword();
        // Nova answers with the groups asked for (the ports are not made yet), "default" when none were.
        server["security_groups"] = body.TryGetPropertyValue("security_groups", out var asked) ? asked?.DeepClone() : new JsonArray(new JsonObject { ["name"] = "default" });
        return new JsonResponse(new JsonObject { ["server"] = server }, 202)
            .WithHeader("Location", $"{http.Request.Scheme}://{http.Request.Host}/v2.1/servers/{first.Uuid}");
    }

    static int Count(JsonObject body, string key)
    {
        var node = body[key];
        var text = node is JsonValue v && v.GetValueKind() is JsonValueKind.Number or JsonValueKind.String ? v.ToString() : null;
        if (text is null || !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1)
            throw NovaBody.Invalid(key, node, "is less than the minimum of 1");
        return n;
    }

    static async Task<IResult> ListAsync(HttpContext http, CellDb db, NeutronClient neutron, bool detail, CancellationToken ct)
    {
        var caller = http.Caller();
        var q = http.Request.Query;
        IQueryable<Instance> query = db.Instances;
        var allTenants = q.ContainsKey("all_tenants") && caller.IsAdmin && q["all_tenants"].ToString().ToLowerInvariant() is "" or "1" or "true" or "t" or "yes";
        if (!allTenants) query = query.Where(i => i.ProjectId == caller.ProjectId);
        else if ((q["project_id"].FirstOrDefault() ?? q["tenant_id"].FirstOrDefault()) is { } project) query = query.Where(i => i.ProjectId == project);
        var deleted = caller.IsAdmin && q["deleted"].ToString().ToLowerInvariant() is "true" or "1";
        query = query.Where(i => i.Deleted == deleted);
        if (caller.IsAdmin && q["host"].FirstOrDefault() is { } host) query = query.Where(i => i.Host == host);
        if (q["image"].FirstOrDefault() is { } image) query = query.Where(i => i.ImageRef == ServerFields.LastSegment(image));
        var instances = await query.ToListAsync(ct);
        if (q["status"].FirstOrDefault() is { } status)
            instances = instances.Where(i => string.Equals(ServerView.Status(i), status, StringComparison.OrdinalIgnoreCase)).ToList();
        if (q["name"].FirstOrDefault() is { } name)
        {
            var regex = new Regex(name, RegexOptions.None, TimeSpan.FromSeconds(1));
            instances = instances.Where(i => regex.IsMatch(i.DisplayName)).ToList();
        }
        if (q.ContainsKey("ip") || q.ContainsKey("ip6"))
        {
            // Nova's _ip_filter: Python's re.match (anchored at the start) over the fixed addresses; an absent filter is the pattern "None".
            Regex Anchored(string? pattern) => new("^(?:" + (pattern ?? "None") + ")", RegexOptions.None, TimeSpan.FromSeconds(1));
            var (v4, v6) = (Anchored(q["ip"].FirstOrDefault()), Anchored(q["ip6"].FirstOrDefault()));
            instances = instances.Where(i => ServerNetworks.Vifs(i.NetworkInfoJson).SelectMany(v => v.Addresses)
                .Any(a => (a.Version == 4 ? v4 : v6).IsMatch(a.Address))).ToList();
        }
        if (q["flavor"].FirstOrDefault() is { } flavor)
            instances = instances.Where(i => InstanceFlavor.Parse(i.FlavorJson).FlavorId == ServerFields.LastSegment(flavor)).ToList();
        if (q["changes-since"].FirstOrDefault() is { } since)
        {
            if (!Regex.IsMatch(since, @"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
                || !DateTime.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t))
                throw OpenStackError.BadRequest($"Invalid input for query parameters changes-since. Value: {since}.");
            instances = instances.Where(i => i.UpdatedAt >= t).ToList();
        }
        var descending = q["sort_dir"].FirstOrDefault() != "asc";
        instances = (descending ? instances.OrderByDescending(i => i.CreatedAt).ThenByDescending(i => i.Uuid)
            : instances.OrderBy(i => i.CreatedAt).ThenBy(i => i.Uuid)).ToList();
        var page = Paging.Apply(instances, i => i.Uuid, q);
        var faults = detail ? await LatestFaultsAsync(db, page.Items.Where(i => i.VmState == VmStates.Error).Select(i => i.Uuid).ToList(), ct) : [];
        var securityGroups = detail ? await SecurityGroupsApi.OfServersAsync(neutron, page.Items, caller.Token, ct) : [];
        var volumes = detail ? await ServerView.VolumesOfAsync(db, [.. page.Items.Select(i => i.Uuid)], ct) : [];
        var body = new JsonObject
        {
            ["servers"] = new JsonArray([.. page.Items.Select(i => (JsonNode)(detail
                ? ServerView.Detail(http, i, faults.GetValueOrDefault(i.Uuid), new ServerView.Parts(SecurityGroups: securityGroups.GetValueOrDefault(i.Uuid))
                {
                    Volumes = volumes.GetValueOrDefault(i.Uuid) ?? [],
                })
                : ServerView.Brief(http, i)))]),
        };
        if (page.Next is not null) body["servers_links"] = Paging.NextLinks(http, page.Next);
        return new JsonResponse(body);
    }

    static async Task<Dictionary<string, InstanceFault>> LatestFaultsAsync(CellDb db, List<string> uuids, CancellationToken ct) =>
        uuids.Count == 0 ? [] : (await db.Faults.Where(f => uuids.Contains(f.InstanceUuid)).ToListAsync(ct))
            .GroupBy(f => f.InstanceUuid).ToDictionary(g => g.Key, g => g.OrderByDescending(f => f.Id).First());

    internal static async Task<JsonObject> DetailAsync(HttpContext http, CellDb db, Instance i, CancellationToken ct, ServerView.Parts? parts = null)
    {
        var fault = i.VmState == VmStates.Error ? (await LatestFaultsAsync(db, [i.Uuid], ct)).GetValueOrDefault(i.Uuid) : null;
        var volumes = (await ServerView.VolumesOfAsync(db, [i.Uuid], ct)).GetValueOrDefault(i.Uuid) ?? [];
        return ServerView.Detail(http, i, fault, (parts ?? new ServerView.Parts()) with { Volumes = volumes });
    }

    static async Task<IResult> Show(string id, HttpContext http, CellDb db, ApiDb apiDb, NeutronClient neutron, CancellationToken ct)
    {
        var caller = http.Caller();
        var instance = await ComputeAccess.FindServerAsync(db, id, caller, ct);
        var parts = new ServerView.Parts(ServerGroups: true, Groups: await ServerGroupsApi.GroupsOfAsync(apiDb, id, ct),
            SecurityGroups: (await SecurityGroupsApi.OfServersAsync(neutron, [instance], caller.Token, ct)).GetValueOrDefault(id));
        return new JsonResponse(new JsonObject { ["server"] = await DetailAsync(http, db, instance, ct, parts) });
    }

    static async Task<IResult> Update(string id, HttpContext http, CellDb db, ApiDb apiDb, NeutronClient neutron, CancellationToken ct)
    {
        var v = Microversion.Of(http);
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("server");
        var allowed = new List<string> { "name", "accessIPv4", "accessIPv6", "OS-DCF:diskConfig" };
        if (v.AtLeast(19)) allowed.Add("description");
        if (v.AtLeast(90)) allowed.Add("hostname");
        body.Only("server", [.. allowed]);
        var instance = await ComputeAccess.FindServerAsync(db, id, http.Caller(), ct);
        var name = body.ContainsKey("name") ? ServerFields.ServerName(body) : null;
        var description = body.OptionalString("description", 255, allowEmpty: true);
        var v4 = ServerFields.AccessIp(body, "accessIPv4", 4);
        var v6 = ServerFields.AccessIp(body, "accessIPv6", 6);
        var autoDisk = body.ContainsKey("OS-DCF:diskConfig") && ServerFields.DiskConfig(body);
        var hostname = body.ContainsKey("hostname") ? body.RequiredString("hostname") : null;
        await db.SaveInstanceAsync(instance, i =>
        {
            if (name is not null) i.DisplayName = name;
            if (body.ContainsKey("description")) i.Description = description;
            if (body.ContainsKey("accessIPv4")) i.AccessIpV4 = v4;
            if (body.ContainsKey("accessIPv6")) i.AccessIpV6 = v6;
            if (body.ContainsKey("OS-DCF:diskConfig")) i.AutoDiskConfig = autoDisk;
            if (hostname is not null) i.Hostname = hostname;
            i.Touch();
        }, ct);
        var full = v.AtLeast(75);
        var parts = new ServerView.Parts(Full: full, KeyName: full, ServerGroups: v.AtLeast(71), Groups: await ServerGroupsApi.GroupsOfAsync(apiDb, id, ct),
            SecurityGroups: full ? (await SecurityGroupsApi.OfServersAsync(neutron, [instance], http.Caller().Token, ct)).GetValueOrDefault(id) : null);
        return new JsonResponse(new JsonObject { ["server"] = await DetailAsync(http, db, instance, ct, parts) });
    }

    static async Task<IResult> Delete(string id, HttpContext http, CellDb db, ApiDb apiDb, ComputeApi compute, ServiceGroup group, PlacementClient placement, CancellationToken ct)
    {
        var caller = http.Caller();
        var instance = await ComputeAccess.FindServerAsync(db, id, caller, ct);
        if (instance.Locked && !caller.IsAdmin) throw OpenStackError.Conflict($"Instance {id} is locked");
        await ServerDeletion.DeleteAsync(instance, http, db, apiDb, compute, group, placement, ct);
        return Results.NoContent();
    }
}
