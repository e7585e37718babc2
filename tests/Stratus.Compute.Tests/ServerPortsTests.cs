using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Stratus.Compute.Tests;

/// <summary>Servers on networks in a region whose Linux bridge agent is alive: ports made, bound, shown as addresses, attached, detached and removed.</summary>
public sealed class ServerPortsTests(NetworkedRegionServer region) : IClassFixture<NetworkedRegionServer>
{
    async Task<(string Network, string Subnet)> NetworkAsync(HttpClient network, string cidr)
    {
        var n = await network.PostJsonAsync("v2.0/networks", new JsonObject { ["network"] = new JsonObject { ["name"] = "n-" + Guid.NewGuid().ToString("N")[..6] } }, 201);
        var id = (string)n["network"]!["id"]!;
        var s = await network.PostJsonAsync("v2.0/subnets", new JsonObject
        {
            ["subnet"] = new JsonObject { ["network_id"] = id, ["ip_version"] = 4, ["cidr"] = cidr, ["dns_nameservers"] = new JsonArray("10.88.0.53") },
        }, 201);
        return (id, (string)s["subnet"]!["id"]!);
    }

    [Fact]
    public async Task A_server_gets_a_bound_port_with_the_fixed_ip_asked_for_and_loses_it_when_deleted()
    {
        var (compute, image, project) = await region.NewComputeUserAsync("2.37");
        var token = compute.DefaultRequestHeaders.GetValues("X-Auth-Token").Single();
        var network = region.NetworkClient(token);
        var (networkId, subnetId) = await NetworkAsync(network, "10.88.0.0/24");
        var created = await compute.PostJsonAsync("servers", new JsonObject
        {
            ["server"] = new JsonObject
            {
                ["name"] = "on-net", ["imageRef"] = await region.NewImageAsync(image), ["flavorRef"] = await region.NewFlavorAsync(),
                ["networks"] = new JsonArray(new JsonObject { ["uuid"] = networkId, ["fixed_ip"] = "10.88.0.42" }),
            },
        }, 202);
        var id = (string)created["server"]!["id"]!;
        var server = await ComputeServer.WaitForServerAsync(compute, id, s => (string?)s["status"] is "ACTIVE" or "ERROR");
        Assert.Equal("ACTIVE", (string?)server["status"]);
        var address = server["addresses"]!.AsObject().Single().Value!.AsArray().Single()!;
        Assert.Equal("10.88.0.42", (string?)address["addr"]);
        Assert.Equal(4, (int)address["version"]!);
        Assert.Equal("fixed", (string?)address["OS-EXT-IPS:type"]);

        var port = (await network.GetFromJsonAsync<JsonObject>($"v2.0/ports?device_id={id}"))!["ports"]!.AsArray().Single()!;
        Assert.Equal(project, (string?)port["project_id"]);
        Assert.Equal("compute:nova", (string?)port["device_owner"]);
        Assert.Equal((string?)address["OS-EXT-IPS-MAC:mac_addr"], (string?)port["mac_address"]);
        var admin = region.NetworkClient(region.Identity.AdminToken);
        var bound = (await admin.GetFromJsonAsync<JsonObject>($"v2.0/ports/{(string)port["id"]!}"))!["port"]!;
        Assert.Equal("bridge", (string?)bound["binding:vif_type"]);
        Assert.Equal(region.Nova.Host, (string?)bound["binding:host_id"]);

        Assert.Equal(HttpStatusCode.NoContent, (await compute.DeleteAsync($"servers/{id}")).StatusCode);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await network.GetFromJsonAsync<JsonObject>($"v2.0/ports?device_id={id}"))!["ports"]!.AsArray().Count > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the server's port was not deleted with it");
            await Task.Delay(100);
        }
        Assert.Equal(HttpStatusCode.OK, (await network.GetAsync($"v2.0/subnets/{subnetId}")).StatusCode);
    }

    [Fact]
    public async Task A_users_port_attached_as_an_interface_is_kept_and_freed_when_detached()
    {
        var (compute, image, _) = await region.NewComputeUserAsync("2.37");
        var network = region.NetworkClient(compute.DefaultRequestHeaders.GetValues("X-Auth-Token").Single());
        var (networkId, _) = await NetworkAsync(network, "10.89.0.0/24");
        var id = (string)(await compute.PostJsonAsync("servers", new JsonObject
        {
            ["server"] = new JsonObject { ["name"] = "attach", ["imageRef"] = await region.NewImageAsync(image), ["flavorRef"] = await region.NewFlavorAsync(), ["networks"] = "none" },
        }, 202))["server"]!["id"]!;
        await ComputeServer.WaitForServerAsync(compute, id, s => (string?)s["status"] == "ACTIVE");
        var portId = (string)(await network.PostJsonAsync("v2.0/ports", new JsonObject { ["port"] = new JsonObject { ["network_id"] = networkId, ["name"] = "mine" } }, 201))["port"]!["id"]!;

        var attached = await compute.PostJsonAsync($"servers/{id}/os-interface", new JsonObject { ["interfaceAttachment"] = new JsonObject { ["port_id"] = portId } }, 200);
        Assert.Equal(portId, (string?)attached["interfaceAttachment"]!["port_id"]);
        var listed = (await compute.GetFromJsonAsync<JsonObject>($"servers/{id}/os-interface"))!["interfaceAttachments"]!.AsArray();
        Assert.Equal(portId, (string?)listed.Single()!["port_id"]);
        var server = await ComputeServer.WaitForServerAsync(compute, id, s => s["addresses"]!.AsObject().Count == 1);
        Assert.StartsWith("10.89.0.", (string?)server["addresses"]!.AsObject().Single().Value![0]!["addr"]);

        Assert.Equal(HttpStatusCode.Accepted, (await compute.DeleteAsync($"servers/{id}/os-interface/{portId}")).StatusCode);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((string?)(await network.GetFromJsonAsync<JsonObject>($"v2.0/ports/{portId}"))!["port"]!["device_id"] is { Length: > 0 })
        {
            Assert.True(DateTime.UtcNow < deadline, "the detached port was not freed");
            await Task.Delay(100);
        }
        // The user's port is kept, unbound, for another server.
        Assert.Equal("", (string?)(await network.GetFromJsonAsync<JsonObject>($"v2.0/ports/{portId}"))!["port"]!["device_owner"]);
        Assert.Empty((await compute.GetFromJsonAsync<JsonObject>($"servers/{id}"))!["server"]!["addresses"]!.AsObject());
    }

    [Fact]
    public async Task Servers_deleted_while_they_build_leave_no_port_behind()
    {
        var (compute, image, _) = await region.NewComputeUserAsync("2.37");
        var network = region.NetworkClient(compute.DefaultRequestHeaders.GetValues("X-Auth-Token").Single());
        var (networkId, _) = await NetworkAsync(network, "10.90.0.0/24");
        var (imageId, flavor) = (await region.NewImageAsync(image), await region.NewFlavorAsync());
        var ids = new List<string>();
        // Deleted at once (before a host is chosen) and a little later (while the host makes the port and spawns).
        foreach (var delay in new[] { 0, 0, 50, 150, 300, 600 })
        {
            var id = (string)(await compute.PostJsonAsync("servers", new JsonObject
            {
                ["server"] = new JsonObject
                {
                    ["name"] = "short-lived", ["imageRef"] = imageId, ["flavorRef"] = flavor, ["networks"] = new JsonArray(new JsonObject { ["uuid"] = networkId }),
                },
            }, 202))["server"]!["id"]!;
            ids.Add(id);
            await Task.Delay(delay);
            Assert.Equal(HttpStatusCode.NoContent, (await compute.DeleteAsync($"servers/{id}")).StatusCode);
        }
        var deadline = DateTime.UtcNow.AddSeconds(30);
        foreach (var id in ids)
            while ((await compute.GetAsync($"servers/{id}")).StatusCode != HttpStatusCode.NotFound)
            {
                Assert.True(DateTime.UtcNow < deadline, $"server {id} was not deleted");
                await Task.Delay(100);
            }
        // A build that was under way finishes after the delete: give it time to make (and undo) its port.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var left = (await network.GetFromJsonAsync<JsonObject>($"v2.0/ports?network_id={networkId}&device_owner=compute:nova"))!["ports"]!.AsArray();
        Assert.Empty(left);
    }
}
