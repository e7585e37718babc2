using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Stratus.Core.Config;
using Stratus.Core.Modules;
using Stratus.Identity.Tokens;

namespace Stratus.Identity;

/// <summary>
/// The shared identity (Keystone v3) on a node: keystone.conf, its database and Fernet keys, port 5000.
/// Its verbs are keystone-manage's: db_sync, bootstrap, fernet_setup/rotate, credential_setup/rotate.
/// First in the module list: on a node hosting it, <c>node init</c> bootstraps it and the other
/// services register in its database; elsewhere it adds the shared identity's endpoints to the node's region.
/// </summary>
public sealed class IdentityModule : ServiceModule<IdentityOptions>
{
    public const string KeystoneConf = "keystone/keystone.conf";

    public override string Name => "identity";
    public override string ConfigFile => KeystoneConf;

    public override IdentityOptions ReadOptions(IniFile ini) => IdentityOptions.FromIni(ini);

    protected override void WriteDefaults(NodeInit node)
    {
        var dir = node.PathOf("keystone");
        node.WriteFile(KeystoneConf, "# Written by `stratus node init`; keys and sections as Keystone's keystone.conf.\n" + IniFile.Format(
        [
            ("DEFAULT", []),
            ("database", [("connection", $"sqlite:///{Path.Combine(dir, "keystone.db")}")]),
            ("token", [("provider", "fernet"), ("expiration", "3600")]),
            ("fernet_tokens", [("key_repository", Path.Combine(dir, "fernet-keys")), ("max_active_keys", "3")]),
            ("identity", [("password_hash_rounds", "12")]),
            // The identity API binds to the node's own address, never to all addresses.
            ("eventlet_server", [("public_bind_host", node.Spec.Address), ("public_port", "5000")]),
        ]), secret: true); // the seed's [database] connection holds KEYSTONE_DBPASS once the database is a server
    }

    public override async Task InitAsync(NodeInit node, CancellationToken ct = default)
    {
        if (!node.HostsIdentity)
        {
            // Seed 4.1: the shared identity gets endpoints in this region too (what bootstrap --bootstrap-region-id does).
            if (node.Spec.Role != NodeRoles.Compute) await node.Catalog.RegisterAsync(RegionEndpoints(node.Spec.Region, node.IdentityV3), ct);
            return;
        }
        if (!IsConfigured(node.ConfigDir)) WriteDefaults(node);
        var options = ReadOptions(node.ConfigDir);
        await SyncDatabaseAsync(options, upgrade: true, ct);
        SetupKeys(options);
        node.IdentityUrl = Url(options);
        await BootstrapRegionAsync(options, node.Spec.Region, node.Spec.Password, ct);
        node.Catalog = LocalRegistry(options);
    }

    /// <summary>A region's identity endpoints: the shared identity's URL (what bootstrap --bootstrap-region-id makes).</summary>
    public static ServiceRegistration RegionEndpoints(string region, string identityV3) =>
        new("identity", "keystone", null, region, identityV3.TrimEnd('/') + "/");

    /// <summary>The identity API's v3 URL on its node.</summary>
    public static string Url(IdentityOptions options) => $"http://{options.BindHost}:{options.BindPort}/v3";

    /// <summary>keystone-manage db_sync: creates the schema (and SQLite's WAL mode) if missing, or upgrades it.</summary>
    public override Task SyncDatabaseAsync(IdentityOptions options, bool upgrade, CancellationToken ct = default) =>
        IdentityService.SyncDatabaseAsync(options, upgrade, ct);

    /// <summary>keystone-manage bootstrap: the admin, roles and, when given, a region with the identity endpoints.</summary>
    public static async Task<IReadOnlyList<string>> BootstrapAsync(IdentityOptions options, BootstrapArgs args, CancellationToken ct = default)
    {
        await IdentityService.SyncDatabaseAsync(options, upgrade: true, ct);
        await using var db = IdentityService.OpenDatabase(options);
        return await Bootstrap.RunAsync(db, args, options.PasswordHashRounds, ct);
    }

    /// <summary>Bootstrap for a region whose identity endpoints are this identity (seed 4.1, also for RegionTwo).</summary>
    public static Task<IReadOnlyList<string>> BootstrapRegionAsync(IdentityOptions options, string region, string password, CancellationToken ct = default)
    {
        var url = Url(options) + "/";
        return BootstrapAsync(options, new BootstrapArgs { Password = password, RegionId = region, AdminUrl = url, InternalUrl = url, PublicUrl = url }, ct);
    }

    /// <summary>
    /// The projects and users (as domain/name) this identity holds: what <c>region join</c> reports of a node's own
    /// identity before the node moves to the shared one, which does not receive them.
    /// </summary>
    public static async Task<(IReadOnlyList<string> Projects, IReadOnlyList<string> Users)> ContentsAsync(IdentityOptions options, CancellationToken ct = default)
    {
        await using var db = IdentityService.OpenDatabase(options);
        var domains = await db.Domains.ToDictionaryAsync(d => d.Id, d => d.Name, ct);
        string Named(string domainId, string name) => $"{domains.GetValueOrDefault(domainId, domainId)}/{name}";
        var projects = await db.Projects.Select(p => new { p.DomainId, p.Name }).ToListAsync(ct);
        var users = await db.Users.Select(u => new { u.DomainId, u.Name }).ToListAsync(ct);
        return ([.. projects.Select(p => Named(p.DomainId, p.Name)).Order(StringComparer.Ordinal)],
            [.. users.Select(u => Named(u.DomainId, u.Name)).Order(StringComparer.Ordinal)]);
    }

    /// <summary>keystone-manage fernet_setup (or credential_setup): a key repository, unless it has keys.</summary>
    public static void SetupKeys(IdentityOptions options, bool credentialKeys = false) => KeyRepository(options, credentialKeys).Setup();

    /// <summary>keystone-manage fernet_rotate (or credential_rotate); running nodes read the new keys live.</summary>
    public static void RotateKeys(IdentityOptions options, bool credentialKeys = false) => KeyRepository(options, credentialKeys).Rotate();

    static FernetKeyRepository KeyRepository(IdentityOptions options, bool credentialKeys) =>
        credentialKeys
            ? new FernetKeyRepository(Path.Combine(Path.GetDirectoryName(options.KeyRepository) ?? ".", "credential-keys"), options.MaxActiveKeys)
            : new FernetKeyRepository(options.KeyRepository, options.MaxActiveKeys);

    /// <summary>Registers services straight in this identity's database: for <c>node init</c> and <c>up</c>, before it runs.</summary>
    public static ICatalogRegistry LocalRegistry(IdentityOptions options) => new DatabaseRegistry(options);

    sealed class DatabaseRegistry(IdentityOptions options) : ICatalogRegistry
    {
        public async Task RegisterAsync(ServiceRegistration registration, CancellationToken ct = default)
        {
            await using var db = IdentityService.OpenDatabase(options);
            await Bootstrap.RegisterServiceAsync(db, registration, options.PasswordHashRounds, ct);
        }
    }

    public override async Task<StartedService> StartAsync(IdentityOptions options, NodeRuntime runtime, string description, CancellationToken ct = default)
    {
        // Fail now, naming the fix, rather than on the first token request.
        if (!Directory.Exists(options.KeyRepository) || Directory.GetFiles(options.KeyRepository).Length == 0)
            throw new ConfigException(options.ConfigPath, "fernet_tokens", "key_repository",
                $"{options.KeyRepository} holds no keys: run `stratus keystone-manage --config-dir {Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(options.ConfigPath)))} fernet_setup`");
        return await base.StartAsync(options, runtime, description, ct);
    }

    public override IHost Build(IdentityOptions options, NodeRuntime runtime) =>
        IdentityService.Build(options, b => b.Services.AddSingleton(runtime.Time));

    public override string Describe(IdentityOptions options, string configFile) => $"identity: {Url(options)} ({configFile})";
}
