using Stratus.Core.Data;

namespace Stratus.Compute.Data;

/// <summary>Nova's API database (<c>[api_database] connection</c>): flavors, key pairs, quotas.</summary>
public sealed class ApiDb(DbContextOptions<ApiDb> options) : ServiceDb(options)
{
    /// <summary>The schema's steps since the release of 2026-12-02 (the first without a stamp); see SchemaHistory.</summary>
    public static SchemaHistory History { get; } = new("nova-manage api_db sync",
    [
        new(1, "tables added before the stamp", async (s, ct) =>
        {
            await s.CreateMissingTablesAsync(ct: ct);
        }),
    ]);

    public DbSet<Flavor> Flavors => Set<Flavor>();
    public DbSet<FlavorExtraSpec> FlavorExtraSpecs => Set<FlavorExtraSpec>();
    public DbSet<FlavorProject> FlavorProjects => Set<FlavorProject>();
    public DbSet<KeyPair> KeyPairs => Set<KeyPair>();
    public DbSet<QuotaLimit> Quotas => Set<QuotaLimit>();
    public DbSet<QuotaClassLimit> QuotaClasses => Set<QuotaClassLimit>();
    public DbSet<ServerGroup> ServerGroups => Set<ServerGroup>();
    public DbSet<ServerGroupMember> ServerGroupMembers => Set<ServerGroupMember>();
    public DbSet<Aggregate> Aggregates => Set<Aggregate>();

    protected override void ConfigureConventions(ModelConfigurationBuilder c)
    {
        c.Properties<DateTime>().HaveConversion<UtcConverter>();
        c.Properties<DateTime?>().HaveConversion<UtcConverter>();
    }

    protected override void OnModelCreating(ModelBuilder b)
    {
        b.Entity<Flavor>(e =>
        {
            e.ToTable("flavors");
            e.Property(x => x.FlavorId).HasMaxLength(255);
            e.Property(x => x.Name).HasMaxLength(255);
            e.HasIndex(x => x.FlavorId).IsUnique();
            e.HasIndex(x => x.Name).IsUnique();
            e.HasMany(x => x.ExtraSpecs).WithOne().HasForeignKey(x => x.FlavorDbId).OnDelete(DeleteBehavior.Cascade);
            e.HasMany(x => x.Projects).WithOne().HasForeignKey(x => x.FlavorDbId).OnDelete(DeleteBehavior.Cascade);
        });
        b.Entity<FlavorExtraSpec>(e => { e.ToTable("flavor_extra_specs"); e.HasKey(x => new { x.FlavorDbId, x.Key }); e.Property(x => x.Key).HasMaxLength(255); });
        b.Entity<FlavorProject>(e => { e.ToTable("flavor_projects"); e.HasKey(x => new { x.FlavorDbId, x.ProjectId }); e.Property(x => x.ProjectId).HasMaxLength(255); });
        b.Entity<KeyPair>(e =>
        {
            e.ToTable("key_pairs");
            e.Property(x => x.Name).HasMaxLength(255);
            e.Property(x => x.UserId).HasMaxLength(255);
            e.HasIndex(x => new { x.UserId, x.Name }).IsUnique();
        });
        b.Entity<QuotaClassLimit>(e => { e.ToTable("quota_classes"); e.HasKey(x => new { x.ClassName, x.Resource }); e.Property(x => x.ClassName).HasMaxLength(255); e.Property(x => x.Resource).HasMaxLength(255); });
        b.Entity<ServerGroup>(e =>
        {
            e.ToTable("instance_groups");
            e.HasIndex(x => x.Uuid).IsUnique();
            e.HasMany(x => x.Members).WithOne().HasForeignKey(x => x.GroupId).OnDelete(DeleteBehavior.Cascade);
        });
        b.Entity<ServerGroupMember>(e => { e.ToTable("instance_group_member"); e.HasIndex(x => x.InstanceUuid); });
        b.Entity<Aggregate>(e => { e.ToTable("aggregates"); e.HasIndex(x => x.Uuid).IsUnique(); });
        b.Entity<QuotaLimit>(e => { e.ToTable("quotas"); e.HasKey(x => new { x.ProjectId, x.Resource }); e.Property(x => x.ProjectId).HasMaxLength(255); e.Property(x => x.Resource).HasMaxLength(255); });
    }
}

public sealed class Flavor
{
    public int Id { get; set; }
    /// <summary>The id the API shows (a string: "1", or a uuid).</summary>
    public required string FlavorId { get; set; }
    public required string Name { get; set; }
    public int MemoryMb { get; set; }
    public int Vcpus { get; set; }
    public int RootGb { get; set; }
    public int EphemeralGb { get; set; }
    public int Swap { get; set; }
    public double RxtxFactor { get; set; } = 1.0;
    public bool IsPublic { get; set; } = true;
    public bool Disabled { get; set; }
    public string? Description { get; set; }
    public DateTime CreatedAt { get; set; }
    public List<FlavorExtraSpec> ExtraSpecs { get; set; } = [];
    public List<FlavorProject> Projects { get; set; } = [];
}

public sealed class FlavorExtraSpec
{
    public int FlavorDbId { get; set; }
    public required string Key { get; set; }
    public required string Value { get; set; }
}

public sealed class FlavorProject
{
    public int FlavorDbId { get; set; }
    public required string ProjectId { get; set; }
}

public sealed class KeyPair
{
    public int Id { get; set; }
    public required string Name { get; set; }
    public required string UserId { get; set; }
    public required string PublicKey { get; set; }
    public required string Fingerprint { get; set; }
    public string Type { get; set; } = "ssh";
    public DateTime CreatedAt { get; set; }
}

public sealed class QuotaLimit
{
    public required string ProjectId { get; set; }
    public required string Resource { get; set; }
    public int HardLimit { get; set; }
}

/// <summary>A quota class's limit (only "default" is used by Nova: it overrides nova.conf's defaults).</summary>
public sealed class QuotaClassLimit
{
    public required string ClassName { get; set; }
    public required string Resource { get; set; }
    public int HardLimit { get; set; }
}

/// <summary>A server group: servers that the scheduler keeps together (affinity) or apart (anti-affinity).</summary>
public sealed class ServerGroup
{
    public int Id { get; set; }
    public required string Uuid { get; set; }
    public required string Name { get; set; }
    public required string ProjectId { get; set; }
    public required string UserId { get; set; }
    public required string Policy { get; set; }
    /// <summary>2.64's rules (max_server_per_host), as JSON.</summary>
    public string RulesJson { get; set; } = "{}";
    public DateTime CreatedAt { get; set; }
    public List<ServerGroupMember> Members { get; set; } = [];
}

public sealed class ServerGroupMember
{
    public int Id { get; set; }
    public int GroupId { get; set; }
    public required string InstanceUuid { get; set; }
}

/// <summary>A host aggregate: hosts with metadata, and, with availability_zone in it, an availability zone.</summary>
public sealed class Aggregate
{
    public int Id { get; set; }
    public required string Uuid { get; set; }
    public required string Name { get; set; }
    public string HostsJson { get; set; } = "[]";
    public string MetadataJson { get; set; } = "{}";
    public DateTime CreatedAt { get; set; }
    public DateTime? UpdatedAt { get; set; }
}
