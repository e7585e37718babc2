using System.Runtime.InteropServices;

namespace Stratus.Core.Hosting;

/// <summary>
/// Gives the memory a burst of requests left behind back to the system once the process goes quiet, as Go's
/// scavenger or jemalloc's decay do: a compacting collection that decommits the GC's free regions, then glibc's
/// <c>malloc_trim</c> for the native heap (the JIT's and SQLite's freed blocks, which glibc otherwise keeps).
/// Quiet is a second in which the process allocated less than <see cref="QuietBytes"/>: the heartbeats and agent
/// polls of an idle node stay under it, a request load is far above. One trim per busy spell.
/// </summary>
public sealed class IdleMemoryTrim
{
    public static TimeSpan Interval { get; } = TimeSpan.FromSeconds(1);
    public const long QuietBytes = 1 << 20;

    long _last;
    bool _busy;

    public IdleMemoryTrim(long allocated) => _last = allocated;

    /// <summary>One interval's end, given the bytes allocated so far: whether the process has just gone quiet after a busy spell.</summary>
    public bool Tick(long allocated)
    {
        var quiet = allocated - _last < QuietBytes;
        _last = allocated;
        if (!quiet) _busy = true;
        else if (_busy)
        {
            _busy = false;
            return true;
        }
        return false;
    }

    /// <summary>Trims after each busy spell of this process until <paramref name="ct"/> is cancelled.</summary>
    public static async Task RunAsync(TimeProvider time, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(Interval, time);
        var watch = new IdleMemoryTrim(GC.GetTotalAllocatedBytes());
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
                if (watch.Tick(GC.GetTotalAllocatedBytes()))
                {
                    Trim();
                    watch._last = GC.GetTotalAllocatedBytes(); // the trim's own allocations are not a new spell
                }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    public static void Trim()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            MallocTrim(0);
        }
        catch (EntryPointNotFoundException)
        {
            // Not glibc (musl has no malloc_trim): the native heap stays as it is.
        }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    static extern int MallocTrim(nuint pad);
}
