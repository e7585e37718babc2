using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Stratus.Core.Messaging;

/// <summary>
/// A typed RPC message: a record whose type names its method as oslo.messaging names it
/// (<c>BuildInstance</c> is <c>build_instance</c>) and whose properties are its arguments, serialized by
/// the service's source-generated <see cref="JsonSerializerContext"/> (snake_case, as on oslo's wire).
/// </summary>
public interface IRpcMessage;

/// <summary>A message the sender does not wait for.</summary>
public interface IRpcCast : IRpcMessage;

/// <summary>A message the sender waits for until its handler is done, with no result.</summary>
public interface IRpcCall : IRpcMessage;

/// <summary>A message the sender waits for, answered with a <typeparamref name="TResult"/>.</summary>
public interface IRpcCall<TResult>;

static class RpcMethod
{
    static readonly ConcurrentDictionary<Type, string> Names = new();

    public static string Of(Type message) => Names.GetOrAdd(message, t => JsonNamingPolicy.SnakeCaseLower.ConvertName(t.Name));

    public static JsonTypeInfo TypeInfo(JsonSerializerContext json, Type type) =>
        json.GetTypeInfo(type) ?? throw new InvalidOperationException($"{type.Name} is not in {json.GetType().Name}: add [JsonSerializable(typeof({type.Name}))]");

    public static JsonObject Serialize(JsonSerializerContext json, object message) =>
        JsonSerializer.SerializeToNode(message, TypeInfo(json, message.GetType())) as JsonObject
        ?? throw new InvalidOperationException($"{message.GetType().Name} does not serialize to a JSON object");
}

/// <summary>
/// Sends typed messages to one topic over an <see cref="IMessageBus"/>: to any of its servers, or to
/// one (<c>topic.server</c>). Calls wait <c>rpc_response_timeout</c> unless told otherwise.
/// </summary>
public class RpcClient(IMessageBus bus, string topic, JsonSerializerContext json, TimeSpan callTimeout)
{
    public Task CastAsync(IRpcCast message, CancellationToken ct = default) => CastAsync(null, message, ct);

    public Task CastAsync(string? server, IRpcCast message, CancellationToken ct = default) =>
        bus.CastAsync(topic, server, RpcMethod.Of(message.GetType()), RpcMethod.Serialize(json, message), ct);

    /// <summary>To every server of the topic (oslo's fanout cast), as neutron-server tells its agents.</summary>
    public Task FanoutAsync(IRpcCast message, CancellationToken ct = default) =>
        bus.FanoutAsync(topic, RpcMethod.Of(message.GetType()), RpcMethod.Serialize(json, message), ct);

    public Task CallAsync(IRpcCall message, CancellationToken ct = default) =>
        bus.CallAsync(topic, null, RpcMethod.Of(message.GetType()), RpcMethod.Serialize(json, message), callTimeout, ct);

    public Task<TResult> CallAsync<TResult>(IRpcCall<TResult> message, CancellationToken ct = default) => CallAsync(null, message, callTimeout, ct);

    public async Task<TResult> CallAsync<TResult>(string? server, IRpcCall<TResult> message, TimeSpan timeout, CancellationToken ct = default)
    {
        var reply = await bus.CallAsync(topic, server, RpcMethod.Of(message.GetType()), RpcMethod.Serialize(json, message), timeout, ct);
        return (TResult)reply.Deserialize(RpcMethod.TypeInfo(json, typeof(TResult)))!;
    }
}

/// <summary>
/// The serving side (oslo's RPCDispatcher): one handler per message type, found by the method name a
/// message arrives with. <see cref="DispatchAsync"/> is the <see cref="RpcHandler"/> to serve.
/// </summary>
public sealed class RpcDispatcher(string service, JsonSerializerContext json)
{
    readonly Dictionary<string, Func<JsonObject, CancellationToken, Task<JsonNode?>>> _handlers = new(StringComparer.Ordinal);

    /// <summary>Handles a cast, or a call answered when done.</summary>
    public RpcDispatcher On<T>(Func<T, CancellationToken, Task> handle) where T : IRpcMessage
    {
        var info = RpcMethod.TypeInfo(json, typeof(T));
        _handlers.Add(RpcMethod.Of(typeof(T)), async (args, ct) =>
        {
            await handle((T)args.Deserialize(info)!, ct);
            return null;
        });
        return this;
    }

    /// <summary>Handles a call answered with a result.</summary>
    public RpcDispatcher On<T, TResult>(Func<T, CancellationToken, Task<TResult>> handle) where T : IRpcCall<TResult>
    {
        var info = RpcMethod.TypeInfo(json, typeof(T));
        var result = RpcMethod.TypeInfo(json, typeof(TResult));
        _handlers.Add(RpcMethod.Of(typeof(T)), async (args, ct) => JsonSerializer.SerializeToNode(await handle((T)args.Deserialize(info)!, ct), result));
        return this;
    }

    public Task<JsonNode?> DispatchAsync(string method, JsonObject args, CancellationToken ct) =>
        _handlers.TryGetValue(method, out var handle) ? handle(args, ct) : throw new InvalidOperationException($"{service} has no method {method}");
}
