using Stratus.Core.Config;
using Stratus.Core.Operations;

namespace Stratus.Identity;

/// <summary>What the identity service reads from keystone.conf (Keystone's own section and key names).</summary>
public sealed record IdentityOptions
{
    public required string ConfigPath { get; init; }
    /// <summary>[metrics] and [healthcheck]: who may read /metrics, and the file that takes the service out of its pool.</summary>
    public OperationsOptions Operations { get; init; } = OperationsOptions.Default;
    /// <summary>[database] connection</summary>
    public required string DatabaseConnection { get; init; }
    /// <summary>[fernet_tokens] key_repository</summary>
    public required string KeyRepository { get; init; }
    /// <summary>[fernet_tokens] max_active_keys</summary>
    public int MaxActiveKeys { get; init; } = 3;
    /// <summary>[token] expiration, seconds</summary>
    public int TokenExpiration { get; init; } = 3600;
    /// <summary>[identity] password_hash_rounds (bcrypt cost)</summary>
    public int PasswordHashRounds { get; init; } = 12;
    /// <summary>[oslo_middleware] max_request_body_size</summary>
    public long MaxRequestBodySize { get; init; } = 114688;
    /// <summary>[eventlet_server] public_bind_host: the node's own address, never all addresses.</summary>
    public string BindHost { get; init; } = "127.0.0.1";
    /// <summary>[eventlet_server] public_port</summary>
    public int BindPort { get; init; } = 5000;
    /// <summary>[oslo_policy] policy_file, relative to the config file's directory.</summary>
    public string? PolicyFile { get; init; }
    /// <summary>[trust] max_redelegation_count: how long a chain of redelegated trusts may grow.</summary>
    public int MaxRedelegationCount { get; init; } = 3;
    /// <summary>[credential] auth_ttl, minutes: how old an EC2/S3 signature's timestamp may be.</summary>
    public int CredentialAuthTtl { get; init; } = 15;
    /// <summary>[oauth1] request_token_duration, seconds (0: never expires).</summary>
    public int OAuthRequestTokenDuration { get; init; } = 28800;
    /// <summary>[oauth1] access_token_duration, seconds (0: never expires).</summary>
    public int OAuthAccessTokenDuration { get; init; } = 86400;

    public static IdentityOptions FromIni(IniFile ini)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(ini.Path)) ?? ".";
        var options = new IdentityOptions
        {
            ConfigPath = ini.Path,
            Operations = OperationsOptions.FromIni(ini),
            DatabaseConnection = ini.GetString("database", "connection") ?? $"sqlite:///{Path.Combine(dir, "keystone.db")}",
            KeyRepository = ini.GetString("fernet_tokens", "key_repository") ?? Path.Combine(dir, "fernet-keys"),
            MaxActiveKeys = ini.GetInt("fernet_tokens", "max_active_keys", 3),
            TokenExpiration = ini.GetInt("token", "expiration", 3600),
            PasswordHashRounds = ini.GetInt("identity", "password_hash_rounds", 12),
            MaxRequestBodySize = ini.GetInt("oslo_middleware", "max_request_body_size", 114688),
            BindHost = ini.GetString("eventlet_server", "public_bind_host") ?? ini.GetString("DEFAULT", "my_ip") ?? "127.0.0.1",
            BindPort = ini.GetInt("eventlet_server", "public_port", 5000),
            PolicyFile = PolicyOptions.FileOf(ini),
            MaxRedelegationCount = ini.GetInt("trust", "max_redelegation_count", 3),
            CredentialAuthTtl = ini.GetInt("credential", "auth_ttl", 15),
            OAuthRequestTokenDuration = ini.GetInt("oauth1", "request_token_duration", 28800),
            OAuthAccessTokenDuration = ini.GetInt("oauth1", "access_token_duration", 86400),
        };
        var provider = ini.GetString("token", "provider", "fernet");
        if (provider != "fernet")
            throw new ConfigException(ini.Path, "token", "provider", $"'{provider}' is not supported; use fernet");
        if (options.TokenExpiration <= 0)
            throw new ConfigException(ini.Path, "token", "expiration", "must be a positive number of seconds");
        if (options.MaxActiveKeys < 1)
            throw new ConfigException(ini.Path, "fernet_tokens", "max_active_keys", "must be at least 1");
        if (options.PasswordHashRounds is < 4 or > 31)
            throw new ConfigException(ini.Path, "identity", "password_hash_rounds", "must be between 4 and 31 for bcrypt");
        try
        {
            Stratus.Core.Data.DatabaseUrl.Parse(options.DatabaseConnection);
        }
        catch (Exception e) when (e is FormatException or UriFormatException)
        {
            throw new ConfigException(ini.Path, "database", "connection", e.Message);
        }
        return options;
    }
}
