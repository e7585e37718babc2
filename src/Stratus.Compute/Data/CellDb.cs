using Stratus.Core.Data;
using Stratus.Core.Services;

namespace Stratus.Compute.Data;

/// <summary>Nova's cell database (<c>[database] connection</c>): instances, services, compute nodes, actions and faults.</summary>
public sealed class CellDb(DbContextOptions<CellDb> options) : ServiceDb(options)
{
    /// <summary>The schema's steps since the release of 2026-12-02 (the first without a stamp); see SchemaHistory.</summary>
    public static SchemaHistory History { get; } = new("nova-manage db sync",
    [
        new(1, "servers boot from volumes: block_device_mapping", async (s, ct) =>
        {
            await s.CreateMissingTablesAsync(ct: ct);
        }),
        new(2, "a server that names no zone may land in any: instances.RequestedAvailabilityZone", async (s, ct) =>
        {
            await s.AddColumnAsync("instances", nameof(Instance.RequestedAvailabilityZone), ct: ct);
        }),
    ]);

    public DbSet<Instance> Instances => Set<Instance>();
    public DbSet<InstanceFault> Faults => Set<InstanceFault>();
    public DbSet<InstanceAction> Actions => Set<InstanceAction>();
    public DbSet<InstanceActionEvent> ActionEvents => Set<InstanceActionEvent>();
    public DbSet<ServiceRecord> Services => Set<ServiceRecord>();
    public DbSet<ComputeNode> ComputeNodes => Set<ComputeNode>();
    public DbSet<Migration> Migrations => Set<Migration>();
    public DbSet<BlockDeviceMapping> BlockDeviceMappings => Set<BlockDeviceMapping>();

    protected override void ConfigureConventions(ModelConfigurationBuilder c)
    {
        c.Properties<DateTime>().HaveConversion<UtcConverter>();
        c.Properties<DateTime?>().HaveConversion<UtcConverter>();
    }

    protected override void OnModelCreating(ModelBuilder b)
    {
        b.Entity<Instance>(e =>
        {
            e.ToTable("instances");
            e.HasKey(x => x.Uuid);
            e.Property(x => x.Uuid).HasMaxLength(36);
            e.Property(x => x.ProjectId).HasMaxLength(255);
            e.Property(x => x.Host).HasMaxLength(255);
            e.HasIndex(x => new { x.ProjectId, x.Deleted });
            e.HasIndex(x => x.Host);
            // Two writers (an API action and the agent's report) must not silently overwrite each other.
            e.Property(x => x.Version).IsConcurrencyToken();
        });
        b.Entity<Migration>(e => { e.ToTable("migrations"); e.HasIndex(x => x.InstanceUuid); });
        b.Entity<BlockDeviceMapping>(e =>
        {
            e.ToTable("block_device_mapping");
            e.HasKey(x => x.Uuid);
            e.Property(x => x.Uuid).HasMaxLength(36);
            e.Property(x => x.InstanceUuid).HasMaxLength(36);
            e.Property(x => x.VolumeId).HasMaxLength(36);
            // One mapping per volume and server (Nova's get_by_volume_and_instance).
            e.HasIndex(x => new { x.InstanceUuid, x.VolumeId }).IsUnique();
        });
        b.Entity<InstanceFault>(e => { e.ToTable("instance_faults"); e.HasIndex(x => x.InstanceUuid); });
        b.Entity<InstanceAction>(e =>
        {
            e.ToTable("instance_actions");
            e.HasIndex(x => x.InstanceUuid);
            e.HasMany(x => x.Events).WithOne().HasForeignKey(x => x.ActionId).OnDelete(DeleteBehavior.Cascade);
        });
        b.Entity<InstanceActionEvent>(e => e.ToTable("instance_actions_events"));
        b.Entity<ServiceRecord>(e =>
        {
            e.ToTable("services");
            e.Property(x => x.Host).HasMaxLength(255);
            e.Property(x => x.Binary).HasMaxLength(255);
            e.HasIndex(x => new { x.Host, x.Binary }).IsUnique();
        });
        b.Entity<ComputeNode>(e =>
        {
            e.ToTable("compute_nodes");
            e.Property(x => x.Host).HasMaxLength(255);
            e.HasIndex(x => x.Host).IsUnique();
        });
    }
}

/// <summary>A server. Deleted servers stay, marked, as in Nova (their actions and faults remain readable by admins).</summary>
public sealed class Instance
{
    public required string Uuid { get; set; }
    public required string DisplayName { get; set; }
    public string? Description { get; set; }
    public required string ProjectId { get; set; }
    public required string UserId { get; set; }
    public string Hostname { get; set; } = "";
    public string VmState { get; set; } = VmStates.Building;
    public string? TaskState { get; set; } = TaskStates.Scheduling;
    public int PowerState { get; set; }
    public string? Host { get; set; }
    public string? Node { get; set; }
    /// <summary>The zone of the host it runs on (what the API shows); the requested one until it is scheduled.</summary>
    public string? AvailabilityZone { get; set; }
    /// <summary>The zone the create asked for (Nova's request_spec.availability_zone); null lets a (re)schedule pick any.</summary>
    public string? RequestedAvailabilityZone { get; set; }
    /// <summary>The flavor as it was at boot (Nova keeps a copy: later flavor changes do not touch servers).</summary>
    public required string FlavorJson { get; set; }
    public string ImageRef { get; set; } = "";
    public string? KeyName { get; set; }
    public string? KeyData { get; set; }
    public string? UserData { get; set; }
    public string MetadataJson { get; set; } = "{}";
    public string TagsJson { get; set; } = "[]";
    public bool Locked { get; set; }
    public string? LockedReason { get; set; }
    public string? LockedBy { get; set; }
    public string? AccessIpV4 { get; set; }
    public string? AccessIpV6 { get; set; }
    public bool ConfigDrive { get; set; }
    /// <summary>The create's networks (JSON of <see cref="Network.RequestedNetwork"/>), for the agent that builds it.</summary>
    public string RequestedNetworksJson { get; set; } = "[]";
    /// <summary>Nova's network info cache: the server's NICs (JSON of <see cref="Network.Vif"/>).</summary>
    public string NetworkInfoJson { get; set; } = "[]";
    /// <summary>OS-DCF:diskConfig AUTO (the guest's root partition grows to the disk).</summary>
    public bool AutoDiskConfig { get; set; }
    /// <summary>During a resize: the flavor before, kept for a revert (Nova's instance_extra.flavor old/new).</summary>
    public string? OldFlavorJson { get; set; }
    public int LaunchIndex { get; set; }
    public int Progress { get; set; }
    /// <summary>Hosts a build was tried on and failed (so a reschedule goes elsewhere).</summary>
    public string TriedHostsJson { get; set; } = "[]";
    public int BuildAttempts { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public DateTime? LaunchedAt { get; set; }
    public DateTime? TerminatedAt { get; set; }
    public bool Deleted { get; set; }
    public DateTime? DeletedAt { get; set; }
    public int Version { get; set; }

    /// <summary>Nova's soft delete: the row stays, marked, for admins to read; its guest is gone or going.</summary>
    public void MarkDeleted()
    {
        VmState = VmStates.Deleted;
        TaskState = null;
        PowerState = 0;
        Deleted = true;
        DeletedAt = TerminatedAt = DateTime.UtcNow;
        Touch();
    }

    /// <summary>409 unless the server is idle in one of <paramref name="from"/> (nova.compute.api's check_instance_state).</summary>
    public void CheckState(string action, string[] from)
    {
        if (TaskState is not null)
            throw OpenStackError.Conflict($"Cannot '{action}' instance {Uuid} while it is in task_state {TaskState}");
        if (!from.Contains(VmState))
            throw OpenStackError.Conflict($"Cannot '{action}' instance {Uuid} while it is in vm_state {VmState}");
    }

    public void Touch()
    {
        UpdatedAt = DateTime.UtcNow;
        Version++;
    }
}

/// <summary>A resize (Nova records resizes and migrations alike), listed by os-migrations.</summary>
public sealed class Migration
{
    public int Id { get; set; }
    public required string Uuid { get; set; }
    public required string InstanceUuid { get; set; }
    public required string ProjectId { get; set; }
    public required string UserId { get; set; }
    public string MigrationType { get; set; } = "resize";
    public string Status { get; set; } = "pre-migrating";
    public string? SourceCompute { get; set; }
    public string? SourceNode { get; set; }
    public string? DestCompute { get; set; }
    public string? DestNode { get; set; }
    public string? DestHost { get; set; }
    public int OldFlavorId { get; set; }
    public int NewFlavorId { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? UpdatedAt { get; set; }
}

public sealed class InstanceFault
{
    public int Id { get; set; }
    public required string InstanceUuid { get; set; }
    public int Code { get; set; }
    public required string Message { get; set; }
    public string Details { get; set; } = "";
    public string? Host { get; set; }
    public DateTime CreatedAt { get; set; }
}

public sealed class InstanceAction
{
    public int Id { get; set; }
    public required string Action { get; set; }
    public required string InstanceUuid { get; set; }
    public string? RequestId { get; set; }
    public string? UserId { get; set; }
    public string? ProjectId { get; set; }
    public DateTime StartTime { get; set; }
    public DateTime? FinishTime { get; set; }
    public string? Message { get; set; }
    public DateTime UpdatedAt { get; set; }
    public List<InstanceActionEvent> Events { get; set; } = [];
}

public sealed class InstanceActionEvent
{
    public int Id { get; set; }
    public int ActionId { get; set; }
    public required string Event { get; set; }
    public DateTime StartTime { get; set; }
    public DateTime? FinishTime { get; set; }
    public string? Result { get; set; }
    public string? Traceback { get; set; }
    public string? Host { get; set; }
    public string? Details { get; set; }
}

/// <summary>One running Nova service (nova-compute on a host...), with its heartbeat.</summary>
public sealed class ServiceRecord : IServiceMember
{
    public int Id { get; set; }
    public required string Uuid { get; set; }
    public required string Host { get; set; }
    public required string Binary { get; set; }
    public required string Topic { get; set; }
    public string AvailabilityZone { get; set; } = "nova";
    public int ReportCount { get; set; }
    public bool Disabled { get; set; }
    public string? DisabledReason { get; set; }
    public bool ForcedDown { get; set; }
    public DateTime? LastSeenUp { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    /// <summary>The zone the service list shows: nova-compute's own, "internal" for the controller's services.</summary>
    public string Zone => Binary == NovaOptions.Compute ? AvailabilityZone : "internal";
}

/// <summary>A hypervisor: a compute host's capacity, and its resource provider's uuid in placement.</summary>
public sealed class ComputeNode
{
    public int Id { get; set; }
    public required string Uuid { get; set; }
    public required string Host { get; set; }
    public required string HypervisorHostname { get; set; }
    public string HypervisorType { get; set; } = "QEMU";
    public string HostIp { get; set; } = "";
    public int Vcpus { get; set; }
    public long MemoryMb { get; set; }
    public long LocalGb { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

public static class VmStates
{
    public const string Building = "building", Active = "active", Stopped = "stopped", Paused = "paused", Suspended = "suspended",
        Error = "error", Deleted = "deleted", Resized = "resized";
}

public static class TaskStates
{
    public const string Scheduling = "scheduling", Spawning = "spawning", PoweringOff = "powering-off", PoweringOn = "powering-on",
        Rebooting = "rebooting", RebootingHard = "rebooting_hard", Pausing = "pausing", Unpausing = "unpausing", Suspending = "suspending",
        Resuming = "resuming", Deleting = "deleting", Rebuilding = "rebuilding", ResizePrep = "resize_prep", ResizeFinish = "resize_finish",
        ResizeReverting = "resize_reverting", ResizeConfirming = "resize_confirming";
}

public static class InstanceWrites
{
    /// <summary>
    /// Applies <paramref name="apply"/> and saves; when another writer changed the server meanwhile (its
    /// version moved on), reloads it and applies again, so neither the API's nor the agents' change is lost.
    /// </summary>
    public static async Task SaveInstanceAsync(this CellDb db, Instance instance, Action<Instance> apply, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            apply(instance);
            try
            {
                await db.SaveChangesAsync(ct);
                return;
            }
            catch (DbUpdateConcurrencyException) when (attempt < 10)
            {
                await db.Entry(instance).ReloadAsync(ct);
            }
        }
    }
}

public static class ServiceHeartbeats
{
    /// <summary>Records a heartbeat of <paramref name="binary"/> on <paramref name="host"/> (saved with the context); the first one adds its row.</summary>
    public static async Task RecordHeartbeatAsync(this CellDb db, string host, string binary, string topic, string zone, DateTime now, CancellationToken ct)
    {
        var service = await db.Services.FirstOrDefaultAsync(s => s.Host == host && s.Binary == binary, ct);
        if (service is null)
        {
            service = new ServiceRecord { Uuid = Guid.NewGuid().ToString(), Host = host, Binary = binary, Topic = topic, AvailabilityZone = zone, CreatedAt = now };
            db.Services.Add(service);
        }
        service.ReportCount++;
        service.LastSeenUp = service.UpdatedAt = now;
    }
}

/// <summary>
/// Nova's block device mapping: a volume of a server — given, or made at build from an image, a snapshot or
/// nothing — with the block storage attachment that holds it, the device name the guest was promised and the
/// connection its host made.
/// </summary>
public sealed class BlockDeviceMapping
{
    public required string Uuid { get; set; }
    public required string InstanceUuid { get; set; }
    /// <summary>volume, image, snapshot or blank.</summary>
    public string SourceType { get; set; } = "volume";
    public string DestinationType { get; set; } = "volume";
    /// <summary>The volume; null until the build makes it (image, snapshot and blank sources).</summary>
    public string? VolumeId { get; set; }
    public string? ImageId { get; set; }
    public string? SnapshotId { get; set; }
    public int? VolumeSize { get; set; }
    public string? VolumeType { get; set; }
    public string? AttachmentId { get; set; }
    public string? DeviceName { get; set; }
    public string? Tag { get; set; }
    public bool DeleteOnTermination { get; set; }
    /// <summary>0 for the disk a server boots from; null or negative for the others.</summary>
    public int? BootIndex { get; set; }
    /// <summary>The connection info block storage gave the host (attachment_update), once attached.</summary>
    public string? ConnectionInfoJson { get; set; }
    public DateTime CreatedAt { get; set; }
}
