using Microsoft.Extensions.Hosting;
using Stratus.Core.Config;

namespace Stratus.Core.Modules;

/// <summary>
/// One OpenStack service as a node runs it. <c>node init</c>, <c>node start</c>, <c>up</c> and the test
/// nodes loop over a list of modules; adding a service is one module and one line in that list.
/// </summary>
public interface IServiceModule
{
    /// <summary>The service's name in what the node prints ("image").</summary>
    string Name { get; }

    /// <summary>Its config file in the node's directory, in the seed's layout ("glance/glance-api.conf").</summary>
    string ConfigFile { get; }

    /// <summary>
    /// <c>node init</c>: when the service belongs on the node, writes its default configuration (unless
    /// the file is there already), creates its database and registers its catalog entries.
    /// </summary>
    Task InitAsync(NodeInit node, CancellationToken ct = default);

    /// <summary>The service's <c>*-manage db sync</c> with the options of the given config file.</summary>
    Task SyncDatabaseAsync(IniFile config, CancellationToken ct = default);

    /// <summary>What the service configured in the node's directory puts in the catalog of the node's region (none if not configured).</summary>
    IEnumerable<ServiceRegistration> CatalogEntries(NodeInit node);

    /// <summary>
    /// <c>node start</c>: the service's host (API and background workers), its database synced, started;
    /// null when the node's directory does not configure this service.
    /// </summary>
    Task<StartedService?> StartAsync(string configDir, NodeRuntime runtime, CancellationToken ct = default);
}

/// <summary>A running service: its host, and the line the node prints about it.</summary>
public sealed record StartedService(IServiceModule Module, IHost Host, string Description);

/// <summary>
/// The shape every module has: options read from its INI file, a default configuration for a node,
/// catalog entries, a database sync and a host. A service overrides what it has.
/// </summary>
public abstract class ServiceModule<TOptions> : IServiceModule where TOptions : class
{
    public abstract string Name { get; }
    public abstract string ConfigFile { get; }

    /// <summary>The service's options from its config file, with errors naming file, section and key.</summary>
    public abstract TOptions ReadOptions(IniFile ini);

    public TOptions ReadOptions(string configDir) => ReadOptions(IniFile.Load(Path.Combine(configDir, ConfigFile)));

    public bool IsConfigured(string configDir) => File.Exists(Path.Combine(configDir, ConfigFile));

    /// <summary>Whether <c>node init</c> gives this service to a node (by default every role but a compute node).</summary>
    protected virtual bool BelongsOn(NodeSpec spec) => spec.Role != NodeRoles.Compute;

    /// <summary>The service's files for a new node, in the seed's layout.</summary>
    protected abstract void WriteDefaults(NodeInit node);

    /// <summary>What the service puts in the catalog of the node's region (its user, service and endpoints).</summary>
    public virtual IEnumerable<ServiceRegistration> CatalogEntries(TOptions options, NodeInit node) => [];

    public IEnumerable<ServiceRegistration> CatalogEntries(NodeInit node) =>
        IsConfigured(node.ConfigDir) ? CatalogEntries(ReadOptions(node.ConfigDir), node) : [];

    /// <summary>
    /// The service's <c>*-manage db sync</c>: creates the schema if missing, else brings an older one to this release's
    /// (a node start passes <paramref name="upgrade"/> false unless told, and then refuses an older schema).
    /// </summary>
    public virtual Task SyncDatabaseAsync(TOptions options, bool upgrade, CancellationToken ct = default) => Task.CompletedTask;

    public Task SyncDatabaseAsync(IniFile config, CancellationToken ct = default) => SyncDatabaseAsync(ReadOptions(config), upgrade: true, ct);

    /// <summary>The service's host on the node's address and its port, not yet started.</summary>
    public abstract IHost Build(TOptions options, NodeRuntime runtime);

    /// <summary>The line <c>node start</c> prints once the service runs.</summary>
    public abstract string Describe(TOptions options, string configFile);

    public virtual async Task InitAsync(NodeInit node, CancellationToken ct = default)
    {
        if (!BelongsOn(node.Spec)) return;
        if (!IsConfigured(node.ConfigDir)) WriteDefaults(node);
        var options = ReadOptions(node.ConfigDir);
        await SyncDatabaseAsync(options, upgrade: true, ct);
        foreach (var entry in CatalogEntries(options, node)) await node.Catalog.RegisterAsync(entry, ct);
    }

    public async Task<StartedService?> StartAsync(string configDir, NodeRuntime runtime, CancellationToken ct = default)
    {
        if (!IsConfigured(configDir)) return null;
        var options = ReadOptions(configDir);
        return await StartAsync(options, runtime, Describe(options, Path.Combine(configDir, ConfigFile)), ct);
    }

    /// <summary>Starts the service with the given options (a test node may change them first).</summary>
    public virtual async Task<StartedService> StartAsync(TOptions options, NodeRuntime runtime, string description, CancellationToken ct = default)
    {
        await SyncDatabaseAsync(options, runtime.UpgradeDatabases, ct);
        var host = Build(options, runtime);
        try
        {
            await host.StartAsync(ct);
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return new StartedService(this, host, description);
    }
}
