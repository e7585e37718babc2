using System.Collections.Concurrent;

namespace Stratus.Compute.Agent;

/// <summary>
/// nova-compute's wait for external events (the virt driver's <c>wait_for_instance_event</c>): a build
/// registers the events it expects before it plugs its NICs (so none can come too early), and each event
/// the API forwards completes its waiter; what is not awaited is dropped.
/// </summary>
public sealed class InstanceEvents
{
    readonly ConcurrentDictionary<(string Uuid, string Name, string? Tag), TaskCompletionSource<string>> _waiting = new();

    /// <summary>Starts expecting <paramref name="name"/> with <paramref name="tag"/> for the instance; the task ends with the event's status.</summary>
    public Task<string> Expect(string uuid, string name, string? tag) =>
        _waiting.GetOrAdd((uuid, name, tag), _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>An event arrived: true when a build was waiting for it.</summary>
    public bool Deliver(string uuid, string name, string? tag, string status) =>
        _waiting.TryRemove((uuid, name, tag), out var waiter) && waiter.TrySetResult(status);

    /// <summary>The instance's build no longer waits (done, failed or timed out).</summary>
    public void Forget(string uuid)
    {
        foreach (var key in _waiting.Keys.Where(k => k.Uuid == uuid)) _waiting.TryRemove(key, out _);
    }
}
