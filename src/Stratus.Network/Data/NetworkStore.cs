using System.Runtime.CompilerServices;
using Stratus.Core.Auth;
using Stratus.Core.Data;

namespace Stratus.Network.Data;

/// <summary>
/// What neutron-server does all day (networks and subnets made and listed, ports made, listed and deleted,
/// quotas counted, agents' reports) in plain ADO.NET over the tables <see cref="NetworkDb"/> maps, so a busy
/// server never builds EF Core's query pipeline (<see cref="SqlDatabase"/> says what that costs). The rest of
/// the API (routers, floating IPs, security groups, subnet pools) and the agents' RPCs keep EF Core.
/// </summary>
public sealed class NetworkStore(SqlDatabase sql)
{
    /// <summary>Above this many ids a lookup reads the whole table: a list of every port is most of it anyway.</summary>
    const int WholeTable = 500;

    static readonly Dictionary<Type, string> Tables = new()
    {
        [typeof(NetworkRow)] = "networks", [typeof(SubnetRow)] = "subnets", [typeof(PortRow)] = "ports", [typeof(IpAllocation)] = "ipallocations",
        [typeof(PortSecurityGroup)] = "securitygroupportbindings", [typeof(SecurityGroupRow)] = "securitygroups",
        [typeof(SecurityGroupRuleRow)] = "securitygrouprules", [typeof(DefaultSecurityGroup)] = "default_security_group",
        [typeof(QuotaRow)] = "quotas", [typeof(AgentRow)] = "agents",
    };

    public SqlDatabase Sql => sql;

    /// <summary>The project whose resources a caller lists: null (all) for an admin.</summary>
    public static string? VisibleTo(Caller caller) => caller.IsAdmin ? null : caller.ProjectId ?? "";

    // ---- networks and subnets ----

    public Task<NetworkRow?> NetworkAsync(string id, CancellationToken ct) =>
        sql.FirstAsync<NetworkRow>("SELECT * FROM \"networks\" WHERE \"Id\" = @id", new { id }, ct);

    /// <summary>The networks a project may see, oldest first (<see cref="VisibleTo"/>): its own, shared and external ones.</summary>
    public Task<List<NetworkRow>> NetworksAsync(string? project, CancellationToken ct) =>
        sql.QueryAsync<NetworkRow>(project is null
            ? "SELECT * FROM \"networks\" ORDER BY \"CreatedAt\", \"Id\""
            : "SELECT * FROM \"networks\" WHERE \"ProjectId\" = @project OR \"Shared\" = @yes OR \"External\" = @yes ORDER BY \"CreatedAt\", \"Id\"",
            new { project, yes = true }, ct);

    /// <summary>The networks' subnet ids, oldest first.</summary>
    public async Task<ILookup<string, string>> SubnetIdsAsync(IReadOnlyCollection<string> networkIds, CancellationToken ct) =>
        (await sql.QueryAsync<SubnetRow>("SELECT \"Id\", \"NetworkId\", \"Cidr\" FROM \"subnets\" WHERE \"NetworkId\" IN @networkIds ORDER BY \"CreatedAt\", \"Id\"",
            new { networkIds }, ct)).ToLookup(s => s.NetworkId, s => s.Id);

    public Task<List<SubnetRow>> SubnetsOfAsync(string networkId, CancellationToken ct) =>
        sql.QueryAsync<SubnetRow>("SELECT * FROM \"subnets\" WHERE \"NetworkId\" = @networkId ORDER BY \"CreatedAt\", \"Id\"", new { networkId }, ct);

    public async Task<bool> SubnetExistsAsync(string id, CancellationToken ct) =>
        await sql.FirstAsync<string>("SELECT \"Id\" FROM \"subnets\" WHERE \"Id\" = @id", new { id }, ct) is not null;

    /// <summary>The segmentation ids vxlan networks hold.</summary>
    public Task<List<int?>> VxlanIdsAsync(CancellationToken ct) =>
        sql.QueryAsync<int?>("SELECT \"SegmentationId\" FROM \"networks\" WHERE \"NetworkType\" = 'vxlan'", null, ct);

    public async Task<bool> SegmentTakenAsync(string type, string physnet, int segmentationId, CancellationToken ct) =>
        await sql.FirstAsync<string>("SELECT \"Id\" FROM \"networks\" WHERE \"NetworkType\" = @type AND \"PhysicalNetwork\" = @physnet AND \"SegmentationId\" = @segmentationId",
            new { type, physnet, segmentationId }, ct) is not null;

    /// <summary>Bumps a resource's revision and update time (a network whose subnets changed).</summary>
    public static Task TouchAsync(SqlSession s, string table, string id, DateTime now) =>
        s.ExecuteAsync($"UPDATE \"{table}\" SET \"UpdatedAt\" = @now, \"RevisionNumber\" = \"RevisionNumber\" + 1 WHERE \"Id\" = @id", new { now, id });

    /// <summary>
    /// Deletes a network with what goes with it in Neutron (its subnets, its DHCP and floating IP ports and
    /// their addresses, its floating IPs) and all their tags, in one transaction.
    /// </summary>
    public Task DeleteNetworkAsync(string id, CancellationToken ct) => sql.InTransactionAsync(async s =>
    {
        foreach (var statement in new[]
        {
            "DELETE FROM \"tags\" WHERE \"ResourceId\" IN (SELECT \"Id\" FROM \"floatingips\" WHERE \"FloatingNetworkId\" = @id)",
            "DELETE FROM \"floatingips\" WHERE \"FloatingNetworkId\" = @id",
            "DELETE FROM \"ipallocations\" WHERE \"NetworkId\" = @id",
            "DELETE FROM \"securitygroupportbindings\" WHERE \"PortId\" IN (SELECT \"Id\" FROM \"ports\" WHERE \"NetworkId\" = @id)",
            "DELETE FROM \"tags\" WHERE \"ResourceId\" IN (SELECT \"Id\" FROM \"ports\" WHERE \"NetworkId\" = @id)",
            "DELETE FROM \"ports\" WHERE \"NetworkId\" = @id",
            "DELETE FROM \"tags\" WHERE \"ResourceId\" IN (SELECT \"Id\" FROM \"subnets\" WHERE \"NetworkId\" = @id)",
            "DELETE FROM \"subnets\" WHERE \"NetworkId\" = @id",
            "DELETE FROM \"tags\" WHERE \"ResourceId\" = @id",
            "DELETE FROM \"networks\" WHERE \"Id\" = @id",
        })
            await s.ExecuteAsync(statement, new { id });
        return true;
    }, ct);

    // ---- ports ----

    public Task<PortRow?> PortAsync(string id, CancellationToken ct) =>
        sql.FirstAsync<PortRow>("SELECT * FROM \"ports\" WHERE \"Id\" = @id", new { id }, ct);

    /// <summary>
    /// Which ports a list shows (<c>p</c>): those a project may list (<see cref="VisibleTo"/>: its own and those on its
    /// networks), on the given networks, of the given devices (none given: any).
    /// </summary>
    public sealed record PortFilter(string? Project, IReadOnlyList<string> NetworkIds, IReadOnlyList<string> DeviceIds)
    {
        public string Where
        {
            get
            {
                var where = new List<string>();
                if (Project is not null)
                    where.Add("(p.\"ProjectId\" = @Project OR EXISTS (SELECT 1 FROM \"networks\" n WHERE n.\"Id\" = p.\"NetworkId\" AND n.\"ProjectId\" = @Project))");
                if (NetworkIds.Count > 0) where.Add("p.\"NetworkId\" IN @NetworkIds");
                if (DeviceIds.Count > 0) where.Add("p.\"DeviceId\" IN @DeviceIds");
                return where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "";
            }
        }
    }

    /// <summary>The ports of <paramref name="filter"/>, oldest first.</summary>
    public Task<List<PortRow>> PortsAsync(PortFilter filter, CancellationToken ct) =>
        sql.QueryAsync<PortRow>("SELECT p.* FROM \"ports\" p" + filter.Where + " ORDER BY p.\"CreatedAt\", p.\"Id\"", filter, ct);

    /// <summary>
    /// The ports of <paramref name="filter"/>, oldest first, each with its addresses and security groups, read in one
    /// query as the database hands the rows over (a row per port, address and group): a list of thousands of ports
    /// holds one at a time.
    /// </summary>
    public async IAsyncEnumerable<(PortRow Port, List<IpAllocation> Addresses, List<string> Groups)> StreamPortsAsync(PortFilter filter,
        [EnumeratorCancellation] CancellationToken ct)
    {
        PortRow? port = null;
        List<IpAllocation> addresses = [];
        List<string> groups = [];
        await foreach (var row in sql.StreamAsync("SELECT p.*, a.\"SubnetId\" AS \"AddressSubnet\", a.\"IpAddress\" AS \"Address\", g.\"SecurityGroupId\" AS \"Group\" " +
            "FROM \"ports\" p LEFT JOIN \"ipallocations\" a ON a.\"PortId\" = p.\"Id\" LEFT JOIN \"securitygroupportbindings\" g ON g.\"PortId\" = p.\"Id\"" +
            filter.Where + " ORDER BY p.\"CreatedAt\", p.\"Id\"", filter, ct))
        {
            // A port's rows come together: one for each of its addresses with each of its groups.
            if (port is null || port.Id != row.Value<string>("Id"))
            {
                if (port is not null) yield return (port, addresses, groups);
                port = row.As<PortRow>();
                addresses = [];
                groups = [];
            }
            if (row.Value<string>("Address") is { } ip && !addresses.Any(a => a.IpAddress == ip))
                addresses.Add(new IpAllocation { PortId = port.Id, NetworkId = port.NetworkId, SubnetId = row.Value<string>("AddressSubnet")!, IpAddress = ip });
            if (row.Value<string>("Group") is { } group && !groups.Contains(group)) groups.Add(group);
        }
        if (port is not null) yield return (port, addresses, groups);
    }

    /// <summary>The networks of the ports of <paramref name="filter"/>, by id.</summary>
    public async Task<Dictionary<string, NetworkRow>> NetworksOfAsync(PortFilter filter, CancellationToken ct) =>
        (await sql.QueryAsync<NetworkRow>("SELECT * FROM \"networks\" WHERE \"Id\" IN (SELECT p.\"NetworkId\" FROM \"ports\" p" + filter.Where + ")", filter, ct))
            .ToDictionary(n => n.Id);

    /// <summary>The tags of the ports of <paramref name="filter"/>, by port.</summary>
    public async Task<Dictionary<string, List<string>>> TagsOfAsync(PortFilter filter, CancellationToken ct) =>
        (await sql.QueryAsync<TagRow>("SELECT t.* FROM \"tags\" t WHERE t.\"ResourceId\" IN (SELECT p.\"Id\" FROM \"ports\" p" + filter.Where + ")", filter, ct))
            .GroupBy(t => t.ResourceId).ToDictionary(g => g.Key, g => g.Select(t => t.Tag).ToList(), StringComparer.Ordinal);

    public Task<List<IpAllocation>> AllocationsOfAsync(string portId, CancellationToken ct) =>
        sql.QueryAsync<IpAllocation>("SELECT * FROM \"ipallocations\" WHERE \"PortId\" = @portId", new { portId }, ct);

    /// <summary>The port's security groups.</summary>
    public Task<List<string>> GroupsOfAsync(string portId, CancellationToken ct) =>
        sql.QueryAsync<string>("SELECT \"SecurityGroupId\" FROM \"securitygroupportbindings\" WHERE \"PortId\" = @portId", new { portId }, ct);

    /// <summary>The addresses of a subnet that ports hold.</summary>
    public async Task<HashSet<string>> AddressesInUseAsync(string subnetId, CancellationToken ct) =>
        (await sql.QueryAsync<string>("SELECT \"IpAddress\" FROM \"ipallocations\" WHERE \"SubnetId\" = @subnetId", new { subnetId }, ct)).ToHashSet();

    public async Task<bool> MacInUseAsync(string networkId, string mac, CancellationToken ct) =>
        await sql.FirstAsync<string>("SELECT \"Id\" FROM \"ports\" WHERE \"NetworkId\" = @networkId AND \"MacAddress\" = @mac", new { networkId, mac }, ct) is not null;

    public async Task<bool> SecurityGroupExistsAsync(string id, CancellationToken ct) =>
        await sql.FirstAsync<string>("SELECT \"Id\" FROM \"securitygroups\" WHERE \"Id\" = @id", new { id }, ct) is not null;

    /// <summary>
    /// Deletes a port with its addresses, group bindings and tags in one transaction; a floating IP on it is
    /// let go (Neutron's disassociate on port delete).
    /// </summary>
    public Task DeletePortAsync(string id, DateTime now, CancellationToken ct) => sql.InTransactionAsync(async s =>
    {
        await s.ExecuteAsync("UPDATE \"floatingips\" SET \"FixedPortId\" = NULL, \"FixedIpAddress\" = NULL, \"RouterId\" = NULL, " +
            "\"UpdatedAt\" = @now, \"RevisionNumber\" = \"RevisionNumber\" + 1 WHERE \"FixedPortId\" = @id", new { id, now });
        foreach (var statement in new[]
        {
            "DELETE FROM \"ipallocations\" WHERE \"PortId\" = @id",
            "DELETE FROM \"securitygroupportbindings\" WHERE \"PortId\" = @id",
            "DELETE FROM \"tags\" WHERE \"ResourceId\" = @id",
            "DELETE FROM \"ports\" WHERE \"Id\" = @id",
        })
            await s.ExecuteAsync(statement, new { id });
        return true;
    }, ct);

    /// <summary>Saves a changed row (every column but its id).</summary>
    public Task UpdateAsync(object row, CancellationToken ct) => sql.ExecuteAsync(SqlRows.Update(Tables[row.GetType()], row.GetType()), row, ct);

    /// <summary>
    /// Saves a changed port in one transaction, with its addresses (those dropped and added) and its security
    /// groups (all of them) where they changed.
    /// </summary>
    public Task UpdatePortAsync(PortRow port, (IEnumerable<IpAllocation> Dropped, IEnumerable<IpAllocation> Added)? addresses, List<string>? groups,
        CancellationToken ct) => sql.InTransactionAsync(async s =>
    {
        await s.ExecuteAsync(SqlRows.Update("ports", typeof(PortRow)), port);
        if (addresses is var (dropped, added))
        {
            foreach (var a in dropped)
                await s.ExecuteAsync("DELETE FROM \"ipallocations\" WHERE \"SubnetId\" = @SubnetId AND \"IpAddress\" = @IpAddress", a);
            await AddAsync(s, added);
        }
        if (groups is not null)
        {
            await s.ExecuteAsync("DELETE FROM \"securitygroupportbindings\" WHERE \"PortId\" = @Id", port);
            await AddAsync(s, groups.Select(g => new PortSecurityGroup { PortId = port.Id, SecurityGroupId = g }));
        }
        return true;
    }, ct);

    // ---- tags, security groups, agents, quotas ----

    /// <summary>The tags of the resources, by resource id.</summary>
    public async Task<Dictionary<string, List<string>>> TagsOfAsync(IReadOnlyCollection<string> ids, CancellationToken ct)
    {
        IEnumerable<TagRow> rows;
        if (ids.Count > WholeTable)
        {
            var wanted = ids.ToHashSet(StringComparer.Ordinal);
            rows = (await sql.QueryAsync<TagRow>("SELECT * FROM \"tags\"", null, ct)).Where(t => wanted.Contains(t.ResourceId));
        }
        else rows = ids.Count == 0 ? [] : await sql.QueryAsync<TagRow>("SELECT * FROM \"tags\" WHERE \"ResourceId\" IN @ids", new { ids }, ct);
        return rows.GroupBy(t => t.ResourceId).ToDictionary(g => g.Key, g => g.Select(t => t.Tag).ToList(), StringComparer.Ordinal);
    }

    public Task<string?> DefaultGroupAsync(string projectId, CancellationToken ct) =>
        sql.FirstAsync<string>("SELECT \"SecurityGroupId\" FROM \"default_security_group\" WHERE \"ProjectId\" = @projectId", new { projectId }, ct);

    /// <summary>How many agents of each type reported since <paramref name="since"/>.</summary>
    public async Task<IReadOnlyDictionary<string, long>> AgentsAliveAsync(DateTime since, CancellationToken ct) =>
        (await sql.QueryAsync<AgentRow>("SELECT \"AgentType\", \"HeartbeatTimestamp\" FROM \"agents\"", null, ct))
            .GroupBy(a => a.AgentType).ToDictionary(g => g.Key, g => g.LongCount(a => a.HeartbeatTimestamp >= since), StringComparer.Ordinal);

    public Task<AgentRow?> AgentAsync(string type, string host, CancellationToken ct) =>
        sql.FirstAsync<AgentRow>("SELECT * FROM \"agents\" WHERE \"AgentType\" = @type AND \"Host\" = @host", new { type, host }, ct);

    public Task<List<QuotaRow>> QuotasAsync(string? projectId, CancellationToken ct) =>
        projectId is null
            ? sql.QueryAsync<QuotaRow>("SELECT * FROM \"quotas\"", null, ct)
            : sql.QueryAsync<QuotaRow>("SELECT * FROM \"quotas\" WHERE \"ProjectId\" = @projectId", new { projectId }, ct);

    public Task<int> DeleteQuotasAsync(string projectId, CancellationToken ct) =>
        sql.ExecuteAsync("DELETE FROM \"quotas\" WHERE \"ProjectId\" = @projectId", new { projectId }, ct);

    /// <summary>Sets the project's limits (rows changed or added) in one transaction.</summary>
    public Task SetQuotasAsync(string projectId, IReadOnlyDictionary<string, int> limits, CancellationToken ct) => sql.InTransactionAsync(async s =>
    {
        var existing = (await s.QueryAsync<string>("SELECT \"Resource\" FROM \"quotas\" WHERE \"ProjectId\" = @projectId", new { projectId })).ToHashSet();
        foreach (var (resource, limit) in limits)
        {
            var row = new QuotaRow { ProjectId = projectId, Resource = resource, Limit = limit };
            await s.ExecuteAsync(existing.Contains(resource)
                ? "UPDATE \"quotas\" SET \"Limit\" = @Limit WHERE \"ProjectId\" = @ProjectId AND \"Resource\" = @Resource"
                : SqlRows.Insert("quotas", typeof(QuotaRow)), row);
        }
        return true;
    }, ct);

    /// <summary>How many rows of <paramref name="table"/> the project holds.</summary>
    public async Task<int> CountAsync(string table, string projectId, CancellationToken ct) =>
        Convert.ToInt32(await sql.FirstAsync<long>($"SELECT COUNT(*) FROM \"{table}\" WHERE \"ProjectId\" = @projectId", new { projectId }, ct));

    // ---- writes ----

    /// <summary>Adds the rows in one transaction; a row a unique key refuses throws (see <see cref="SqlDatabase.IsDuplicate"/>).</summary>
    public Task AddAsync(IEnumerable<object> rows, CancellationToken ct) => sql.InTransactionAsync(async s =>
    {
        await AddAsync(s, rows);
        return true;
    }, ct);

    public static async Task AddAsync(SqlSession s, IEnumerable<object> rows)
    {
        foreach (var row in rows) await s.ExecuteAsync(SqlRows.Insert(Tables[row.GetType()], row.GetType()), row);
    }
}
