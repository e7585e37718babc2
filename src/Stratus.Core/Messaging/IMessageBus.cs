using System.Text.Json.Nodes;

namespace Stratus.Core.Messaging;

/// <summary>Handles one RPC message: method name, JSON args; returns the JSON result of a call (ignored for casts).</summary>
public delegate Task<JsonNode?> RpcHandler(string method, JsonObject args, CancellationToken ct);

/// <summary>
/// RPC between the services of one region, as oslo.messaging's is to OpenStack: casts and calls to a
/// topic (any server of it) or to one server (topic.server), and fanouts to all.
/// </summary>
public interface IMessageBus : IAsyncDisposable
{
    Task CastAsync(string topic, string? server, string method, JsonObject args, CancellationToken ct = default);
    Task<JsonNode?> CallAsync(string topic, string? server, string method, JsonObject args, TimeSpan timeout, CancellationToken ct = default);
    Task FanoutAsync(string topic, string method, JsonObject args, CancellationToken ct = default);
    Task<IAsyncDisposable> ServeAsync(string topic, string server, RpcHandler handler, CancellationToken ct = default);

    /// <summary>Null when the bus can carry messages, else why not (for <c>/healthcheck</c>).</summary>
    Task<string?> CheckAsync(CancellationToken ct = default) => Task.FromResult<string?>(null);

    /// <summary>Messages waiting per queue, where the bus holds its queues itself.</summary>
    IEnumerable<KeyValuePair<string, int>> QueueDepths() => [];
}

public sealed class RpcTimeoutException(string message) : Exception(message);

public sealed class RpcRemoteException(string remoteType, string message) : Exception(message)
{
    public string RemoteType { get; } = remoteType;
}

/// <summary>What <see cref="IMessageBus.ServeAsync"/> returns: disposing it stops the server.</summary>
sealed class Serving(Func<Task> stop) : IAsyncDisposable
{
    public async ValueTask DisposeAsync() => await stop();
}
