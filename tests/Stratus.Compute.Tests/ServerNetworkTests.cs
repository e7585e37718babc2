using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Stratus.Network;

namespace Stratus.Compute.Tests;

/// <summary>A region whose network service runs without any agent: no host can bind a port.</summary>
public sealed class AgentlessRegionServer : NetworkedRegionServer
{
    protected override void Configure(TestNode node) => node.Configure<NetworkOptions>(o => o with { Services = [NetworkOptions.Server] });
}

/// <summary>Servers on networks: the API checks what is asked, the agent makes and binds the ports, a failed binding is Nova's PortBindingFailed.</summary>
public sealed class ServerNetworkTests(AgentlessRegionServer region) : IClassFixture<AgentlessRegionServer>
{
    async Task<string> NetworkAsync(HttpClient network)
    {
        var r = await network.PostAsJsonAsync("v2.0/networks", new JsonObject { ["network"] = new JsonObject { ["name"] = "n-" + Guid.NewGuid().ToString("N")[..6] } });
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        var id = (string)(await r.Content.ReadFromJsonAsync<JsonObject>())!["network"]!["id"]!;
        var s = await network.PostAsJsonAsync("v2.0/subnets", new JsonObject
        {
            ["subnet"] = new JsonObject { ["network_id"] = id, ["ip_version"] = 4, ["cidr"] = "10.77.0.0/24" },
        });
        Assert.Equal(HttpStatusCode.Created, s.StatusCode);
        return id;
    }

    [Fact]
    public async Task A_port_no_agent_can_bind_ends_the_build_in_ERROR_with_PortBindingFailed_and_the_port_is_removed()
    {
        var (compute, image, _) = await region.NewComputeUserAsync("2.37");
        var token = compute.DefaultRequestHeaders.GetValues("X-Auth-Token").Single();
        var network = region.NetworkClient(token);
        var networkId = await NetworkAsync(network);
        var imageId = await region.NewImageAsync(image);
        var flavor = await region.NewFlavorAsync();
        var create = await compute.PostAsJsonAsync("servers", new JsonObject
        {
            ["server"] = new JsonObject
            {
                ["name"] = "bound-nowhere", ["imageRef"] = imageId, ["flavorRef"] = flavor,
                ["networks"] = new JsonArray(new JsonObject { ["uuid"] = networkId }),
            },
        });
        Assert.Equal(HttpStatusCode.Accepted, create.StatusCode);
        var id = (string)(await create.Content.ReadFromJsonAsync<JsonObject>())!["server"]!["id"]!;
        var server = await ComputeServer.WaitForServerAsync(compute, id, s => (string?)s["status"] == "ERROR");
        var fault = (string?)server["fault"]?["message"];
        Assert.NotNull(fault);
        Assert.Matches("^PortBindingFailed: Binding failed for port [0-9a-f-]{36}, please check neutron logs for more information\\.$", fault);
        // Nova undoes what it made: no port of the server is left.
        var ports = (await network.GetFromJsonAsync<JsonObject>($"v2.0/ports?device_id={id}"))!["ports"]!.AsArray();
        Assert.Empty(ports);
    }

    [Fact]
    public async Task The_API_refuses_networks_and_ports_the_user_cannot_use()
    {
        var (compute, image, _) = await region.NewComputeUserAsync("2.37");
        var imageId = await region.NewImageAsync(image);
        var flavor = await region.NewFlavorAsync();
        async Task<(HttpStatusCode, string)> CreateAsync(JsonNode networks)
        {
            var r = await compute.PostAsJsonAsync("servers", new JsonObject
            {
                ["server"] = new JsonObject { ["name"] = "s", ["imageRef"] = imageId, ["flavorRef"] = flavor, ["networks"] = networks },
            });
            return (r.StatusCode, await r.Content.ReadAsStringAsync());
        }
        var (status, text) = await CreateAsync(new JsonArray(new JsonObject { ["uuid"] = Guid.NewGuid().ToString() }));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("could not be found", text);
        (status, text) = await CreateAsync(new JsonArray(new JsonObject { ["uuid"] = "not-a-uuid" }));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("Bad networks format", text);
        // Another project's network is not there for this user.
        var (other, _, _) = await region.NewComputeUserAsync("2.37");
        var theirs = await NetworkAsync(region.NetworkClient(other.DefaultRequestHeaders.GetValues("X-Auth-Token").Single()));
        (status, _) = await CreateAsync(new JsonArray(new JsonObject { ["uuid"] = theirs }));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        // "auto" with no network of the project's: Nova's clear 400.
        (status, text) = await CreateAsync(JsonValue.Create("auto"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("Unable to automatically allocate a network", text);
    }

    [Fact]
    public async Task The_network_services_nova_notifier_reaches_the_regions_compute_and_a_wrong_region_is_logged_not_thrown()
    {
        var (compute, image, _) = await region.NewComputeUserAsync("2.37");
        var imageId = await region.NewImageAsync(image);
        var flavor = await region.NewFlavorAsync();
        var create = await compute.PostAsJsonAsync("servers", new JsonObject
        {
            ["server"] = new JsonObject { ["name"] = "notified", ["imageRef"] = imageId, ["flavorRef"] = flavor, ["networks"] = "none" },
        });
        var id = (string)(await create.Content.ReadFromJsonAsync<JsonObject>())!["server"]!["id"]!;
        await ComputeServer.WaitForServerAsync(compute, id, s => (string?)s["status"] == "ACTIVE");
        var options = region.Node.Options<NetworkOptions>();
        using var notifier = new Stratus.Network.Notifications.NovaNotifier(options, Microsoft.Extensions.Logging.Abstractions.NullLogger<Stratus.Network.Notifications.NovaNotifier>.Instance);
        var codes = await notifier.SendAsync([new("network-vif-plugged", id, Guid.NewGuid().ToString()), new("network-vif-plugged", Guid.NewGuid().ToString(), "p")], default);
        Assert.Equal([200, 404], codes);
        using var lost = new Stratus.Network.Notifications.NovaNotifier(options with { Nova = options.Nova! with { RegionName = "NoSuchRegion" } },
            Microsoft.Extensions.Logging.Abstractions.NullLogger<Stratus.Network.Notifications.NovaNotifier>.Instance);
        Assert.Null(await lost.SendAsync([new("network-vif-plugged", id, "p")], default));
    }

    [Fact]
    public async Task Attaching_an_interface_no_agent_can_bind_is_refused_and_leaves_no_port()
    {
        var (compute, image, _) = await region.NewComputeUserAsync("2.37");
        var token = compute.DefaultRequestHeaders.GetValues("X-Auth-Token").Single();
        var network = region.NetworkClient(token);
        var networkId = await NetworkAsync(network);
        var imageId = await region.NewImageAsync(image);
        var flavor = await region.NewFlavorAsync();
        var create = await compute.PostAsJsonAsync("servers", new JsonObject
        {
            ["server"] = new JsonObject { ["name"] = "attach", ["imageRef"] = imageId, ["flavorRef"] = flavor, ["networks"] = "none" },
        });
        var id = (string)(await create.Content.ReadFromJsonAsync<JsonObject>())!["server"]!["id"]!;
        await ComputeServer.WaitForServerAsync(compute, id, s => (string?)s["status"] == "ACTIVE");
        var attach = await compute.PostAsJsonAsync($"servers/{id}/os-interface", new JsonObject { ["interfaceAttachment"] = new JsonObject { ["net_id"] = networkId } });
        Assert.Equal(HttpStatusCode.BadRequest, attach.StatusCode);
        Assert.Contains("PortBindingFailed", await attach.Content.ReadAsStringAsync());
        var listed = (await compute.GetFromJsonAsync<JsonObject>($"servers/{id}/os-interface"))!["interfaceAttachments"]!.AsArray();
        Assert.Empty(listed);
        Assert.Empty((await network.GetFromJsonAsync<JsonObject>($"v2.0/ports?device_id={id}"))!["ports"]!.AsArray());
        Assert.Equal(HttpStatusCode.NotFound, (await compute.DeleteAsync($"servers/{id}/os-interface/{Guid.NewGuid()}")).StatusCode);
    }
}
