using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Stratus.Network.DataPlane;

/// <summary>
/// The kernel's link events (<c>ip -o monitor link</c>) for the devices an agent cares about: its loop waits for
/// the next one or its polling interval, whichever comes first. Without <c>ip</c>, or when the monitor ends, the
/// loop just polls, as Neutron's Linux bridge agent does.
/// </summary>
public sealed class LinkEvents : IAsyncDisposable
{
    readonly Process? _monitor;
    readonly Task _reading = Task.CompletedTask;
    readonly Func<string, bool> _wanted;
    readonly object _gate = new();
    TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="wanted">which device names wake the loop (by the name in an event line).</param>
    public LinkEvents(Func<string, bool> wanted, ILogger log)
    {
        _wanted = wanted;
        // Its errors go to the node's own stderr: a redirected stream nobody reads could fill and stop it.
        var psi = new ProcessStartInfo("ip", ["-o", "monitor", "link"]) { RedirectStandardOutput = true, UseShellExecute = false };
        try
        {
            _monitor = Process.Start(psi);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            log.LogWarning("No link events ({Error}): the agent polls only", e.Message);
            return;
        }
        if (_monitor is not null) _reading = ReadAsync(_monitor);
    }

    /// <summary>Returns at the next wanted link event, or after <paramref name="interval"/>.</summary>
    public async Task NextAsync(TimeSpan interval, TimeProvider clock, CancellationToken ct)
    {
        Task next;
        lock (_gate) next = _next.Task;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var delay = Task.Delay(interval, clock, timeout.Token);
        await Task.WhenAny(next, delay);
        await timeout.CancelAsync();
        ct.ThrowIfCancellationRequested();
        lock (_gate)
            if (_next.Task.IsCompleted) _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    async Task ReadAsync(Process monitor)
    {
        // A line is "7: tapab12cd34-56: <BROADCAST,...> ..." for a new or changed link, "Deleted 7: tap...: ..." for a gone one.
        while (await monitor.StandardOutput.ReadLineAsync() is { } line)
        {
            var name = line.Split(':', 3) is [_, var n, _] ? n.Trim().Split('@')[0] : "";
            if (!_wanted(name)) continue;
            lock (_gate) _next.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_monitor is null) return;
        try
        {
            _monitor.Kill();
        }
        catch (InvalidOperationException)
        {
            // It had ended already.
        }
        await _reading.ConfigureAwait(false);
        await _monitor.WaitForExitAsync();
        _monitor.Dispose();
    }
}
