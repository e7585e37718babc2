using Stratus.Network.Data;
using Stratus.Network.Ipam;

namespace Stratus.Network.Tests;

/// <summary>IPAM's choice of a free address, as Neutron's IPAM driver makes it.</summary>
public sealed class AddressAllocatorTests
{
    static SubnetRow Subnet(string cidr, string start, string end) => new()
    {
        Id = "s",
        NetworkId = "n",
        IpVersion = 4,
        Cidr = cidr,
        AllocationPools = $$"""[{"start":"{{start}}","end":"{{end}}"}]""",
    };

    [Fact]
    public void A_free_address_is_picked_at_random_among_the_first_thousand_free_ones_and_never_a_used_one()
    {
        // Neutron's MAX_WIN: eight clients creating ports at once on one network seldom pick the same address,
        // so few creates lose the race on the database's key and are done again (the tail of bench/network.sh).
        var subnet = Subnet("10.0.0.0/20", "10.0.0.2", "10.0.15.254");
        var used = Enumerable.Range(2, 100).Select(i => $"10.0.{i / 256}.{i % 256}").ToHashSet();
        var picks = Enumerable.Range(0, 200).Select(_ => AddressAllocator.Next(subnet, used)!).ToList();

        var indexes = picks.Select(p => p.Split('.') is var o ? int.Parse(o[2]) * 256 + int.Parse(o[3]) : 0).ToList();
        Assert.DoesNotContain(picks, used.Contains);
        Assert.All(indexes, i => Assert.InRange(i, 102, 1101));
        Assert.Contains(indexes, i => i > 102 + 500);
        Assert.True(picks.Distinct().Count() > 150, $"{picks.Distinct().Count()} distinct addresses of 200 picks");
    }

    [Fact]
    public void A_full_pool_has_no_address_to_give()
    {
        var subnet = Subnet("10.0.0.0/29", "10.0.0.2", "10.0.0.6");
        Assert.Null(AddressAllocator.Next(subnet, Enumerable.Range(2, 5).Select(i => $"10.0.0.{i}").ToHashSet()));
        Assert.Equal("10.0.0.4", AddressAllocator.Next(subnet, new HashSet<string> { "10.0.0.2", "10.0.0.3", "10.0.0.5", "10.0.0.6" }));
    }
}
