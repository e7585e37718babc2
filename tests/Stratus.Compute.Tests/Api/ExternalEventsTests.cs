using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Stratus.Compute.Tests.Api;

/// <summary><c>/os-server-external-events</c>, as the network service's nova notifier calls it.</summary>
public sealed class ExternalEventsTests(RegionServer server) : IClassFixture<RegionServer>
{
    [Fact]
    public async Task Events_are_answered_per_server_and_only_admins_may_send_them()
    {
        var (member, image, _) = await server.NewComputeUserAsync("2.37");
        var imageId = await server.NewImageAsync(image);
        var flavor = await server.NewFlavorAsync();
        var id = (string)(await member.PostJsonAsync("servers", new JsonObject
        {
            ["server"] = new JsonObject { ["name"] = "ev", ["imageRef"] = imageId, ["flavorRef"] = flavor, ["networks"] = "none" },
        }, 202))["server"]!["id"]!;
        // The fake host takes the server at once; wait until it is on a host.
        for (var n = 0; n < 200 && (string?)(await server.ComputeAdmin.GetFromJsonAsync<JsonObject>($"servers/{id}"))!["server"]!["OS-EXT-SRV-ATTR:host"] is null; n++)
            await Task.Delay(50);
        var missing = Guid.NewGuid().ToString();
        JsonObject Events(params (string Name, string Server)[] events) => new()
        {
            ["events"] = new JsonArray([.. events.Select(e => (JsonNode)new JsonObject { ["name"] = e.Name, ["server_uuid"] = e.Server, ["tag"] = "port-1" })]),
        };

        var both = await server.ComputeAdmin.PostAsJsonAsync("os-server-external-events", Events(("network-vif-plugged", id), ("network-vif-plugged", missing)));
        Assert.Equal((HttpStatusCode)207, both.StatusCode);
        var results = (await both.Content.ReadFromJsonAsync<JsonObject>())!["events"]!.AsArray();
        Assert.Equal(200, (int)results[0]!["code"]!);
        Assert.Equal("completed", (string?)results[0]!["status"]);
        Assert.Equal(404, (int)results[1]!["code"]!);
        Assert.Equal(HttpStatusCode.OK, (await server.ComputeAdmin.PostAsJsonAsync("os-server-external-events", Events(("network-changed", id)))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.ComputeAdmin.PostAsJsonAsync("os-server-external-events", Events(("network-vif-plugged", missing)))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await server.ComputeAdmin.PostAsJsonAsync("os-server-external-events", Events(("network-is-nice", id)))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.PostAsJsonAsync("os-server-external-events", Events(("network-vif-plugged", id)))).StatusCode);
    }
}
