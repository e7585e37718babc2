namespace Stratus.Core.Modules;

/// <summary>The roles of the seed's hosts.</summary>
public static class NodeRoles
{
    /// <summary>A one-node region: every service.</summary>
    public const string All = "all";
    /// <summary>The seed's 172.16.x.72: the APIs, schedulers and conductors of a region.</summary>
    public const string Controller = "controller";
    /// <summary>The seed's 172.16.3.73: nova-compute (and later the network agents) only.</summary>
    public const string Compute = "compute";
}

/// <summary>What <c>node init</c> is told about a node: its region, address and role, and where its peers are.</summary>
public sealed record NodeSpec(string Region, string Address, string Password)
{
    /// <summary>The shared identity (…/v3) on another node; null when this node hosts it.</summary>
    public string? IdentityUrl { get; init; }
    public string Role { get; init; } = NodeRoles.All;
    /// <summary>The node's name in service and hypervisor lists (Nova's <c>[DEFAULT] host</c>).</summary>
    public string? Host { get; init; }
    /// <summary>The region controller's address, for a compute node.</summary>
    public string? Controller { get; init; }
    public string? TransportUrl { get; init; }
    /// <summary>The dashboard's port on a node hosting the identity, and of the dashboard other regions redirect to (80).</summary>
    public int DashboardPort { get; init; } = 80;
    /// <summary>Where a controller of another region redirects its web root; by default the identity host's dashboard.</summary>
    public string? DashboardUrl { get; init; }
    /// <summary>
    /// INI text added to a config file as init writes it, by the file's path in the node
    /// ("keystone/keystone.conf"), its keys winning over the defaults: devstack's post-config. How a test
    /// node gives its identity another database, or cheaper password hashes, before init bootstraps it.
    /// </summary>
    public IReadOnlyDictionary<string, string> PostConfig { get; init; } = new Dictionary<string, string>();
}
