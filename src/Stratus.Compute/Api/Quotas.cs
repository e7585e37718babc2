namespace Stratus.Compute.Api;

/// <summary>
/// Nova's legacy quotas (DbQuotaDriver): defaults from the "default" quota class, a project's own
/// limits over them, usage counted from the servers, key pairs and server groups there are.
/// </summary>
static class Quotas
{
    /// <summary>Nova's resources in its order, with nova.conf's [quota] defaults; the nova-network ones are -1, kept for the API's shape.</summary>
    public static readonly (string Name, int Default)[] Resources =
    [
        ("instances", 10), ("cores", 20), ("ram", 51200), ("metadata_items", 128), ("injected_files", 5),
        ("injected_file_content_bytes", 10240), ("injected_file_path_bytes", 255), ("key_pairs", 100), ("server_groups", 10),
        ("server_group_members", 10), ("fixed_ips", -1), ("floating_ips", -1), ("security_groups", -1), ("security_group_rules", -1),
    ];

    static readonly string[] NetworkQuotas = ["fixed_ips", "floating_ips", "security_group_rules", "security_groups"];
    static readonly string[] FileQuotas = ["injected_files", "injected_file_content_bytes", "injected_file_path_bytes"];

    public static bool Known(string resource) => Resources.Any(r => r.Name == resource);

    /// <summary>What a quota set shows at this microversion: the network quotas go at 2.36 (2.50 for classes), the file quotas at 2.57.</summary>
    public static bool Shown(string resource, ApiVersionRequest v, int networkGone = 36) =>
        !(v.AtLeast(networkGone) && NetworkQuotas.Contains(resource)) && !(v.AtLeast(57) && FileQuotas.Contains(resource));

    public static async Task<Dictionary<string, int>> ClassAsync(ApiDb db, string quotaClass, CancellationToken ct)
    {
        var limits = Resources.ToDictionary(r => r.Name, r => r.Default);
        foreach (var q in await db.QuotaClasses.Where(q => q.ClassName == "default" || q.ClassName == quotaClass).ToListAsync(ct))
            if (limits.ContainsKey(q.Resource) && (q.ClassName == quotaClass || quotaClass == "default")) limits[q.Resource] = q.HardLimit;
        return limits;
    }

    public static async Task<Dictionary<string, int>> LimitsAsync(ApiDb db, string projectId, CancellationToken ct)
    {
        var limits = await ClassAsync(db, "default", ct);
        foreach (var q in await db.Quotas.Where(q => q.ProjectId == projectId).ToListAsync(ct)) limits[q.Resource] = q.HardLimit;
        return limits;
    }

    public static async Task<Dictionary<string, int>> UsageAsync(CellDb db, ApiDb apiDb, string projectId, string? userId, CancellationToken ct)
    {
        var flavors = await db.Instances.Where(i => i.ProjectId == projectId && !i.Deleted).Select(i => i.FlavorJson).ToListAsync(ct);
        var parsed = flavors.Select(InstanceFlavor.Parse).ToList();
        return new Dictionary<string, int>
        {
            ["instances"] = parsed.Count,
            ["cores"] = parsed.Sum(f => f.Vcpus),
            ["ram"] = parsed.Sum(f => f.MemoryMb),
            ["key_pairs"] = userId is null ? 0 : await apiDb.KeyPairs.CountAsync(k => k.UserId == userId, ct),
            ["server_groups"] = await apiDb.ServerGroups.CountAsync(g => g.ProjectId == projectId, ct),
        };
    }

    /// <summary>403 naming the resource, as Nova answers a server create over quota (-1 means unlimited).</summary>
    public static Task CheckAsync(CellDb db, ApiDb apiDb, string projectId, int count, Flavor flavor, CancellationToken ct) =>
        CheckDeltasAsync(db, apiDb, projectId, count, count * flavor.Vcpus, count * flavor.MemoryMb, ct);

    public static async Task CheckDeltasAsync(CellDb db, ApiDb apiDb, string projectId, int instances, int cores, int ram, CancellationToken ct)
    {
        var limits = await LimitsAsync(apiDb, projectId, ct);
        var used = await UsageAsync(db, apiDb, projectId, null, ct);
        var asked = new[] { ("instances", instances), ("cores", cores), ("ram", ram) }.Where(a => a.Item2 > 0).ToArray();
        var over = asked.Where(a => limits[a.Item1] >= 0 && used[a.Item1] + a.Item2 > limits[a.Item1]).ToList();
        if (over.Count == 0) return;
        var names = string.Join(", ", over.Select(o => o.Item1));
        throw OpenStackError.Forbidden($"Quota exceeded for {names}: Requested {string.Join(", ", over.Select(o => o.Item2))}, " +
            $"but already used {string.Join(", ", over.Select(o => used[o.Item1]))} of {string.Join(", ", over.Select(o => limits[o.Item1]))} {names}");
    }

    /// <summary>Nova's quota value: an integer or a string of digits, from -1 (unlimited) to 2^31-1.</summary>
    public static int Parse(string key, JsonNode? value)
    {
        var text = value is JsonValue v && v.GetValueKind() is System.Text.Json.JsonValueKind.Number or System.Text.Json.JsonValueKind.String ? v.ToString() : null;
        if (text is null || !System.Text.RegularExpressions.Regex.IsMatch(text, "^-?[0-9]+$") || !int.TryParse(text, out var n) || n < -1)
            throw OpenStackError.BadRequest($"Invalid input for field/attribute {key}. Value: {value?.ToJsonString() ?? "None"}. " +
                $"{value?.ToJsonString() ?? "None"} is not of type 'integer', 'string' or is less than the minimum of -1");
        return n;
    }
}
