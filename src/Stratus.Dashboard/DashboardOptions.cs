using Stratus.Core.Config;
using Stratus.Core.Operations;

namespace Stratus.Dashboard;

/// <summary>
/// <c>dashboard/local_settings</c>: Horizon's local_settings.py settings as an oslo-style INI file. A node
/// either serves the dashboard (<c>openstack_keystone_url</c> set: RegionOne's controller, which hosts the
/// identity) or only answers its web root with a redirect to the dashboard of another node
/// (<c>root_redirect</c>: the seed's RegionTwo controller, section 7), or both.
/// </summary>
public sealed record DashboardOptions
{
    public required string BindHost { get; init; }
    public int BindPort { get; init; } = 80;
    /// <summary>Horizon's WEBROOT: where the dashboard lives on this web server.</summary>
    public string WebRoot { get; init; } = "/dashboard";
    /// <summary>Horizon's OPENSTACK_KEYSTONE_URL (…/v3); null on a node that only redirects.</summary>
    public string? KeystoneUrl { get; init; }
    /// <summary>Horizon's OPENSTACK_KEYSTONE_DEFAULT_DOMAIN: the login form's default.</summary>
    public string DefaultDomain { get; init; } = "Default";
    /// <summary>The region selected after login, when the catalog has it.</summary>
    public string? DefaultRegion { get; init; }
    /// <summary>Where <c>/</c> sends browsers; null: to this node's own dashboard.</summary>
    public string? RootRedirect { get; init; }
    /// <summary>Horizon's SECRET_KEY store: the key ring protecting session cookies and form tokens.</summary>
    public string? SecretKeyStore { get; init; }
    /// <summary>Horizon's SESSION_TIMEOUT in seconds; a session never outlives its token either.</summary>
    public int SessionTimeout { get; init; } = 3600;
    /// <summary>The compute API microversion the pages speak (2.37: <c>networks: none</c>).</summary>
    public string ComputeMicroversion { get; init; } = "2.37";
    public string ConfigPath { get; init; } = "<memory>";
    /// <summary>[metrics] and [healthcheck]: who may read /metrics, and the file that takes the service out of its pool.</summary>
    public OperationsOptions Operations { get; init; } = OperationsOptions.Default;

    public bool ServesDashboard => KeystoneUrl is not null;

    public static DashboardOptions FromIni(IniFile ini)
    {
        var webroot = "/" + (ini.GetString("dashboard", "webroot") ?? "/dashboard").Trim('/');
        var keystone = ini.GetString("dashboard", "openstack_keystone_url");
        var redirect = ini.GetString("dashboard", "root_redirect");
        if (keystone is not null && !Uri.TryCreate(keystone, UriKind.Absolute, out _))
            throw new ConfigException(ini.Path, "dashboard", "openstack_keystone_url", $"'{keystone}' is not an absolute URL");
        if (redirect is not null && !Uri.TryCreate(redirect, UriKind.Absolute, out _))
            throw new ConfigException(ini.Path, "dashboard", "root_redirect", $"'{redirect}' is not an absolute URL");
        if (keystone is null && redirect is null)
            throw new ConfigException(ini.Path, "dashboard", "openstack_keystone_url", "is required unless root_redirect is set");
        var options = new DashboardOptions
        {
            BindHost = ini.GetRequired("DEFAULT", "bind_host"),
            BindPort = ini.GetInt("DEFAULT", "bind_port", 80),
            WebRoot = webroot == "/" ? "" : webroot,
            KeystoneUrl = keystone?.TrimEnd('/'),
            DefaultDomain = ini.GetString("dashboard", "openstack_keystone_default_domain") ?? "Default",
            DefaultRegion = ini.GetString("dashboard", "default_region"),
            RootRedirect = redirect,
            SecretKeyStore = ini.GetString("dashboard", "secret_key_store"),
            SessionTimeout = ini.GetInt("dashboard", "session_timeout", 3600),
            ComputeMicroversion = ini.GetString("dashboard", "compute_api_version") ?? "2.37",
            ConfigPath = ini.Path,
            Operations = OperationsOptions.FromIni(ini),
        };
        if (options.BindPort is < 1 or > 65535)
            throw new ConfigException(ini.Path, "DEFAULT", "bind_port", $"{options.BindPort} is not a TCP port");
        return options;
    }

    /// <summary>The file's text as <c>node init</c> writes it.</summary>
    public static string Format(string bindHost, int port, string? keystoneUrl, string? defaultRegion, string? rootRedirect, string? secretKeyStore) =>
        "# Written by `stratus node init`: Horizon's local_settings for the Stratus dashboard.\n" + IniFile.Format(
        [
            ("DEFAULT", [("bind_host", bindHost), ("bind_port", port.ToString(System.Globalization.CultureInfo.InvariantCulture))]),
            ("dashboard",
            [
                .. keystoneUrl is null ? Array.Empty<(string, string)>() :
                [
                    ("webroot", "/dashboard"), ("openstack_keystone_url", keystoneUrl), ("openstack_keystone_default_domain", "Default"),
                    ("default_region", defaultRegion ?? "RegionOne"), ("session_timeout", "3600"),
                ],
                .. secretKeyStore is null ? Array.Empty<(string, string)>() : [("secret_key_store", secretKeyStore)],
                .. rootRedirect is null ? Array.Empty<(string, string)>() : [("root_redirect", rootRedirect)],
            ]),
        ]);
}
