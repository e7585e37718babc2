using Stratus.Core.Hosting;

namespace Stratus.Core.Tests.Hosting;

/// <summary>A node trims once each time it goes quiet after a busy spell: not while busy, not again while it stays idle.</summary>
public sealed class IdleMemoryTrimTests
{
    const long Busy = IdleMemoryTrim.QuietBytes * 10, Quiet = IdleMemoryTrim.QuietBytes / 10;

    static List<bool> Run(params long[] perInterval)
    {
        var watch = new IdleMemoryTrim(0);
        long total = 0;
        return [.. perInterval.Select(bytes => watch.Tick(total += bytes))];
    }

    [Fact]
    public void An_idle_process_is_never_trimmed() =>
        Assert.DoesNotContain(true, Run(Quiet, Quiet, 0, Quiet, Quiet));

    [Fact]
    public void A_busy_spell_is_trimmed_once_at_its_first_quiet_interval() =>
        Assert.Equal([false, false, false, true, false, false], Run(Busy, Busy, Busy, Quiet, Quiet, 0));

    [Fact]
    public void Each_busy_spell_gets_its_own_trim() =>
        Assert.Equal([false, true, false, false, true], Run(Busy, Quiet, Quiet, Busy, Quiet));

    [Fact]
    public void A_trim_collects_every_generation()
    {
        var before = GC.CollectionCount(GC.MaxGeneration);
        IdleMemoryTrim.Trim();
        Assert.True(GC.CollectionCount(GC.MaxGeneration) > before);
    }
}
