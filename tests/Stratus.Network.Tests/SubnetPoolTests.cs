using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Stratus.Network.Ipam;
using static Stratus.Testing.NeutronCalls;

namespace Stratus.Network.Tests;

/// <summary>Subnet pools: prefixes compacted as Neutron stores them, subnets carved from them without overlap.</summary>
public sealed class SubnetPoolTests(NetworkServer net) : IClassFixture<NetworkServer>
{

    [Fact]
    public async Task Subnets_from_a_pool_get_the_next_free_prefix_and_a_pool_in_use_cannot_be_deleted()
    {
        var pool = await net.OpenStackAsync("subnet", "pool", "create", "--pool-prefix", "10.60.0.0/24", "--pool-prefix", "10.60.1.0/24",
            "--default-prefix-length", "26", Name("pool"));
        Assert.Equal(["10.60.0.0/23"], pool["prefixes"]!.AsArray().Select(p => (string)p!).ToArray());
        var network = Name("net");
        await net.OpenStackAsync("network", "create", network);
        var first = await net.OpenStackAsync("subnet", "create", "--network", network, "--subnet-pool", (string)pool["id"]!, Name("s"));
        var second = await net.OpenStackAsync("subnet", "create", "--network", network, "--subnet-pool", (string)pool["id"]!, "--prefix-length", "25", Name("s"));
        Assert.Equal("10.60.0.0/26", (string?)first["cidr"]);
        Assert.Equal("10.60.0.128/25", (string?)second["cidr"]);
        Assert.Equal((string?)pool["id"], (string?)first["subnetpool_id"]);

        var admin = net.Admin();
        var networkId = (string)first["network_id"]!;
        var outside = await admin.PostAsJsonAsync("v2.0/subnets", new JsonObject
        {
            ["subnet"] = new JsonObject { ["network_id"] = networkId, ["ip_version"] = 4, ["subnetpool_id"] = (string)pool["id"]!, ["cidr"] = "10.61.0.0/24" },
        });
        Assert.Equal(HttpStatusCode.BadRequest, outside.StatusCode);
        var tooBig = await admin.PostAsJsonAsync("v2.0/subnets", new JsonObject
        {
            ["subnet"] = new JsonObject { ["network_id"] = networkId, ["ip_version"] = 4, ["subnetpool_id"] = (string)pool["id"]!, ["prefixlen"] = 4 },
        });
        Assert.Equal(HttpStatusCode.BadRequest, tooBig.StatusCode);
        Assert.Contains("MinPrefixSubnetAllocationError", await tooBig.Content.ReadAsStringAsync());
        var inUse = await admin.DeleteAsync($"v2.0/subnetpools/{(string)pool["id"]!}");
        Assert.Equal(HttpStatusCode.Conflict, inUse.StatusCode);
    }

    [Fact]
    public void A_prefix_set_merges_writes_back_as_the_fewest_cidrs_and_finds_aligned_free_blocks()
    {
        static IpNetwork N(string s) => IpNetwork.TryParse(s, out var n, out _) ? n : throw new ArgumentException(s);
        var set = new PrefixSet(4);
        set.Add(N("10.0.1.0/24"));
        set.Add(N("10.0.0.0/24"));
        set.Add(N("10.0.2.0/25"));
        Assert.Equal(["10.0.0.0/23", "10.0.2.0/25"], set.Cidrs().Select(c => c.ToString()));
        set.Remove(N("10.0.0.0/26"));
        Assert.Equal("10.0.0.64/26", set.FirstFree(26).ToString());
        Assert.Equal("10.0.1.0/24", set.FirstFree(24).ToString());
        Assert.Null(set.FirstFree(22));
        var v6 = new PrefixSet(6);
        v6.Add(N("2001:db8::/48"));
        Assert.Equal("2001:db8::/64", v6.FirstFree(64).ToString());
    }
}
