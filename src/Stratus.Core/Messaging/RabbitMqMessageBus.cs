using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace Stratus.Core.Messaging;

/// <summary>
/// The transport across hosts (<c>transport_url = rabbit://user:pass@host:5672/</c>), laid out as
/// oslo.messaging's rabbit driver lays it out: one topic exchange, a shared queue per topic (its servers
/// compete for the messages), a queue per server (topic.server), a fanout exchange per topic with a
/// queue per server, and one reply queue per bus for calls. The connection recovers by itself after
/// the broker restarts; a message sent while it is down fails at once with the broker's address.
/// </summary>
public sealed class RabbitMqMessageBus : IMessageBus
{
    const string Exchange = "stratus";
    const int Concurrency = 16;

    readonly string _url;
    readonly ConnectionFactory _factory;
    readonly IList<AmqpTcpEndpoint> _endpoints;
    readonly ILogger _log;
    readonly SemaphoreSlim _connecting = new(1, 1);
    readonly SemaphoreSlim _publishing = new(1, 1);
    readonly ConcurrentDictionary<string, TaskCompletionSource<JsonNode?>> _pending = new();
    readonly ConcurrentDictionary<string, bool> _declared = new();
    IConnection? _connection;
    IChannel? _publish;
    string? _replyQueue;

    public RabbitMqMessageBus(string transportUrl, ILogger? log = null)
    {
        _url = transportUrl;
        _log = log ?? NullLogger.Instance;
        (_factory, _endpoints) = Parse(transportUrl);
    }

    /// <summary>oslo's rabbit:// URL, one or several hosts: <c>rabbit://u:p@h1:5672,u:p@h2:5672/vhost</c>.</summary>
    static (ConnectionFactory, IList<AmqpTcpEndpoint>) Parse(string url)
    {
        var rest = url["rabbit://".Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var hosts = slash < 0 ? rest : rest[..slash];
        var vhost = slash < 0 || slash == rest.Length - 1 ? "/" : Uri.UnescapeDataString(rest[(slash + 1)..]);
        var factory = new ConnectionFactory
        {
            VirtualHost = vhost,
            AutomaticRecoveryEnabled = true,
            TopologyRecoveryEnabled = true,
            NetworkRecoveryInterval = TimeSpan.FromSeconds(2),
            RequestedConnectionTimeout = TimeSpan.FromSeconds(5)
        };
        var endpoints = new List<AmqpTcpEndpoint>();
        foreach (var part in hosts.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var at = part.LastIndexOf('@');
            var hostPort = at < 0 ? part : part[(at + 1)..];
            if (at > 0)
            {
                var credentials = part[..at].Split(':', 2);
                factory.UserName = Uri.UnescapeDataString(credentials[0]);
                if (credentials.Length == 2) factory.Password = Uri.UnescapeDataString(credentials[1]);
            }
            var colon = hostPort.LastIndexOf(':');
            var port = 5672;
            if (colon > 0 && !int.TryParse(hostPort[(colon + 1)..], out port))
                throw new ArgumentException($"transport_url '{Redact(url)}': '{hostPort}' has no valid port");
            endpoints.Add(new AmqpTcpEndpoint(colon > 0 ? hostPort[..colon] : hostPort, port));
        }
        if (endpoints.Count == 0) throw new ArgumentException($"transport_url '{Redact(url)}' names no host");
        return (factory, endpoints);
    }

    /// <summary>The URL without its password, for messages and logs.</summary>
    static string Redact(string url) => System.Text.RegularExpressions.Regex.Replace(url, ":[^:@/]*@", ":***@");

    async Task<IConnection> ConnectAsync(CancellationToken ct)
    {
        if (_connection is { } c) return c;
        await _connecting.WaitAsync(ct);
        try
        {
            if (_connection is { } again) return again;
            IConnection connection;
            try
            {
                connection = await _factory.CreateConnectionAsync(_endpoints, "stratus", ct);
            }
            catch (BrokerUnreachableException e)
            {
                throw new IOException($"RabbitMQ at {Redact(_url)} could not be reached: {e.InnerException?.Message ?? e.Message}", e);
            }
            connection.ConnectionShutdownAsync += (_, e) =>
            {
                _log.LogWarning("RabbitMQ connection to {Url} lost ({Reason}); reconnecting", Redact(_url), e.ReplyText);
                return Task.CompletedTask;
            };
            connection.RecoverySucceededAsync += (_, _) =>
            {
                _log.LogWarning("RabbitMQ connection to {Url} recovered", Redact(_url));
                return Task.CompletedTask;
            };
            _publish = await connection.CreateChannelAsync(cancellationToken: ct);
            await _publish.ExchangeDeclareAsync(Exchange, ExchangeType.Topic, durable: false, autoDelete: false, cancellationToken: ct);
            var replies = await connection.CreateChannelAsync(cancellationToken: ct);
            // Named by us, as oslo's reply_<uuid>: topology recovery declares it again under the same name
            // after a broker restart, so calls in flight keep their ReplyTo.
            _replyQueue = $"reply_{Guid.NewGuid():N}";
            await replies.QueueDeclareAsync(_replyQueue, durable: false, exclusive: true, autoDelete: true, cancellationToken: ct);
            var consumer = new AsyncEventingBasicConsumer(replies);
            consumer.ReceivedAsync += (_, ea) =>
            {
                if (ea.BasicProperties.CorrelationId is { } id && _pending.TryRemove(id, out var reply)) Complete(reply, ea.Body.ToArray());
                return Task.CompletedTask;
            };
            await replies.BasicConsumeAsync(_replyQueue, autoAck: true, consumer, ct);
            return _connection = connection;
        }
        finally
        {
            _connecting.Release();
        }
    }

    static void Complete(TaskCompletionSource<JsonNode?> reply, byte[] body)
    {
        var message = JsonNode.Parse(body)!.AsObject();
        if (message["failure"] is JsonObject f) reply.TrySetException(new RpcRemoteException((string?)f["type"] ?? "Exception", (string?)f["message"] ?? ""));
        else reply.TrySetResult(message["result"]?.DeepClone());
    }

    async Task DeclareTopicQueueAsync(IChannel channel, string queue, CancellationToken ct)
    {
        if (_declared.ContainsKey(queue)) return;
        // Declared by senders too, so a cast sent before its server started waits in the queue.
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false, cancellationToken: ct);
        await channel.QueueBindAsync(queue, Exchange, queue, cancellationToken: ct);
        _declared[queue] = true;
    }

    async Task PublishAsync(string exchange, string routingKey, JsonObject message, BasicProperties properties, bool declare, CancellationToken ct, bool fanout = false)
    {
        await ConnectAsync(ct);
        var body = Encoding.UTF8.GetBytes(message.ToJsonString());
        await _publishing.WaitAsync(ct);
        try
        {
            if (declare) await DeclareTopicQueueAsync(_publish!, routingKey, ct);
            // As oslo.messaging, the sender declares the fanout exchange too: published to before any server declared it,
            // the broker would close the shared publishing channel (404), and every later send with it.
            if (fanout) await _publish!.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: false, autoDelete: false, cancellationToken: ct);
            await _publish!.BasicPublishAsync(exchange, routingKey, mandatory: false, properties, body, ct);
        }
        catch (Exception e) when (e is AlreadyClosedException or OperationInterruptedException or IOException)
        {
            throw new IOException($"RabbitMQ at {Redact(_url)} is not available: {e.Message}", e);
        }
        finally
        {
            _publishing.Release();
        }
    }

    static JsonObject Envelope(string method, JsonObject args) => new() { ["method"] = method, ["args"] = args.DeepClone() };

    public Task CastAsync(string topic, string? server, string method, JsonObject args, CancellationToken ct = default) =>
        PublishAsync(Exchange, server is null ? topic : $"{topic}.{server}", Envelope(method, args), new BasicProperties { ContentType = "application/json" }, true, ct);

    public async Task<JsonNode?> CallAsync(string topic, string? server, string method, JsonObject args, TimeSpan timeout, CancellationToken ct = default)
    {
        await ConnectAsync(ct);
        var id = Guid.NewGuid().ToString("N");
        var reply = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        try
        {
            await PublishAsync(Exchange, server is null ? topic : $"{topic}.{server}", Envelope(method, args),
                new BasicProperties { ContentType = "application/json", CorrelationId = id, ReplyTo = _replyQueue }, true, ct);
            return await reply.Task.WaitAsync(timeout, ct);
        }
        catch (TimeoutException)
        {
            throw new RpcTimeoutException($"Timed out waiting for a reply to {method} on {topic}{(server is null ? "" : "." + server)} after {timeout.TotalSeconds:0} s.");
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    public Task FanoutAsync(string topic, string method, JsonObject args, CancellationToken ct = default) =>
        PublishAsync($"{topic}_fanout", "", Envelope(method, args), new BasicProperties { ContentType = "application/json" }, false, ct, fanout: true);

    public async Task<IAsyncDisposable> ServeAsync(string topic, string server, RpcHandler handler, CancellationToken ct = default)
    {
        var connection = await ConnectAsync(ct);
        var channel = await connection.CreateChannelAsync(cancellationToken: ct);
        await channel.BasicQosAsync(0, Concurrency, false, ct);
        await DeclareTopicQueueAsync(channel, topic, ct);
        await DeclareTopicQueueAsync(channel, $"{topic}.{server}", ct);
        await channel.ExchangeDeclareAsync($"{topic}_fanout", ExchangeType.Fanout, durable: false, autoDelete: false, cancellationToken: ct);
        var fanout = (await channel.QueueDeclareAsync($"{topic}_fanout_{server}_{Guid.NewGuid():N}", durable: false, exclusive: true, autoDelete: true, cancellationToken: ct)).QueueName;
        await channel.QueueBindAsync(fanout, $"{topic}_fanout", "", cancellationToken: ct);
        var stop = new CancellationTokenSource();
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, ea) =>
        {
            var body = ea.Body.ToArray();
            var props = ea.BasicProperties;
            await channel.BasicAckAsync(ea.DeliveryTag, false, stop.Token);
            // Handled off the consumer's thread: a slow handler must not hold up the next message.
            _ = Task.Run(() => HandleAsync(body, props.CorrelationId, props.ReplyTo, handler, stop.Token), CancellationToken.None);
        };
        var tags = new List<string>();
        foreach (var queue in new[] { topic, $"{topic}.{server}", fanout })
            tags.Add(await channel.BasicConsumeAsync(queue, autoAck: false, consumer, ct));
        return new Serving(async () =>
        {
            await stop.CancelAsync();
            foreach (var tag in tags)
            {
                try
                {
                    await channel.BasicCancelAsync(tag);
                }
                catch (Exception e) when (e is AlreadyClosedException or OperationInterruptedException)
                {
                }
            }
            await channel.CloseAsync();
            stop.Dispose();
        });
    }

    async Task HandleAsync(byte[] body, string? correlationId, string? replyTo, RpcHandler handler, CancellationToken stop)
    {
        JsonObject reply;
        string method = "?";
        try
        {
            var message = JsonNode.Parse(body)!.AsObject();
            method = (string?)message["method"] ?? "?";
            var result = await handler(method, message["args"] as JsonObject ?? [], stop);
            reply = new JsonObject { ["result"] = result?.DeepClone() };
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            if (replyTo is null) _log.LogError(e, "Handling cast {Method} failed", method);
            reply = new JsonObject { ["failure"] = new JsonObject { ["type"] = e.GetType().Name, ["message"] = e.Message } };
        }
        if (replyTo is null || correlationId is null) return;
        try
        {
            await PublishAsync("", replyTo, reply, new BasicProperties { ContentType = "application/json", CorrelationId = correlationId }, false, CancellationToken.None);
        }
        catch (IOException e)
        {
            _log.LogError("Could not reply to {Method}: {Error}", method, e.Message);
        }
    }

    public async Task<string?> CheckAsync(CancellationToken ct = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            var connection = await ConnectAsync(timeout.Token);
            return connection.IsOpen ? null : $"RabbitMQ at {Redact(_url)} is not connected: {connection.CloseReason?.ReplyText ?? "reconnecting"}";
        }
        catch (IOException e)
        {
            return e.Message;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return $"RabbitMQ at {Redact(_url)} did not answer within 5 s";
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is { } c)
        {
            await c.CloseAsync();
            c.Dispose();
        }
    }
}
