namespace Stratus.Compute.Api;

/// <summary>Nova's quota defaults and usage counting (instances, cores, ram, key pairs, metadata items).</summary>
static class Quotas
{
    public static readonly Dictionary<string, int> Defaults = new()
    {
        ["instances"] = 10, ["cores"] = 20, ["ram"] = 51200, ["key_pairs"] = 100, ["metadata_items"] = 128,
        ["server_groups"] = 10, ["server_group_members"] = 10, ["injected_files"] = 5, ["injected_file_content_bytes"] = 10240,
        ["injected_file_path_bytes"] = 255,
    };

    public static async Task<Dictionary<string, int>> LimitsAsync(ApiDb db, string projectId, CancellationToken ct)
    {
        var limits = new Dictionary<string, int>(Defaults);
        foreach (var q in await db.Quotas.Where(q => q.ProjectId == projectId).ToListAsync(ct)) limits[q.Resource] = q.HardLimit;
        return limits;
    }

    public static async Task<(int Instances, int Cores, int Ram)> UsageAsync(CellDb db, string projectId, CancellationToken ct)
    {
        var flavors = await db.Instances.Where(i => i.ProjectId == projectId && !i.Deleted).Select(i => i.FlavorJson).ToListAsync(ct);
        var parsed = flavors.Select(f => JsonNode.Parse(f)!).ToList();
        return (parsed.Count, parsed.Sum(f => (int)f["vcpus"]!), parsed.Sum(f => (int)f["ram"]!));
    }

    /// <summary>403 naming the resource, as Nova answers a server create over quota (-1 means unlimited).</summary>
    public static async Task CheckAsync(CellDb db, ApiDb apiDb, string projectId, int count, Flavor flavor, CancellationToken ct)
    {
        var limits = await LimitsAsync(apiDb, projectId, ct);
        var (instances, cores, ram) = await UsageAsync(db, projectId, ct);
        foreach (var (resource, used, asked) in new[] { ("instances", instances, count), ("cores", cores, count * flavor.Vcpus), ("ram", ram, count * flavor.MemoryMb) })
        {
            var limit = limits[resource];
            if (limit >= 0 && used + asked > limit)
                throw OpenStackError.Forbidden($"Quota exceeded for {resource}: Requested {asked}, but already used {used} of {limit} {resource}");
        }
    }
}
