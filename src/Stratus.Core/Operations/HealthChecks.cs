using System.Data.Common;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Core.Data;
using Stratus.Core.Messaging;

namespace Stratus.Core.Operations;

/// <summary>
/// One thing a service needs in order to serve (its database, its message bus, the identity): the probe
/// answers null when it is there, or the reason <c>/healthcheck</c> gives when it is not.
/// </summary>
public sealed record ServiceHealthCheck(string Name, Func<IServiceProvider, CancellationToken, Task<string?>> Probe);

public static partial class HealthCheckServices
{
    /// <summary>How long one probe may take before it counts as unreachable.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    public static IServiceCollection AddHealthCheck(this IServiceCollection services, string name,
        Func<IServiceProvider, CancellationToken, Task<string?>> probe) =>
        services.AddSingleton(new ServiceHealthCheck(name, probe));

    /// <summary>The service's database (<c>[database] connection</c>) answers a query.</summary>
    public static IServiceCollection AddDatabaseHealthCheck(this IServiceCollection services, string connection, string name = "database")
    {
        var url = DatabaseUrl.Parse(connection);
        var shown = Redact(connection);
        return services.AddHealthCheck(name, async (_, ct) =>
        {
            try
            {
                await using var c = url.CreateProbeConnection();
                await c.OpenAsync(ct);
                await using var command = c.CreateCommand();
                // SQLite opens lazily: reading the schema makes it read the file.
                command.CommandText = url.Kind == DatabaseKind.Sqlite ? "SELECT count(*) FROM sqlite_master" : "SELECT 1";
                await command.ExecuteScalarAsync(ct);
                return null;
            }
            catch (Exception e) when (e is DbException or InvalidOperationException or IOException or TimeoutException)
            {
                return $"The {name} ({shown}) is unreachable: {e.Message}";
            }
        });
    }

    /// <summary>The message bus of <c>transport_url</c> is connected.</summary>
    public static IServiceCollection AddMessageBusHealthCheck(this IServiceCollection services, IMessageBus bus) =>
        services.AddHealthCheck("message bus", async (_, ct) => await bus.CheckAsync(ct));

    /// <summary>
    /// The depth of the service's queues on its bus (those whose names start with one of <paramref name="topics"/>),
    /// where the bus can tell it (the in-process one; RabbitMQ's are in RabbitMQ's own metrics).
    /// </summary>
    public static IServiceCollection AddQueueDepthGauge(this IServiceCollection services, IMessageBus bus, params string[] topics) =>
        services.AddScrapeGauge("stratus_rpc_queue_depth", "Messages waiting in the service's RPC queues, by queue.", "queue", (_, _) =>
            Task.FromResult<IReadOnlyDictionary<string, long>>(bus.QueueDepths()
                .Where(q => topics.Any(t => q.Key == t || q.Key.StartsWith(t + ".", StringComparison.Ordinal)))
                .ToDictionary(q => q.Key, q => (long)q.Value, StringComparer.Ordinal)));

    /// <summary>A URL without its password, for reasons and logs.</summary>
    static string Redact(string url) => Password().Replace(url, ":***@");

    [GeneratedRegex(":[^:@/]*@")]
    private static partial Regex Password();
}
