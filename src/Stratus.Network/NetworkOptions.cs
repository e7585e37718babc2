using Stratus.Core.Config;
using Stratus.Core.Operations;

namespace Stratus.Network;

/// <summary>
/// What Neutron Zed reads from its files, one record per file: neutron.conf here, and beside it the
/// ML2 plugin's and each agent's ini files (paths relative to neutron.conf's directory, as the seed lays them out).
/// </summary>
public sealed record NetworkOptions
{
    public const string Server = "neutron-server";
    public const string LinuxBridgeAgent = "neutron-linuxbridge-agent";
    public const string DhcpAgent = "neutron-dhcp-agent";
    public const string MetadataAgent = "neutron-metadata-agent";
    public const string L3Agent = "neutron-l3-agent";

    public required string ConfigPath { get; init; }
    /// <summary>[metrics] and [healthcheck]: who may read /metrics, and the file that takes the service out of its pool.</summary>
    public OperationsOptions Operations { get; init; } = OperationsOptions.Default;
    /// <summary>[DEFAULT] host: the agents' host name in <c>network agent list</c>.</summary>
    public required string Host { get; init; }
    public required string BindHost { get; init; }
    public int BindPort { get; init; } = 9696;
    public required string TransportUrl { get; init; }
    public required string DatabaseConnection { get; init; }
    public string CorePlugin { get; init; } = "ml2";
    public IReadOnlyList<string> ServicePlugins { get; init; } = [];
    public bool NotifyNovaOnPortStatusChanges { get; init; } = true;
    public bool NotifyNovaOnPortDataChanges { get; init; } = true;
    /// <summary>[DEFAULT] global_physnet_mtu: the MTU of the physical networks; vxlan networks get 50 less.</summary>
    public int GlobalPhysnetMtu { get; init; } = 1500;
    public string BaseMac { get; init; } = "fa:16:3e:00:00:00";
    public int MaxFixedIpsPerPort { get; init; } = 5;
    public bool AllowOverlappingIps { get; init; } = true;
    /// <summary>[DEFAULT] agent_down_time: an agent is dead when its last report is older (Neutron: 75 s).</summary>
    public TimeSpan AgentDownTime { get; init; } = TimeSpan.FromSeconds(75);
    public string DefaultAvailabilityZone { get; init; } = "nova";
    public int PaginationMax { get; init; } = -1;
    public required KeystoneAuthtokenOptions Authtoken { get; init; }
    /// <summary>[nova]: the user and region the server notifies compute with.</summary>
    public KeystoneAuthtokenOptions? Nova { get; init; }
    public string? PolicyFile { get; init; }
    /// <summary>[stratus] services: which of neutron-server and the agents run on this node.</summary>
    public IReadOnlyList<string> Services { get; init; } = [Server];
    /// <summary>[DEFAULT] state_path: the agents' state (the DHCP servers' files under dhcp/).</summary>
    public string StatePath { get; init; } = "/var/lib/neutron";
    public required Ml2Options Ml2 { get; init; }
    public required LinuxBridgeOptions LinuxBridge { get; init; }
    public QuotaOptions Quotas { get; init; } = new();
    /// <summary>What the agents read from their files, and the server's enable_new_agents.</summary>
    public Agents.AgentOptions Agent { get; init; } = new();

    public bool Runs(string service) => Services.Contains(service);

    /// <summary>Whether a neutron.conf runs neutron-server (<c>[stratus] services</c>, all by default): only the server reads the database.</summary>
    public static bool RunsServerIn(IniFile ini) => ini.GetList("stratus", "services") is var services && (services.Count == 0 || services.Contains(Server));

    public static NetworkOptions FromIni(IniFile ini)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(ini.Path)) ?? ".";
        var strategy = ini.GetString("DEFAULT", "auth_strategy") ?? "keystone";
        if (strategy != "keystone")
            throw new ConfigException(ini.Path, "DEFAULT", "auth_strategy", $"'{strategy}' is not supported: the network service authenticates with keystone");
        var plugin = ini.GetString("DEFAULT", "core_plugin") ?? "ml2";
        if (plugin is not ("ml2" or "neutron.plugins.ml2.plugin.Ml2Plugin"))
            throw new ConfigException(ini.Path, "DEFAULT", "core_plugin", $"'{plugin}' is not supported: use ml2");
        var services = ini.GetList("stratus", "services");
        string[] known = [Server, LinuxBridgeAgent, DhcpAgent, MetadataAgent, L3Agent];
        foreach (var s in services)
            if (!known.Contains(s))
                throw new ConfigException(ini.Path, "stratus", "services", $"'{s}' is not one of {string.Join(", ", known)}");
        var runsServer = RunsServerIn(ini);
        return new NetworkOptions
        {
            ConfigPath = ini.Path,
            Operations = OperationsOptions.FromIni(ini),
            Host = ini.GetString("DEFAULT", "host") ?? Environment.MachineName,
            BindHost = ini.GetString("DEFAULT", "bind_host") ?? "0.0.0.0",
            BindPort = ini.GetInt("DEFAULT", "bind_port", 9696),
            TransportUrl = ini.GetRequired("DEFAULT", "transport_url"),
            DatabaseConnection = runsServer ? ini.GetRequired("database", "connection") : ini.GetString("database", "connection") ?? "",
            CorePlugin = "ml2",
            ServicePlugins = ini.GetList("DEFAULT", "service_plugins"),
            NotifyNovaOnPortStatusChanges = ini.GetBool("DEFAULT", "notify_nova_on_port_status_changes", true),
            NotifyNovaOnPortDataChanges = ini.GetBool("DEFAULT", "notify_nova_on_port_data_changes", true),
            GlobalPhysnetMtu = ini.GetInt("DEFAULT", "global_physnet_mtu", 1500),
            BaseMac = ini.GetString("DEFAULT", "base_mac") ?? "fa:16:3e:00:00:00",
            MaxFixedIpsPerPort = ini.GetInt("DEFAULT", "max_fixed_ips_per_port", 5),
            AgentDownTime = TimeSpan.FromSeconds(ini.GetInt("DEFAULT", "agent_down_time", 75)),
            DefaultAvailabilityZone = ini.GetString("DEFAULT", "default_availability_zones") ?? "nova",
            PaginationMax = ini.GetInt("DEFAULT", "pagination_max_limit", -1),
            Authtoken = KeystoneAuthtokenOptions.FromIni(ini),
            Nova = ini.HasSection("nova") ? KeystoneAuthtokenOptions.FromSection(ini, "nova") : null,
            PolicyFile = PolicyOptions.FileOf(ini),
            Services = services.Count == 0 ? [Server] : services,
            StatePath = ini.GetString("DEFAULT", "state_path") ?? "/var/lib/neutron",
            Ml2 = Ml2Options.Load(Path.Combine(dir, Ml2Options.File)),
            LinuxBridge = LinuxBridgeOptions.Load(Path.Combine(dir, LinuxBridgeOptions.File)),
            Quotas = QuotaOptions.FromIni(ini),
            Agent = Agents.AgentOptions.Load(ini, dir),
        };
    }
}

/// <summary>plugins/ml2/ml2_conf.ini: which network types exist, which a project gets, and their ranges.</summary>
public sealed record Ml2Options
{
    public const string File = "plugins/ml2/ml2_conf.ini";

    public IReadOnlyList<string> TypeDrivers { get; init; } = ["local", "flat", "vlan", "gre", "vxlan", "geneve"];
    public IReadOnlyList<string> TenantNetworkTypes { get; init; } = ["local"];
    public IReadOnlyList<string> MechanismDrivers { get; init; } = [];
    public IReadOnlyList<string> ExtensionDrivers { get; init; } = [];
    /// <summary>[ml2_type_flat] flat_networks: physical networks a flat network may use ("*" for any).</summary>
    public IReadOnlyList<string> FlatNetworks { get; init; } = ["*"];
    /// <summary>[ml2_type_vlan] network_vlan_ranges: physnet or physnet:min:max.</summary>
    public IReadOnlyList<string> VlanRanges { get; init; } = [];
    /// <summary>[ml2_type_vxlan] vni_ranges: min:max pairs project networks are given VNIs from.</summary>
    public IReadOnlyList<(int Min, int Max)> VniRanges { get; init; } = [];

    public static Ml2Options Load(string path)
    {
        if (!System.IO.File.Exists(path)) return new Ml2Options();
        var ini = IniFile.Load(path);
        var vni = new List<(int, int)>();
        foreach (var r in ini.GetList("ml2_type_vxlan", "vni_ranges"))
        {
            var parts = r.Split(':');
            if (parts.Length != 2 || !int.TryParse(parts[0], out var min) || !int.TryParse(parts[1], out var max) || min < 1 || max > 16_777_215 || min > max)
                throw new ConfigException(path, "ml2_type_vxlan", "vni_ranges", $"'{r}' is not a range min:max of VNIs (1-16777215)");
            vni.Add((min, max));
        }
        var flat = ini.GetList("ml2_type_flat", "flat_networks");
        return new Ml2Options
        {
            TypeDrivers = ini.GetList("ml2", "type_drivers") is { Count: > 0 } t ? t : ["local", "flat", "vlan", "gre", "vxlan", "geneve"],
            TenantNetworkTypes = ini.GetList("ml2", "tenant_network_types") is { Count: > 0 } tt ? tt : ["local"],
            MechanismDrivers = ini.GetList("ml2", "mechanism_drivers"),
            ExtensionDrivers = ini.GetList("ml2", "extension_drivers"),
            FlatNetworks = ini.GetString("ml2_type_flat", "flat_networks") is null ? ["*"] : flat,
            VlanRanges = ini.GetList("ml2_type_vlan", "network_vlan_ranges"),
            VniRanges = vni,
        };
    }
}

/// <summary>plugins/ml2/linuxbridge_agent.ini: the host's physical networks, its VXLAN endpoint and firewall.</summary>
public sealed record LinuxBridgeOptions
{
    public const string File = "plugins/ml2/linuxbridge_agent.ini";

    /// <summary>[linux_bridge] physical_interface_mappings: physnet to a host interface.</summary>
    public IReadOnlyDictionary<string, string> PhysicalInterfaces { get; init; } = new Dictionary<string, string>();
    /// <summary>[linux_bridge] bridge_mappings: physnet to an existing bridge.</summary>
    public IReadOnlyDictionary<string, string> BridgeMappings { get; init; } = new Dictionary<string, string>();
    public bool EnableVxlan { get; init; } = true;
    public string? LocalIp { get; init; }
    /// <summary>[vxlan] l2_population: the agent learns tunnel endpoints from the server instead of multicast.</summary>
    public bool L2Population { get; init; }
    /// <summary>[securitygroup] firewall_driver, as given; unset is Neutron's noop.</summary>
    public string FirewallDriver { get; init; } = "noop";
    public bool EnableSecurityGroup { get; init; } = true;
    /// <summary>[agent] polling_interval: seconds between two passes of the agent's loop (a new or gone tap also starts one at once).</summary>
    public TimeSpan PollingInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Whether the agent applies security groups: Neutron's enable_security_group and a driver other than noop.</summary>
    public bool FiltersPorts => EnableSecurityGroup && !NoopDrivers.Contains(FirewallDriver);

    static readonly string[] NoopDrivers = ["noop", "neutron.agent.firewall.NoopFirewallDriver"];

    /// <summary>
    /// The drivers the Linux bridge agent filters with (Neutron's aliases and class names; nftables is what
    /// applies them here either way, <see cref="DataPlane.PortFirewall"/>).
    /// </summary>
    static readonly string[] FilteringDrivers =
    [
        "iptables", "iptables_hybrid", "nftables", "neutron.agent.linux.iptables_firewall.IptablesFirewallDriver",
        "neutron.agent.linux.iptables_firewall.OVSHybridIptablesFirewallDriver",
    ];

    public static LinuxBridgeOptions Load(string path)
    {
        if (!System.IO.File.Exists(path)) return new LinuxBridgeOptions();
        var ini = IniFile.Load(path);
        Dictionary<string, string> Mappings(string key, string what)
        {
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var m in ini.GetList("linux_bridge", key))
            {
                var i = m.IndexOf(':');
                if (i <= 0 || i == m.Length - 1)
                    throw new ConfigException(path, "linux_bridge", key, $"'{m}' is not physnet:{what}");
                map[m[..i]] = m[(i + 1)..];
            }
            return map;
        }
        return new LinuxBridgeOptions
        {
            PhysicalInterfaces = Mappings("physical_interface_mappings", "interface"),
            BridgeMappings = Mappings("bridge_mappings", "bridge"),
            L2Population = ini.GetBool("vxlan", "l2_population", false),
            EnableVxlan = ini.GetBool("vxlan", "enable_vxlan", true),
            LocalIp = ini.GetString("vxlan", "local_ip"),
            FirewallDriver = Driver(ini.GetString("securitygroup", "firewall_driver")),
            EnableSecurityGroup = ini.GetBool("securitygroup", "enable_security_group", true),
            PollingInterval = TimeSpan.FromSeconds(Math.Max(1, ini.GetInt("agent", "polling_interval", 2))),
        };

        string Driver(string? value) => value is null or "" ? "noop"
            : NoopDrivers.Contains(value) || FilteringDrivers.Contains(value) ? value
            : throw new ConfigException(path, "securitygroup", "firewall_driver",
                $"'{value}' is not a firewall driver of the Linux bridge agent: use iptables, iptables_hybrid, nftables or noop");
    }
}

/// <summary>[quotas]: Neutron's per-project defaults (-1 is unlimited).</summary>
public sealed record QuotaOptions
{
    public IReadOnlyDictionary<string, int> Defaults { get; init; } = Neutron();

    static Dictionary<string, int> Neutron() => new(StringComparer.Ordinal)
    {
        ["network"] = 100, ["subnet"] = 100, ["port"] = 500, ["router"] = 10, ["floatingip"] = 50,
        ["security_group"] = 10, ["security_group_rule"] = 100, ["subnetpool"] = -1, ["rbac_policy"] = 10,
    };

    public static QuotaOptions FromIni(IniFile ini)
    {
        var d = Neutron();
        foreach (var key in d.Keys.ToList()) d[key] = ini.GetInt("quotas", "quota_" + key, d[key]);
        return new QuotaOptions { Defaults = d };
    }
}
