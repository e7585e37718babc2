using System.Globalization;

namespace Stratus.Compute.Api;

/// <summary>
/// <c>/os-simple-tenant-usage</c> (servers' hours, vCPU-, memory- and disk-hours over a period) and
/// <c>/os-instance_usage_audit_log</c> (no audit task runs here: empty periods).
/// </summary>
public static class UsageApi
{
    public static RouteGroupBuilder MapUsage(this RouteGroupBuilder v21)
    {
        v21.MapGet("/os-simple-tenant-usage", (HttpContext http, CellDb db, CancellationToken ct) => UsageAsync(http, db, null, ct));
        v21.MapGet("/os-simple-tenant-usage/{project}", (string project, HttpContext http, CellDb db, CancellationToken ct) => UsageAsync(http, db, project, ct));
        v21.MapGet("/os-instance_usage_audit_log", (HttpContext http) => AuditLog(http, null))
            .RequirePolicy("os_compute_api:os-instance-usage-audit-log:list");
        v21.MapGet("/os-instance_usage_audit_log/{before}", (string before, HttpContext http) => AuditLog(http, before))
            .RequirePolicy("os_compute_api:os-instance-usage-audit-log:show");
        v21.MapGet("/os-migrations", Migrations).RequirePolicy("os_compute_api:os-migrations:index");
        return v21;
    }

    static string Time(DateTime t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture);

    static DateTime ParseTime(string name, string? text, DateTime fallback)
    {
        if (text is null) return fallback;
        foreach (var f in new[] { "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", "yyyy-MM-dd HH:mm:ss.FFFFFFF", "yyyy-MM-dd'T'HH:mm:ss'Z'" })
            if (DateTime.TryParseExact(text, f, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t)) return t;
        throw OpenStackError.BadRequest($"Invalid {name} time. The time format should be like this: %Y-%m-%dT%H:%M:%S");
    }

    static async Task<IResult> UsageAsync(HttpContext http, CellDb db, string? project, CancellationToken ct)
    {
        var caller = http.Caller();
        // GET /os-simple-tenant-usage/ names an empty project: Nova has no such route.
        if (project is null && http.Request.Path.Value!.EndsWith('/')) throw OpenStackError.NotFound("The resource could not be found.");
        if (project is null) http.Enforce("os_compute_api:os-simple-tenant-usage:list");
        else http.Enforce("os_compute_api:os-simple-tenant-usage:show", new Dictionary<string, string?> { ["project_id"] = project });
        var q = http.Request.Query;
        var now = DateTime.UtcNow;
        var end = ParseTime("end", q["end"].FirstOrDefault(), now);
        var start = ParseTime("start", q["start"].FirstOrDefault(), end.AddDays(-1));
        if (start > end) throw OpenStackError.BadRequest("Invalid start time. The start time cannot occur after the end time.");
        var detailed = project is not null || q["detailed"].FirstOrDefault() == "1";
        var instances = await db.Instances.Where(i => (project == null || i.ProjectId == project) && i.CreatedAt <= end
            && (i.TerminatedAt == null || i.TerminatedAt >= start)).OrderBy(i => i.CreatedAt).ToListAsync(ct);
        var usages = new JsonArray();
        foreach (var group in instances.GroupBy(i => i.ProjectId))
        {
            double hours = 0, vcpuHours = 0, memHours = 0, diskHours = 0;
            var servers = new JsonArray();
            foreach (var i in group)
            {
                var f = InstanceFlavor.Parse(i.FlavorJson);
                var from = i.LaunchedAt ?? i.CreatedAt;
                var until = i.TerminatedAt is { } t && t < end ? t : end;
                var h = Math.Max(0, ((until < end ? until : end) - (from > start ? from : start)).TotalHours);
                hours += h;
                vcpuHours += h * f.Vcpus;
                memHours += h * f.MemoryMb;
                diskHours += h * f.DiskGb;
                servers.Add(new JsonObject
                {
                    ["instance_id"] = i.Uuid, ["name"] = i.DisplayName, ["hours"] = h, ["memory_mb"] = f.MemoryMb,
                    ["local_gb"] = f.DiskGb, ["vcpus"] = f.Vcpus, ["tenant_id"] = i.ProjectId,
                    ["flavor"] = f.Name, ["started_at"] = Time(from), ["ended_at"] = i.TerminatedAt is { } e ? Time(e) : null,
                    ["state"] = i.Deleted ? "terminated" : i.VmState, ["uptime"] = (long)((i.TerminatedAt ?? now) - from).TotalSeconds,
                });
            }
            var usage = new JsonObject
            {
                ["tenant_id"] = group.Key, ["start"] = Time(start), ["stop"] = Time(end), ["total_hours"] = hours,
                ["total_vcpus_usage"] = vcpuHours, ["total_memory_mb_usage"] = memHours, ["total_local_gb_usage"] = diskHours,
            };
            if (detailed) usage["server_usages"] = servers;
            usages.Add(usage);
        }
        if (project is not null)
            return new JsonResponse(new JsonObject { ["tenant_usage"] = usages.Count > 0 ? usages[0]!.DeepClone() : new JsonObject() });
        return new JsonResponse(new JsonObject { ["tenant_usages"] = usages });
    }

    /// <summary><c>/os-migrations</c> (admin): resizes, with uuids from 2.59 and the users from 2.80.</summary>
    static async Task<IResult> Migrations(HttpContext http, CellDb db, CancellationToken ct)
    {
        var v = Microversion.Of(http);
        var q = http.Request.Query;
        IQueryable<Migration> query = db.Migrations;
        if (q["instance_uuid"].FirstOrDefault() is { } instance) query = query.Where(m => m.InstanceUuid == instance);
        if (q["status"].FirstOrDefault() is { } status) query = query.Where(m => m.Status == status);
        if (q["migration_type"].FirstOrDefault() is { } type) query = query.Where(m => m.MigrationType == type);
        var list = await query.OrderByDescending(m => m.Id).ToListAsync(ct);
        var items = new JsonArray();
        foreach (var m in list)
        {
            var o = new JsonObject
            {
                ["id"] = m.Id, ["instance_uuid"] = m.InstanceUuid, ["status"] = m.Status, ["source_compute"] = m.SourceCompute, ["source_node"] = m.SourceNode,
                ["dest_compute"] = m.DestCompute, ["dest_node"] = m.DestNode, ["dest_host"] = m.DestHost, ["old_instance_type_id"] = m.OldFlavorId,
                ["new_instance_type_id"] = m.NewFlavorId, ["created_at"] = Time(m.CreatedAt), ["updated_at"] = m.UpdatedAt is { } u ? Time(u) : null,
            };
            if (v.AtLeast(23)) o["migration_type"] = m.MigrationType;
            if (v.AtLeast(59)) o["uuid"] = m.Uuid;
            if (v.AtLeast(80))
            {
                o["user_id"] = m.UserId;
                o["project_id"] = m.ProjectId;
            }
            items.Add(o);
        }
        return new JsonResponse(new JsonObject { ["migrations"] = items });
    }

    static IResult AuditLog(HttpContext http, string? before)
    {
        var end = before is null ? DateTime.UtcNow : ParseAudit(before);
        var log = new JsonObject
        {
            ["hosts_not_run"] = new JsonArray(), ["log"] = new JsonObject(), ["num_hosts"] = 0, ["num_hosts_done"] = 0, ["num_hosts_not_run"] = 0,
            ["num_hosts_running"] = 0, ["overall_status"] = "0 of 0 hosts done. 0 errors.", ["period_beginning"] = Time(end.AddMonths(-1)),
            ["period_ending"] = Time(end), ["total_errors"] = 0, ["total_instances"] = 0,
        };
        return new JsonResponse(new JsonObject { [before is null ? "instance_usage_audit_logs" : "instance_usage_audit_log"] = log });
    }

    static DateTime ParseAudit(string text)
    {
        foreach (var f in new[] { "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFFF", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF" })
            if (DateTime.TryParseExact(text, f, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t)) return t;
        throw OpenStackError.BadRequest($"Invalid timestamp for date {text}");
    }
}
