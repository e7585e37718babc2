using Stratus.Core.Data;

namespace Stratus.Image.Data;

/// <summary>The image service's own database, one per region (seed section 5.1).</summary>
public sealed class ImageDb(DbContextOptions<ImageDb> options) : ServiceDb(options)
{
    /// <summary>The schema's steps since the release of 2026-12-02 (the first without a stamp); see SchemaHistory.</summary>
    public static SchemaHistory History { get; } = new("glance-manage db_sync",
    [
        new(1, "the tasks API: a task's type and input", async (s, ct) =>
        {
            await s.CreateMissingTablesAsync(ct: ct);
            await s.AddColumnAsync("tasks", "Type", existingRows: "api_image_import", ct);
            await s.AddColumnAsync("tasks", "Input", ct: ct);
        }),
    ]);

    public DbSet<ImageRecord> Images => Set<ImageRecord>();
    public DbSet<ImageProperty> Properties => Set<ImageProperty>();
    public DbSet<ImageTag> Tags => Set<ImageTag>();
    public DbSet<ImageMember> Members => Set<ImageMember>();
    public DbSet<ImportTask> Tasks => Set<ImportTask>();
    public DbSet<MetadefNamespace> MetadefNamespaces => Set<MetadefNamespace>();
    public DbSet<MetadefItem> MetadefItems => Set<MetadefItem>();

    protected override void ConfigureConventions(ModelConfigurationBuilder c)
    {
        c.Properties<DateTime>().HaveConversion<UtcConverter>();
        c.Properties<DateTime?>().HaveConversion<UtcConverter>();
    }

    protected override void OnModelCreating(ModelBuilder b)
    {
        const int Id = 36, Name = 255;
        b.Entity<ImageRecord>(e =>
        {
            e.ToTable("images");
            e.Property(x => x.Id).HasMaxLength(Id);
            e.Property(x => x.Name).HasMaxLength(Name);
            e.Property(x => x.Status).HasMaxLength(30);
            e.Property(x => x.Visibility).HasMaxLength(20);
            e.Property(x => x.Owner).HasMaxLength(Name);
            e.Property(x => x.DiskFormat).HasMaxLength(20);
            e.Property(x => x.ContainerFormat).HasMaxLength(20);
            e.Property(x => x.Checksum).HasMaxLength(32);
            e.Property(x => x.OsHashAlgo).HasMaxLength(64);
            e.Property(x => x.OsHashValue).HasMaxLength(128);
            e.Property(x => x.Location).HasMaxLength(1024);
            // The concurrency token keeps two uploads (or an upload and a delete) from both winning.
            e.Property(x => x.Version).IsConcurrencyToken();
            e.HasIndex(x => x.Owner);
            e.HasIndex(x => new { x.Deleted, x.CreatedAt });
            e.HasMany(x => x.Properties).WithOne().HasForeignKey(p => p.ImageId).OnDelete(DeleteBehavior.Cascade);
            e.HasMany(x => x.Tags).WithOne().HasForeignKey(p => p.ImageId).OnDelete(DeleteBehavior.Cascade);
            e.HasMany(x => x.Members).WithOne().HasForeignKey(p => p.ImageId).OnDelete(DeleteBehavior.Cascade);
        });
        b.Entity<ImageProperty>(e =>
        {
            e.ToTable("image_properties");
            e.HasKey(x => new { x.ImageId, x.Name });
            e.Property(x => x.ImageId).HasMaxLength(Id);
            e.Property(x => x.Name).HasMaxLength(Name);
        });
        b.Entity<ImageTag>(e =>
        {
            e.ToTable("image_tags");
            e.HasKey(x => new { x.ImageId, x.Value });
            e.Property(x => x.ImageId).HasMaxLength(Id);
            e.Property(x => x.Value).HasMaxLength(Name);
        });
        b.Entity<ImageMember>(e =>
        {
            e.ToTable("image_members");
            e.HasKey(x => new { x.ImageId, x.Member });
            e.Property(x => x.ImageId).HasMaxLength(Id);
            e.Property(x => x.Member).HasMaxLength(Name);
            e.Property(x => x.Status).HasMaxLength(20);
            e.HasIndex(x => x.Member);
        });
        b.Entity<MetadefNamespace>(e =>
        {
            e.ToTable("metadef_namespaces");
            e.HasKey(x => x.Namespace);
            e.Property(x => x.Namespace).HasMaxLength(80);
            e.Property(x => x.Visibility).HasMaxLength(32);
            e.Property(x => x.Owner).HasMaxLength(Name);
        });
        b.Entity<MetadefItem>(e =>
        {
            e.ToTable("metadef_items");
            e.HasKey(x => new { x.Namespace, x.Kind, x.Name });
            e.Property(x => x.Namespace).HasMaxLength(80);
            e.Property(x => x.Kind).HasMaxLength(16);
            e.Property(x => x.Name).HasMaxLength(Name);
        });
        b.Entity<ImportTask>(e =>
        {
            e.ToTable("tasks");
            e.Property(x => x.Id).HasMaxLength(Id);
            e.Property(x => x.ImageId).HasMaxLength(Id);
            e.Property(x => x.Status).HasMaxLength(30);
            e.Property(x => x.Type).HasMaxLength(30);
            e.HasIndex(x => x.ImageId);
            e.HasIndex(x => x.Status);
        });
    }
}

/// <summary>An image, as Glance's <c>images</c> table holds it; deleted images stay, marked (their ids are never reused).</summary>
public sealed class ImageRecord
{
    public required string Id { get; set; }
    public string? Name { get; set; }
    public string Status { get; set; } = ImageStatus.Queued;
    public string Visibility { get; set; } = "shared";
    public bool Protected { get; set; }
    public bool OsHidden { get; set; }
    public string? Owner { get; set; }
    public string? DiskFormat { get; set; }
    public string? ContainerFormat { get; set; }
    public long? Size { get; set; }
    public long? VirtualSize { get; set; }
    public string? Checksum { get; set; }
    public string? OsHashAlgo { get; set; }
    public string? OsHashValue { get; set; }
    public int MinRam { get; set; }
    public int MinDisk { get; set; }
    /// <summary>The data file in the store (or the staging area while importing).</summary>
    public string? Location { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public bool Deleted { get; set; }
    public DateTime? DeletedAt { get; set; }
    public int Version { get; set; }
    public List<ImageProperty> Properties { get; set; } = [];
    public List<ImageTag> Tags { get; set; } = [];
    public List<ImageMember> Members { get; set; } = [];

    public void Touch()
    {
        UpdatedAt = DateTime.UtcNow;
        Version++;
    }
}

public sealed class ImageProperty
{
    public required string ImageId { get; set; }
    public required string Name { get; set; }
    public required string Value { get; set; }
}

public sealed class ImageTag
{
    public required string ImageId { get; set; }
    public required string Value { get; set; }
}

public sealed class ImageMember
{
    public required string ImageId { get; set; }
    public required string Member { get; set; }
    public string Status { get; set; } = "pending";
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>
/// An image import (Glance's <c>api_image_import</c> task): recorded before the work starts, so the
/// worker finishes it after a restart, and shown by <c>GET /v2/images/{id}/tasks</c>.
/// </summary>
public sealed class ImportTask
{
    public required string Id { get; set; }
    /// <summary>api_image_import (an image's interoperable import), or import (a task made with POST /v2/tasks).</summary>
    public string Type { get; set; } = "api_image_import";
    /// <summary>What POST /v2/tasks was given as the task's input (null for an image's import: its view builds one).</summary>
    public string? Input { get; set; }
    public required string ImageId { get; set; }
    public string Status { get; set; } = "pending";
    /// <summary>The import request as the client sent it (method name, uri...).</summary>
    public required string ImportRequest { get; set; }
    public string? RequestId { get; set; }
    public string? UserId { get; set; }
    public string? Owner { get; set; }
    public string Message { get; set; } = "";
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>A metadata definitions namespace (Glance's metadefs catalog of properties operators may set).</summary>
public sealed class MetadefNamespace
{
    public required string Namespace { get; set; }
    public string? DisplayName { get; set; }
    public string? Description { get; set; }
    public string Visibility { get; set; } = "private";
    public bool Protected { get; set; }
    public string? Owner { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>An object, property, tag or resource type association of a namespace, kept as the JSON the API shows.</summary>
public sealed class MetadefItem
{
    public required string Namespace { get; set; }
    /// <summary>object, property, tag or resource_type.</summary>
    public required string Kind { get; set; }
    public required string Name { get; set; }
    public required string Body { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

public static class ImageStatus
{
    public const string Queued = "queued";
    public const string Saving = "saving";
    public const string Uploading = "uploading";
    public const string Importing = "importing";
    public const string Active = "active";
    public const string Killed = "killed";
    public const string Deactivated = "deactivated";
    public const string Deleted = "deleted";
}
