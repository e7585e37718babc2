using Microsoft.Extensions.Hosting;
using Stratus.Core.Config;
using Stratus.Core.Modules;

namespace Stratus.Dashboard;

/// <summary>
/// The shared web console on a node: <c>dashboard/local_settings</c>. On the node hosting the identity
/// it serves the dashboard; a controller of another region only redirects its web root there (seed section 7).
/// </summary>
public sealed class DashboardModule : ServiceModule<DashboardOptions>
{
    public const string LocalSettings = "dashboard/local_settings";

    public override string Name => "dashboard";
    public override string ConfigFile => LocalSettings;

    public override DashboardOptions ReadOptions(IniFile ini) => DashboardOptions.FromIni(ini);

    protected override void WriteDefaults(NodeInit node)
    {
        var spec = node.Spec;
        var text = node.HostsIdentity
            ? DashboardOptions.Format(spec.Address, spec.DashboardPort, node.IdentityV3, spec.Region, null, node.PathOf("dashboard/keys"))
            : DashboardOptions.Format(spec.Address, spec.DashboardPort, null, spec.Region,
                spec.DashboardUrl ?? Url(new Uri(node.IdentityV3).Host, spec.DashboardPort), null);
        node.WriteFile(LocalSettings, text);
    }

    public override IHost Build(DashboardOptions options, NodeRuntime runtime) => DashboardService.Build(options);

    public override async Task<StartedService> StartAsync(DashboardOptions options, NodeRuntime runtime, string description, CancellationToken ct = default)
    {
        try
        {
            return await base.StartAsync(options, runtime, description, ct);
        }
        catch (IOException e)
        {
            throw new ConfigException(options.ConfigPath, "DEFAULT", "bind_port", $"cannot listen on {options.BindHost}:{options.BindPort}: {e.Message}");
        }
    }

    public override string Describe(DashboardOptions options, string configFile) => options.ServesDashboard
        ? $"dashboard: {Url(options.BindHost, options.BindPort)} ({configFile})"
        : $"dashboard: http://{options.BindHost}{(options.BindPort == 80 ? "" : ":" + options.BindPort)}/ redirects to {options.RootRedirect} ({configFile})";

    /// <summary>The dashboard's URL as a browser is given it: http://ADDRESS[:PORT]/dashboard.</summary>
    public static string Url(string address, int port) => $"http://{address}{(port == 80 ? "" : ":" + port)}/dashboard";
}
