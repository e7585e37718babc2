using Stratus.Compute.Rpc;
using Stratus.Compute.Hosts;
using Stratus.Core.Messaging;
using Stratus.Core.Services;

namespace Stratus.Compute.Api;

/// <summary><c>/os-hypervisors</c> (admin) and <c>/os-availability-zone</c>.</summary>
public static class HypervisorsApi
{
    public static RouteGroupBuilder MapHypervisors(this RouteGroupBuilder v21)
    {
        v21.MapGet("/os-hypervisors", (HttpContext http, CellDb db, ServiceGroup g, CancellationToken ct) => ListAsync(http, db, g, false, ct))
            .RequirePolicy("os_compute_api:os-hypervisors:list");
        v21.MapGet("/os-hypervisors/detail", (HttpContext http, CellDb db, ServiceGroup g, CancellationToken ct) => ListAsync(http, db, g, true, ct))
            .RequirePolicy("os_compute_api:os-hypervisors:list-detail");
        v21.MapGet("/os-hypervisors/statistics", Statistics).RequirePolicy("os_compute_api:os-hypervisors:statistics");
        v21.MapGet("/os-hypervisors/{id}", Show).RequirePolicy("os_compute_api:os-hypervisors:show");
        v21.MapGet("/os-hypervisors/{id}/uptime", Uptime).RequirePolicy("os_compute_api:os-hypervisors:uptime");
        v21.MapGet("/os-hypervisors/{pattern}/search", (string pattern, HttpContext http, CellDb db, ServiceGroup g, CancellationToken ct) => SearchAsync(pattern, http, db, g, false, ct))
            .RequirePolicy("os_compute_api:os-hypervisors:search");
        v21.MapGet("/os-hypervisors/{pattern}/servers", (string pattern, HttpContext http, CellDb db, ServiceGroup g, CancellationToken ct) => SearchAsync(pattern, http, db, g, true, ct))
            .RequirePolicy("os_compute_api:os-hypervisors:servers");
        v21.MapGet("/os-availability-zone", (HttpContext http, CellDb db, ApiDb apiDb, NovaOptions o, ServiceGroup g, CancellationToken ct) => ZonesAsync(http, db, apiDb, o, g, false, ct));
        v21.MapGet("/os-availability-zone/detail", (HttpContext http, CellDb db, ApiDb apiDb, NovaOptions o, ServiceGroup g, CancellationToken ct) => ZonesAsync(http, db, apiDb, o, g, true, ct))
            .RequirePolicy("os_compute_api:os-availability-zone:detail");
        return v21;
    }

    static async Task<JsonObject> ViewAsync(HttpContext http, CellDb db, ComputeNode n, ServiceGroup group, bool detail, bool withServers, CancellationToken ct)
    {
        var v = Microversion.Of(http);
        var service = await db.Services.FirstOrDefaultAsync(s => s.Host == n.Host && s.Binary == NovaOptions.Compute, ct);
        var o = new JsonObject
        {
            ["id"] = v.AtLeast(53) ? n.Uuid : n.Id,
            ["hypervisor_hostname"] = n.HypervisorHostname,
            ["state"] = service is not null && group.IsUp(service) ? "up" : "down",
            ["status"] = service?.Disabled == true ? "disabled" : "enabled",
        };
        var instances = await db.Instances.Where(i => i.Host == n.Host && !i.Deleted).ToListAsync(ct);
        if (detail)
        {
            o["hypervisor_type"] = n.HypervisorType;
            o["hypervisor_version"] = 8002000;
            o["host_ip"] = n.HostIp;
            o["service"] = new JsonObject { ["host"] = n.Host, ["id"] = v.AtLeast(53) ? service?.Uuid : service?.Id, ["disabled_reason"] = service?.DisabledReason };
            if (!v.AtLeast(88))
            {
                var flavors = instances.Select(i => InstanceFlavor.Parse(i.FlavorJson)).ToList();
                var (cpus, ram, disk) = (flavors.Sum(f => (long)f.Vcpus), flavors.Sum(f => (long)f.MemoryMb), flavors.Sum(f => (long)f.RootGb));
                o["vcpus"] = n.Vcpus;
                o["memory_mb"] = n.MemoryMb;
                o["local_gb"] = n.LocalGb;
                o["vcpus_used"] = cpus;
                o["memory_mb_used"] = ram;
                o["local_gb_used"] = disk;
                o["free_ram_mb"] = n.MemoryMb - ram;
                o["free_disk_gb"] = n.LocalGb - disk;
                o["current_workload"] = 0;
                o["running_vms"] = flavors.Count;
                o["disk_available_least"] = n.LocalGb - disk;
                o["cpu_info"] = v.AtLeast(28) ? new JsonObject() : "{}";
            }
            else o["uptime"] = null;
        }
        if (withServers && (instances.Count > 0 || v.AtLeast(75)))
            o["servers"] = new JsonArray([.. instances.Select(i => (JsonNode)new JsonObject { ["name"] = ServerView.InstanceName(i), ["uuid"] = i.Uuid })]);
        return o;
    }

    static async Task<IResult> ListAsync(HttpContext http, CellDb db, ServiceGroup group, bool detail, CancellationToken ct)
    {
        var v = Microversion.Of(http);
        var q = http.Request.Query;
        var nodes = await db.ComputeNodes.OrderBy(n => n.Id).ToListAsync(ct);
        var withServers = false;
        if (v.AtLeast(53))
        {
            if (q["with_servers"].FirstOrDefault() is { } ws) withServers = StrictBool("with_servers", ws);
            if (q["hypervisor_hostname_pattern"].FirstOrDefault() is { } pattern)
            {
                if (q.ContainsKey("limit") || q.ContainsKey("marker"))
                    throw OpenStackError.BadRequest("Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.");
                nodes = Matching(nodes, pattern);
            }
        }
        var page = v.AtLeast(33) ? Paging.Apply(nodes, n => v.AtLeast(53) ? n.Uuid : n.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), q)
            : new Paging.Page<ComputeNode>(nodes, null);
        var list = new JsonArray();
        foreach (var n in page.Items) list.Add(await ViewAsync(http, db, n, group, detail, withServers, ct));
        var body = new JsonObject { ["hypervisors"] = list };
        if (page.Next is not null) body["hypervisors_links"] = Paging.NextLinks(http, page.Next);
        return new JsonResponse(body);
    }

    static List<ComputeNode> Matching(List<ComputeNode> nodes, string pattern)
    {
        var found = nodes.Where(n => n.HypervisorHostname.Contains(pattern, StringComparison.Ordinal)).ToList();
        return found.Count > 0 ? found : throw OpenStackError.NotFound($"No hypervisor matching '{pattern}' could be found.");
    }

    static bool StrictBool(string name, string value) => value.ToLowerInvariant() switch
    {
        "1" or "t" or "true" or "on" or "y" or "yes" => true,
        "0" or "f" or "false" or "off" or "n" or "no" => false,
        _ => throw OpenStackError.BadRequest($"Invalid input for query parameters {name}. Value: {value}. Unrecognized value '{value}', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'"),
    };

    static async Task<IResult> SearchAsync(string pattern, HttpContext http, CellDb db, ServiceGroup group, bool servers, CancellationToken ct)
    {
        if (Microversion.Of(http).AtLeast(53)) throw OpenStackError.NotFound("The resource could not be found.");
        var list = new JsonArray();
        foreach (var n in Matching(await db.ComputeNodes.OrderBy(n => n.Id).ToListAsync(ct), pattern))
            list.Add(await ViewAsync(http, db, n, group, false, servers, ct));
        return new JsonResponse(new JsonObject { ["hypervisors"] = list });
    }

    static async Task<ComputeNode> FindAsync(HttpContext http, CellDb db, string id, CancellationToken ct)
    {
        if (Microversion.Of(http).AtLeast(53))
        {
            if (!Guid.TryParse(id, out _)) throw OpenStackError.BadRequest($"Invalid uuid {id}");
            return await db.ComputeNodes.FirstOrDefaultAsync(n => n.Uuid == id, ct) ?? throw OpenStackError.NotFound($"Hypervisor with ID '{id}' could not be found.");
        }
        if (!int.TryParse(id, out var n)) throw OpenStackError.NotFound($"Hypervisor with ID '{id}' could not be found.");
        return await db.ComputeNodes.FirstOrDefaultAsync(c => c.Id == n, ct) ?? throw OpenStackError.NotFound($"Hypervisor with ID '{id}' could not be found.");
    }

    static async Task<IResult> Show(string id, HttpContext http, CellDb db, ServiceGroup group, ComputeApi compute, CancellationToken ct)
    {
        var node = await FindAsync(http, db, id, ct);
        var v = Microversion.Of(http);
        var withServers = v.AtLeast(53) && http.Request.Query["with_servers"].FirstOrDefault() is { } ws && StrictBool("with_servers", ws);
        var view = await ViewAsync(http, db, node, group, true, withServers, ct);
        if (v.AtLeast(88)) view["uptime"] = await UptimeOfAsync(compute, node.Host, ct);
        return new JsonResponse(new JsonObject { ["hypervisor"] = view });
    }

    static async Task<IResult> Uptime(string id, HttpContext http, CellDb db, ServiceGroup group, ComputeApi compute, CancellationToken ct)
    {
        if (Microversion.Of(http).AtLeast(88)) throw OpenStackError.NotFound("The resource could not be found.");
        var node = await FindAsync(http, db, id, ct);
        var view = await ViewAsync(http, db, node, group, false, false, ct);
        view["uptime"] = await UptimeOfAsync(compute, node.Host, ct)
            ?? throw OpenStackError.BadRequest($"Compute service of {node.Host} is unavailable at this time.");
        return new JsonResponse(new JsonObject { ["hypervisor"] = view });
    }

    /// <summary>The host's uptime line, asked of its nova-compute (null when it does not answer).</summary>
    static async Task<string?> UptimeOfAsync(ComputeApi compute, string host, CancellationToken ct)
    {
        try
        {
            return await compute.CallAsync(host, new GetHostUptime(), TimeSpan.FromSeconds(10), ct);
        }
        catch (Exception e) when (e is RpcTimeoutException or RpcRemoteException)
        {
            return null;
        }
    }

    static async Task<IResult> Statistics(HttpContext http, CellDb db, ServiceGroup group, CancellationToken ct)
    {
        if (Microversion.Of(http).AtLeast(88)) throw OpenStackError.NotFound("The resource could not be found.");
        var stats = new Dictionary<string, long> { ["count"] = 0, ["vcpus"] = 0, ["memory_mb"] = 0, ["local_gb"] = 0, ["vcpus_used"] = 0, ["memory_mb_used"] = 0,
            ["local_gb_used"] = 0, ["free_ram_mb"] = 0, ["free_disk_gb"] = 0, ["current_workload"] = 0, ["running_vms"] = 0, ["disk_available_least"] = 0 };
        foreach (var n in await db.ComputeNodes.ToListAsync(ct))
        {
            var view = await ViewAsync(http, db, n, group, true, false, ct);
            stats["count"]++;
            foreach (var key in stats.Keys.Where(k => k != "count").ToList())
                stats[key] += view[key] is JsonValue value ? long.Parse(value.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture) : 0;
        }
        return new JsonResponse(new JsonObject { ["hypervisor_statistics"] = new JsonObject(stats.Select(s => KeyValuePair.Create(s.Key, (JsonNode?)s.Value))) });
    }

    static async Task<IResult> ZonesAsync(HttpContext http, CellDb db, ApiDb apiDb, NovaOptions options, ServiceGroup group, bool detail, CancellationToken ct)
    {
        var services = await db.Services.ToListAsync(ct);
        var hostZones = await HostZones.LoadAsync(apiDb, options, ct);
        var zones = new JsonArray();
        foreach (var zone in services.Where(s => s.Binary == NovaOptions.Compute).GroupBy(s => hostZones.Of(s.Host)))
        {
            var available = zone.Any(s => !s.Disabled && group.IsUp(s));
            zones.Add(new JsonObject
            {
                ["zoneName"] = zone.Key,
                ["zoneState"] = new JsonObject { ["available"] = available },
                ["hosts"] = detail ? Hosts(zone, group) : null,
            });
        }
        if (detail && services.Any(s => s.Binary != NovaOptions.Compute))
            zones.Add(new JsonObject
            {
                ["zoneName"] = "internal",
                ["zoneState"] = new JsonObject { ["available"] = true },
                ["hosts"] = Hosts(services.Where(s => s.Binary != NovaOptions.Compute), group),
            });
        return new JsonResponse(new JsonObject { ["availabilityZoneInfo"] = zones });
    }

    static JsonObject Hosts(IEnumerable<ServiceRecord> services, ServiceGroup group) =>
        new(services.GroupBy(s => s.Host).Select(h => KeyValuePair.Create(h.Key, (JsonNode?)new JsonObject(h.Select(s => KeyValuePair.Create(s.Binary,
            (JsonNode?)new JsonObject
            {
                ["available"] = !s.Disabled && group.IsUp(s),
                ["active"] = !s.Disabled,
                ["updated_at"] = s.UpdatedAt.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", System.Globalization.CultureInfo.InvariantCulture),
            }))))));
}
