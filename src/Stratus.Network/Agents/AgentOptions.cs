using System.Globalization;
using Stratus.Core.Config;

namespace Stratus.Network.Agents;

/// <summary>
/// What Neutron's agents read: each agent runs with neutron.conf and its own file after it
/// (linuxbridge_agent.ini, dhcp_agent.ini, l3_agent.ini, metadata_agent.ini), the later file winning,
/// as the agents' <c>--config-file</c> pairs have it. <c>[agent]</c> is oslo's AGENT group, either case.
/// </summary>
public sealed record AgentOptions
{
    /// <summary>[DEFAULT] enable_new_agents (neutron-server): whether an agent's first report makes it admin-up.</summary>
    public bool EnableNewAgents { get; init; } = true;
    /// <summary>neutron.conf's [agent] report_interval: the heartbeat the API's ServiceGroup describes.</summary>
    public TimeSpan ReportInterval { get; init; } = TimeSpan.FromSeconds(30);
    public AgentSettings LinuxBridge { get; init; } = new();
    public AgentSettings Dhcp { get; init; } = new();
    public AgentSettings L3 { get; init; } = new();
    public AgentSettings Metadata { get; init; } = new();

    public static AgentOptions Load(IniFile neutronConf, string dir) => new()
    {
        EnableNewAgents = neutronConf.GetBool("DEFAULT", "enable_new_agents", true),
        ReportInterval = AgentSettings.Load(new LayeredIni([neutronConf])).ReportInterval,
        LinuxBridge = AgentSettings.Load(LayeredIni.Of(neutronConf, Path.Combine(dir, LinuxBridgeOptions.File))),
        Dhcp = AgentSettings.Load(LayeredIni.Of(neutronConf, Path.Combine(dir, "dhcp_agent.ini"))),
        L3 = AgentSettings.Load(LayeredIni.Of(neutronConf, Path.Combine(dir, "l3_agent.ini"))),
        Metadata = AgentSettings.Load(LayeredIni.Of(neutronConf, Path.Combine(dir, "metadata_agent.ini"))),
    };
}

/// <summary>One agent's options: the AGENT group's, and the keys its report's configurations name.</summary>
public sealed record AgentSettings
{
    /// <summary>[agent] report_interval (Neutron: 30 s); 0 turns the agent's reports off.</summary>
    public TimeSpan ReportInterval { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>[agent] availability_zone: the zone the DHCP and L3 agents report (Neutron: nova).</summary>
    public string AvailabilityZone { get; init; } = "nova";
    public bool LogAgentHeartbeats { get; init; }
    /// <summary>[agent] extensions: the agent extensions it loads (reported as configurations.extensions).</summary>
    public IReadOnlyList<string> Extensions { get; init; } = [];
    public string DhcpDriver { get; init; } = "neutron.agent.linux.dhcp.Dnsmasq";
    public int DhcpLeaseDuration { get; init; } = 86400;
    /// <summary>dhcp_agent.ini: where each network's dnsmasq logs its queries and DHCP exchanges (none when unset).</summary>
    public string? DnsmasqBaseLogDir { get; init; }
    public string? InterfaceDriver { get; init; }
    public string AgentMode { get; init; } = "legacy";
    public bool HandleInternalOnlyRouters { get; init; } = true;
    /// <summary>l3_agent.ini: a metadata proxy in each router's namespace, on this port (Neutron: 9697).</summary>
    public bool EnableMetadataProxy { get; init; } = true;
    public int MetadataPort { get; init; } = 9697;
    public string MetadataProxySocket { get; init; } = "";
    public string NovaMetadataHost { get; init; } = "127.0.0.1";
    public int NovaMetadataPort { get; init; } = 8775;
    /// <summary>metadata_agent.ini's secret that signs the instance id for Nova (never logged).</summary>
    public string MetadataProxySharedSecret { get; init; } = "";
    /// <summary>dhcp_agent.ini: a metadata proxy for networks without a router, or for all networks.</summary>
    public bool EnableIsolatedMetadata { get; init; }
    public bool ForceMetadata { get; init; }

    internal static AgentSettings Load(LayeredIni ini)
    {
        var interval = ini.Find("AGENT", "report_interval") is { } at ? Seconds(at.File, at.Section, "report_interval") : TimeSpan.FromSeconds(30);
        var mode = ini.String("DEFAULT", "agent_mode") ?? "legacy";
        if (mode is not ("legacy" or "dvr" or "dvr_snat" or "dvr_no_external"))
            throw new ConfigException(ini.Find("DEFAULT", "agent_mode")!.Value.File.Path, "DEFAULT", "agent_mode", $"'{mode}' is not one of legacy, dvr, dvr_snat, dvr_no_external");
        return new AgentSettings
        {
            ReportInterval = interval,
            AvailabilityZone = ini.String("AGENT", "availability_zone") ?? "nova",
            LogAgentHeartbeats = ini.Bool("AGENT", "log_agent_heartbeats", false),
            Extensions = ini.Find("AGENT", "extensions") is { } ext ? ext.File.GetList(ext.Section, "extensions") : [],
            DhcpDriver = ini.String("DEFAULT", "dhcp_driver") ?? "neutron.agent.linux.dhcp.Dnsmasq",
            DhcpLeaseDuration = ini.Find("DEFAULT", "dhcp_lease_duration") is { } d ? d.File.GetInt(d.Section, "dhcp_lease_duration", 86400) : 86400,
            DnsmasqBaseLogDir = ini.String("DEFAULT", "dnsmasq_base_log_dir"),
            InterfaceDriver = ini.String("DEFAULT", "interface_driver"),
            AgentMode = mode,
            HandleInternalOnlyRouters = ini.Bool("DEFAULT", "handle_internal_only_routers", true),
            EnableMetadataProxy = ini.Bool("DEFAULT", "enable_metadata_proxy", true),
            MetadataPort = ini.Find("DEFAULT", "metadata_port") is { } mp ? mp.File.GetInt(mp.Section, "metadata_port", 9697) : 9697,
            MetadataProxySocket = ini.String("DEFAULT", "metadata_proxy_socket")
                ?? Path.Combine(ini.String("DEFAULT", "state_path") ?? "/var/lib/neutron", "metadata_proxy"),
            NovaMetadataHost = ini.String("DEFAULT", "nova_metadata_host") ?? "127.0.0.1",
            NovaMetadataPort = ini.Find("DEFAULT", "nova_metadata_port") is { } p ? p.File.GetInt(p.Section, "nova_metadata_port", 8775) : 8775,
            MetadataProxySharedSecret = ini.String("DEFAULT", "metadata_proxy_shared_secret") ?? "",
            EnableIsolatedMetadata = ini.Bool("DEFAULT", "enable_isolated_metadata", false),
            ForceMetadata = ini.Bool("DEFAULT", "force_metadata", false),
        };

        static TimeSpan Seconds(IniFile file, string section, string key)
        {
            var raw = file.GetString(section, key) ?? "";
            return double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s >= 0
                ? TimeSpan.FromSeconds(s)
                : throw new ConfigException(file.Path, section, key, $"'{raw}' is not a number of seconds");
        }
    }
}

/// <summary>Several files read as one, the last that sets a key winning (oslo's repeated --config-file).</summary>
sealed class LayeredIni(IReadOnlyList<IniFile> files)
{
    public static LayeredIni Of(IniFile first, string optionalPath) =>
        new(File.Exists(optionalPath) ? [first, IniFile.Load(optionalPath)] : [first]);

    /// <summary>The file and section that set the key; AGENT matches [AGENT] and [agent], as oslo's group names are case-blind.</summary>
    public (IniFile File, string Section)? Find(string group, string key)
    {
        string[] sections = group == "DEFAULT" ? ["DEFAULT"] : [group, group.ToLowerInvariant()];
        for (var i = files.Count - 1; i >= 0; i--)
            foreach (var s in sections)
                if (files[i].HasSection(s) || s == "DEFAULT")
                    if (files[i].GetString(s, key) is not null) return (files[i], s);
        return null;
    }

    public string? String(string group, string key) => Find(group, key) is { } at ? at.File.GetString(at.Section, key) : null;

    public bool Bool(string group, string key, bool fallback) => Find(group, key) is { } at ? at.File.GetBool(at.Section, key, fallback) : fallback;
}
