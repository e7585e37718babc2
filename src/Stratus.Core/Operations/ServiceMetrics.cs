using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Stratus.Core.Operations;

/// <summary>
/// A gauge a service contributes to its <c>/metrics</c>: read when Prometheus scrapes (never on a timer),
/// one value per label value; a label value the last read did not return goes back to 0.
/// </summary>
public sealed record ScrapeGauge(string Name, string Help, string Label,
    Func<IServiceProvider, CancellationToken, Task<IReadOnlyDictionary<string, long>>> Read);

/// <summary>
/// The metrics of one service: a registry of its own (the services of a node share a process, each has its
/// own port and its own numbers), the request metrics every service has, and the gauges its module adds.
/// prometheus-net's default registry, and with it the .NET runtime collectors, is never used.
/// </summary>
public sealed class ServiceMetrics
{
    static ServiceMetrics() => Metrics.SuppressDefaultMetrics();

    public CollectorRegistry Registry { get; } = Metrics.NewCustomRegistry();
    public IMetricFactory Factory { get; }

    internal Counter Requests { get; }
    internal Histogram RequestDuration { get; }

    public ServiceMetrics(IEnumerable<ScrapeGauge> gauges, IServiceProvider services, ILogger<ServiceMetrics> log)
    {
        Factory = Metrics.WithCustomRegistry(Registry);
        Requests = Factory.CreateCounter("stratus_http_requests_total",
            "HTTP requests answered, by method, route template and status code.", ["method", "route", "code"]);
        RequestDuration = Factory.CreateHistogram("stratus_http_request_duration_seconds",
            "Time from a request's arrival to its response's end, by method, route template and status code.", ["method", "route", "code"]);
        foreach (var g in gauges)
        {
            var gauge = Factory.CreateGauge(g.Name, g.Help, [g.Label]);
            Registry.AddBeforeCollectCallback(async ct =>
            {
                IReadOnlyDictionary<string, long> values;
                try
                {
                    await using var scope = services.CreateAsyncScope();
                    values = await g.Read(scope.ServiceProvider, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The scrape still answers; /healthcheck says what is broken.
                    log.LogWarning("Cannot read {Gauge} for /metrics: {Error}", g.Name, e.Message);
                    return;
                }
                foreach (var labels in gauge.GetAllLabelValues())
                    if (!values.ContainsKey(labels[0])) gauge.WithLabels(labels).Set(0);
                foreach (var (label, value) in values) gauge.WithLabels(label).Set(value);
            });
        }
    }
}

public static class ServiceMetricsServices
{
    /// <summary>Adds a gauge to the service's <c>/metrics</c>, read at each scrape in a scope of its own.</summary>
    public static IServiceCollection AddScrapeGauge(this IServiceCollection services, string name, string help, string label,
        Func<IServiceProvider, CancellationToken, Task<IReadOnlyDictionary<string, long>>> read) =>
        services.AddSingleton(new ScrapeGauge(name, help, label, read));
}
