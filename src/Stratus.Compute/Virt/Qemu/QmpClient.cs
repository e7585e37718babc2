using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Stratus.Compute.Virt.Qemu;

/// <summary>
/// One session on a QEMU machine protocol socket: the greeting, <c>qmp_capabilities</c>, then commands
/// one at a time. Events that arrive between replies are kept for <see cref="WaitForEventAsync"/>.
/// </summary>
sealed class QmpClient : IAsyncDisposable
{
    readonly Socket _socket;
    readonly NetworkStream _stream;
    readonly StreamReader _reader;
    readonly List<JsonObject> _events = [];

    QmpClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new StreamReader(_stream, Encoding.UTF8);
    }

    public static async Task<QmpClient> ConnectAsync(string socketPath, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var client = new QmpClient(socket);
        try
        {
            var greeting = await client.ReadMessageAsync(ct);
            if (greeting["QMP"] is null) throw new VirtException($"{socketPath} is not a QMP socket: {greeting.ToJsonString()}");
            await client.ExecuteAsync("qmp_capabilities", ct: ct);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs a command and returns its <c>return</c> value; a QMP error becomes a <see cref="VirtException"/>.</summary>
    public async Task<JsonNode?> ExecuteAsync(string command, JsonObject? arguments = null, CancellationToken ct = default)
    {
        var request = new JsonObject { ["execute"] = command };
        if (arguments is not null) request["arguments"] = arguments;
        await _stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToJsonString() + "\n"), ct);
        while (true)
        {
            var message = await ReadMessageAsync(ct);
            if (message["event"] is not null)
            {
                _events.Add(message.AsObject());
                continue;
            }
            if (message["error"] is { } error)
                throw new VirtException($"QMP {command} failed: {error["desc"]?.GetValue<string>() ?? error.ToJsonString()}");
            return message["return"];
        }
    }

    /// <summary>The first event <paramref name="name"/> whose data <paramref name="matches"/>, seen already or still to come.</summary>
    public async Task<JsonObject> WaitForEventAsync(string name, Func<JsonObject, bool> matches, CancellationToken ct)
    {
        while (true)
        {
            if (_events.FirstOrDefault(e => (string?)e["event"] == name && matches(e["data"] as JsonObject ?? [])) is { } seen)
            {
                _events.Remove(seen);
                return seen;
            }
            var message = await ReadMessageAsync(ct);
            if (message["event"] is not null) _events.Add(message.AsObject());
        }
    }

    async Task<JsonNode> ReadMessageAsync(CancellationToken ct)
    {
        var line = await _reader.ReadLineAsync(ct) ?? throw new IOException("QMP connection closed");
        return JsonNode.Parse(line) ?? throw new JsonException($"empty QMP message: {line}");
    }

    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        await _stream.DisposeAsync();
        _socket.Dispose();
    }
}
