using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Stratus.Core.Messaging;

/// <summary>
/// The single-host transport (<c>transport_url = inproc://NAME</c>): every service of this process
/// naming the same bus shares its queues. Same semantics as RabbitMQ's: a shared queue per topic
/// (servers compete for its messages), a direct queue per server, fanout to all; messages wait in
/// their queue until a server takes them, and go through JSON both ways as they would on the wire.
/// </summary>
public sealed class InProcessMessageBus(string name, ILogger? log = null) : IMessageBus
{
    static readonly ConcurrentDictionary<string, Broker> Brokers = new(StringComparer.Ordinal);

    readonly Broker _broker = Brokers.GetOrAdd(name, _ => new Broker());
    readonly ILogger _log = log ?? NullLogger.Instance;

    sealed record Message(string Method, string Args, TaskCompletionSource<string?>? Reply);

    sealed class Broker
    {
        public readonly ConcurrentDictionary<string, Channel<Message>> Queues = new(StringComparer.Ordinal);
        public readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> Servers = new(StringComparer.Ordinal);

        public Channel<Message> Queue(string name) => Queues.GetOrAdd(name, _ => Channel.CreateUnbounded<Message>());
    }

    public Task CastAsync(string topic, string? server, string method, JsonObject args, CancellationToken ct = default) =>
        _broker.Queue(server is null ? topic : $"{topic}.{server}").Writer.WriteAsync(new Message(method, args.ToJsonString(), null), ct).AsTask();

    public async Task<JsonNode?> CallAsync(string topic, string? server, string method, JsonObject args, TimeSpan timeout, CancellationToken ct = default)
    {
        var reply = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _broker.Queue(server is null ? topic : $"{topic}.{server}").Writer.WriteAsync(new Message(method, args.ToJsonString(), reply), ct);
        try
        {
            var result = await reply.Task.WaitAsync(timeout, ct);
            return result is null ? null : JsonNode.Parse(result);
        }
        catch (TimeoutException)
        {
            reply.TrySetCanceled();
            throw new RpcTimeoutException($"Timed out waiting for a reply to {method} on {topic}{(server is null ? "" : "." + server)} after {timeout.TotalSeconds:0} s.");
        }
    }

    public async Task FanoutAsync(string topic, string method, JsonObject args, CancellationToken ct = default)
    {
        foreach (var server in _broker.Servers.GetOrAdd(topic, _ => new()).Keys)
            await CastAsync(topic, server, method, args, ct);
    }

    public Task<IAsyncDisposable> ServeAsync(string topic, string server, RpcHandler handler, CancellationToken ct = default)
    {
        _broker.Servers.GetOrAdd(topic, _ => new())[server] = 0;
        var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var loops = new[] { _broker.Queue(topic), _broker.Queue($"{topic}.{server}") }
            .Select(q => Task.Run(() => ConsumeAsync(q, handler, stop.Token), CancellationToken.None)).ToArray();
        return Task.FromResult<IAsyncDisposable>(new Serving(async () =>
        {
            _broker.Servers[topic].TryRemove(server, out _);
            await stop.CancelAsync();
            await Task.WhenAll(loops);
            stop.Dispose();
        }));
    }

    const int Concurrency = 16;

    async Task ConsumeAsync(Channel<Message> queue, RpcHandler handler, CancellationToken stop)
    {
        using var slots = new SemaphoreSlim(Concurrency);
        var running = new List<Task>();
        try
        {
            while (true)
            {
                await slots.WaitAsync(stop);
                Message message;
                try
                {
                    message = await queue.Reader.ReadAsync(stop);
                }
                catch
                {
                    slots.Release();
                    throw;
                }
                running.RemoveAll(t => t.IsCompleted);
                running.Add(Task.Run(async () =>
                {
                    try
                    {
                        await HandleAsync(message, handler, stop);
                    }
                    finally
                    {
                        slots.Release();
                    }
                }, CancellationToken.None));
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        await Task.WhenAll(running);
    }

    async Task HandleAsync(Message message, RpcHandler handler, CancellationToken stop)
    {
        try
        {
            var result = await handler(message.Method, JsonNode.Parse(message.Args)!.AsObject(), stop);
            message.Reply?.TrySetResult(result?.ToJsonString());
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            if (message.Reply is null) _log.LogError(e, "Handling cast {Method} failed", message.Method);
            else message.Reply.TrySetException(new RpcRemoteException(e.GetType().Name, e.Message));
        }
    }

    public IEnumerable<KeyValuePair<string, int>> QueueDepths() =>
        _broker.Queues.Select(q => KeyValuePair.Create(q.Key, q.Value.Reader.Count));

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

public static class MessageBus
{
    /// <summary>The bus a service's <c>[DEFAULT] transport_url</c> names.</summary>
    public static IMessageBus FromTransportUrl(string transportUrl, ILoggerFactory? logs = null)
    {
        if (transportUrl.StartsWith("inproc://", StringComparison.Ordinal))
            return new InProcessMessageBus(transportUrl["inproc://".Length..].TrimEnd('/'), logs?.CreateLogger<InProcessMessageBus>());
        if (transportUrl.StartsWith("rabbit://", StringComparison.Ordinal))
            return new RabbitMqMessageBus(transportUrl, logs?.CreateLogger<RabbitMqMessageBus>());
        throw new ArgumentException($"transport_url '{transportUrl.Split('@')[^1]}' is not supported: use rabbit://user:pass@host:5672/ across hosts, inproc://NAME within one process.");
    }
}
