namespace Stratus.Cli;

/// <summary>
/// A node's config directory in the seed's layout: one sub-directory per service (each module names its
/// file), and <c>admin-openrc</c> with the seed's variables.
/// </summary>
sealed record NodeLayout(string Root)
{
    public string AdminOpenrc => Path.Combine(Root, "admin-openrc");

    /// <summary>The seed's admin-openrc (section 4.2), for <c>source</c>.</summary>
    public static string FormatAdminOpenrc(string authUrl, string region, string password) => $"""
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

    /// <summary>The admin password recorded in admin-openrc, if the node was initialised before.</summary>
    public string? ReadAdminPassword() => File.Exists(AdminOpenrc) ? ReadOpenrc(this).GetValueOrDefault("OS_PASSWORD") : null;

    /// <summary>The variables of a node's admin-openrc; a usage error when the node has none.</summary>
    public static Dictionary<string, string> ReadOpenrc(NodeLayout node) => File.Exists(node.AdminOpenrc)
        ? File.ReadLines(node.AdminOpenrc).Select(l => l.Trim()).Where(l => l.StartsWith("export ", StringComparison.Ordinal))
            .Select(l => l["export ".Length..].Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal)
        : throw new UsageException($"no admin-openrc in {node.Root}: make the node with ./stratus node init, or the cloud with ./stratus up");
}
