using System.Text.Json;
using Stratus.Core.Data;
using Stratus.Core.Services;

namespace Stratus.BlockStorage.Data;

/// <summary>
/// The region's cinder database: volumes, snapshots, attachments, types, QoS specs, services, quotas and quota classes,
/// volume transfers and user messages.
/// </summary>
public sealed class CinderDb(DbContextOptions<CinderDb> options) : ServiceDb(options)
{
    /// <summary>The schema's steps since the release of 2026-12-02 (the first without a stamp); see SchemaHistory.</summary>
    public static SchemaHistory History { get; } = new("cinder-manage db sync",
    [
        new(1, "tables added before the stamp", async (s, ct) =>
        {
            await s.CreateMissingTablesAsync(ct: ct);
        }),
    ])
    { Seed = SeedDefaultTypeAsync };

    public DbSet<VolumeRow> Volumes => Set<VolumeRow>();
    public DbSet<Snapshot> Snapshots => Set<Snapshot>();
    public DbSet<VolumeAttachment> Attachments => Set<VolumeAttachment>();
    public DbSet<VolumeType> VolumeTypes => Set<VolumeType>();
    public DbSet<VolumeTypeAccess> VolumeTypeAccess => Set<VolumeTypeAccess>();
    public DbSet<ServiceRecord> Services => Set<ServiceRecord>();
    public DbSet<Quota> Quotas => Set<Quota>();
    public DbSet<UserMessage> Messages => Set<UserMessage>();
    public DbSet<QosSpecs> QosSpecs => Set<QosSpecs>();
    public DbSet<VolumeTypeQos> VolumeTypeQos => Set<VolumeTypeQos>();
    public DbSet<QuotaClass> QuotaClasses => Set<QuotaClass>();
    public DbSet<Transfer> Transfers => Set<Transfer>();
    public DbSet<BackupRow> Backups => Set<BackupRow>();
    public DbSet<GroupType> GroupTypes => Set<GroupType>();
    public DbSet<GroupRow> Groups => Set<GroupRow>();
    public DbSet<GroupVolume> GroupVolumes => Set<GroupVolume>();
    public DbSet<GroupSnapshotRow> GroupSnapshots => Set<GroupSnapshotRow>();
    public DbSet<GroupSnapshotMember> GroupSnapshotMembers => Set<GroupSnapshotMember>();

    protected override void ConfigureConventions(ModelConfigurationBuilder c)
    {
        c.Properties<DateTime>().HaveConversion<UtcConverter>();
        c.Properties<DateTime?>().HaveConversion<UtcConverter>();
    }

    protected override void OnModelCreating(ModelBuilder b)
    {
        b.Entity<VolumeRow>(e =>
        {
            e.ToTable("volumes");
            e.Property(x => x.Id).HasMaxLength(36);
            e.HasIndex(x => x.ProjectId);
            // The API and cinder-volume both write a volume's status: neither may overwrite the other unseen.
            e.Property(x => x.Version).IsConcurrencyToken();
        });
        b.Entity<Snapshot>(e =>
        {
            e.ToTable("snapshots");
            e.Property(x => x.Id).HasMaxLength(36);
            e.HasIndex(x => x.VolumeId);
            e.Property(x => x.Version).IsConcurrencyToken();
        });
        b.Entity<VolumeAttachment>(e => { e.ToTable("volume_attachment"); e.HasIndex(x => x.VolumeId); });
        b.Entity<VolumeType>(e => { e.ToTable("volume_types"); e.HasIndex(x => x.Name).IsUnique(); });
        b.Entity<VolumeTypeAccess>(e => { e.ToTable("volume_type_projects"); e.HasKey(x => new { x.VolumeTypeId, x.ProjectId }); });
        b.Entity<ServiceRecord>(e => { e.ToTable("services"); e.HasIndex(x => new { x.Host, x.Binary }).IsUnique(); });
        b.Entity<Quota>(e => { e.ToTable("quotas"); e.HasKey(x => new { x.ProjectId, x.Resource }); });
        b.Entity<UserMessage>(e => { e.ToTable("messages"); e.HasIndex(x => x.ProjectId); });
        b.Entity<QosSpecs>(e => { e.ToTable("quality_of_service_specs"); e.HasIndex(x => x.Name).IsUnique(); });
        b.Entity<VolumeTypeQos>(e => { e.ToTable("volume_type_qos_specs"); e.HasKey(x => x.VolumeTypeId); e.HasIndex(x => x.QosSpecsId); });
        b.Entity<QuotaClass>(e => { e.ToTable("quota_classes"); e.HasKey(x => new { x.ClassName, x.Resource }); });
        b.Entity<Transfer>(e => { e.ToTable("transfers"); e.HasIndex(x => x.VolumeId); });
        b.Entity<GroupType>(e => { e.ToTable("group_types"); e.HasIndex(x => x.Name).IsUnique(); });
        b.Entity<GroupRow>(e =>
        {
            e.ToTable("groups");
            e.HasIndex(x => x.ProjectId);
            e.Property(x => x.Version).IsConcurrencyToken();
        });
        // Membership in tables of their own (Cinder has volumes.group_id): a database of an older Stratus gains them by db sync.
        b.Entity<GroupVolume>(e => { e.ToTable("group_volumes"); e.HasKey(x => x.VolumeId); e.HasIndex(x => x.GroupId); });
        b.Entity<GroupSnapshotRow>(e => { e.ToTable("group_snapshots"); e.HasIndex(x => x.GroupId); });
        b.Entity<GroupSnapshotMember>(e => { e.ToTable("group_snapshot_members"); e.HasKey(x => x.SnapshotId); e.HasIndex(x => x.GroupSnapshotId); });
        b.Entity<BackupRow>(e =>
        {
            e.ToTable("backups");
            e.Property(x => x.Id).HasMaxLength(36);
            e.HasIndex(x => x.ProjectId);
            e.HasIndex(x => x.ParentId);
            // The API and cinder-backup both write a backup's status.
            e.Property(x => x.Version).IsConcurrencyToken();
        });
    }

    /// <summary>cinder-manage db sync: the schema, and the default volume type Cinder's migrations create.</summary>
    public static Task SyncAsync(string connection, bool upgrade = true, CancellationToken ct = default) =>
        DatabaseUrl.SyncAsync<CinderDb>(connection, o => new(o), History, upgrade, ct);

    static async Task SeedDefaultTypeAsync(DbContext context, CancellationToken ct)
    {
        var db = (CinderDb)context;
        if (await db.VolumeTypes.AnyAsync(t => t.Name == CinderOptions.DefaultTypeName, ct)) return;
        db.VolumeTypes.Add(new VolumeType { Name = CinderOptions.DefaultTypeName, Description = "Default Volume Type", IsPublic = true });
        try { await db.SaveChangesAsync(ct); }
        catch (DbUpdateException) { } // another node's sync made it first
    }
}

/// <summary>Metadata kept as a JSON object in one column: read and written whole, as the API does.</summary>
static class MetadataColumn
{
    public static Dictionary<string, string> Read(string? json) =>
        string.IsNullOrEmpty(json) ? new(StringComparer.Ordinal) : JsonSerializer.Deserialize(json, MetadataJson.Default.DictionaryStringString) ?? [];

    public static string Write(IReadOnlyDictionary<string, string> metadata) =>
        JsonSerializer.Serialize(new Dictionary<string, string>(metadata, StringComparer.Ordinal), MetadataJson.Default.DictionaryStringString);

    public static JsonObject View(string? json) => new([.. Read(json).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))]);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
sealed partial class MetadataJson : System.Text.Json.Serialization.JsonSerializerContext;

/// <summary>Cinder's volume statuses (cinder/objects/fields.py VolumeStatus).</summary>
public static class VolumeStatus
{
    public const string Creating = "creating", Available = "available", Deleting = "deleting", Error = "error", ErrorDeleting = "error_deleting",
        Reserved = "reserved", Attaching = "attaching", InUse = "in-use", Detaching = "detaching", Extending = "extending",
        ErrorExtending = "error_extending", Downloading = "downloading", Uploading = "uploading", ErrorRestoring = "error_restoring",
        Maintenance = "maintenance", Retyping = "retyping";

    public static readonly string[] All =
    [
        Creating, Available, Deleting, Error, ErrorDeleting, Reserved, Attaching, InUse, Detaching, Extending, ErrorExtending, Downloading,
        Uploading, ErrorRestoring, Maintenance, Retyping, "backing-up", "restoring-backup", "error_managing", "managing", "awaiting-transfer",
    ];
}

public sealed class VolumeRow
{
    public required string Id { get; set; }
    public required string ProjectId { get; set; }
    public required string UserId { get; set; }
    public string? Name { get; set; }
    public string? Description { get; set; }
    public int Size { get; set; }
    public string Status { get; set; } = VolumeStatus.Creating;
    /// <summary>detached, attaching, attached, detaching, error_attaching, error_detaching.</summary>
    public string AttachStatus { get; set; } = "detached";
    public string? MigrationStatus { get; set; }
    public string AvailabilityZone { get; set; } = "nova";
    public required string VolumeTypeId { get; set; }
    public string? SnapshotId { get; set; }
    public string? SourceVolId { get; set; }
    public string? ImageId { get; set; }
    /// <summary>host@backend#pool once scheduled.</summary>
    public string? Host { get; set; }
    public bool Bootable { get; set; }
    public bool ReadOnly { get; set; }
    public bool Multiattach { get; set; }
    /// <summary>The file that holds the volume on its backend.</summary>
    public string? ProviderLocation { get; set; }
    public string? Metadata { get; set; }
    public string? ImageMetadata { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? UpdatedAt { get; set; }
    public DateTime? LaunchedAt { get; set; }
    public int Version { get; set; }

    public string Backend => Host?.Split('#')[0] ?? "";

    public void Touch(DateTime now)
    {
        UpdatedAt = now;
        Version++;
    }
}

public sealed class Snapshot
{
    public required string Id { get; set; }
    public required string VolumeId { get; set; }
    public required string ProjectId { get; set; }
    public required string UserId { get; set; }
    public string? Name { get; set; }
    public string? Description { get; set; }
    public int VolumeSize { get; set; }
    public string Status { get; set; } = "creating";
    public string Progress { get; set; } = "0%";
    public string? ProviderLocation { get; set; }
    public string? Metadata { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? UpdatedAt { get; set; }
    public int Version { get; set; }

    public void Touch(DateTime now)
    {
        UpdatedAt = now;
        Version++;
    }
}

public sealed class VolumeAttachment
{
    public required string Id { get; set; }
    public required string VolumeId { get; set; }
    /// <summary>The volume's project, kept here so a project's attachments list without a join.</summary>
    public string? ProjectId { get; set; }
    public string? InstanceUuid { get; set; }
    public string? AttachedHost { get; set; }
    public string? Mountpoint { get; set; }
    /// <summary>reserved, attaching, attached, detached, error_attaching...</summary>
    public string AttachStatus { get; set; } = "reserved";
    public string AttachMode { get; set; } = "rw";
    public string? Connector { get; set; }
    public string? ConnectionInfo { get; set; }
    public DateTime? AttachTime { get; set; }
    public DateTime? DetachTime { get; set; }
    public DateTime CreatedAt { get; set; }
}

public sealed class VolumeType
{
    public string Id { get; set; } = Guid.NewGuid().ToString();
    public required string Name { get; set; }
    public string? Description { get; set; }
    public bool IsPublic { get; set; } = true;
    public string? ExtraSpecs { get; set; }
    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
}

public sealed class VolumeTypeAccess
{
    public required string VolumeTypeId { get; set; }
    public required string ProjectId { get; set; }
}

/// <summary>A cinder-scheduler or cinder-volume (host@backend) as Cinder's services table records it.</summary>
public sealed class ServiceRecord : IServiceMember
{
    public int Id { get; set; }
    public required string Host { get; set; }
    public required string Binary { get; set; }
    public string Topic { get; set; } = "";
    /// <summary>A cinder-volume's volume_backend_name, as its capability reports tell the scheduler.</summary>
    public string? BackendName { get; set; }
    public string AvailabilityZone { get; set; } = "nova";
    public bool Disabled { get; set; }
    public string? DisabledReason { get; set; }
    public bool ForcedDown { get; set; }
    public int ReportCount { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public DateTime? LastSeenUp { get; set; }

    string IServiceMember.Zone => AvailabilityZone;
}

public sealed class Quota
{
    public required string ProjectId { get; set; }
    public required string Resource { get; set; }
    public int HardLimit { get; set; }
}

/// <summary>A user message (GET /v3/{project}/messages): why an asynchronous operation failed, in words for the user.</summary>
public sealed class UserMessage
{
    public string Id { get; set; } = Guid.NewGuid().ToString();
    public required string ProjectId { get; set; }
    public string? RequestId { get; set; }
    public string ResourceType { get; set; } = "VOLUME";
    public string? ResourceUuid { get; set; }
    public required string EventId { get; set; }
    public string MessageLevel { get; set; } = "ERROR";
    public required string Message { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
}

/// <summary>A QoS specs entity (Cinder's quality_of_service_specs): a consumer and key/value specs that volume types point at.</summary>
public sealed class QosSpecs
{
    public string Id { get; set; } = Guid.NewGuid().ToString();
    public required string Name { get; set; }
    /// <summary>front-end, back-end or both.</summary>
    public string Consumer { get; set; } = "back-end";
    public string? Specs { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? UpdatedAt { get; set; }
}

/// <summary>
/// A volume type's QoS specs (Cinder's volume_types.qos_specs_id): a row of its own, so that databases made before QoS
/// existed gain it as a new table.
/// </summary>
public sealed class VolumeTypeQos
{
    public required string VolumeTypeId { get; set; }
    public required string QosSpecsId { get; set; }
}

/// <summary>A limit of a quota class: the class <c>default</c> holds the defaults every project starts from.</summary>
public sealed class QuotaClass
{
    public required string ClassName { get; set; }
    public required string Resource { get; set; }
    public int HardLimit { get; set; }
}

/// <summary>
/// A volume offered to another project: the recipient proves it was told with the auth key, of which only a salted
/// HMAC is kept (Cinder's salt and crypt_hash). Accepted or deleted transfers stay, deleted, as the history of 3.57.
/// </summary>
public sealed class Transfer
{
    public string Id { get; set; } = Guid.NewGuid().ToString();
    public required string VolumeId { get; set; }
    public string? Name { get; set; }
    public required string Salt { get; set; }
    public required string CryptHash { get; set; }
    public bool NoSnapshots { get; set; }
    public required string SourceProjectId { get; set; }
    public string? DestinationProjectId { get; set; }
    public bool Accepted { get; set; }
    public bool Deleted { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? UpdatedAt { get; set; }
    public DateTime? DeletedAt { get; set; }
}

/// <summary>A group type (3.11): what generic volume groups are made of, with its group specs.</summary>
public sealed class GroupType
{
    public string Id { get; set; } = Guid.NewGuid().ToString();
    public required string Name { get; set; }
    public string? Description { get; set; }
    public bool IsPublic { get; set; } = true;
    public string? GroupSpecs { get; set; }
    public DateTime CreatedAt { get; set; }
}

/// <summary>A generic volume group (3.13): volumes of the group's volume types, snapshotted together.</summary>
public sealed class GroupRow
{
    public string Id { get; set; } = Guid.NewGuid().ToString();
    public required string ProjectId { get; set; }
    public required string UserId { get; set; }
    public string? Name { get; set; }
    public string? Description { get; set; }
    /// <summary>creating, available, updating, deleting, error, error_deleting.</summary>
    public string Status { get; set; } = "creating";
    public required string GroupTypeId { get; set; }
    /// <summary>The volume types of its volumes, as a JSON array of ids.</summary>
    public required string VolumeTypeIds { get; set; }
    public string AvailabilityZone { get; set; } = "nova";
    /// <summary>host@backend#pool once scheduled: its volumes are made there.</summary>
    public string? Host { get; set; }
    public string? GroupSnapshotId { get; set; }
    public string? SourceGroupId { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? UpdatedAt { get; set; }
    public int Version { get; set; }

    public string Backend => Host?.Split('#')[0] ?? "";

    public void Touch(DateTime now)
    {
        UpdatedAt = now;
        Version++;
    }
}

public sealed class GroupVolume
{
    public required string VolumeId { get; set; }
    public required string GroupId { get; set; }
}

/// <summary>A snapshot of every volume of a group, taken together (3.14).</summary>
public sealed class GroupSnapshotRow
{
    public string Id { get; set; } = Guid.NewGuid().ToString();
    public required string GroupId { get; set; }
    public required string ProjectId { get; set; }
    public required string UserId { get; set; }
    public string? Name { get; set; }
    public string? Description { get; set; }
    public string Status { get; set; } = "creating";
    public required string GroupTypeId { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? UpdatedAt { get; set; }
}

public sealed class GroupSnapshotMember
{
    public required string SnapshotId { get; set; }
    public required string GroupSnapshotId { get; set; }
}

/// <summary>Cinder's backup statuses (cinder/objects/fields.py BackupStatus).</summary>
public static class BackupStatus
{
    public const string Creating = "creating", Available = "available", Deleting = "deleting", Error = "error", Restoring = "restoring";
}

/// <summary>A backup of a volume (or of one of its snapshots) that cinder-backup keeps in its backup store.</summary>
public sealed class BackupRow
{
    public required string Id { get; set; }
    public required string ProjectId { get; set; }
    public required string UserId { get; set; }
    public required string VolumeId { get; set; }
    public string? SnapshotId { get; set; }
    /// <summary>The cinder-backup service (its host) that holds the backup.</summary>
    public string? Host { get; set; }
    public string? AvailabilityZone { get; set; }
    public string? Name { get; set; }
    public string? Description { get; set; }
    public string? Container { get; set; }
    public string Status { get; set; } = BackupStatus.Creating;
    public string? FailReason { get; set; }
    public int Size { get; set; }
    public int ObjectCount { get; set; }
    /// <summary>The backup an incremental one builds on.</summary>
    public string? ParentId { get; set; }
    public string? RestoreVolumeId { get; set; }
    /// <summary>What the volume was before it went backing-up (Cinder keeps it as the volume's previous_status).</summary>
    public string? VolumePreviousStatus { get; set; }
    /// <summary>The driver that wrote it (backup_driver).</summary>
    public string? Service { get; set; }
    /// <summary>The driver's name for its objects (the posix driver's object prefix).</summary>
    public string? ServiceMetadata { get; set; }
    public string? Metadata { get; set; }
    public DateTime? DataTimestamp { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? UpdatedAt { get; set; }
    public int Version { get; set; }

    public bool IsIncremental => ParentId is not null;

    public void Touch(DateTime now)
    {
        UpdatedAt = now;
        Version++;
    }
}
