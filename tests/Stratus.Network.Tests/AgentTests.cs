using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Stratus.Core.Modules;
using static Stratus.Testing.NeutronCalls;

namespace Stratus.Network.Tests;

/// <summary>The all-in-one network node (neutron-server and its four agents) on a clock the tests move on.</summary>
public sealed class AgentNetworkServer : NetworkServer
{
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);
    protected override TimeProvider Time => Clock;
    public string Host => Node.Options<NetworkOptions>().Host;
}

/// <summary>Agents reporting over the node's bus, the agents and availability zone API, and ports bound by the reports.</summary>
public sealed class AgentTests(AgentNetworkServer net) : IClassFixture<AgentNetworkServer>
{
    static readonly string[] AllInOne = ["DHCP agent", "L3 agent", "Linux bridge agent", "Metadata agent"];

    async Task<List<JsonObject>> AgentsAsync(string? host = null)
    {
        var r = await net.Admin().GetAsync("v2.0/agents" + (host is null ? "" : "?host=" + Uri.EscapeDataString(host)));
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, text);
        return JsonNode.Parse(text)!["agents"]!.AsArray().Select(a => a!.AsObject()).ToList();
    }

    /// <summary>Polls the API until the agents of <paramref name="host"/> are as wanted (reports arrive asynchronously).</summary>
    async Task<List<JsonObject>> WaitForAsync(string host, Func<List<JsonObject>, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var agents = await AgentsAsync(host);
            if (done(agents)) return agents;
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for {what}: {new JsonArray([.. agents.Select(a => a.DeepClone())])}");
            await Task.Delay(100);
        }
    }

    static bool AllAlive(List<JsonObject> agents, params string[] types) =>
        types.All(t => agents.Any(a => (string?)a["agent_type"] == t && (bool)a["alive"]!));

    Task<List<JsonObject>> NodeAgentsAliveAsync() => WaitForAsync(net.Host, a => AllAlive(a, AllInOne), "the node's four agents alive");

    async Task<string> RunAsync(params string[] args) =>
        (await ProcessRunner.RunAsync("openstack", args, net.AdminEnv())).EnsureSuccess("openstack " + string.Join(' ', args)).Stdout;

    async Task<HttpClient> MemberAsync()
    {
        var (identity, _, _) = await net.Identity.NewProjectUserAsync();
        return net.Client(identity.DefaultRequestHeaders.GetValues("X-Auth-Token").Single());
    }

    [Fact]
    public async Task The_openstack_CLI_lists_the_four_agents_of_the_all_in_one_node_alive_with_what_they_report()
    {
        await NodeAgentsAliveAsync();
        var list = (await net.OpenStackAsync("network", "agent", "list", "--host", net.Host)).AsArray().Select(a => a!.AsObject()).ToList();
        Assert.Equal(AllInOne, list.Select(a => (string?)a["Agent Type"]).Order());
        Assert.All(list, a =>
        {
            Assert.True((bool)a["Alive"]!);
            Assert.True((bool)a["State"]!);
            Assert.Equal(net.Host, (string?)a["Host"]);
        });
        var byType = list.ToDictionary(a => (string)a["Agent Type"]!);
        Assert.Equal("neutron-linuxbridge-agent", (string?)byType["Linux bridge agent"]["Binary"]);
        Assert.Equal("neutron-dhcp-agent", (string?)byType["DHCP agent"]["Binary"]);
        Assert.Equal("neutron-l3-agent", (string?)byType["L3 agent"]["Binary"]);
        Assert.Equal("neutron-metadata-agent", (string?)byType["Metadata agent"]["Binary"]);
        // The DHCP and L3 agents report their zone; the others none.
        Assert.Equal("nova", (string?)byType["DHCP agent"]["Availability Zone"]);
        Assert.Equal("nova", (string?)byType["L3 agent"]["Availability Zone"]);
        Assert.Null((string?)byType["Linux bridge agent"]["Availability Zone"]);

        var onlyBridges = (await net.OpenStackAsync("network", "agent", "list", "--agent-type", "linux-bridge")).AsArray();
        Assert.All(onlyBridges, a => Assert.Equal("Linux bridge agent", (string?)a!["Agent Type"]));
        Assert.Contains(onlyBridges, a => (string?)a!["Host"] == net.Host);

        var bridge = await net.OpenStackAsync("network", "agent", "show", (string)byType["Linux bridge agent"]["ID"]!);
        var config = bridge["configuration"]!.AsObject();
        Assert.Equal("N/A", (string?)bridge["topic"]);
        Assert.Equal("vxlan", (string?)config["tunnel_types"]![0]);
        Assert.Equal(net.Node.Spec.Address, (string?)config["tunneling_ip"]);
        Assert.True((bool)config["l2_population"]!);
        Assert.Equal(0, (int)config["devices"]!);
        Assert.Empty(config["interface_mappings"]!.AsObject());

        // The raw view, as Neutron's.
        var raw = (await AgentsAsync(net.Host)).Single(a => (string?)a["agent_type"] == "DHCP agent");
        Assert.Equal("dhcp_agent", (string?)raw["topic"]);
        Assert.Equal("neutron.agent.linux.dhcp.Dnsmasq", (string?)raw["configurations"]!["dhcp_driver"]);
        Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", (string?)raw["heartbeat_timestamp"]);
        Assert.True(raw.ContainsKey("resources_synced"));
        Assert.Null(raw["description"]);
        var fields = await ExpectAsync(net.Admin().GetAsync($"v2.0/agents/{(string)raw["id"]!}?fields=host&fields=alive"), HttpStatusCode.OK);
        Assert.Equal(["alive", "host"], fields["agent"]!.AsObject().Select(p => p.Key).Order());
        var dead = await ExpectAsync(net.Admin().GetAsync($"v2.0/agents?host={net.Host}&alive=false"), HttpStatusCode.OK);
        Assert.Empty(dead["agents"]!.AsArray());

        // Agents are the admin's: a member lists none and finds none.
        var member = await MemberAsync();
        var seen = await ExpectAsync(member.GetAsync("v2.0/agents"), HttpStatusCode.OK);
        Assert.Empty(seen["agents"]!.AsArray());
        await ExpectAsync(member.GetAsync($"v2.0/agents/{(string)raw["id"]!}"), HttpStatusCode.NotFound, "HTTPNotFound");
        await ExpectAsync(net.Admin().GetAsync($"v2.0/agents/{Guid.NewGuid()}"), HttpStatusCode.NotFound, "AgentNotFound");

        var extensions = await ExpectAsync(net.Admin().GetAsync("v2.0/extensions"), HttpStatusCode.OK);
        var aliases = extensions["extensions"]!.AsArray().Select(e => (string?)e!["alias"]).ToList();
        Assert.Contains("agent", aliases);
        Assert.Contains("availability_zone", aliases);
    }

    [Fact]
    public async Task Network_agent_set_disables_and_describes_an_agent_its_reports_keep_that_and_delete_removes_it_until_it_reports_again()
    {
        var agents = await NodeAgentsAliveAsync();
        var l3 = (string)agents.Single(a => (string?)a["agent_type"] == "L3 agent")["id"]!;
        await RunAsync("network", "agent", "set", "--disable", "--description", "draining", l3);
        List<JsonObject> after;
        try
        {
            var shown = await net.OpenStackAsync("network", "agent", "show", l3);
            Assert.False((bool)shown["admin_state_up"]!);
            Assert.Equal("draining", (string?)shown["description"]);
            // A disabled L3 agent leaves the router zone without an available agent; networks' zone stays available.
            var zones = (await net.OpenStackAsync("availability", "zone", "list", "--network", "--long")).AsArray().Select(z => z!.AsObject()).ToList();
            Assert.Contains(zones, z => (string?)z["Zone Name"] == "nova" && (string?)z["Zone Resource"] == "router" && (string?)z["Zone Status"] == "not available");
            Assert.Contains(zones, z => (string?)z["Zone Name"] == "nova" && (string?)z["Zone Resource"] == "network" && (string?)z["Zone Status"] == "available");

            // The next report refreshes the heartbeat and leaves what the admin set.
            var before = (string)agents.Single(a => (string?)a["id"] == l3)["heartbeat_timestamp"]!;
            net.Clock.Advance(TimeSpan.FromSeconds(31));
            after = await WaitForAsync(net.Host, a => a.Any(x => (string?)x["id"] == l3 && (string?)x["heartbeat_timestamp"] != before), "the L3 agent's next report");
            var reported = after.Single(x => (string?)x["id"] == l3);
            Assert.False((bool)reported["admin_state_up"]!);
            Assert.True((bool)reported["alive"]!);
        }
        finally
        {
            await RunAsync("network", "agent", "set", "--enable", l3);
        }
        Assert.True((bool)(await net.OpenStackAsync("network", "agent", "show", l3))["admin_state_up"]!);
        var zone = await ExpectAsync(net.Admin().GetAsync("v2.0/availability_zones?resource=router"), HttpStatusCode.OK);
        Assert.Equal("available", (string?)zone["availability_zones"]!.AsArray().Single()!["state"]);

        // Only admin_state_up and description may change, and only by the admin.
        await ExpectAsync(net.Admin().PutAsJsonAsync($"v2.0/agents/{l3}", new JsonObject { ["agent"] = new JsonObject { ["host"] = "elsewhere" } }),
            HttpStatusCode.BadRequest, "HTTPBadRequest");
        await ExpectAsync(net.Admin().PutAsJsonAsync($"v2.0/agents/{l3}", new JsonObject { ["agent"] = new JsonObject { ["admin_state_up"] = "maybe" } }),
            HttpStatusCode.BadRequest, "HTTPBadRequest");
        var member = await MemberAsync();
        await ExpectAsync(member.PutAsJsonAsync($"v2.0/agents/{l3}", new JsonObject { ["agent"] = new JsonObject { ["admin_state_up"] = false } }),
            HttpStatusCode.NotFound, "HTTPNotFound");
        await ExpectAsync(member.DeleteAsync($"v2.0/agents/{l3}"), HttpStatusCode.NotFound, "HTTPNotFound");
        await ExpectAsync(member.GetAsync("v2.0/availability_zones"), HttpStatusCode.OK);

        // A deleted agent that still runs registers anew with its next report.
        var metadata = (string)after.Single(a => (string?)a["agent_type"] == "Metadata agent")["id"]!;
        await RunAsync("network", "agent", "delete", metadata);
        await ExpectAsync(net.Admin().GetAsync($"v2.0/agents/{metadata}"), HttpStatusCode.NotFound, "AgentNotFound");
        net.Clock.Advance(TimeSpan.FromSeconds(31));
        var back = await WaitForAsync(net.Host, a => a.Any(x => (string?)x["agent_type"] == "Metadata agent"), "the metadata agent's next report");
        var again = back.Single(x => (string?)x["agent_type"] == "Metadata agent");
        Assert.NotEqual(metadata, (string?)again["id"]);
        Assert.True((bool)again["alive"]!);
    }

    [Fact]
    public async Task A_compute_nodes_agent_whose_reports_stop_is_dead_and_ports_bind_only_where_a_live_linux_bridge_agent_reaches_the_network()
    {
        await NodeAgentsAliveAsync();
        // A compute node of the region: only its Linux bridge agent, reporting over the region's bus, no database.
        var spec = TestNode.NewSpec() with
        {
            Role = NodeRoles.Compute,
            IdentityUrl = net.Identity.Node.IdentityUrl,
            TransportUrl = net.Node.Spec.TransportUrl,
            Controller = net.Node.Spec.Address,
        };
        await using var compute = await TestNode.InitAsync(TestNode.Services(m => m is NetworkModule), spec);
        compute.Time = net.Clock;
        await compute.StartAsync();
        var computeHost = compute.Options<NetworkOptions>().Host;
        Assert.False(File.Exists(Path.Combine(compute.ConfigDir, "neutron", "neutron.db")));
        Assert.Null(Stratus.Core.Config.IniFile.Load(Path.Combine(compute.ConfigDir, NetworkModule.NeutronConf)).GetString("database", "connection"));
        var computeAgents = await WaitForAsync(computeHost, a => AllAlive(a, "Linux bridge agent"), "the compute node's Linux bridge agent");
        Assert.Equal(["Linux bridge agent"], computeAgents.Select(a => (string?)a["agent_type"]));
        Assert.Equal(spec.Address, (string?)computeAgents[0]["configurations"]!["tunneling_ip"]);

        var network = Name("agents");
        await net.OpenStackAsync("network", "create", network);
        async Task<string?> BindAsync(string host) =>
            (string?)(await net.OpenStackAsync("port", "create", "--network", network, "--host", host, Name("port")))["binding_vif_type"];
        Assert.Equal("bridge", await BindAsync(computeHost));
        Assert.Equal("bridge", await BindAsync(net.Host));
        Assert.Equal("binding_failed", await BindAsync("compute-nowhere"));

        // A flat network on a physical network no agent maps is unreachable even from a live agent.
        var flat = await ExpectAsync(net.Admin().PostAsJsonAsync("v2.0/networks", new JsonObject
        {
            ["network"] = new JsonObject { ["name"] = Name("flat"), ["provider:network_type"] = "flat", ["provider:physical_network"] = "provider" },
        }), HttpStatusCode.Created);
        var flatPort = await ExpectAsync(net.Admin().PostAsJsonAsync("v2.0/ports", new JsonObject
        {
            ["port"] = new JsonObject { ["network_id"] = (string)flat["network"]!["id"]!, ["binding:host_id"] = net.Host },
        }), HttpStatusCode.Created);
        Assert.Equal("binding_failed", (string?)flatPort["port"]!["binding:vif_type"]);

        // The compute node stops: its agent's last report ages past agent_down_time while the node's agents go on reporting.
        await compute.StopAsync();
        net.Clock.Advance(TimeSpan.FromSeconds(76));
        await WaitForAsync(computeHost, a => a.Single()["alive"]!.GetValue<bool>() == false, "the compute node's agent dead");
        await NodeAgentsAliveAsync();
        var listed = (await net.OpenStackAsync("network", "agent", "list", "--host", computeHost)).AsArray().Single()!;
        Assert.False((bool)listed["Alive"]!);
        var down = await ExpectAsync(net.Admin().GetAsync($"v2.0/agents?alive=false&host={computeHost}"), HttpStatusCode.OK);
        Assert.Single(down["agents"]!.AsArray());
        Assert.Equal("binding_failed", await BindAsync(computeHost));
        Assert.Equal("bridge", await BindAsync(net.Host));

        await RunAsync("network", "agent", "delete", (string)listed["ID"]!);
        Assert.Empty(await AgentsAsync(computeHost));
    }
}
