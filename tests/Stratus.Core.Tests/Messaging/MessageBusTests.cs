using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Stratus.Core.Messaging;

namespace Stratus.Core.Tests.Messaging;

/// <summary>The behaviour both transports must have; each subclass runs it on one.</summary>
public abstract class MessageBusTests
{
    protected abstract IMessageBus NewBus();

    protected static string Topic() => "t" + Guid.NewGuid().ToString("N")[..8];

    static RpcHandler Recording(ConcurrentBag<string> seen, string server) => (method, args, _) =>
    {
        seen.Add($"{server}:{method}:{args["n"]}");
        return Task.FromResult<JsonNode?>(new JsonObject { ["server"] = server, ["n"] = args["n"]?.DeepClone() });
    };

    static RpcHandler Slow(RpcHandler inner) => async (method, args, ct) =>
    {
        await Task.Delay(200, ct);
        return await inner(method, args, ct);
    };

    static async Task EventuallyAsync(Func<bool> done)
    {
        for (var i = 0; i < 200 && !done(); i++) await Task.Delay(25);
        Assert.True(done());
    }

    [Fact]
    public async Task Casts_to_a_topic_are_shared_among_its_servers()
    {
        await using var bus = NewBus();
        var topic = Topic();
        var seen = new ConcurrentBag<string>();
        // Slow handlers: a server takes at most 16 messages at a time, so the rest must go to the other.
        await using var a = await bus.ServeAsync(topic, "a", Slow(Recording(seen, "a")));
        await using var b = await bus.ServeAsync(topic, "b", Slow(Recording(seen, "b")));
        for (var i = 0; i < 40; i++) await bus.CastAsync(topic, null, "work", new JsonObject { ["n"] = i });
        await EventuallyAsync(() => seen.Count == 40);
        Assert.Equal(40, seen.Select(s => s.Split(':')[2]).Distinct().Count());
        Assert.Contains(seen, s => s.StartsWith("a:", StringComparison.Ordinal));
        Assert.Contains(seen, s => s.StartsWith("b:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Direct_casts_reach_only_their_server_and_fanouts_reach_all()
    {
        await using var bus = NewBus();
        var topic = Topic();
        var seen = new ConcurrentBag<string>();
        await using var a = await bus.ServeAsync(topic, "a", Recording(seen, "a"));
        await using var b = await bus.ServeAsync(topic, "b", Recording(seen, "b"));
        for (var i = 0; i < 5; i++) await bus.CastAsync(topic, "b", "direct", new JsonObject { ["n"] = i });
        await EventuallyAsync(() => seen.Count == 5);
        Assert.All(seen, s => Assert.StartsWith("b:direct", s));
        await bus.FanoutAsync(topic, "everyone", new JsonObject { ["n"] = 99 });
        await EventuallyAsync(() => seen.Count(s => s.Contains("everyone", StringComparison.Ordinal)) == 2);
    }

    [Fact]
    public async Task Calls_return_results_remote_errors_and_time_out_when_nobody_serves()
    {
        await using var bus = NewBus();
        var topic = Topic();
        await using var server = await bus.ServeAsync(topic, "s", (method, args, _) => method == "fail"
            ? throw new InvalidOperationException("it broke: " + args["why"])
            : Task.FromResult<JsonNode?>(new JsonObject { ["sum"] = (int)args["a"]! + (int)args["b"]! }));
        var result = await bus.CallAsync(topic, null, "add", new JsonObject { ["a"] = 2, ["b"] = 3 }, TimeSpan.FromSeconds(10));
        Assert.Equal(5, (int)result!["sum"]!);
        var remote = await Assert.ThrowsAsync<RpcRemoteException>(() => bus.CallAsync(topic, "s", "fail", new JsonObject { ["why"] = "disk" }, TimeSpan.FromSeconds(10)));
        Assert.Equal("InvalidOperationException", remote.RemoteType);
        Assert.Equal("it broke: disk", remote.Message);
        await Assert.ThrowsAsync<RpcTimeoutException>(() => bus.CallAsync(Topic(), null, "x", [], TimeSpan.FromMilliseconds(500)));
        var many = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            bus.CallAsync(topic, null, "add", new JsonObject { ["a"] = i, ["b"] = 1 }, TimeSpan.FromSeconds(20))));
        Assert.Equal(Enumerable.Range(1, 50), many.Select(r => (int)r!["sum"]!));
    }

    [Fact]
    public async Task A_fanout_nobody_serves_yet_is_dropped_and_the_bus_goes_on()
    {
        await using var bus = NewBus();
        var topic = Topic();
        var seen = new ConcurrentBag<string>();
        await using var server = await bus.ServeAsync(topic, "s", Recording(seen, "s"));
        // A cinder-volume reporting before any scheduler has started: nothing hears it, and nothing else may break.
        await bus.FanoutAsync(Topic(), "report", new JsonObject { ["n"] = 1 });
        await bus.CastAsync(topic, null, "work", new JsonObject { ["n"] = 2 });
        await bus.FanoutAsync(topic, "everyone", new JsonObject { ["n"] = 3 });
        await EventuallyAsync(() => seen.Count == 2);
        Assert.Equal(["s:everyone:3", "s:work:2"], seen.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_stopped_server_receives_nothing_more()
    {
        await using var bus = NewBus();
        var topic = Topic();
        var seen = new ConcurrentBag<string>();
        var a = await bus.ServeAsync(topic, "a", Recording(seen, "a"));
        await using var b = await bus.ServeAsync(topic, "b", Recording(seen, "b"));
        await a.DisposeAsync();
        for (var i = 0; i < 10; i++) await bus.CastAsync(topic, null, "work", new JsonObject { ["n"] = i });
        await EventuallyAsync(() => seen.Count == 10);
        Assert.All(seen, s => Assert.StartsWith("b:", s));
    }
}

public sealed class InProcessMessageBusTests : MessageBusTests
{
    readonly string _name = "bus-" + Guid.NewGuid().ToString("N");

    protected override IMessageBus NewBus() => MessageBus.FromTransportUrl("inproc://" + _name);
}

/// <summary>A real RabbitMQ broker (Debian's rabbitmq-server) started by hand in a directory of its own.</summary>
public sealed class RabbitMqBroker : IAsyncLifetime
{
    readonly string _dir = Directory.CreateTempSubdirectory("stratus-rabbit-").FullName;
    Process? _broker;
    Dictionary<string, string> _env = [];

    public int Port { get; } = FreePort();
    public string Url => $"rabbit://guest:guest@127.0.0.1:{Port}/";

    static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    // Erlang's name server, which the first broker starts as a daemon and which outlives it.
    const int EpmdPort = 4370;
    bool _startedEpmd;

    public async Task InitializeAsync()
    {
        _startedEpmd = !Listens(EpmdPort);
        await StartAsync();
    }

    static bool Listens(int port)
    {
        try
        {
            using var c = new TcpClient();
            c.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public async Task StartAsync()
    {
        File.WriteAllText(Path.Combine(_dir, "rabbitmq.conf"), "loopback_users = none\n");
        _env = new Dictionary<string, string>
        {
            ["HOME"] = _dir,
            ["RABBITMQ_NODENAME"] = $"stratus{Port}@localhost",
            ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_NODE_PORT"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RABBITMQ_DIST_PORT"] = (Port + 20000 > 65000 ? Port - 20000 : Port + 20000).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ERL_EPMD_PORT"] = EpmdPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RABBITMQ_MNESIA_BASE"] = Path.Combine(_dir, "mnesia"),
            ["RABBITMQ_LOG_BASE"] = Path.Combine(_dir, "log"),
            ["RABBITMQ_PID_FILE"] = Path.Combine(_dir, "rabbit.pid"),
            ["RABBITMQ_CONFIG_FILE"] = Path.Combine(_dir, "rabbitmq"),
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(_dir, "enabled_plugins"),
        };
        var psi = new ProcessStartInfo("/usr/lib/rabbitmq/bin/rabbitmq-server") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (k, v) in _env) psi.Environment[k] = v;
        _broker = Process.Start(psi)!;
        _broker.BeginOutputReadLine();
        _broker.BeginErrorReadLine();
        // About 6 s on a quiet machine; much longer when the tests share two cores with other work.
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromMinutes(3))
        {
            if (_broker.HasExited) throw new InvalidOperationException($"rabbitmq-server exited with {_broker.ExitCode}");
            try
            {
                using var c = new TcpClient();
                await c.ConnectAsync(IPAddress.Loopback, Port);
                await Task.Delay(500);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }
        throw new TimeoutException("RabbitMQ did not listen on " + Port);
    }

    public async Task StopAsync()
    {
        var psi = new ProcessStartInfo("/usr/lib/rabbitmq/bin/rabbitmqctl", ["-n", _env["RABBITMQ_NODENAME"], "stop"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (k, v) in _env) psi.Environment[k] = v;
        using (var ctl = Process.Start(psi)!) await ctl.WaitForExitAsync();
        if (_broker is not null && !_broker.WaitForExit(20_000)) _broker.Kill(entireProcessTree: true);
    }

    public async Task DisposeAsync()
    {
        await StopAsync();
        // The epmd this broker started goes too, unless another Erlang node still uses it (the broker's own is gone within moments).
        for (var i = 0; _startedEpmd && i < 20; i++)
        {
            if (await EpmdAsync("-names") is not { } names) break;
            if (!names.Contains("at port", StringComparison.Ordinal))
            {
                await EpmdAsync("-kill");
                break;
            }
            await Task.Delay(250);
        }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    async Task<string?> EpmdAsync(string command)
    {
        var psi = new ProcessStartInfo("/usr/lib/erlang/bin/epmd", ["-port", EpmdPort.ToString(System.Globalization.CultureInfo.InvariantCulture), command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        try
        {
            using var epmd = Process.Start(psi)!;
            var output = await epmd.StandardOutput.ReadToEndAsync();
            await epmd.WaitForExitAsync();
            return epmd.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}

[CollectionDefinition("rabbitmq")]
public sealed class RabbitMqCollection : ICollectionFixture<RabbitMqBroker>;

[Collection("rabbitmq")]
public sealed class RabbitMqMessageBusTests(RabbitMqBroker broker) : MessageBusTests
{
    protected override IMessageBus NewBus() => MessageBus.FromTransportUrl(broker.Url);

    [Fact]
    public async Task The_bus_recovers_when_the_broker_restarts()
    {
        await using var bus = NewBus();
        var topic = Topic();
        await using var server = await bus.ServeAsync(topic, "s", (_, args, _) => Task.FromResult<JsonNode?>(args["n"]?.DeepClone()));
        Assert.Equal(1, (int)(await bus.CallAsync(topic, null, "echo", new JsonObject { ["n"] = 1 }, TimeSpan.FromSeconds(10)))!);
        await broker.StopAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => bus.CastAsync(topic, null, "echo", new JsonObject { ["n"] = 2 }));
        await broker.StartAsync();
        JsonNode? result = null;
        for (var i = 0; i < 60 && result is null; i++)
        {
            try
            {
                result = await bus.CallAsync(topic, null, "echo", new JsonObject { ["n"] = 3 }, TimeSpan.FromSeconds(2));
            }
            catch (Exception e) when (e is IOException or RpcTimeoutException)
            {
                await Task.Delay(500);
            }
        }
        Assert.Equal(3, (int)result!);
    }
}
