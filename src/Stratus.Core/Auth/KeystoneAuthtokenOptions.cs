using Stratus.Core.Config;

namespace Stratus.Core.Auth;

/// <summary>
/// A service's <c>[keystone_authtoken]</c> section, with keystonemiddleware's key names and defaults.
/// The same shape serves the other sections that log in to the identity as a service user
/// (nova's <c>[placement]</c>, <c>[neutron]</c>, <c>[glance]</c>...): see <see cref="FromSection"/>.
/// </summary>
public sealed record KeystoneAuthtokenOptions
{
    /// <summary>Where unauthenticated clients are sent (WWW-Authenticate); the public identity URL.</summary>
    public required string WwwAuthenticateUri { get; init; }
    public required string AuthUrl { get; init; }
    public required string Username { get; init; }
    public required string Password { get; init; }
    public required string ProjectName { get; init; }
    public string UserDomainName { get; init; } = "Default";
    public string ProjectDomainName { get; init; } = "Default";
    public string? RegionName { get; init; }
    /// <summary>The identity endpoint's interface in the catalog used for validation (keystonemiddleware: internal).</summary>
    public string Interface { get; init; } = "internal";
    public IReadOnlyList<string> MemcachedServers { get; init; } = [];
    public TimeSpan TokenCacheTime { get; init; } = TimeSpan.FromSeconds(300);
    public TimeSpan HttpConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);
    public bool DelayAuthDecision { get; init; }

    /// <summary>Where an error about these options points the operator.</summary>
    public required string Source { get; init; }

    /// <summary>The keys the seed writes for a service user of the shared identity, for a new node's files.</summary>
    public static IEnumerable<(string Key, string Value)> Keys(string identityRoot, string region, string user, string password) =>
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

    public static KeystoneAuthtokenOptions FromIni(IniFile ini, string section = "keystone_authtoken")
    {
        var o = FromSection(ini, section);
        return o with
        {
            WwwAuthenticateUri = ini.GetString(section, "www_authenticate_uri") ?? ini.GetString(section, "auth_uri") ?? o.AuthUrl,
            MemcachedServers = ini.GetList(section, "memcached_servers"),
            TokenCacheTime = TimeSpan.FromSeconds(ini.GetInt(section, "token_cache_time", 300)),
            DelayAuthDecision = ini.GetBool(section, "delay_auth_decision", false),
            Interface = ini.GetString(section, "interface") ?? "internal",
        };
    }

    /// <summary>The keystoneauth password plugin's keys, as every OpenStack service reads them.</summary>
    public static KeystoneAuthtokenOptions FromSection(IniFile ini, string section)
    {
        if (!ini.HasSection(section))
            throw new ConfigException(ini.Path, section, null, "the section is missing: the service cannot log in to the identity service");
        var authType = ini.GetString(section, "auth_type") ?? ini.GetString(section, "auth_plugin") ?? "password";
        if (authType is not ("password" or "v3password"))
            throw new ConfigException(ini.Path, section, "auth_type", $"'{authType}' is not supported; use 'password'");
        var authUrl = ini.GetRequired(section, "auth_url");
        if (!Uri.TryCreate(authUrl, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https"))
            throw new ConfigException(ini.Path, section, "auth_url", $"'{authUrl}' is not an http(s) URL");
        return new KeystoneAuthtokenOptions
        {
            WwwAuthenticateUri = authUrl,
            AuthUrl = authUrl,
            Username = ini.GetRequired(section, "username"),
            Password = ini.GetRequired(section, "password"),
            ProjectName = ini.GetRequired(section, "project_name"),
            UserDomainName = ini.GetString(section, "user_domain_name") ?? "Default",
            ProjectDomainName = ini.GetString(section, "project_domain_name") ?? "Default",
            RegionName = ini.GetString(section, "region_name") ?? ini.GetString(section, "os_region_name"),
            Interface = ini.GetString(section, "valid_interfaces")?.Split(',')[0].Trim() ?? "public",
            Source = $"{ini.Path} [{section}]",
        };
    }
}
