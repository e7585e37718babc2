using Stratus.Core.Config;
using Stratus.Core.Operations;
using Stratus.Core.Policy;

namespace Stratus.Placement;

/// <summary>placement.conf: Placement's sections and keys, and where it listens (Apache's job in OpenStack).</summary>
public sealed record PlacementOptions
{
    public required string ConfigPath { get; init; }
    /// <summary>[metrics] and [healthcheck]: who may read /metrics, and the file that takes the service out of its pool.</summary>
    public OperationsOptions Operations { get; init; } = OperationsOptions.Default;
    public required string BindHost { get; init; }
    public int BindPort { get; init; } = 8778;
    public required string DatabaseConnection { get; init; }
    public required KeystoneAuthtokenOptions Authtoken { get; init; }
    /// <summary>[oslo_policy] policy_file, relative to the config file's directory.</summary>
    public string? PolicyFile { get; init; }

    public static PlacementOptions FromIni(IniFile ini)
    {
        var strategy = ini.GetString("api", "auth_strategy") ?? "keystone";
        if (strategy != "keystone")
            throw new ConfigException(ini.Path, "api", "auth_strategy", $"'{strategy}' is not supported: placement authenticates with keystone");
        return new PlacementOptions
        {
            ConfigPath = ini.Path,
            Operations = OperationsOptions.FromIni(ini),
            BindHost = ini.GetRequired("DEFAULT", "bind_host"),
            BindPort = ini.GetInt("DEFAULT", "bind_port", 8778),
            DatabaseConnection = ini.GetRequired("placement_database", "connection"),
            Authtoken = KeystoneAuthtokenOptions.FromIni(ini),
            PolicyFile = PolicyOptions.FileOf(ini),
        };
    }
}
