using Stratus.Core.Auth;
using Stratus.Core.Config;
using Stratus.Core.Operations;

namespace Stratus.Compute;

/// <summary>nova.conf, with Nova's sections, key names and defaults.</summary>
public sealed record NovaOptions
{
    public const string Api = "nova-api", Scheduler = "nova-scheduler", Conductor = "nova-conductor", Compute = "nova-compute";

    public required string ConfigPath { get; init; }
    /// <summary>[metrics] and [healthcheck]: who may read /metrics, and the file that takes the service out of its pool.</summary>
    public OperationsOptions Operations { get; init; } = OperationsOptions.Default;
    /// <summary><c>[DEFAULT] host</c>: this node's name in service lists and as the RPC server of nova-compute.</summary>
    public required string Host { get; init; }
    public required string MyIp { get; init; }
    public required string TransportUrl { get; init; }
    /// <summary>Which of Nova's services this node runs (<c>[stratus] services</c>; the seed's controller runs the first three).</summary>
    public IReadOnlyList<string> Services { get; init; } = [Api, Scheduler, Conductor, Compute];
    public string ListenAddress { get; init; } = "0.0.0.0";
    public int ListenPort { get; init; } = 8774;
    /// <summary>
    /// <c>[api_database]</c> and <c>[database]</c> <c>connection</c>: required where nova-api, the scheduler or the conductor
    /// runs; empty on a compute node, which does not reach the databases (the install guide's compute nova.conf has none).
    /// </summary>
    public required string ApiDatabase { get; init; }
    public required string Database { get; init; }
    public required KeystoneAuthtokenOptions Authtoken { get; init; }
    /// <summary><c>[placement]</c>: the service user and region nova uses to reach placement.</summary>
    public KeystoneAuthtokenOptions? Placement { get; init; }
    public string? PlacementError { get; init; }
    /// <summary><c>[glance] api_servers</c>; empty means: the image endpoint of the catalog.</summary>
    public IReadOnlyList<string> GlanceApiServers { get; init; } = [];
    /// <summary><c>[cinder] os_region_name</c>: the region whose block storage servers attach; unset, the catalog's first (as keystoneauth).</summary>
    public string? CinderRegion { get; init; }
    /// <summary><c>[cinder] catalog_info</c>: service_type:service_name:interface of the block storage endpoint.</summary>
    public string CinderCatalogInfo { get; init; } = "volumev3::publicURL";
    /// <summary><c>[cinder] endpoint_template</c>: the endpoint itself (with %(project_id)s), instead of the catalog's.</summary>
    public string? CinderEndpointTemplate { get; init; }
    public string? NeutronRegion { get; init; }
    /// <summary><c>[neutron]</c>: the service user nova creates and binds ports with; null (with <see cref="NeutronError"/>) when the section cannot log in.</summary>
    public KeystoneAuthtokenOptions? Neutron { get; init; }
    public string? NeutronError { get; init; }
    /// <summary><c>[neutron] url</c> (deprecated in Nova, still in the seed): the network API, else the catalog's.</summary>
    public string? NeutronUrl { get; init; }
    /// <summary><c>[neutron] default_floating_pool</c>: the external network (name or id) os-floating-ips allocates from when no pool is named.</summary>
    public string DefaultFloatingPool { get; init; } = "nova";
    /// <summary><c>[DEFAULT] enabled_apis</c> has metadata: Nova's metadata API on <c>metadata_listen:metadata_listen_port</c> (8775) where nova-api runs.</summary>
    public bool MetadataApi { get; init; }
    public string MetadataListen { get; init; } = "0.0.0.0";
    public int MetadataListenPort { get; init; } = 8775;
    /// <summary><c>[neutron] service_metadata_proxy</c>: requests come through the network service's proxy, signed with <see cref="MetadataProxySharedSecret"/>.</summary>
    public bool ServiceMetadataProxy { get; init; }
    public string MetadataProxySharedSecret { get; init; } = "";
    /// <summary><c>[DEFAULT] compute_driver</c>: libvirt.LibvirtDriver (our QEMU driver) or fake.FakeDriver.</summary>
    public string ComputeDriver { get; init; } = "libvirt.LibvirtDriver";
    /// <summary><c>[stratus] fake_spawn_seconds</c>: how long the fake driver takes to spawn, to model real builds in fault and scale tests.</summary>
    public TimeSpan FakeSpawnTime { get; init; }
    /// <summary><c>[libvirt] virt_type</c>: kvm, qemu, or unset to probe.</summary>
    public string? VirtType { get; init; }
    public required string InstancesPath { get; init; }
    public string DefaultAvailabilityZone { get; init; } = "nova";
    /// <summary><c>[DEFAULT] default_schedule_zone</c>: the zone of a create that names none; unset, the scheduler may pick any.</summary>
    public string? DefaultScheduleZone { get; init; }
    /// <summary><c>[DEFAULT] service_down_time</c>: a service whose last heartbeat is older is "down".</summary>
    public TimeSpan ServiceDownTime { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary><c>[DEFAULT] report_interval</c>: how often services heartbeat.</summary>
    public TimeSpan ReportInterval { get; init; } = TimeSpan.FromSeconds(10);
    public int MaxBuildAttempts { get; init; } = 3;
    /// <summary><c>[DEFAULT] block_device_allocate_retries</c> and <c>_interval</c>: how long a build waits for the volumes it asked block storage to make.</summary>
    public int BlockDeviceAllocateRetries { get; init; } = 60;
    public TimeSpan BlockDeviceAllocateRetriesInterval { get; init; } = TimeSpan.FromSeconds(3);
    /// <summary><c>[DEFAULT] vif_plugging_timeout</c>: how long a build waits for network-vif-plugged (0: not at all).</summary>
    public TimeSpan VifPluggingTimeout { get; init; } = TimeSpan.FromSeconds(300);
    /// <summary><c>[DEFAULT] vif_plugging_is_fatal</c>: a build whose NICs were not reported plugged in time fails.</summary>
    public bool VifPluggingIsFatal { get; init; } = true;
    /// <summary><c>[DEFAULT] force_config_drive</c>: every instance gets a config drive; <c>mkisofs_cmd</c> makes it.</summary>
    public bool ForceConfigDrive { get; init; }
    public string MkisofsCmd { get; init; } = "genisoimage";
    public string? PolicyFile { get; init; }

    public bool Runs(string service) => Services.Contains(service);

    /// <summary>Whether a service of this node reads the databases: all but nova-compute do.</summary>
    public bool UsesDatabases => ReadDatabases(Services);

    /// <summary>Whether the services a nova.conf runs (<c>[stratus] services</c>, all by default) read the databases.</summary>
    public static bool UsesDatabasesIn(IniFile ini) => ini.GetList("stratus", "services") is var services && (services.Count == 0 || ReadDatabases(services));

    static bool ReadDatabases(IEnumerable<string> services) => services.Any(s => s is Api or Scheduler or Conductor);

    public static NovaOptions FromIni(IniFile ini)
    {
        var stateDir = ini.GetString("DEFAULT", "state_path") ?? "/var/lib/nova";
        var services = ini.GetList("stratus", "services");
        foreach (var s in services)
            if (s is not (Api or Scheduler or Conductor or Compute))
                throw new ConfigException(ini.Path, "stratus", "services", $"'{s}' is not one of {Api}, {Scheduler}, {Conductor}, {Compute}");
        var usesDatabases = UsesDatabasesIn(ini);
        // A compute agent that cannot reach placement must say which keys to fix (seed section 6), not fail to start.
        KeystoneAuthtokenOptions? placement = null;
        string? placementError = null;
        try
        {
            placement = KeystoneAuthtokenOptions.FromSection(ini, "placement");
        }
        catch (ConfigException e)
        {
            placementError = e.Message;
        }
        KeystoneAuthtokenOptions? neutron = null;
        string? neutronError = null;
        try
        {
            neutron = KeystoneAuthtokenOptions.FromSection(ini, "neutron");
        }
        catch (ConfigException e)
        {
            neutronError = e.Message;
        }
        var apis = ini.GetList("DEFAULT", "enabled_apis");
        var options = new NovaOptions
        {
            ConfigPath = ini.Path,
            Operations = OperationsOptions.FromIni(ini),
            Host = ini.GetString("DEFAULT", "host") ?? Environment.MachineName,
            MyIp = ini.GetRequired("DEFAULT", "my_ip"),
            TransportUrl = ini.GetRequired("DEFAULT", "transport_url"),
            Services = services.Count == 0 ? [Api, Scheduler, Conductor, Compute] : services,
            ListenAddress = ini.GetString("DEFAULT", "osapi_compute_listen") ?? ini.GetRequired("DEFAULT", "my_ip"),
            ListenPort = ini.GetInt("DEFAULT", "osapi_compute_listen_port", 8774),
            ApiDatabase = usesDatabases ? ini.GetRequired("api_database", "connection") : ini.GetString("api_database", "connection") ?? "",
            Database = usesDatabases ? ini.GetRequired("database", "connection") : ini.GetString("database", "connection") ?? "",
            Authtoken = KeystoneAuthtokenOptions.FromIni(ini),
            Placement = placement,
            PlacementError = placementError,
            GlanceApiServers = ini.GetList("glance", "api_servers"),
            CinderRegion = ini.GetString("cinder", "os_region_name"),
            CinderCatalogInfo = ini.GetString("cinder", "catalog_info") ?? "volumev3::publicURL",
            CinderEndpointTemplate = ini.GetString("cinder", "endpoint_template"),
            NeutronRegion = ini.GetString("neutron", "region_name"),
            Neutron = neutron,
            NeutronError = neutronError,
            NeutronUrl = ini.GetString("neutron", "url"),
            DefaultFloatingPool = ini.GetString("neutron", "default_floating_pool") ?? "nova",
            MetadataApi = apis.Contains("metadata"),
            MetadataListen = ini.GetString("DEFAULT", "metadata_listen") ?? "0.0.0.0",
            MetadataListenPort = ini.GetInt("DEFAULT", "metadata_listen_port", 8775),
            ServiceMetadataProxy = ini.GetBool("neutron", "service_metadata_proxy", false),
            MetadataProxySharedSecret = ini.GetString("neutron", "metadata_proxy_shared_secret") ?? "",
            ComputeDriver = ini.GetString("DEFAULT", "compute_driver") ?? "libvirt.LibvirtDriver",
            FakeSpawnTime = TimeSpan.FromSeconds(ini.GetInt("stratus", "fake_spawn_seconds", 0)),
            VirtType = ini.GetString("libvirt", "virt_type"),
            InstancesPath = ini.GetString("DEFAULT", "instances_path") ?? Path.Combine(stateDir, "instances"),
            DefaultAvailabilityZone = ini.GetString("DEFAULT", "default_availability_zone") ?? "nova",
            DefaultScheduleZone = ini.GetString("DEFAULT", "default_schedule_zone"),
            ServiceDownTime = TimeSpan.FromSeconds(ini.GetInt("DEFAULT", "service_down_time", 60)),
            ReportInterval = TimeSpan.FromSeconds(ini.GetInt("DEFAULT", "report_interval", 10)),
            MaxBuildAttempts = ini.GetInt("scheduler", "max_attempts", 3),
            BlockDeviceAllocateRetries = ini.GetInt("DEFAULT", "block_device_allocate_retries", 60),
            BlockDeviceAllocateRetriesInterval = TimeSpan.FromSeconds(ini.GetInt("DEFAULT", "block_device_allocate_retries_interval", 3)),
            VifPluggingTimeout = TimeSpan.FromSeconds(ini.GetInt("DEFAULT", "vif_plugging_timeout", 300)),
            VifPluggingIsFatal = ini.GetBool("DEFAULT", "vif_plugging_is_fatal", true),
            ForceConfigDrive = ini.GetBool("DEFAULT", "force_config_drive", false),
            MkisofsCmd = ini.GetString("DEFAULT", "mkisofs_cmd") ?? "genisoimage",
            PolicyFile = PolicyOptions.FileOf(ini),
        };
        if (options.Runs(Api) && apis.Count > 0 && !apis.Contains("osapi_compute"))
            throw new ConfigException(ini.Path, "DEFAULT", "enabled_apis", "nova-api runs here but osapi_compute is not enabled");
        if (options.ComputeDriver is not ("libvirt.LibvirtDriver" or "fake.FakeDriver"))
            throw new ConfigException(ini.Path, "DEFAULT", "compute_driver", $"'{options.ComputeDriver}' is not supported: use libvirt.LibvirtDriver (QEMU) or fake.FakeDriver");
        if (options.VirtType is not (null or "qemu" or "kvm"))
            throw new ConfigException(ini.Path, "libvirt", "virt_type", $"'{options.VirtType}' is not supported: use kvm or qemu");
        return options;
    }
}
