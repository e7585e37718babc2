namespace Stratus.Compute.Hosts;

/// <summary>
/// The availability zone of each compute host: the <c>availability_zone</c> of an aggregate it is in,
/// else <c>[DEFAULT] default_availability_zone</c>. What the AvailabilityZoneFilter, a server create
/// naming a zone, and <c>/os-availability-zone</c> all go by.
/// </summary>
public sealed class HostZones
{
    readonly Dictionary<string, string> _zones;
    readonly string _defaultZone;

    HostZones(Dictionary<string, string> zones, string defaultZone) => (_zones, _defaultZone) = (zones, defaultZone);

    public static async Task<HostZones> LoadAsync(ApiDb db, NovaOptions options, CancellationToken ct)
    {
        var zones = new Dictionary<string, string>();
        foreach (var a in await db.Aggregates.ToListAsync(ct))
            if (JsonNode.Parse(a.MetadataJson)?["availability_zone"] is JsonValue z)
                foreach (var h in JsonNode.Parse(a.HostsJson)!.AsArray()) zones.TryAdd((string)h!, (string)z!);
        return new HostZones(zones, options.DefaultAvailabilityZone);
    }

    public string Of(string host) => _zones.GetValueOrDefault(host, _defaultZone);
}
