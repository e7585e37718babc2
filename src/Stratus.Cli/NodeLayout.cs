using Stratus.Core.Config;

namespace Stratus.Cli;

/// <summary>
/// A node's config directory in the seed's layout: one sub-directory per service
/// (<c>keystone/keystone.conf</c>, later <c>glance/glance-api.conf</c>, <c>nova/nova.conf</c> ...),
/// and <c>admin-openrc</c> with the seed's variables.
/// </summary>
sealed record NodeLayout(string Root)
{
    public string KeystoneDir => Path.Combine(Root, "keystone");
    public string KeystoneConf => Path.Combine(KeystoneDir, "keystone.conf");
    public string AdminOpenrc => Path.Combine(Root, "admin-openrc");

    public string GlanceDir => Path.Combine(Root, "glance");
    public string GlanceApiConf => Path.Combine(GlanceDir, "glance-api.conf");
    public string GlanceRegistryConf => Path.Combine(GlanceDir, "glance-registry.conf");

    public string NovaDir => Path.Combine(Root, "nova");
    public string NovaConf => Path.Combine(NovaDir, "nova.conf");

    public bool HasIdentity => File.Exists(KeystoneConf);
    public bool HasImage => File.Exists(GlanceApiConf);
    public bool HasCompute => File.Exists(NovaConf);
    public string PlacementDir => Path.Combine(Root, "placement");
    public string PlacementConf => Path.Combine(PlacementDir, "placement.conf");
    public bool HasPlacement => File.Exists(PlacementConf);
    public string DashboardDir => Path.Combine(Root, "dashboard");
    /// <summary>Horizon's local_settings, as an INI file: the dashboard itself, or only its web root's redirect.</summary>
    public string DashboardConf => Path.Combine(DashboardDir, "local_settings");
    public bool HasDashboard => File.Exists(DashboardConf);

    /// <summary>
    /// The dashboard's local_settings: on the node hosting the identity it serves the dashboard (identity URL
    /// and default region); elsewhere (<paramref name="keystoneUrl"/> null) it only redirects the web root to
    /// <paramref name="rootRedirect"/>, as the seed's RegionTwo does (section 7).
    /// </summary>
    public void WriteDashboardConf(string address, int port, string? keystoneUrl, string region, string? rootRedirect)
    {
        Directory.CreateDirectory(DashboardDir);
        var text = Stratus.Dashboard.DashboardOptions.Format(address, port, keystoneUrl, region, rootRedirect,
            keystoneUrl is null ? null : Path.Combine(DashboardDir, "keys"));
        WriteAtomically(DashboardConf, text);
    }

    /// <summary>
    /// placement.conf as Placement's: the region's own database, auth through the shared identity.
    /// OpenStack leaves the listening address to Apache; Stratus reads it from [DEFAULT] bind_host/bind_port.
    /// </summary>
    public void WritePlacementConf(string address, string identityRoot, string region, string password)
    {
        Directory.CreateDirectory(PlacementDir);
        var text = "# Written by `stratus node init`; sections and keys as Placement's placement.conf.\n" + IniFile.Format(
        [
            ("DEFAULT", [("bind_host", address), ("bind_port", "8778")]),
            ("api", [("auth_strategy", "keystone")]),
            ("placement_database", [("connection", $"sqlite:///{Path.Combine(PlacementDir, "placement.db")}")]),
            ("keystone_authtoken", ServiceUser(identityRoot, region, "placement", password)),
        ]);
        WriteAtomically(PlacementConf, text, secret: true);
    }

    public void WriteKeystoneConf(string address)
    {
        Directory.CreateDirectory(KeystoneDir);
        var text = "# Written by `stratus node init`; keys and sections as Keystone's keystone.conf.\n" + IniFile.Format(
        [
            ("DEFAULT", []),
            ("database", [("connection", $"sqlite:///{Path.Combine(KeystoneDir, "keystone.db")}")]),
            ("token", [("provider", "fernet"), ("expiration", "3600")]),
            ("fernet_tokens", [("key_repository", Path.Combine(KeystoneDir, "fernet-keys")), ("max_active_keys", "3")]),
            ("identity", [("password_hash_rounds", "12")]),
            // The identity API binds to the node's own address, never to all addresses.
            ("eventlet_server", [("public_bind_host", address), ("public_port", "5000")]),
        ]);
        WriteAtomically(KeystoneConf, text);
    }

    /// <summary>
    /// glance-api.conf as the seed's RegionTwo has it (section 5.1): the region's own database and file
    /// store, and <c>[keystone_authtoken]</c> pointing at the shared identity with the region's name.
    /// glance-registry.conf carries the same sections, as in the seed (Stratus has no separate registry).
    /// </summary>
    public void WriteGlanceConf(string address, string identityRoot, string region, string password)
    {
        Directory.CreateDirectory(GlanceDir);
        (string, IEnumerable<(string, string)>) database = ("database", [("connection", $"sqlite:///{Path.Combine(GlanceDir, "glance.db")}")]);
        (string, IEnumerable<(string, string)>) authtoken = ("keystone_authtoken", ServiceUser(identityRoot, region, "glance", password));
        (string, IEnumerable<(string, string)>) paste = ("paste_deploy", [("flavor", "keystone")]);
        var api = "# Written by `stratus node init`; sections and keys as Glance's glance-api.conf.\n" + IniFile.Format(
        [
            ("DEFAULT", [("bind_host", address), ("bind_port", "9292"), ("node_staging_uri", $"file://{Path.Combine(GlanceDir, "staging")}/")]),
            database,
            ("glance_store", [("stores", "file,http"), ("default_store", "file"), ("filesystem_store_datadir", Path.Combine(GlanceDir, "images") + "/")]),
            authtoken,
            paste,
        ]);
        WriteAtomically(GlanceApiConf, api, secret: true);
        var registry = "# Accepted for the seed's layout; the image API does not read it.\n" + IniFile.Format([("DEFAULT", []), database, authtoken, paste]);
        WriteAtomically(GlanceRegistryConf, registry, secret: true);
    }

    /// <summary>
    /// nova.conf as the seed's (section 5.2): the region's own databases and message bus, the shared
    /// identity for tokens, and each peer found in the catalog in this node's region ([placement],
    /// [neutron], [cinder]) or at the controller ([glance] api_servers). <c>[stratus] services</c> says
    /// which of Nova's services this node runs (the seed's controller runs api, scheduler and conductor;
    /// its compute nodes nova-compute).
    /// </summary>
    public void WriteNovaConf(string address, string host, string controller, string identityRoot, string region, string password,
        string transportUrl, IEnumerable<string> services)
    {
        Directory.CreateDirectory(NovaDir);
        var text = "# Written by `stratus node init`; sections and keys as Nova's nova.conf.\n" + IniFile.Format(
        [
            ("DEFAULT",
            [
                ("my_ip", address), ("host", host), ("transport_url", transportUrl), ("enabled_apis", "osapi_compute,metadata"),
                ("osapi_compute_listen", address), ("state_path", NovaDir), ("instances_path", Path.Combine(NovaDir, "instances")),
                ("compute_driver", "libvirt.LibvirtDriver"),
            ]),
            ("api_database", [("connection", $"sqlite:///{Path.Combine(NovaDir, "nova_api.db")}")]),
            ("database", [("connection", $"sqlite:///{Path.Combine(NovaDir, "nova.db")}")]),
            ("keystone_authtoken", ServiceUser(identityRoot, region, "nova", password)),
            ("glance", [("api_servers", $"http://{controller}:9292")]),
            ("neutron", [("url", $"http://{controller}:9696"), .. ServiceUser(identityRoot, region, "neutron", password).Skip(1)]),
            ("cinder", [("os_region_name", region)]),
            ("placement", [("os_region_name", region), .. ServiceUser(identityRoot + "/v3", region, "placement", password).Skip(1).SkipLast(1)]),
            // virt_type is left to the probe: KVM only where a guest really boots under it, else TCG (qemu).
            ("libvirt", []),
            ("vnc", [("enabled", "true"), ("server_listen", address), ("server_proxyclient_address", address)]),
            ("oslo_concurrency", [("lock_path", Path.Combine(NovaDir, "tmp"))]),
            ("stratus", [("services", string.Join(",", services))]),
        ]);
        WriteAtomically(NovaConf, text, secret: true);
    }

    /// <summary>The seed's [keystone_authtoken] keys for a service user of the shared identity.</summary>
    static IEnumerable<(string, string)> ServiceUser(string identityRoot, string region, string user, string password) =>
    [
        ("www_authenticate_uri", identityRoot),
        ("auth_url", identityRoot),
        ("auth_type", "password"),
        ("project_domain_name", "Default"),
        ("user_domain_name", "Default"),
        ("project_name", "service"),
        ("username", user),
        ("password", password),
        ("region_name", region),
    ];

    /// <summary>The seed's admin-openrc (section 4.2), for <c>source</c>.</summary>
    public void WriteAdminOpenrc(string authUrl, string region, string password)
    {
        var text = $"""
            export OS_REGION_NAME={region}
            export OS_PROJECT_DOMAIN_NAME=Default
            export OS_USER_DOMAIN_NAME=Default
            export OS_PROJECT_NAME=admin
            export OS_USERNAME=admin
            export OS_PASSWORD={password}
            export OS_AUTH_URL={authUrl}
            export OS_IDENTITY_API_VERSION=3
            export OS_IMAGE_API_VERSION=2

            """;
        Directory.CreateDirectory(Root);
        WriteAtomically(AdminOpenrc, text, secret: true);
    }

    /// <summary>The admin password recorded in admin-openrc, if the node was initialised before.</summary>
    public string? ReadAdminPassword() =>
        File.Exists(AdminOpenrc)
            ? File.ReadLines(AdminOpenrc).Select(l => l.Trim()).Where(l => l.StartsWith("export OS_PASSWORD=", StringComparison.Ordinal))
                .Select(l => l["export OS_PASSWORD=".Length..]).FirstOrDefault()
            : null;

    static void WriteAtomically(string path, string text, bool secret = false)
    {
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, text);
        if (secret && !OperatingSystem.IsWindows()) File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(tmp, path, overwrite: true);
    }
}

/// <summary>What <c>node init</c> is told about a node: its region, address and role, and where its peers are.</summary>
sealed record NodeSpec(string Region, string Address, string Password)
{
    /// <summary>The shared identity (…/v3) on another node; null when this node hosts it.</summary>
    public string? IdentityUrl { get; init; }
    /// <summary>all (one-node region), controller (the seed's 172.16.x.72) or compute (172.16.3.73).</summary>
    public string Role { get; init; } = "all";
    /// <summary>Nova's [DEFAULT] host: the name in service and hypervisor lists.</summary>
    public string? Host { get; init; }
    /// <summary>The region controller's address, for a compute node.</summary>
    public string? Controller { get; init; }
    public string? TransportUrl { get; init; }
    /// <summary>The dashboard's port on a node hosting the identity, and of the dashboard other regions redirect to (80).</summary>
    public int DashboardPort { get; init; } = 80;
    /// <summary>Where a controller of another region redirects its web root; by default the identity host's dashboard.</summary>
    public string? DashboardUrl { get; init; }
}
