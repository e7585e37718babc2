using Stratus.Core.Data;

namespace Stratus.Placement.Data;

/// <summary>The placement database of a region (<c>[placement_database] connection</c>).</summary>
public sealed class PlacementDb(DbContextOptions<PlacementDb> options) : ServiceDb(options)
{
    /// <summary>The schema's steps since the release of 2026-12-02 (the first without a stamp); see SchemaHistory.</summary>
    public static SchemaHistory History { get; } = new("placement-manage db sync",
    [
        new(1, "tables added before the stamp", async (s, ct) =>
        {
            await s.CreateMissingTablesAsync(ct: ct);
        }),
    ]);

    public DbSet<ResourceProvider> Providers => Set<ResourceProvider>();
    public DbSet<Inventory> Inventories => Set<Inventory>();
    public DbSet<Allocation> Allocations => Set<Allocation>();
    public DbSet<Consumer> Consumers => Set<Consumer>();
    public DbSet<ProviderTrait> ProviderTraits => Set<ProviderTrait>();
    public DbSet<ProviderAggregate> ProviderAggregates => Set<ProviderAggregate>();
    public DbSet<CustomName> CustomNames => Set<CustomName>();

    protected override void ConfigureConventions(ModelConfigurationBuilder c)
    {
        c.Properties<DateTime>().HaveConversion<UtcConverter>();
        c.Properties<DateTime?>().HaveConversion<UtcConverter>();
    }

    protected override void OnModelCreating(ModelBuilder b)
    {
        b.Entity<ResourceProvider>(e =>
        {
            e.ToTable("resource_providers");
            e.HasKey(x => x.Uuid);
            e.Property(x => x.Uuid).HasMaxLength(36);
            e.Property(x => x.Name).HasMaxLength(200);
            e.HasIndex(x => x.Name).IsUnique();
            e.Property(x => x.Generation).IsConcurrencyToken();
        });
        b.Entity<Inventory>(e => { e.ToTable("inventories"); e.HasKey(x => new { x.ProviderUuid, x.ResourceClass }); });
        b.Entity<Allocation>(e =>
        {
            e.ToTable("allocations");
            e.HasIndex(x => x.ConsumerUuid);
            e.HasIndex(x => new { x.ProviderUuid, x.ResourceClass });
        });
        b.Entity<Consumer>(e => { e.ToTable("consumers"); e.HasKey(x => x.Uuid); e.Property(x => x.Generation).IsConcurrencyToken(); });
        b.Entity<ProviderTrait>(e => { e.ToTable("resource_provider_traits"); e.HasKey(x => new { x.ProviderUuid, x.Trait }); });
        b.Entity<ProviderAggregate>(e => { e.ToTable("resource_provider_aggregates"); e.HasKey(x => new { x.ProviderUuid, x.Aggregate }); });
        b.Entity<CustomName>(e => { e.ToTable("custom_names"); e.HasKey(x => new { x.Kind, x.Name }); });
    }
}

public sealed class ResourceProvider
{
    public required string Uuid { get; set; }
    public required string Name { get; set; }
    public long Generation { get; set; }
    public string? ParentUuid { get; set; }
    public required string RootUuid { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

public sealed class Inventory
{
    public required string ProviderUuid { get; set; }
    public required string ResourceClass { get; set; }
    public long Total { get; set; }
    public long Reserved { get; set; }
    public long MinUnit { get; set; } = 1;
    public long MaxUnit { get; set; }
    public long StepSize { get; set; } = 1;
    public double AllocationRatio { get; set; } = 1.0;

    /// <summary>What can be allocated: (total - reserved) * allocation_ratio, as placement computes it.</summary>
    public long Capacity => (long)((Total - Reserved) * AllocationRatio);
}

public sealed class Allocation
{
    public int Id { get; set; }
    public required string ProviderUuid { get; set; }
    public required string ConsumerUuid { get; set; }
    public required string ResourceClass { get; set; }
    public long Used { get; set; }
}

/// <summary>Whoever holds allocations (a server...), with the project and user it belongs to.</summary>
public sealed class Consumer
{
    public required string Uuid { get; set; }
    public required string ProjectId { get; set; }
    public required string UserId { get; set; }
    public long Generation { get; set; }
    public string ConsumerType { get; set; } = "INSTANCE";
}

public sealed class ProviderTrait
{
    public required string ProviderUuid { get; set; }
    public required string Trait { get; set; }
}

public sealed class ProviderAggregate
{
    public required string ProviderUuid { get; set; }
    public required string Aggregate { get; set; }
}

/// <summary>A CUSTOM_ resource class or trait an operator created (kind "rc" or "trait").</summary>
public sealed class CustomName
{
    public required string Kind { get; set; }
    public required string Name { get; set; }
}
