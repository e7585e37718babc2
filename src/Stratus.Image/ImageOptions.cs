using Stratus.Core.Config;
using Stratus.Core.Operations;

namespace Stratus.Image;

/// <summary>glance-api.conf, with Glance's key names and defaults.</summary>
public sealed record ImageOptions
{
    public required string BindHost { get; init; }
    public int BindPort { get; init; } = 9292;
    public required string DatabaseConnection { get; init; }
    /// <summary>[glance_store] filesystem_store_datadir: where image data lives.</summary>
    public required string DataDir { get; init; }
    /// <summary>Where glance-direct imports are staged (Glance: node_staging_uri, file:///tmp/staging/).</summary>
    public required string StagingDir { get; init; }
    public IReadOnlyList<string> Stores { get; init; } = ["file", "http"];
    public string DefaultStore { get; init; } = "file";
    public long ImageSizeCap { get; init; } = 1_099_511_627_776;
    public int LimitParamDefault { get; init; } = 25;
    public int ApiLimitMax { get; init; } = 1000;
    public int ImagePropertyQuota { get; init; } = 128;
    public int ImageTagQuota { get; init; } = 128;
    public int ImageMemberQuota { get; init; } = 128;
    public IReadOnlyList<string> EnabledImportMethods { get; init; } = ["glance-direct", "web-download", "glance-download"];
    public IReadOnlyList<string> DiskFormats { get; init; } = ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"];
    public IReadOnlyList<string> ContainerFormats { get; init; } = ["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"];
    public string? PolicyFile { get; init; }
    public required KeystoneAuthtokenOptions Authtoken { get; init; }
    public required string ConfigPath { get; init; }
    /// <summary>[metrics] and [healthcheck]: who may read /metrics, and the file that takes the service out of its pool.</summary>
    public OperationsOptions Operations { get; init; } = OperationsOptions.Default;

    public static ImageOptions FromIni(IniFile ini)
    {
        var flavor = ini.GetString("paste_deploy", "flavor") ?? "keystone";
        if (flavor != "keystone")
            throw new ConfigException(ini.Path, "paste_deploy", "flavor", $"'{flavor}' is not supported: Stratus serves the image API with keystone auth only");
        var dataDir = ini.GetString("glance_store", "filesystem_store_datadir") ?? "/var/lib/glance/images/";
        var staging = ini.GetString("DEFAULT", "node_staging_uri") ?? "file:///tmp/staging/";
        if (!staging.StartsWith("file://", StringComparison.Ordinal))
            throw new ConfigException(ini.Path, "DEFAULT", "node_staging_uri", $"'{staging}' must be a file:// URI");
        var stores = ini.GetList("glance_store", "stores");
        var options = new ImageOptions
        {
            BindHost = ini.GetString("DEFAULT", "bind_host") ?? "0.0.0.0",
            BindPort = ini.GetInt("DEFAULT", "bind_port", 9292),
            DatabaseConnection = ini.GetRequired("database", "connection"),
            DataDir = dataDir,
            StagingDir = staging["file://".Length..],
            Stores = stores.Count == 0 ? ["file", "http"] : stores,
            DefaultStore = ini.GetString("glance_store", "default_store") ?? "file",
            ImageSizeCap = ini.GetInt64("DEFAULT", "image_size_cap", 1_099_511_627_776),
            LimitParamDefault = ini.GetInt("DEFAULT", "limit_param_default", 25),
            ApiLimitMax = ini.GetInt("DEFAULT", "api_limit_max", 1000),
            ImagePropertyQuota = ini.GetInt("DEFAULT", "image_property_quota", 128),
            ImageTagQuota = ini.GetInt("DEFAULT", "image_tag_quota", 128),
            ImageMemberQuota = ini.GetInt("DEFAULT", "image_member_quota", 128),
            EnabledImportMethods = ini.GetString("DEFAULT", "enabled_import_methods") is { } m
                ? m.Trim('[', ']').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(x => x.Trim('\'', '"')).ToList()
                : ["glance-direct", "web-download", "glance-download"],
            PolicyFile = PolicyOptions.FileOf(ini),
            Authtoken = KeystoneAuthtokenOptions.FromIni(ini),
            ConfigPath = ini.Path,
            Operations = OperationsOptions.FromIni(ini),
        };
        if (options.DefaultStore != "file" || !options.Stores.Contains("file"))
            throw new ConfigException(ini.Path, "glance_store", "default_store", $"'{options.DefaultStore}' is not supported: use the file store");
        if (options.ImageSizeCap < 0)
            throw new ConfigException(ini.Path, "DEFAULT", "image_size_cap", "must not be negative");
        return options;
    }
}
