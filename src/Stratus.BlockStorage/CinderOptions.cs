using Stratus.Core.Config;
using Stratus.Core.Operations;

namespace Stratus.BlockStorage;

/// <summary>What Cinder Zed reads from cinder.conf: the API's address, the region's database and bus, the backends, the image service.</summary>
public sealed record CinderOptions
{
    public const string Api = "cinder-api", Scheduler = "cinder-scheduler", Volume = "cinder-volume", Backup = "cinder-backup";
    /// <summary>The one backup driver: backups as files under <c>backup_posix_path</c>.</summary>
    public const string PosixBackupDriver = "cinder.backup.drivers.posix.PosixBackupDriver";

    public required string ConfigPath { get; init; }
    /// <summary>[metrics] and [healthcheck]: who may read /metrics, and the file that takes the service out of its pool.</summary>
    public OperationsOptions Operations { get; init; } = OperationsOptions.Default;
    /// <summary>[DEFAULT] host: the services' host name in <c>volume service list</c>; cinder-volume adds <c>@backend</c>.</summary>
    public required string Host { get; init; }
    public required string MyIp { get; init; }
    public required string ListenAddress { get; init; }
    public int ListenPort { get; init; } = 8776;
    public required string TransportUrl { get; init; }
    public required string DatabaseConnection { get; init; }
    /// <summary>[DEFAULT] enabled_backends: the sections that configure one cinder-volume each.</summary>
    public IReadOnlyList<BackendOptions> Backends { get; init; } = [];
    /// <summary>[DEFAULT] default_volume_type: the type of a volume created without one (Zed: __DEFAULT__, made by db sync).</summary>
    public string DefaultVolumeType { get; init; } = DefaultTypeName;
    /// <summary>[DEFAULT] default_group_type: the group type <c>/group_types/default</c> shows (Cinder has none by default).</summary>
    public string? DefaultGroupType { get; init; }
    /// <summary>[DEFAULT] glance_api_servers: the image service to read images from; when unset, the image endpoint of the catalog.</summary>
    public IReadOnlyList<string> GlanceApiServers { get; init; } = [];
    /// <summary>[DEFAULT] enable_force_upload: whether <c>force</c> lets an in-use volume be uploaded to an image.</summary>
    public bool EnableForceUpload { get; init; }
    public string StorageAvailabilityZone { get; init; } = "nova";
    public string DefaultAvailabilityZone { get; init; } = "nova";
    public TimeSpan ReportInterval { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan ServiceDownTime { get; init; } = TimeSpan.FromSeconds(60);
    public int OsapiMaxLimit { get; init; } = 1000;
    public required KeystoneAuthtokenOptions Authtoken { get; init; }
    /// <summary>[nova]: the user and region block storage calls compute with (volume extend events).</summary>
    public KeystoneAuthtokenOptions? Nova { get; init; }
    public string? PolicyFile { get; init; }
    public string LockPath { get; init; } = "/var/lib/cinder/tmp";
    public QuotaDefaults Quotas { get; init; } = new();
    /// <summary>[DEFAULT] backup_driver: cinder-backup runs only when it names <see cref="PosixBackupDriver"/>.</summary>
    public string? BackupDriver { get; init; }
    /// <summary>[DEFAULT] backup_posix_path: the directory the posix driver keeps backups in.</summary>
    public string BackupPosixPath { get; init; } = "/var/lib/cinder/backup";
    /// <summary>[stratus] services: which of cinder-api, cinder-scheduler, cinder-volume and cinder-backup run on this node.</summary>
    public IReadOnlyList<string> Services { get; init; } = [Api, Scheduler, Volume, Backup];

    public const string DefaultTypeName = "__DEFAULT__";

    public bool Runs(string service) => Services.Contains(service) && (service != Backup || BackupDriver is not null);

    public static CinderOptions FromIni(IniFile ini)
    {
        var strategy = ini.GetString("DEFAULT", "auth_strategy") ?? "keystone";
        if (strategy != "keystone")
            throw new ConfigException(ini.Path, "DEFAULT", "auth_strategy", $"'{strategy}' is not supported: the block storage service authenticates with keystone");
        var services = ini.GetList("stratus", "services");
        string[] known = [Api, Scheduler, Volume, Backup];
        foreach (var s in services)
            if (!known.Contains(s))
                throw new ConfigException(ini.Path, "stratus", "services", $"'{s}' is not one of {string.Join(", ", known)}");
        var myIp = ini.GetString("DEFAULT", "my_ip") ?? "127.0.0.1";
        var backends = ini.GetList("DEFAULT", "enabled_backends").Select(b => BackendOptions.FromIni(ini, b)).ToList();
        // Cinder's default is Swift, which no region here has: without the key there is no cinder-backup.
        var backupDriver = ini.GetString("DEFAULT", "backup_driver");
        if (backupDriver is not null && backupDriver != PosixBackupDriver)
            throw new ConfigException(ini.Path, "DEFAULT", "backup_driver", $"'{backupDriver}' is not a backup driver of this service: use {PosixBackupDriver}");
        return new CinderOptions
        {
            ConfigPath = ini.Path,
            Operations = OperationsOptions.FromIni(ini),
            Host = ini.GetString("DEFAULT", "host") ?? Environment.MachineName,
            MyIp = myIp,
            ListenAddress = ini.GetString("DEFAULT", "osapi_volume_listen") ?? myIp,
            ListenPort = ini.GetInt("DEFAULT", "osapi_volume_listen_port", 8776),
            TransportUrl = ini.GetRequired("DEFAULT", "transport_url"),
            DatabaseConnection = ini.GetRequired("database", "connection"),
            Backends = backends,
            DefaultVolumeType = ini.GetString("DEFAULT", "default_volume_type") ?? DefaultTypeName,
            DefaultGroupType = ini.GetString("DEFAULT", "default_group_type"),
            GlanceApiServers = ini.GetList("DEFAULT", "glance_api_servers"),
            EnableForceUpload = ini.GetBool("DEFAULT", "enable_force_upload", false),
            StorageAvailabilityZone = ini.GetString("DEFAULT", "storage_availability_zone") ?? "nova",
            DefaultAvailabilityZone = ini.GetString("DEFAULT", "default_availability_zone") ?? ini.GetString("DEFAULT", "storage_availability_zone") ?? "nova",
            ReportInterval = TimeSpan.FromSeconds(Positive(ini, "report_interval", 10)),
            ServiceDownTime = TimeSpan.FromSeconds(Positive(ini, "service_down_time", 60)),
            OsapiMaxLimit = Positive(ini, "osapi_max_limit", 1000),
            Authtoken = KeystoneAuthtokenOptions.FromIni(ini),
            Nova = ini.HasSection("nova") ? KeystoneAuthtokenOptions.FromSection(ini, "nova") : null,
            PolicyFile = PolicyOptions.FileOf(ini),
            LockPath = ini.GetString("oslo_concurrency", "lock_path") ?? "/var/lib/cinder/tmp",
            Quotas = QuotaDefaults.FromIni(ini),
            BackupDriver = backupDriver,
            BackupPosixPath = ini.GetString("DEFAULT", "backup_posix_path") ?? "/var/lib/cinder/backup",
            Services = services.Count == 0 ? known : services,
        };
    }

    static int Positive(IniFile ini, string key, int fallback)
    {
        var v = ini.GetInt("DEFAULT", key, fallback);
        return v > 0 ? v : throw new ConfigException(ini.Path, "DEFAULT", key, $"{v} is not a positive number");
    }
}

/// <summary>One section of <c>enabled_backends</c>: a cinder-volume service (<c>host@section</c>) and its driver.</summary>
public sealed record BackendOptions
{
    /// <summary>The driver of volumes as files under a directory; Cinder has none, so it is Stratus's own.</summary>
    public const string FileDriver = "cinder.volume.drivers.stratus.FileVolumeDriver";
    public const string LvmDriver = "cinder.volume.drivers.lvm.LVMVolumeDriver";

    public required string Section { get; init; }
    public required string Driver { get; init; }
    /// <summary>volume_backend_name: what a volume type's extra spec of that name selects.</summary>
    public required string BackendName { get; init; }
    /// <summary>file_volumes_dir: where the file backend keeps one file per volume and snapshot.</summary>
    public string VolumesDir { get; init; } = "/var/lib/cinder/volumes";
    /// <summary>file_volume_format: raw or qcow2.</summary>
    public string Format { get; init; } = "raw";
    /// <summary>file_capacity_gb: the capacity the backend offers the scheduler.</summary>
    public long CapacityGb { get; init; } = 1000;

    public static BackendOptions FromIni(IniFile ini, string section)
    {
        if (!ini.HasSection(section))
            throw new ConfigException(ini.Path, "DEFAULT", "enabled_backends", $"the backend '{section}' has no section [{section}]");
        var driver = ini.GetRequired(section, "volume_driver");
        if (driver == LvmDriver)
            throw new ConfigException(ini.Path, section, "volume_driver",
                "the LVM driver is not in Stratus yet (its test hosts have no device-mapper to build and check it on); use " + FileDriver);
        if (driver != FileDriver)
            throw new ConfigException(ini.Path, section, "volume_driver", $"'{driver}' is not a driver of this service: use {FileDriver}");
        var format = ini.GetString(section, "file_volume_format") ?? "raw";
        if (format is not ("raw" or "qcow2"))
            throw new ConfigException(ini.Path, section, "file_volume_format", $"'{format}' is not raw or qcow2");
        return new BackendOptions
        {
            Section = section,
            Driver = driver,
            BackendName = ini.GetString(section, "volume_backend_name") ?? section,
            VolumesDir = ini.GetString(section, "file_volumes_dir") ?? "/var/lib/cinder/volumes",
            Format = format,
            CapacityGb = ini.GetInt64(section, "file_capacity_gb", 1000),
        };
    }
}

/// <summary>[DEFAULT] quota_*: Cinder's per-project defaults (-1 is unlimited).</summary>
public sealed record QuotaDefaults
{
    public static readonly string[] Resources = ["volumes", "snapshots", "gigabytes", "backups", "backup_gigabytes", "groups", "per_volume_gigabytes"];

    public IReadOnlyDictionary<string, int> Defaults { get; init; } = Cinder();

    static Dictionary<string, int> Cinder() => new(StringComparer.Ordinal)
    {
        ["volumes"] = 10,
        ["snapshots"] = 10,
        ["gigabytes"] = 1000,
        ["backups"] = 10,
        ["backup_gigabytes"] = 1000,
        ["groups"] = 10,
        ["per_volume_gigabytes"] = -1,
    };

    public static QuotaDefaults FromIni(IniFile ini)
    {
        var d = Cinder();
        foreach (var key in d.Keys.ToList()) d[key] = ini.GetInt("DEFAULT", "quota_" + key, d[key]);
        return new QuotaDefaults { Defaults = d };
    }
}
