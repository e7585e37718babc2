using Stratus.Core.Data;

namespace Stratus.Network.Data;

/// <summary>
/// The network database of a region (<c>[database] connection</c>). Unique indexes keep what Neutron's
/// keep unique under concurrent requests: an address once per subnet, a MAC once per network, one
/// default security group per project, a segmentation id once per network type.
/// </summary>
public sealed class NetworkDb(DbContextOptions<NetworkDb> options) : ServiceDb(options)
{
    /// <summary>The schema's steps since the release of 2026-12-02 (the first without a stamp); see SchemaHistory.</summary>
    public static SchemaHistory History { get; } = new("neutron-db-manage upgrade heads",
    [
        new(1, "routers scheduled to L3 agents: routerl3agentbindings", async (s, ct) =>
        {
            await s.CreateMissingTablesAsync(ct: ct);
        }),
    ]);

    public DbSet<NetworkRow> Networks => Set<NetworkRow>();
    public DbSet<SubnetRow> Subnets => Set<SubnetRow>();
    public DbSet<SubnetPoolRow> SubnetPools => Set<SubnetPoolRow>();
    public DbSet<PortRow> Ports => Set<PortRow>();
    public DbSet<IpAllocation> IpAllocations => Set<IpAllocation>();
    public DbSet<SecurityGroupRow> SecurityGroups => Set<SecurityGroupRow>();
    public DbSet<SecurityGroupRuleRow> SecurityGroupRules => Set<SecurityGroupRuleRow>();
    public DbSet<DefaultSecurityGroup> DefaultSecurityGroups => Set<DefaultSecurityGroup>();
    public DbSet<PortSecurityGroup> PortSecurityGroups => Set<PortSecurityGroup>();
    public DbSet<RouterRow> Routers => Set<RouterRow>();
    public DbSet<FloatingIpRow> FloatingIps => Set<FloatingIpRow>();
    public DbSet<RouterL3AgentBinding> RouterL3AgentBindings => Set<RouterL3AgentBinding>();
    public DbSet<AgentRow> Agents => Set<AgentRow>();
    public DbSet<QuotaRow> Quotas => Set<QuotaRow>();
    public DbSet<TagRow> Tags => Set<TagRow>();

    protected override void ConfigureConventions(ModelConfigurationBuilder c)
    {
        c.Properties<DateTime>().HaveConversion<UtcConverter>();
        c.Properties<DateTime?>().HaveConversion<UtcConverter>();
        c.Properties<string>().HaveMaxLength(255);
    }

    protected override void OnModelCreating(ModelBuilder b)
    {
        b.Entity<NetworkRow>(e =>
        {
            e.ToTable("networks");
            e.HasIndex(x => x.ProjectId);
            e.HasIndex(x => new { x.NetworkType, x.PhysicalNetwork, x.SegmentationId }).IsUnique();
            e.Property(x => x.Description).HasMaxLength(1024);
            e.Property(x => x.AvailabilityZoneHints).HasMaxLength(4000);
        });
        b.Entity<SubnetRow>(e =>
        {
            e.ToTable("subnets");
            e.HasIndex(x => x.NetworkId);
            e.Property(x => x.Description).HasMaxLength(1024);
            e.Property(x => x.AllocationPools).HasMaxLength(8000);
            e.Property(x => x.DnsNameservers).HasMaxLength(4000);
            e.Property(x => x.HostRoutes).HasMaxLength(8000);
            e.Property(x => x.ServiceTypes).HasMaxLength(4000);
        });
        b.Entity<SubnetPoolRow>(e =>
        {
            e.ToTable("subnetpools");
            e.Property(x => x.Prefixes).HasMaxLength(8000);
            e.Property(x => x.Description).HasMaxLength(1024);
        });
        b.Entity<PortRow>(e =>
        {
            e.ToTable("ports");
            e.HasIndex(x => x.NetworkId);
            e.HasIndex(x => x.DeviceId);
            e.HasIndex(x => new { x.NetworkId, x.MacAddress }).IsUnique();
            e.Property(x => x.Description).HasMaxLength(1024);
            e.Property(x => x.VifDetails).HasMaxLength(4000);
            e.Property(x => x.Profile).HasMaxLength(4000);
            e.Property(x => x.AllowedAddressPairs).HasMaxLength(8000);
            e.Property(x => x.ExtraDhcpOpts).HasMaxLength(8000);
        });
        b.Entity<IpAllocation>(e =>
        {
            e.ToTable("ipallocations");
            e.HasKey(x => new { x.SubnetId, x.IpAddress });
            e.HasIndex(x => x.PortId);
            e.HasIndex(x => x.NetworkId);
        });
        b.Entity<SecurityGroupRow>(e =>
        {
            e.ToTable("securitygroups");
            e.HasIndex(x => x.ProjectId);
            e.Property(x => x.Description).HasMaxLength(1024);
        });
        b.Entity<SecurityGroupRuleRow>(e =>
        {
            e.ToTable("securitygrouprules");
            e.HasIndex(x => x.SecurityGroupId);
            e.Property(x => x.Description).HasMaxLength(1024);
        });
        b.Entity<DefaultSecurityGroup>(e => { e.ToTable("default_security_group"); e.HasKey(x => x.ProjectId); });
        b.Entity<PortSecurityGroup>(e =>
        {
            e.ToTable("securitygroupportbindings");
            e.HasKey(x => new { x.PortId, x.SecurityGroupId });
            e.HasIndex(x => x.SecurityGroupId);
        });
        b.Entity<RouterRow>(e =>
        {
            e.ToTable("routers");
            e.Property(x => x.Description).HasMaxLength(1024);
            e.Property(x => x.Routes).HasMaxLength(8000);
            e.Property(x => x.ExternalFixedIps).HasMaxLength(4000);
            e.Property(x => x.AvailabilityZoneHints).HasMaxLength(4000);
        });
        b.Entity<FloatingIpRow>(e =>
        {
            e.ToTable("floatingips");
            e.HasIndex(x => x.FixedPortId);
            e.Property(x => x.Description).HasMaxLength(1024);
        });
        b.Entity<RouterL3AgentBinding>(e =>
        {
            e.ToTable("routerl3agentbindings");
            e.HasKey(x => new { x.RouterId, x.L3AgentId });
            // A legacy router has one binding: its index is 1, once per router.
            e.HasIndex(x => new { x.RouterId, x.BindingIndex }).IsUnique();
            e.HasIndex(x => x.L3AgentId);
        });
        b.Entity<AgentRow>(e =>
        {
            e.ToTable("agents");
            e.HasIndex(x => new { x.AgentType, x.Host }).IsUnique();
            e.Property(x => x.Configurations).HasMaxLength(8000);
            e.Property(x => x.Description).HasMaxLength(1024);
        });
        b.Entity<QuotaRow>(e => { e.ToTable("quotas"); e.HasKey(x => new { x.ProjectId, x.Resource }); });
        b.Entity<TagRow>(e =>
        {
            e.ToTable("tags");
            e.HasKey(x => new { x.ResourceId, x.Tag });
            e.Property(x => x.Tag).HasMaxLength(255);
        });
    }
}

/// <summary>Neutron's standard attributes: every resource has them (standard-attr-* extensions).</summary>
public abstract class StandardRow
{
    public required string Id { get; set; }
    public string ProjectId { get; set; } = "";
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    /// <summary>Bumped on every change (standard-attr-revisions); also the row's concurrency token.</summary>
    public long RevisionNumber { get; set; }
}

public sealed class NetworkRow : StandardRow
{
    public bool AdminStateUp { get; set; } = true;
    public string Status { get; set; } = "ACTIVE";
    public bool Shared { get; set; }
    public bool External { get; set; }
    public bool IsDefault { get; set; }
    public int Mtu { get; set; }
    public required string NetworkType { get; set; }
    public string? PhysicalNetwork { get; set; }
    public int? SegmentationId { get; set; }
    public bool PortSecurityEnabled { get; set; } = true;
    /// <summary>JSON array of zone names.</summary>
    public string AvailabilityZoneHints { get; set; } = "[]";
    public string? DnsDomain { get; set; }
}

public sealed class SubnetRow : StandardRow
{
    public required string NetworkId { get; set; }
    public int IpVersion { get; set; }
    public required string Cidr { get; set; }
    public string? GatewayIp { get; set; }
    public bool EnableDhcp { get; set; } = true;
    public string? Ipv6RaMode { get; set; }
    public string? Ipv6AddressMode { get; set; }
    public string? SubnetPoolId { get; set; }
    public string? SegmentId { get; set; }
    /// <summary>JSON: [{"start","end"}], in the order given.</summary>
    public string AllocationPools { get; set; } = "[]";
    /// <summary>JSON array of addresses, in the order given.</summary>
    public string DnsNameservers { get; set; } = "[]";
    /// <summary>JSON: [{"destination","nexthop"}].</summary>
    public string HostRoutes { get; set; } = "[]";
    public string ServiceTypes { get; set; } = "[]";
    public bool DnsPublishFixedIp { get; set; }
}

public sealed class SubnetPoolRow : StandardRow
{
    public int IpVersion { get; set; }
    /// <summary>JSON array of CIDRs.</summary>
    public string Prefixes { get; set; } = "[]";
    public int DefaultPrefixLength { get; set; }
    public int MinPrefixLength { get; set; }
    public int MaxPrefixLength { get; set; }
    public bool Shared { get; set; }
    public bool IsDefault { get; set; }
    public int? DefaultQuota { get; set; }
    public string? AddressScopeId { get; set; }
}

public sealed class PortRow : StandardRow
{
    public required string NetworkId { get; set; }
    public required string MacAddress { get; set; }
    public bool AdminStateUp { get; set; } = true;
    public string Status { get; set; } = "DOWN";
    public string DeviceId { get; set; } = "";
    public string DeviceOwner { get; set; } = "";
    public string HostId { get; set; } = "";
    public string VifType { get; set; } = "unbound";
    public string VnicType { get; set; } = "normal";
    /// <summary>JSON object.</summary>
    public string VifDetails { get; set; } = "{}";
    /// <summary>JSON object: binding:profile as the client gave it.</summary>
    public string Profile { get; set; } = "{}";
    public bool PortSecurityEnabled { get; set; } = true;
    /// <summary>JSON: [{"ip_address","mac_address"}].</summary>
    public string AllowedAddressPairs { get; set; } = "[]";
    /// <summary>JSON: [{"opt_name","opt_value","ip_version"}].</summary>
    public string ExtraDhcpOpts { get; set; } = "[]";
    public string? DnsName { get; set; }
    public bool PropagateUplinkStatus { get; set; }
}

/// <summary>One address of a port (its fixed_ips), unique in its subnet.</summary>
public sealed class IpAllocation
{
    public required string SubnetId { get; set; }
    public required string IpAddress { get; set; }
    public required string PortId { get; set; }
    public required string NetworkId { get; set; }
}

public sealed class SecurityGroupRow : StandardRow
{
    public bool Stateful { get; set; } = true;
}

public sealed class SecurityGroupRuleRow
{
    public required string Id { get; set; }
    public required string SecurityGroupId { get; set; }
    public string ProjectId { get; set; } = "";
    public required string Direction { get; set; }
    public string Ethertype { get; set; } = "IPv4";
    public string? Protocol { get; set; }
    public int? PortRangeMin { get; set; }
    public int? PortRangeMax { get; set; }
    public string? RemoteIpPrefix { get; set; }
    public string? RemoteGroupId { get; set; }
    public string? RemoteAddressGroupId { get; set; }
    public string Description { get; set; } = "";
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public long RevisionNumber { get; set; }
}

/// <summary>The project's <c>default</c> group, made on first use; the key keeps it one per project.</summary>
public sealed class DefaultSecurityGroup
{
    public required string ProjectId { get; set; }
    public required string SecurityGroupId { get; set; }
}

public sealed class PortSecurityGroup
{
    public required string PortId { get; set; }
    public required string SecurityGroupId { get; set; }
}

public sealed class RouterRow : StandardRow
{
    public bool AdminStateUp { get; set; } = true;
    public string Status { get; set; } = "ACTIVE";
    public string? GatewayNetworkId { get; set; }
    public string? GatewayPortId { get; set; }
    public bool EnableSnat { get; set; } = true;
    /// <summary>JSON: the gateway's [{"subnet_id","ip_address"}].</summary>
    public string ExternalFixedIps { get; set; } = "[]";
    /// <summary>JSON: extra routes [{"destination","nexthop"}].</summary>
    public string Routes { get; set; } = "[]";
    public bool Distributed { get; set; }
    public bool Ha { get; set; }
    /// <summary>JSON array of zone names.</summary>
    public string AvailabilityZoneHints { get; set; } = "[]";
}

public sealed class FloatingIpRow : StandardRow
{
    public required string FloatingNetworkId { get; set; }
    public required string FloatingIpAddress { get; set; }
    /// <summary>The port on the external network that holds the address (device_owner network:floatingip).</summary>
    public required string FloatingPortId { get; set; }
    public string? FixedPortId { get; set; }
    public string? FixedIpAddress { get; set; }
    public string? RouterId { get; set; }
    public string Status { get; set; } = "DOWN";
    public string? DnsName { get; set; }
    public string? DnsDomain { get; set; }
}

/// <summary>Which L3 agent hosts a router (Neutron's router_l3_agent_bindings; the l3_agent_scheduler extension).</summary>
public sealed class RouterL3AgentBinding
{
    public required string RouterId { get; set; }
    public required string L3AgentId { get; set; }
    public int BindingIndex { get; set; } = 1;
}

/// <summary>An agent as its reports made it: one per type and host.</summary>
public sealed class AgentRow
{
    public required string Id { get; set; }
    public required string AgentType { get; set; }
    public required string Binary { get; set; }
    public required string Topic { get; set; }
    public required string Host { get; set; }
    public bool AdminStateUp { get; set; } = true;
    public string? AvailabilityZone { get; set; }
    public string Description { get; set; } = "";
    /// <summary>JSON object the agent reports (bridge mappings, tunnel types, devices...).</summary>
    public string Configurations { get; set; } = "{}";
    public DateTime CreatedAt { get; set; }
    public DateTime StartedAt { get; set; }
    public DateTime HeartbeatTimestamp { get; set; }
    public bool ResourcesSynced { get; set; }
}

public sealed class QuotaRow
{
    public required string ProjectId { get; set; }
    public required string Resource { get; set; }
    public int Limit { get; set; }
}

/// <summary>A tag on any resource (the standard-attr-tag extension); resource ids are UUIDs, unique across kinds.</summary>
public sealed class TagRow
{
    public required string ResourceId { get; set; }
    public required string Tag { get; set; }
}
