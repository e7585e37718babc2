using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Stratus.Core.Data;
using Stratus.Network.Data;

namespace Stratus.Network.Tests;

/// <summary>
/// The network service's plain ADO.NET paths (<see cref="NetworkStore"/>) on each database a region may use: what they
/// write, EF Core reads the same (and the other way round); their filters, unique keys, updates and deletes.
/// </summary>
public sealed class NetworkStoreTests
{
    static readonly DateTime Now = new(2026, 12, 7, 21, 30, 15, 250, DateTimeKind.Utc);

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgresql")]
    [InlineData("mariadb")]
    public async Task Rows_written_without_EF_Core_are_the_rows_it_maps_on(string kind)
    {
        var ct = CancellationToken.None;
        await using var database = await TestDatabase.StartAsync(kind, "neutron");
        var connection = database.Connection;
        await DatabaseUrl.SyncAsync<NetworkDb>(connection, o => new NetworkDb(o), NetworkDb.History, ct: ct);
        var url = DatabaseUrl.Parse(connection);
        var store = new NetworkStore(new SqlDatabase(url));
        NetworkDb Ef()
        {
            var options = new DbContextOptionsBuilder<NetworkDb>();
            url.Configure(options);
            return new NetworkDb(options.Options);
        }

        var mine = Network("p1", Now, shared: false);
        var shared = Network("p2", Now.AddSeconds(1), shared: true);
        mine.SegmentationId = 42;
        var subnet = new SubnetRow { Id = Guid.NewGuid().ToString(), ProjectId = "p1", NetworkId = mine.Id, Cidr = "10.0.0.0/24", IpVersion = 4, CreatedAt = Now, UpdatedAt = Now };
        await store.AddAsync([mine, shared, subnet], ct);
        await using (var db = Ef())
        {
            var read = await db.Networks.SingleAsync(n => n.Id == mine.Id, ct);
            Assert.Equal((Now, DateTimeKind.Utc, 42, false, "vxlan"), (read.CreatedAt, read.CreatedAt.Kind, read.SegmentationId, read.Shared, read.NetworkType));
        }
        Assert.Equal([mine.Id, shared.Id], (await store.NetworksAsync(null, ct)).Select(n => n.Id));
        Assert.Equal([shared.Id], (await store.NetworksAsync("p3", ct)).Select(n => n.Id));
        var back = (await store.NetworkAsync(mine.Id, ct))!;
        Assert.Equal((Now, DateTimeKind.Utc, 42, true, 1450), (back.CreatedAt, back.CreatedAt.Kind, back.SegmentationId, back.AdminStateUp, back.Mtu));
        Assert.Null((await store.NetworkAsync(shared.Id, ct))!.SegmentationId);
        Assert.Equal([42], (await store.VxlanIdsAsync(ct)).Where(v => v is not null).Select(v => v!.Value));
        Assert.True(await store.SegmentTakenAsync("vxlan", "", 42, ct));
        Assert.False(await store.SegmentTakenAsync("vxlan", "", 43, ct));
        Assert.Equal([subnet.Id], (await store.SubnetIdsAsync([mine.Id, shared.Id], ct))[mine.Id]);
        Assert.Empty(await store.SubnetIdsAsync([], ct));

        // Ports: p2's port on p1's network is seen by p1 (the network's owner) and p2, not p3.
        var own = Port("p1", mine.Id, "fa:16:3e:00:00:01", "vm-1");
        var other = Port("p2", mine.Id, "fa:16:3e:00:00:02", "vm-2");
        var address = new IpAllocation { SubnetId = subnet.Id, IpAddress = "10.0.0.5", PortId = own.Id, NetworkId = mine.Id };
        await store.AddAsync([own, other, address, new PortSecurityGroup { PortId = own.Id, SecurityGroupId = "g1" }], ct);
        Assert.Equal([own.Id, other.Id], (await store.PortsAsync(new("p1", [], []), ct)).Select(p => p.Id));
        Assert.Equal([other.Id], (await store.PortsAsync(new("p2", [], []), ct)).Select(p => p.Id));
        Assert.Empty(await store.PortsAsync(new("p3", [], []), ct));
        Assert.Equal([other.Id], (await store.PortsAsync(new(null, [mine.Id], ["vm-2"]), ct)).Select(p => p.Id));
        Assert.Equal([mine.Id], (await store.NetworksOfAsync(new("p2", [], []), ct)).Keys);
        Assert.Empty(await store.NetworksOfAsync(new("p3", [], []), ct));
        Assert.True(await store.MacInUseAsync(mine.Id, "fa:16:3e:00:00:01", ct));
        Assert.Equal(["10.0.0.5"], await store.AddressesInUseAsync(subnet.Id, ct));
        // An address once per subnet: the unique key refuses a second holder, and says so in every dialect.
        var taken = await Assert.ThrowsAnyAsync<DbException>(() =>
            store.AddAsync([new IpAllocation { SubnetId = subnet.Id, IpAddress = "10.0.0.5", PortId = other.Id, NetworkId = mine.Id }], ct));
        Assert.True(SqlDatabase.IsDuplicate(taken));
        Assert.Equal(["10.0.0.5"], await store.AddressesInUseAsync(subnet.Id, ct));

        own.Name = "renamed";
        own.RevisionNumber = 2;
        var moved = new IpAllocation { SubnetId = subnet.Id, IpAddress = "10.0.0.6", PortId = own.Id, NetworkId = mine.Id };
        await store.UpdatePortAsync(own, ([address], [moved]), ["g2", "g3"], ct);
        var updated = (await store.PortAsync(own.Id, ct))!;
        Assert.Equal(("renamed", 2L, "fa:16:3e:00:00:01"), (updated.Name, updated.RevisionNumber, updated.MacAddress));
        Assert.Equal(["10.0.0.6"], (await store.AllocationsOfAsync(own.Id, ct)).Select(a => a.IpAddress));
        Assert.Equal(["g2", "g3"], (await store.GroupsOfAsync(own.Id, ct)).Order());

        // A list's stream: each port once, with each of its addresses and groups once (two of each are four rows of the join).
        await store.AddAsync([new IpAllocation { SubnetId = subnet.Id, IpAddress = "10.0.0.7", PortId = own.Id, NetworkId = mine.Id }], ct);
        var listed = new List<(string, string, string)>();
        await foreach (var (port, addresses, groups) in store.StreamPortsAsync(new("p1", [], []), ct))
        {
            Assert.All(addresses, a => Assert.Equal((port.Id, mine.Id, subnet.Id), (a.PortId, a.NetworkId, a.SubnetId)));
            listed.Add((port.Id, string.Join(",", addresses.Select(a => a.IpAddress).Order()), string.Join(",", groups.Order())));
        }
        Assert.Equal([(own.Id, "10.0.0.6,10.0.0.7", "g2,g3"), (other.Id, "", "")], listed);
        await foreach (var _ in store.StreamPortsAsync(new("p3", [], []), ct)) Assert.Fail("p3 sees no port");

        // Quotas: set, then changed and added to.
        await store.SetQuotasAsync("p1", new Dictionary<string, int> { ["port"] = 5 }, ct);
        await store.SetQuotasAsync("p1", new Dictionary<string, int> { ["port"] = 7, ["network"] = 3 }, ct);
        Assert.Equal([("network", 3), ("port", 7)], (await store.QuotasAsync("p1", ct)).Select(q => (q.Resource, q.Limit)).OrderBy(q => q.Resource));
        Assert.Equal(1, await store.CountAsync("ports", "p1", ct));
        Assert.Equal(2, await store.DeleteQuotasAsync("p1", ct));

        // A port's delete lets go of its floating IP and takes its addresses, groups and tags.
        var floating = new FloatingIpRow
        {
            Id = Guid.NewGuid().ToString(), ProjectId = "p1", FloatingNetworkId = shared.Id, FloatingIpAddress = "203.0.113.9", FloatingPortId = "fp",
            FixedPortId = own.Id, FixedIpAddress = "10.0.0.6", RouterId = "r1", CreatedAt = Now, UpdatedAt = Now, RevisionNumber = 1,
        };
        await using (var db = Ef())
        {
            db.FloatingIps.Add(floating);
            db.Tags.Add(new TagRow { ResourceId = own.Id, Tag = "blue" });
            await db.SaveChangesAsync(ct);
        }
        Assert.Equal(["blue"], (await store.TagsOfAsync([own.Id, other.Id], ct))[own.Id]);
        Assert.Equal([own.Id], (await store.TagsOfAsync(new NetworkStore.PortFilter("p1", [], []), ct)).Keys);
        await store.DeletePortAsync(own.Id, Now.AddMinutes(1), ct);
        Assert.Null(await store.PortAsync(own.Id, ct));
        Assert.Empty(await store.AllocationsOfAsync(own.Id, ct));
        Assert.Empty(await store.GroupsOfAsync(own.Id, ct));
        Assert.Empty(await store.TagsOfAsync([own.Id], ct));
        await using (var db = Ef())
        {
            var freed = await db.FloatingIps.SingleAsync(f => f.Id == floating.Id, ct);
            Assert.Equal((null, null, null, 2L, Now.AddMinutes(1)), (freed.FixedPortId, freed.FixedIpAddress, freed.RouterId, freed.RevisionNumber, freed.UpdatedAt));
        }

        // Agents: made, then updated in place.
        var agent = new AgentRow
        {
            Id = Guid.NewGuid().ToString(), AgentType = "Linux bridge agent", Binary = "neutron-linuxbridge-agent", Topic = "N/A", Host = "compute1",
            CreatedAt = Now, StartedAt = Now, HeartbeatTimestamp = Now,
        };
        await store.AddAsync([agent], ct);
        agent.HeartbeatTimestamp = Now.AddSeconds(30);
        await store.UpdateAsync(agent, ct);
        Assert.Equal(Now.AddSeconds(30), (await store.AgentAsync("Linux bridge agent", "compute1", ct))!.HeartbeatTimestamp);
        Assert.Equal(1, (await store.AgentsAliveAsync(Now.AddSeconds(20), ct))["Linux bridge agent"]);
        Assert.Equal(0, (await store.AgentsAliveAsync(Now.AddSeconds(40), ct))["Linux bridge agent"]);

        // A network's delete takes its subnets and ports with it.
        await store.DeleteNetworkAsync(mine.Id, ct);
        Assert.Equal([shared.Id], (await store.NetworksAsync(null, ct)).Select(n => n.Id));
        Assert.Empty(await store.PortsAsync(new(null, [mine.Id], []), ct));
        Assert.False(await store.SubnetExistsAsync(subnet.Id, ct));
    }

    static NetworkRow Network(string project, DateTime created, bool shared) => new()
    {
        Id = Guid.NewGuid().ToString(), ProjectId = project, Name = project + "-net", NetworkType = shared ? "flat" : "vxlan", PhysicalNetwork = shared ? "provider" : "",
        Shared = shared, Mtu = shared ? 1500 : 1450, CreatedAt = created, UpdatedAt = created, RevisionNumber = 1,
    };

    static PortRow Port(string project, string network, string mac, string device) => new()
    {
        Id = Guid.NewGuid().ToString(), ProjectId = project, NetworkId = network, MacAddress = mac, DeviceId = device,
        CreatedAt = Now.AddSeconds(mac[^1] - '0'), UpdatedAt = Now, RevisionNumber = 1,
    };
}
