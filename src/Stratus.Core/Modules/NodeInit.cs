using Stratus.Core.Auth;
using Stratus.Core.Config;

namespace Stratus.Core.Modules;

/// <summary>
/// One <c>node init</c> in progress: the node's directory and spec, the identity its services trust and
/// the catalog they register in. The identity module, first in the list, fills in the last two when
/// the node hosts the identity.
/// </summary>
public sealed class NodeInit(string configDir, NodeSpec spec, ICatalogRegistry? catalog = null)
{
    ICatalogRegistry? _catalog = catalog;

    public string ConfigDir { get; } = configDir;
    public NodeSpec Spec { get; } = spec;

    /// <summary>The shared identity's v3 URL: the spec's, or this node's own once its identity is set up.</summary>
    public string? IdentityUrl { get; set; } = spec.IdentityUrl;

    /// <summary>Whether this node hosts the identity (no <c>--identity-url</c> given).</summary>
    public bool HostsIdentity => Spec.IdentityUrl is null;

    /// <summary>Where services register: by default the identity's API as the admin; the identity module sets its own database.</summary>
    public ICatalogRegistry Catalog
    {
        get => _catalog ??= new IdentityApiRegistry(IdentityV3, Spec.Password);
        set => _catalog = value;
    }

    public string IdentityV3 => IdentityUrl ?? throw new InvalidOperationException("no identity: the identity module must come first in the module list");

    /// <summary>keystonemiddleware's <c>auth_url</c> as the seed writes it: the identity's root, without /v3.</summary>
    public string IdentityRoot
    {
        get
        {
            var u = IdentityV3.TrimEnd('/');
            return u.EndsWith("/v3", StringComparison.Ordinal) ? u[..^3] : u;
        }
    }

    /// <summary>The name of this node in service lists: the spec's, else controller-/compute- and the address.</summary>
    public string HostName => Spec.Host ?? (Spec.Role == NodeRoles.Compute ? "compute-" : "controller-") + Spec.Address.Replace('.', '-');

    /// <summary>A service's <c>[keystone_authtoken]</c> (or <c>[placement]</c>, <c>[neutron]</c>...) keys for its user in the shared identity.</summary>
    public IEnumerable<(string Key, string Value)> ServiceUser(string user) =>
        KeystoneAuthtokenOptions.Keys(IdentityRoot, Spec.Region, user, Spec.Password);

    /// <summary>Writes a file of the node's directory whole or not at all; secrets readable by the node's user only.</summary>
    public void WriteFile(string relativePath, string text, bool secret = false)
    {
        var path = Path.Combine(ConfigDir, relativePath);
        // A key given twice in a section takes its last value, so what follows the defaults wins.
        if (Spec.PostConfig.TryGetValue(relativePath, out var postConfig)) text += "\n" + postConfig;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.Write(path, text, secret ? AtomicFile.OwnerOnly : null);
    }

    public string PathOf(string relativePath) => Path.Combine(ConfigDir, relativePath);
}
