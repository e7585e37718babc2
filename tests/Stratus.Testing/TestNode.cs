using Stratus.Cli;
using Stratus.Core.Config;
using Stratus.Core.Modules;
using Stratus.Identity;
using Stratus.Network;

namespace Stratus.Testing;

/// <summary>
/// A node as <c>stratus node init</c> and <c>node start</c> make one: a temporary config directory
/// initialised by a list of service modules (those of <see cref="ServiceModules.All"/> a test keeps, or a
/// module of its own), whose services start through the same modules. Each node has a loopback address
/// of its own (Linux answers every 127.0.0.0/8 address), so its services listen on the seed's ports
/// without meeting another node, a test class running in parallel, or <c>./stratus up</c> at 127.16.x.
/// </summary>
public sealed class TestNode : IAsyncDisposable
{
    public const string Region = "RegionOne";

    /// <summary>The admin's password, which node init also gives the services' users.</summary>
    public const string AdminPassword = "s3cret-admin";

    /// <summary>bcrypt's least cost: tests create many users and log in often; <c>node init</c> writes Keystone's 12.</summary>
    const string CheapPasswordHashes = "[identity]\npassword_hash_rounds = 4\n";

    static int _nodes;

    readonly NodeInit _init;
    readonly Dictionary<IServiceModule, IServiceModule> _configured = [];
    NodeRuntime? _runtime;
    IReadOnlyList<StartedService> _services = [];

    TestNode(IReadOnlyList<IServiceModule> modules, NodeInit init)
    {
        Modules = modules;
        _init = init;
    }

    public IReadOnlyList<IServiceModule> Modules { get; }

    /// <summary>The clock the node's services read (identity's key re-checks, auth_token's cache); set before <see cref="StartAsync"/>.</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;
    public string ConfigDir => _init.ConfigDir;
    public NodeSpec Spec => _init.Spec;

    /// <summary>The v3 URL of the identity the node's services trust: its own, or the spec's.</summary>
    public string IdentityUrl => _init.IdentityV3;

    /// <summary>The modules of <see cref="ServiceModules.All"/> a node keeps, in the list's order (the identity first).</summary>
    public static IReadOnlyList<IServiceModule> Services(Func<IServiceModule, bool> keep) => [.. ServiceModules.All.Where(keep)];

    /// <summary>
    /// A node of <see cref="Region"/> on an address of its own, with a message bus of its own (the in-process
    /// bus is one per name in a process) and cheap password hashes; <paramref name="postConfig"/> adds INI
    /// text to the node's files (<see cref="NodeSpec.PostConfig"/>).
    /// </summary>
    public static NodeSpec NewSpec(IReadOnlyDictionary<string, string>? postConfig = null)
    {
        var n = Interlocked.Increment(ref _nodes);
        var config = new Dictionary<string, string>
        {
            [IdentityModule.KeystoneConf] = CheapPasswordHashes,
            [NetworkModule.Ml2Conf] = $"[ml2_type_vxlan]\nvni_ranges = {VniWindow(n)}\n",
        };
        foreach (var (file, text) in postConfig ?? new Dictionary<string, string>()) config[file] = config.GetValueOrDefault(file, "") + text;
        return new NodeSpec(Region, Address(n), AdminPassword) { TransportUrl = "inproc://test-" + Guid.NewGuid().ToString("N"), PostConfig = config };
    }

    /// <summary>127.(100 + this process's node count).P.P, P the process id's two low bytes: unique across the test processes of a machine.</summary>
    static string Address(int n)
    {
        var pid = Environment.ProcessId;
        return $"127.{100 + n % 150}.{(pid >> 8) & 255}.{pid & 255}";
    }

    /// <summary>
    /// A thousand VNIs of the node's own (as many as <c>node init</c> gives): the nodes of a machine share its
    /// kernel, where a vxlan network's interface is named by its VNI (vxlan-VNI), so two nodes that both began
    /// at 1 would take each other's. Like the address, by this process's node count and its id.
    /// </summary>
    static string VniWindow(int n)
    {
        var first = (Environment.ProcessId % 100 * 150 + n % 150) * 1000 + 1;
        return $"{first}:{first + 999}";
    }

    /// <summary><c>node init</c> of a new node directory: each module that belongs on the node writes its files, its database and its catalog entries.</summary>
    public static async Task<TestNode> InitAsync(IEnumerable<IServiceModule> modules, NodeSpec spec)
    {
        var list = modules.ToList();
        var init = new NodeInit(Directory.CreateTempSubdirectory("stratus-node-").FullName, spec);
        try
        {
            await Node.InitAsync(list, init);
        }
        catch
        {
            Directory.Delete(init.ConfigDir, recursive: true);
            throw;
        }
        return new TestNode(list, init);
    }

    /// <summary>Changes the options the service of <typeparamref name="TOptions"/> starts with (after its file is read); before <see cref="StartAsync"/>.</summary>
    public void Configure<TOptions>(Func<TOptions, TOptions> change) where TOptions : class
    {
        var module = Module<TOptions>();
        _configured[module] = new Configured<TOptions>(module,
            _configured.TryGetValue(module, out var earlier) ? o => change(((Configured<TOptions>)earlier).Change(o)) : change);
    }

    /// <summary>The options the service of <typeparamref name="TOptions"/> runs with: its file's, changed as configured.</summary>
    public TOptions Options<TOptions>() where TOptions : class
    {
        var module = Module<TOptions>();
        var options = module.ReadOptions(ConfigDir);
        return _configured.TryGetValue(module, out var c) ? ((Configured<TOptions>)c).Change(options) : options;
    }

    ServiceModule<TOptions> Module<TOptions>() where TOptions : class => Modules.OfType<ServiceModule<TOptions>>().Single();

    /// <summary><c>node start</c>: every service the node's directory configures, in the list's order.</summary>
    public async Task StartAsync()
    {
        _runtime = new NodeRuntime { Time = Time };
        _services = await Node.StartAsync([.. Modules.Select(m => _configured.GetValueOrDefault(m, m))], [ConfigDir], _runtime);
    }

    /// <summary>Stops the node's services (its addresses stop answering); its directory stays until disposed.</summary>
    public async Task StopAsync()
    {
        await Node.StopAsync(_services);
        _services = [];
        if (_runtime is not null) await _runtime.DisposeAsync();
        _runtime = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await LeftoverDataPlane.RemoveAsync(ConfigDir);
        try { Directory.Delete(ConfigDir, recursive: true); } catch (IOException) { }
    }

    /// <summary>A module that starts with changed options: what a fixture does to an operator's file, without writing it.</summary>
    sealed class Configured<TOptions>(ServiceModule<TOptions> module, Func<TOptions, TOptions> change) : IServiceModule where TOptions : class
    {
        public Func<TOptions, TOptions> Change => change;
        public string Name => module.Name;
        public string ConfigFile => module.ConfigFile;

        public Task InitAsync(NodeInit node, CancellationToken ct = default) => module.InitAsync(node, ct);

        public IEnumerable<ServiceRegistration> CatalogEntries(NodeInit node) => module.CatalogEntries(node);

        public Task SyncDatabaseAsync(IniFile config, CancellationToken ct = default) => module.SyncDatabaseAsync(config, ct);

        public async Task<StartedService?> StartAsync(string configDir, NodeRuntime runtime, CancellationToken ct = default)
        {
            if (!module.IsConfigured(configDir)) return null;
            var options = change(module.ReadOptions(configDir));
            return await module.StartAsync(options, runtime, module.Describe(options, Path.Combine(configDir, ConfigFile)), ct);
        }
    }
}
