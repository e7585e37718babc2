using System.Net;
using System.Text.Json.Nodes;
using static Stratus.Testing.PrometheusText;

namespace Stratus.Compute.Tests.Api;

/// <summary>nova-api's /healthcheck and /metrics: servers by vm_state, read from the cell database at each scrape.</summary>
public sealed class OperationsTests(RegionServer region) : IClassFixture<RegionServer>
{
    [Fact]
    public async Task Healthcheck_is_OK_and_metrics_count_servers_by_state()
    {
        Assert.Equal((200, "OK"), await HealthcheckAsync(region.ComputeUrl));
        var (member, image, _) = await region.NewComputeUserAsync("2.73");
        var imageId = await region.NewImageAsync(image);
        var flavor = await region.NewFlavorAsync();
        var id = (string)(await member.PostJsonAsync("servers", new JsonObject
        {
            ["server"] = new JsonObject { ["name"] = "counted", ["imageRef"] = imageId, ["flavorRef"] = flavor, ["networks"] = "none" },
        }, 202))["server"]!["id"]!;
        await ComputeServer.WaitForServerAsync(member, id, s => (string?)s["status"] == "ACTIVE");

        var metrics = await ScrapeAsync(region.ComputeUrl);
        Assert.Equal(1, metrics.Value("stratus_compute_servers{state=\"active\"}"));
        Assert.Equal(1, metrics.Value("stratus_http_requests_total{method=\"POST\",route=\"/v2.1/servers\",code=\"202\"}"));

        Assert.Equal(HttpStatusCode.NoContent, (await member.DeleteAsync($"servers/{id}")).StatusCode);
        for (var i = 0; i < 300 && (await member.GetAsync($"servers/{id}")).StatusCode != HttpStatusCode.NotFound; i++) await Task.Delay(100);
        metrics = await ScrapeAsync(region.ComputeUrl);
        Assert.Equal(0, metrics.Value("stratus_compute_servers{state=\"active\"}"));
        Assert.True(metrics.ContainsKey("stratus_compute_servers{state=\"active\"}"));
    }
}
