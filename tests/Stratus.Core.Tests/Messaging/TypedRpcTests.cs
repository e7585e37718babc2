using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Stratus.Core.Messaging;

namespace Stratus.Core.Tests.Messaging;

public sealed record BuildAndRunInstance(string Uuid, int MemoryMb, string? Token) : IRpcCast;

public sealed record InstanceUpdate(string Uuid) : IRpcCall;

public sealed record GetConsoleOutput(string Uuid, int Length) : IRpcCall<ConsoleLog>;

public sealed record ConsoleLog(string Output, int Lines);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(BuildAndRunInstance))]
[JsonSerializable(typeof(InstanceUpdate))]
[JsonSerializable(typeof(GetConsoleOutput))]
[JsonSerializable(typeof(ConsoleLog))]
sealed partial class TestRpcJson : JsonSerializerContext;

/// <summary>Typed messages over the in-process bus: named by their type, snake_case on the wire, one handler each.</summary>
public sealed class TypedRpcTests
{
    static IMessageBus NewBus() => new InProcessMessageBus("typed-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task A_cast_arrives_under_its_type_s_method_name_in_snake_case()
    {
        await using var bus = NewBus();
        var seen = new TaskCompletionSource<(string Method, string Args)>();
        await using var raw = await bus.ServeAsync("compute", "host1", (method, args, _) =>
        {
            seen.TrySetResult((method, args.ToJsonString()));
            return Task.FromResult<JsonNode?>(null);
        });
        await new RpcClient(bus, "compute", TestRpcJson.Default, TimeSpan.FromSeconds(10)).CastAsync("host1", new BuildAndRunInstance("u1", 512, null));

        var (method, args) = await seen.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("build_and_run_instance", method);
        Assert.Equal("""{"uuid":"u1","memory_mb":512,"token":null}""", args);
    }

    [Fact]
    public async Task Calls_reach_their_handler_and_answer_typed_results()
    {
        await using var bus = NewBus();
        var updated = new List<string>();
        var rpc = new RpcDispatcher("nova-compute", TestRpcJson.Default)
            .On<InstanceUpdate>((m, _) =>
            {
                updated.Add(m.Uuid);
                return Task.CompletedTask;
            })
            .On<GetConsoleOutput, ConsoleLog>((m, _) => Task.FromResult(new ConsoleLog($"log of {m.Uuid}", m.Length)));
        await using var serving = await bus.ServeAsync("compute", "host1", rpc.DispatchAsync);
        var client = new RpcClient(bus, "compute", TestRpcJson.Default, TimeSpan.FromSeconds(10));

        await client.CallAsync(new InstanceUpdate("u2"));
        Assert.Equal(["u2"], updated);
        Assert.Equal(new ConsoleLog("log of u3", 5), await client.CallAsync("host1", new GetConsoleOutput("u3", 5), TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_method_without_a_handler_fails_the_call_naming_the_service()
    {
        await using var bus = NewBus();
        await using var serving = await bus.ServeAsync("compute", "host1", new RpcDispatcher("nova-compute", TestRpcJson.Default).DispatchAsync);

        var e = await Assert.ThrowsAsync<RpcRemoteException>(() =>
            new RpcClient(bus, "compute", TestRpcJson.Default, TimeSpan.FromSeconds(10)).CallAsync(new InstanceUpdate("u4")));
        Assert.Equal("nova-compute has no method instance_update", e.Message);
        Assert.Equal(nameof(InvalidOperationException), e.RemoteType);
    }
}
