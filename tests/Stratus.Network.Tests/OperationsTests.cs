using static Stratus.Testing.PrometheusText;

namespace Stratus.Network.Tests;

/// <summary>neutron-server's /healthcheck and /metrics: agents alive by type, as the agents API counts them.</summary>
public sealed class OperationsTests(AgentNetworkServer net) : IClassFixture<AgentNetworkServer>
{
    static readonly string[] AllInOne = ["DHCP agent", "L3 agent", "Linux bridge agent", "Metadata agent"];

    [Fact]
    public async Task Healthcheck_is_OK_and_metrics_count_the_alive_agents_of_each_type()
    {
        Assert.Equal((200, "OK"), await HealthcheckAsync(net.Url));
        // The agents' first reports arrive in the background.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        IReadOnlyDictionary<string, double> metrics;
        while (true)
        {
            metrics = await ScrapeAsync(net.Url);
            if (AllInOne.All(t => metrics.Value($"stratus_network_agents_alive{{agent_type=\"{t}\"}}") == 1)) break;
            if (DateTime.UtcNow > deadline) Assert.Fail("the four agents never counted alive: " + string.Join("\n", metrics.Where(m => m.Key.Contains("agents"))));
            await Task.Delay(200);
        }
        Assert.Equal(AllInOne, metrics.Keys.Where(k => k.StartsWith("stratus_network_agents_alive{", StringComparison.Ordinal))
            .Select(k => k.Split('"')[1]).Order(StringComparer.Ordinal));
        Assert.True(metrics.ContainsKey("stratus_http_requests_total{method=\"GET\",route=\"/healthcheck\",code=\"200\"}"));
    }
}
