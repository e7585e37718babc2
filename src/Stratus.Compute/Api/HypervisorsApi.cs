namespace Stratus.Compute.Api;

/// <summary><c>/os-hypervisors</c> (admin) and <c>/os-availability-zone</c>.</summary>
public static class HypervisorsApi
{
    public static RouteGroupBuilder MapHypervisors(this RouteGroupBuilder v21)
    {
        v21.MapGet("/os-hypervisors", (HttpContext http, CellDb db, NovaOptions o, CancellationToken ct) => ListAsync(http, db, o, false, ct));
        v21.MapGet("/os-hypervisors/detail", (HttpContext http, CellDb db, NovaOptions o, CancellationToken ct) => ListAsync(http, db, o, true, ct));
        v21.MapGet("/os-hypervisors/statistics", Statistics);
        v21.MapGet("/os-hypervisors/{id}", Show);
        v21.MapGet("/os-availability-zone", (HttpContext http, CellDb db, NovaOptions o, CancellationToken ct) => ZonesAsync(http, db, o, false, ct));
        v21.MapGet("/os-availability-zone/detail", (HttpContext http, CellDb db, NovaOptions o, CancellationToken ct) => ZonesAsync(http, db, o, true, ct));
        return v21;
    }

    static async Task<JsonObject> ViewAsync(HttpContext http, CellDb db, ComputeNode n, NovaOptions options, bool detail, CancellationToken ct)
    {
        var v = Microversion.Of(http);
        var service = await db.Services.FirstOrDefaultAsync(s => s.Host == n.Host && s.Binary == NovaOptions.Compute, ct);
        var o = new JsonObject
        {
            ["id"] = v.AtLeast(53) ? n.Uuid : n.Id,
            ["hypervisor_hostname"] = n.HypervisorHostname,
            ["state"] = service is not null && ServicesApi.IsUp(service, options) ? "up" : "down",
            ["status"] = service?.Disabled == true ? "disabled" : "enabled",
        };
        if (!detail) return o;
        o["hypervisor_type"] = n.HypervisorType;
        o["hypervisor_version"] = 8002000;
        o["host_ip"] = n.HostIp;
        o["service"] = new JsonObject { ["host"] = n.Host, ["id"] = v.AtLeast(53) ? service?.Uuid : service?.Id, ["disabled_reason"] = service?.DisabledReason };
        if (v.AtLeast(88)) return o;
        var instances = await db.Instances.Where(i => i.Host == n.Host && !i.Deleted).Select(i => i.FlavorJson).ToListAsync(ct);
        var flavors = instances.Select(f => JsonNode.Parse(f)!).ToList();
        var (cpus, ram, disk) = (flavors.Sum(f => (int)f["vcpus"]!), flavors.Sum(f => (long)f["ram"]!), flavors.Sum(f => (long)f["disk"]!));
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
        return o;
    }

    static async Task<IResult> ListAsync(HttpContext http, CellDb db, NovaOptions options, bool detail, CancellationToken ct)
    {
        http.RequireAdmin("os_compute_api:os-hypervisors:list");
        var nodes = await db.ComputeNodes.OrderBy(n => n.Id).ToListAsync(ct);
        if (http.Request.Query["hypervisor_hostname_pattern"].FirstOrDefault() is { } pattern)
            nodes = nodes.Where(n => n.HypervisorHostname.Contains(pattern, StringComparison.Ordinal)).ToList();
        var list = new JsonArray();
        foreach (var n in nodes) list.Add(await ViewAsync(http, db, n, options, detail, ct));
        return new JsonResponse(new JsonObject { ["hypervisors"] = list });
    }

    static async Task<IResult> Show(string id, HttpContext http, CellDb db, NovaOptions options, CancellationToken ct)
    {
        http.RequireAdmin("os_compute_api:os-hypervisors:show");
        var node = await db.ComputeNodes.FirstOrDefaultAsync(n => n.Uuid == id || n.Id.ToString() == id, ct)
            ?? throw OpenStackError.NotFound($"Hypervisor with ID '{id}' could not be found.");
        return new JsonResponse(new JsonObject { ["hypervisor"] = await ViewAsync(http, db, node, options, true, ct) });
    }

    static async Task<IResult> Statistics(HttpContext http, CellDb db, NovaOptions options, CancellationToken ct)
    {
        http.RequireAdmin("os_compute_api:os-hypervisors:statistics");
        var stats = new Dictionary<string, long> { ["count"] = 0, ["vcpus"] = 0, ["memory_mb"] = 0, ["local_gb"] = 0, ["vcpus_used"] = 0, ["memory_mb_used"] = 0,
            ["local_gb_used"] = 0, ["free_ram_mb"] = 0, ["free_disk_gb"] = 0, ["current_workload"] = 0, ["running_vms"] = 0, ["disk_available_least"] = 0 };
        foreach (var n in await db.ComputeNodes.ToListAsync(ct))
        {
            var view = await ViewAsync(http, db, n, options with { }, true, ct);
            stats["count"]++;
            foreach (var key in stats.Keys.Where(k => k != "count").ToList()) stats[key] += (long?)view[key] ?? 0;
        }
        return new JsonResponse(new JsonObject { ["hypervisor_statistics"] = new JsonObject(stats.Select(s => KeyValuePair.Create(s.Key, (JsonNode?)s.Value))) });
    }

    static async Task<IResult> ZonesAsync(HttpContext http, CellDb db, NovaOptions options, bool detail, CancellationToken ct)
    {
        if (detail) http.RequireAdmin("os_compute_api:os-availability-zone:detail");
        var services = await db.Services.ToListAsync(ct);
        var zones = new JsonArray();
        foreach (var zone in services.Where(s => s.Binary == NovaOptions.Compute).GroupBy(s => s.AvailabilityZone))
        {
            var o = new JsonObject
            {
                ["zoneName"] = zone.Key,
                ["zoneState"] = new JsonObject { ["available"] = zone.Any(s => !s.Disabled && ServicesApi.IsUp(s, options)) },
                ["hosts"] = detail ? Hosts(zone, options) : null,
            };
            zones.Add(o);
        }
        if (detail && services.Any(s => s.Binary != NovaOptions.Compute))
            zones.Add(new JsonObject
            {
                ["zoneName"] = "internal",
                ["zoneState"] = new JsonObject { ["available"] = true },
                ["hosts"] = Hosts(services.Where(s => s.Binary != NovaOptions.Compute), options),
            });
        return new JsonResponse(new JsonObject { ["availabilityZoneInfo"] = zones });
    }

    static JsonObject Hosts(IEnumerable<ServiceRecord> services, NovaOptions options) =>
        new(services.GroupBy(s => s.Host).Select(h => KeyValuePair.Create(h.Key, (JsonNode?)new JsonObject(h.Select(s => KeyValuePair.Create(s.Binary,
            (JsonNode?)new JsonObject
            {
                ["available"] = !s.Disabled && ServicesApi.IsUp(s, options),
                ["active"] = !s.Disabled,
                ["updated_at"] = s.UpdatedAt.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", System.Globalization.CultureInfo.InvariantCulture),
            }))))));
}
