using Stratus.Core.Messaging;

namespace Stratus.Core.Modules;

/// <summary>
/// What the services of one process share: one message bus per <c>transport_url</c>, so the services
/// of a node (and of several nodes started together) talk over one connection per broker.
/// </summary>
public sealed class NodeRuntime : IAsyncDisposable
{
    readonly Dictionary<string, IMessageBus> _buses = new(StringComparer.Ordinal);

    /// <summary>The clock the services read; a test node passes a fake one.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Whether starting a service may upgrade a database an older Stratus made (<c>node start --upgrade-databases</c>, <c>up</c>).</summary>
    public bool UpgradeDatabases { get; init; }

    public IMessageBus Bus(string transportUrl)
    {
        lock (_buses)
        {
            if (!_buses.TryGetValue(transportUrl, out var bus)) _buses[transportUrl] = bus = MessageBus.FromTransportUrl(transportUrl);
            return bus;
        }
    }

    public async ValueTask DisposeAsync()
    {
        IMessageBus[] buses;
        lock (_buses) { buses = [.. _buses.Values]; _buses.Clear(); }
        foreach (var bus in buses) await bus.DisposeAsync();
    }
}
