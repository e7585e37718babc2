using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Stratus.Core.Data;
using Stratus.Core.Policy;
using Stratus.Identity.Assignment;
using Stratus.Identity.Catalog;
using Stratus.Identity.Identity;
using Stratus.Identity.OAuth1;
using Stratus.Identity.Policy;
using Stratus.Identity.Resource;
using Stratus.Identity.Tokens;
using Stratus.Identity.Trusts;

namespace Stratus.Identity.Data;

/// <summary>The identity database: the one both regions share (seed section 4).</summary>
public sealed class IdentityDb(DbContextOptions<IdentityDb> options, IdentityGeneration? generation = null) : ServiceDb(options)
{
    /// <summary>The schema's steps since the release of 2026-12-02 (the first without a stamp); see SchemaHistory.</summary>
    public static SchemaHistory History { get; } = new("keystone-manage db_sync",
    [
        new(1, "trusts, OAuth1 tokens, consumer secrets kept for signatures, case-insensitive names", async (s, ct) =>
        {
            await s.CreateMissingTablesAsync(ct: ct);
            // A consumer made before kept only a hash of its secret, which cannot check a signature: it keeps the hash
            // (no one can sign with it) and has to be made again to be used.
            await s.RenameColumnAsync("consumer", "SecretHash", "Secret", ct);
            await s.AlterColumnsAsync("consumer", ["Secret"], ct);
            foreach (var table in new[] { "domain", "group", "project", "role", "user" }) await s.AlterColumnsAsync(table, ["Name"], ct);
        }),
    ]);

    // Every save bumps the node's generation, so cached token validations and catalogs are redone; a
    // save after ExecuteDelete/ExecuteUpdate (which bypass the change tracker) does it for them too.
    public override async Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        var n = await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
        generation?.Bump();
        return n;
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        var n = base.SaveChanges(acceptAllChangesOnSuccess);
        generation?.Bump();
        return n;
    }

    public DbSet<Region> Regions => Set<Region>();
    public DbSet<Service> Services => Set<Service>();
    public DbSet<Endpoint> Endpoints => Set<Endpoint>();
    public DbSet<EndpointGroup> EndpointGroups => Set<EndpointGroup>();
    public DbSet<ProjectEndpoint> ProjectEndpoints => Set<ProjectEndpoint>();
    public DbSet<ProjectEndpointGroup> ProjectEndpointGroups => Set<ProjectEndpointGroup>();
    public DbSet<Domain> Domains => Set<Domain>();
    public DbSet<Project> Projects => Set<Project>();
    public DbSet<ProjectTag> ProjectTags => Set<ProjectTag>();
    public DbSet<User> Users => Set<User>();
    public DbSet<Group> Groups => Set<Group>();
    public DbSet<GroupMembership> GroupMemberships => Set<GroupMembership>();
    public DbSet<Credential> Credentials => Set<Credential>();
    public DbSet<ApplicationCredential> ApplicationCredentials => Set<ApplicationCredential>();
    public DbSet<AccessRule> AccessRules => Set<AccessRule>();
    public DbSet<Role> Roles => Set<Role>();
    public DbSet<ImpliedRole> ImpliedRoles => Set<ImpliedRole>();
    public DbSet<RoleAssignment> RoleAssignments => Set<RoleAssignment>();
    public DbSet<PolicyBlob> Policies => Set<PolicyBlob>();
    public DbSet<RevocationEvent> RevocationEvents => Set<RevocationEvent>();
    public DbSet<DomainConfig> DomainConfigs => Set<DomainConfig>();
    public DbSet<OAuthConsumer> OAuthConsumers => Set<OAuthConsumer>();
    public DbSet<RequestToken> RequestTokens => Set<RequestToken>();
    public DbSet<AccessToken> AccessTokens => Set<AccessToken>();
    public DbSet<Trust> Trusts => Set<Trust>();
    public DbSet<TrustRole> TrustRoles => Set<TrustRole>();

    // The model depends on the provider (the names' collation): one cached model per provider, not per
    // context type, as tests and keystone-manage may open SQLite, PostgreSQL and MariaDB in one process.
    protected override void OnConfiguring(DbContextOptionsBuilder options) =>
        options.ReplaceService<IModelCacheKeyFactory, ProviderModelCacheKey>();

    sealed class ProviderModelCacheKey : IModelCacheKeyFactory
    {
        public object Create(DbContext context, bool designTime) => (context.GetType(), context.Database.ProviderName, designTime);
    }

    const string PostgresNoCase = "stratus_nocase";

    /// <summary>
    /// The collation of user, group, project, domain and role names: case-insensitive on every
    /// database, as Keystone's names are on MariaDB (utf8_general_ci), so a lookup by name and the
    /// unique indexes both ignore case. SQLite's NOCASE folds ASCII letters only.
    /// </summary>
    static string? NameCollation(string? provider) => provider switch
    {
        "Microsoft.EntityFrameworkCore.Sqlite" => "NOCASE",
        "Npgsql.EntityFrameworkCore.PostgreSQL" => PostgresNoCase,
        "MySql.EntityFrameworkCore" => "utf8mb4_general_ci",
        _ => null,
    };

    // In a method of its own, so that only a PostgreSQL node loads Npgsql (see DatabaseUrl).
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void AddPostgresNoCase(ModelBuilder b) =>
        b.HasCollation(PostgresNoCase, locale: "und-u-ks-level2", provider: "icu", deterministic: false);

    protected override void ConfigureConventions(ModelConfigurationBuilder c)
    {
        c.Properties<DateTime>().HaveConversion<UtcConverter>();
        c.Properties<DateTime?>().HaveConversion<UtcConverter>();
    }

    protected override void OnModelCreating(ModelBuilder b)
    {
        const int Id = 64, Name = 255;
        var names = NameCollation(Database.ProviderName);
        if (names == PostgresNoCase) AddPostgresNoCase(b);
        b.Entity<Region>(e =>
        {
            e.ToTable("region");
            e.Property(x => x.Id).HasMaxLength(Name);
            e.Property(x => x.ParentRegionId).HasMaxLength(Name);
        });
        b.Entity<Service>(e => { e.ToTable("service"); e.Property(x => x.Id).HasMaxLength(Id); e.Property(x => x.Type).HasMaxLength(Name); });
        b.Entity<Endpoint>(e =>
        {
            e.ToTable("endpoint");
            e.Property(x => x.Id).HasMaxLength(Id);
            e.Property(x => x.ServiceId).HasMaxLength(Id);
            e.Property(x => x.Interface).HasMaxLength(8);
            e.Property(x => x.RegionId).HasMaxLength(Name);
            e.HasIndex(x => x.ServiceId);
        });
        b.Entity<EndpointGroup>(e => { e.ToTable("endpoint_group"); e.Property(x => x.Id).HasMaxLength(Id); });
        b.Entity<ProjectEndpoint>(e => { e.ToTable("project_endpoint"); e.HasKey(x => new { x.EndpointId, x.ProjectId }); });
        b.Entity<ProjectEndpointGroup>(e => { e.ToTable("project_endpoint_group"); e.HasKey(x => new { x.EndpointGroupId, x.ProjectId }); });
        b.Entity<Domain>(e =>
        {
            e.ToTable("domain");
            e.Property(x => x.Id).HasMaxLength(Id);
            e.Property(x => x.Name).HasMaxLength(Name).UseCollation(names);
            e.HasIndex(x => x.Name).IsUnique();
        });
        b.Entity<Project>(e =>
        {
            e.ToTable("project");
            e.Property(x => x.Id).HasMaxLength(Id);
            e.Property(x => x.Name).HasMaxLength(Name).UseCollation(names);
            e.Property(x => x.DomainId).HasMaxLength(Id);
            e.Property(x => x.ParentId).HasMaxLength(Id);
            e.HasIndex(x => new { x.DomainId, x.Name }).IsUnique();
            e.HasMany(x => x.Tags).WithOne().HasForeignKey(t => t.ProjectId).OnDelete(DeleteBehavior.Cascade);
        });
        b.Entity<ProjectTag>(e =>
        {
            e.ToTable("project_tag");
            e.HasKey(x => new { x.ProjectId, x.Name });
            e.Property(x => x.ProjectId).HasMaxLength(Id);
            e.Property(x => x.Name).HasMaxLength(Name);
        });
        b.Entity<User>(e =>
        {
            e.ToTable("user");
            e.Property(x => x.Id).HasMaxLength(Id);
            e.Property(x => x.Name).HasMaxLength(Name).UseCollation(names);
            e.Property(x => x.DomainId).HasMaxLength(Id);
            e.HasIndex(x => new { x.DomainId, x.Name }).IsUnique();
        });
        b.Entity<Group>(e =>
        {
            e.ToTable("group");
            e.Property(x => x.Id).HasMaxLength(Id);
            e.Property(x => x.Name).HasMaxLength(Name).UseCollation(names);
            e.Property(x => x.DomainId).HasMaxLength(Id);
            e.HasIndex(x => new { x.DomainId, x.Name }).IsUnique();
        });
        b.Entity<GroupMembership>(e =>
        {
            e.ToTable("user_group_membership");
            e.HasKey(x => new { x.UserId, x.GroupId });
            e.Property(x => x.UserId).HasMaxLength(Id);
            e.Property(x => x.GroupId).HasMaxLength(Id);
            e.HasIndex(x => x.GroupId);
        });
        b.Entity<Credential>(e => { e.ToTable("credential"); e.Property(x => x.Id).HasMaxLength(Id); e.HasIndex(x => x.UserId); });
        b.Entity<ApplicationCredential>(e =>
        {
            e.ToTable("application_credential");
            e.Property(x => x.Id).HasMaxLength(Id);
            e.Property(x => x.UserId).HasMaxLength(Id);
            e.Property(x => x.Name).HasMaxLength(Name);
            e.HasIndex(x => new { x.UserId, x.Name }).IsUnique();
        });
        b.Entity<AccessRule>(e => { e.ToTable("access_rule"); e.Property(x => x.Id).HasMaxLength(Id); e.HasIndex(x => x.UserId); });
        b.Entity<Role>(e =>
        {
            e.ToTable("role");
            e.Property(x => x.Id).HasMaxLength(Id);
            e.Property(x => x.Name).HasMaxLength(Name).UseCollation(names);
            e.Property(x => x.DomainId).HasMaxLength(Id);
        });
        b.Entity<ImpliedRole>(e => { e.ToTable("implied_role"); e.HasKey(x => new { x.PriorRoleId, x.ImpliedRoleId }); });
        b.Entity<RoleAssignment>(e =>
        {
            e.ToTable("assignment");
            e.HasKey(x => new { x.Type, x.ActorId, x.TargetId, x.RoleId, x.Inherited });
            e.Property(x => x.Type).HasMaxLength(16);
            e.Property(x => x.ActorId).HasMaxLength(Id);
            e.Property(x => x.TargetId).HasMaxLength(Id);
            e.Property(x => x.RoleId).HasMaxLength(Id);
            e.HasIndex(x => x.ActorId);
            e.HasIndex(x => x.RoleId);
        });
        b.Entity<PolicyBlob>(e => { e.ToTable("policy"); e.Property(x => x.Id).HasMaxLength(Id); });
        b.Entity<DomainConfig>(e =>
        {
            e.ToTable("config_register");
            e.HasKey(x => new { x.DomainId, x.Group, x.Option });
            e.Property(x => x.DomainId).HasMaxLength(Id);
            e.Property(x => x.Group).HasMaxLength(Name);
            e.Property(x => x.Option).HasMaxLength(Name);
        });
        b.Entity<OAuthConsumer>(e => { e.ToTable("consumer"); e.Property(x => x.Id).HasMaxLength(Id); e.Property(x => x.Secret).HasMaxLength(Id); });
        b.Entity<RequestToken>(e =>
        {
            e.ToTable("request_token");
            e.Property(x => x.Id).HasMaxLength(Id);
            e.Property(x => x.ConsumerId).HasMaxLength(Id);
            e.HasIndex(x => x.ConsumerId);
        });
        b.Entity<AccessToken>(e =>
        {
            e.ToTable("access_token");
            e.Property(x => x.Id).HasMaxLength(Id);
            e.Property(x => x.ConsumerId).HasMaxLength(Id);
            e.Property(x => x.AuthorizingUserId).HasMaxLength(Id);
            e.HasIndex(x => x.AuthorizingUserId);
        });
        b.Entity<Trust>(e =>
        {
            e.ToTable("trust");
            e.Property(x => x.Id).HasMaxLength(Id);
            e.Property(x => x.TrustorUserId).HasMaxLength(Id);
            e.Property(x => x.TrusteeUserId).HasMaxLength(Id);
            e.Property(x => x.ProjectId).HasMaxLength(Id);
            e.Property(x => x.RedelegatedTrustId).HasMaxLength(Id);
            e.HasIndex(x => x.TrustorUserId);
            e.HasIndex(x => x.TrusteeUserId);
            e.HasMany(x => x.Roles).WithOne().HasForeignKey(r => r.TrustId).OnDelete(DeleteBehavior.Cascade);
        });
        b.Entity<TrustRole>(e =>
        {
            e.ToTable("trust_role");
            e.HasKey(x => new { x.TrustId, x.RoleId });
            e.Property(x => x.TrustId).HasMaxLength(Id);
            e.Property(x => x.RoleId).HasMaxLength(Id);
        });
        b.Entity<RevocationEvent>(e =>
        {
            e.ToTable("revocation_event");
            e.HasIndex(x => x.RevokedAt);
        });
    }
}
