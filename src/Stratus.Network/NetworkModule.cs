using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Stratus.Core.Config;
using Stratus.Core.Data;
using Stratus.Core.Hosting;
using Stratus.Core.Modules;
using Stratus.Network.Agents;
using Stratus.Network.Api;

namespace Stratus.Network;

/// <summary>
/// Neutron on a node: neutron.conf and the ML2 and agent files beside it, neutron-server (port 9696)
/// where it runs, and the agents <c>[stratus] services</c> names: all of them on a controller, the
/// Linux bridge agent on a compute node (the seed's layout).
/// </summary>
public sealed class NetworkModule : ServiceModule<NetworkOptions>
{
    public const string NeutronConf = "neutron/neutron.conf";
    public const string Ml2Conf = "neutron/" + Ml2Options.File;

    public override string Name => "network";
    public override string ConfigFile => NeutronConf;

    public override NetworkOptions ReadOptions(IniFile ini) => NetworkOptions.FromIni(ini);

    protected override bool BelongsOn(NodeSpec spec) => true;

    /// <summary>
    /// neutron.conf as the seed's RegionTwo has it (section 5.4): the region's own database and bus,
    /// <c>[keystone_authtoken]</c> and <c>[nova]</c> at the shared identity with the region's name; ML2 with
    /// flat and vxlan networks and the linuxbridge driver; the agents' files with this node's address.
    /// </summary>
    protected override void WriteDefaults(NodeInit node)
    {
        var spec = node.Spec;
        var dir = node.PathOf("neutron");
        string[] services = spec.Role == NodeRoles.Compute
            ? [NetworkOptions.LinuxBridgeAgent]
            : [NetworkOptions.Server, NetworkOptions.LinuxBridgeAgent, NetworkOptions.DhcpAgent, NetworkOptions.MetadataAgent, NetworkOptions.L3Agent];
        var controller = spec.Controller ?? spec.Address;
        const string header = "# Written by `stratus node init`; sections and keys as Neutron's.\n";
        node.WriteFile(NeutronConf, header + IniFile.Format(
        [
            ("DEFAULT",
            [
                ("host", node.HostName), ("bind_host", spec.Address), ("bind_port", "9696"), ("core_plugin", "ml2"), ("service_plugins", "router"),
                ("transport_url", spec.TransportUrl ?? $"inproc://{spec.Region.ToLowerInvariant()}"), ("auth_strategy", "keystone"),
                ("notify_nova_on_port_status_changes", "true"), ("notify_nova_on_port_data_changes", "true"), ("state_path", dir),
            ]),
            // The agents of a compute node do not reach the database (the install guide comments the connection out there).
            ("database", spec.Role == NodeRoles.Compute ? [] : [("connection", $"sqlite:///{Path.Combine(dir, "neutron.db")}")]),
            ("keystone_authtoken", node.ServiceUser("neutron")),
            ("nova", [.. KeystoneAuthtokenOptions.Keys(node.IdentityRoot, spec.Region, "nova", spec.Password).Skip(1)]),
            ("oslo_concurrency", [("lock_path", Path.Combine(dir, "tmp"))]),
            ("experimental", [("linuxbridge", "true")]),
            ("stratus", [("services", string.Join(",", services))]),
        ]), secret: true);
        node.WriteFile("neutron/" + Ml2Options.File, header + IniFile.Format(
        [
            ("ml2", [("type_drivers", "flat,vlan,vxlan"), ("tenant_network_types", "vxlan"), ("mechanism_drivers", "linuxbridge,l2population"), ("extension_drivers", "port_security")]),
            ("ml2_type_flat", [("flat_networks", "provider")]),
            ("ml2_type_vlan", [("network_vlan_ranges", "provider")]),
            ("ml2_type_vxlan", [("vni_ranges", "1:1000")]),
            ("securitygroup", [("enable_ipset", "true")]),
        ]));
        node.WriteFile("neutron/" + LinuxBridgeOptions.File, header + IniFile.Format(
        [
            // The provider network's interface is the operator's to name (the seed's ens...); none by default, so nothing touches the uplink.
            ("linux_bridge", [("physical_interface_mappings", "")]),
            ("vxlan", [("enable_vxlan", "true"), ("local_ip", spec.Address), ("l2_population", "true")]),
            ("securitygroup", [("enable_security_group", "true"), ("firewall_driver", "neutron.agent.linux.iptables_firewall.IptablesFirewallDriver")]),
        ]));
        if (spec.Role == NodeRoles.Compute) return;
        node.WriteFile("neutron/dhcp_agent.ini", header + IniFile.Format(
            [("DEFAULT", [("interface_driver", "linuxbridge"), ("dhcp_driver", "neutron.agent.linux.dhcp.Dnsmasq"), ("enable_isolated_metadata", "true")])]));
        node.WriteFile("neutron/metadata_agent.ini", header + IniFile.Format(
            [("DEFAULT", [("nova_metadata_host", controller), ("metadata_proxy_shared_secret", spec.Password)])]), secret: true);
        node.WriteFile("neutron/l3_agent.ini", header + IniFile.Format([("DEFAULT", [("interface_driver", "linuxbridge")])]));
    }

    public override IEnumerable<ServiceRegistration> CatalogEntries(NetworkOptions options, NodeInit node) =>
        options.Runs(NetworkOptions.Server)
            ? [new("network", "neutron", "OpenStack Networking", node.Spec.Region, $"http://{options.BindHost}:{options.BindPort}", options.Authtoken.Username, options.Authtoken.Password)]
            : [];

    /// <summary>neutron-db-manage upgrade heads: creates the schema if missing, where neutron-server runs.</summary>
    public override async Task SyncDatabaseAsync(NetworkOptions options, bool upgrade, CancellationToken ct = default)
    {
        if (!options.Runs(NetworkOptions.Server)) return;
        await DatabaseUrl.SyncAsync<NetworkDb>(options.DatabaseConnection, o => new(o), NetworkDb.History, upgrade, ct);
    }

    public override IHost Build(NetworkOptions options, NodeRuntime runtime)
    {
        if (!options.Runs(NetworkOptions.Server))
        {
            var host = ServiceHost.CreateWorkerBuilder();
            host.Services.AddNetworkAgents(options, runtime);
            return host.Build();
        }
        var builder = ServiceHost.CreateBuilder(options.BindHost, options.BindPort, maxRequestBodySize: 1 << 20, options.Operations);
        builder.Services.AddNetworkService(options, runtime.Time);
        builder.Services.AddNetworkAgents(options, runtime);
        var app = builder.Build();
        // Neutron's API takes a format suffix on any path (GET /v2.0/networks.json): JSON is the only format.
        app.UseServicePipeline(static (http, next) =>
        {
            if (http.Request.Path.Value is { } path && path.EndsWith(".json", StringComparison.Ordinal)) http.Request.Path = path[..^5];
            return next(http);
        });
        app.MapNetworkApi();
        return app;
    }

    public override string Describe(NetworkOptions options, string configFile) =>
        $"network: {string.Join(", ", options.Services)} as {options.Host}" +
        (options.Runs(NetworkOptions.Server) ? $" at http://{options.BindHost}:{options.BindPort}" : "") + $" ({configFile})";
}
