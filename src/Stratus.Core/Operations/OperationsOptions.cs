using System.Net;
using Stratus.Core.Config;

namespace Stratus.Core.Operations;

/// <summary>
/// What a service's own config file says about its operations endpoints. <c>[metrics]
/// allowed_source_ranges</c> lists the client networks that may read <c>/metrics</c> (loopback when unset;
/// the key is the one oslo.middleware's healthcheck uses for the same purpose). <c>/healthcheck</c> is open
/// to every client, as oslo.middleware's is; <c>[healthcheck] disable_by_file_path</c> takes a node out of a
/// load balancer's pool while the file exists, as oslo's <c>disable_by_file</c> backend does.
/// </summary>
public sealed record OperationsOptions
{
    public const string MetricsSection = "metrics", HealthcheckSection = "healthcheck";

    public static readonly IReadOnlyList<IPNetwork> Loopback = [new(IPAddress.Loopback, 8), new(IPAddress.IPv6Loopback, 128)];

    public static readonly OperationsOptions Default = new();

    public IReadOnlyList<IPNetwork> MetricsAllowedSourceRanges { get; init; } = Loopback;

    public string? DisableByFilePath { get; init; }

    public static OperationsOptions FromIni(IniFile ini)
    {
        var ranges = ini.HasSection(MetricsSection) ? ini.GetList(MetricsSection, "allowed_source_ranges") : [];
        return new OperationsOptions
        {
            MetricsAllowedSourceRanges = ranges.Count == 0 ? Loopback : [.. ranges.Select(r => ParseRange(ini, r))],
            DisableByFilePath = ini.HasSection(HealthcheckSection) ? ini.GetString(HealthcheckSection, "disable_by_file_path") : null,
        };
    }

    static IPNetwork ParseRange(IniFile ini, string range)
    {
        if (IPNetwork.TryParse(range, out var network)) return network;
        if (IPAddress.TryParse(range, out var address))
            return new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
        throw new ConfigException(ini.Path, MetricsSection, "allowed_source_ranges",
            $"'{range}' is not an address or a network (127.0.0.0/8, ::1/128, 192.0.2.7)");
    }

    /// <summary>Whether a client at <paramref name="address"/> may read the metrics (no address: no).</summary>
    public bool MayReadMetrics(IPAddress? address)
    {
        if (address is null) return false;
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        foreach (var range in MetricsAllowedSourceRanges)
            if (range.Contains(address)) return true;
        return false;
    }
}
