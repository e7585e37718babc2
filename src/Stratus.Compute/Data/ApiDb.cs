using Stratus.Core.Data;

namespace Stratus.Compute.Data;

/// <summary>Nova's API database (<c>[api_database] connection</c>): flavors, key pairs, quotas.</summary>
public sealed class ApiDb(DbContextOptions<ApiDb> options) : DbContext(options)
{
    public DbSet<Flavor> Flavors => Set<Flavor>();
    public DbSet<FlavorExtraSpec> FlavorExtraSpecs => Set<FlavorExtraSpec>();
    public DbSet<FlavorProject> FlavorProjects => Set<FlavorProject>();
    public DbSet<KeyPair> KeyPairs => Set<KeyPair>();
    public DbSet<QuotaLimit> Quotas => Set<QuotaLimit>();

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
