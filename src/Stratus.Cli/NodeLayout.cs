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

    public bool HasIdentity => File.Exists(KeystoneConf);

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
