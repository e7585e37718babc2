using System.Text.Json.Nodes;
using static Stratus.Testing.PrometheusText;

namespace Stratus.BlockStorage.Tests;

/// <summary>cinder-api's /healthcheck and /metrics: volumes by status, requests by route, the token cache.</summary>
public sealed class OperationsTests(BlockStorageServer server) : IClassFixture<BlockStorageServer>
{
    [Fact]
    public async Task Healthcheck_is_OK_and_metrics_count_volumes_by_status_requests_and_token_validations()
    {
        Assert.Equal((200, "OK"), await HealthcheckAsync(server.Url));
        // The fixture's own requests (its admin waiting for the backends) came before.
        var missesBefore = (await ScrapeAsync(server.Url)).Value("stratus_token_cache_misses_total");
        var (member, _, _) = await server.NewProjectUserAsync();
        var volume = await member.CreateVolumeAsync(new JsonObject { ["size"] = 1 });
        await member.ExpectAsync(HttpMethod.Get, $"volumes/{(string)volume["id"]!}", 200);

        var metrics = await ScrapeAsync(server.Url);
        Assert.Equal(1, metrics.Value("stratus_block_storage_volumes{status=\"available\"}"));
        Assert.Equal(1, metrics.Value("stratus_http_requests_total{method=\"POST\",route=\"/v3/{project_id}/volumes\",code=\"202\"}"));
        Assert.True(metrics.Value("stratus_http_requests_total{method=\"GET\",route=\"/v3/{project_id}/volumes/{id}\",code=\"200\"}") >= 2);
        // One token: the identity was asked once, the cache answered the rest.
        Assert.Equal(missesBefore + 1, metrics.Value("stratus_token_cache_misses_total"));
        Assert.True(metrics.Value("stratus_token_cache_hits_total") >= 2);
        Assert.True(metrics.ContainsKey("stratus_rpc_queue_depth{queue=\"cinder-volume\"}"), string.Join("\n", metrics.Keys));

        await member.ExpectAsync(HttpMethod.Delete, $"volumes/{(string)volume["id"]!}", 202);
        await member.WaitGoneAsync($"volumes/{(string)volume["id"]!}");
        metrics = await ScrapeAsync(server.Url);
        Assert.Equal(0, metrics.Value("stratus_block_storage_volumes{status=\"available\"}"));
        Assert.True(metrics.ContainsKey("stratus_block_storage_volumes{status=\"available\"}"));
    }
}
