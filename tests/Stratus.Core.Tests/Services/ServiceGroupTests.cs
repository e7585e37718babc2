using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Stratus.Core.Services;

namespace Stratus.Core.Tests.Services;

public sealed class ServiceGroupTests
{
    static readonly TimeSpan ReportInterval = TimeSpan.FromSeconds(10), ServiceDownTime = TimeSpan.FromSeconds(60);

    sealed record Member(DateTime? LastSeenUp, bool ForcedDown = false, bool Disabled = false) : IServiceMember
    {
        public string Host => "compute1";
        public string Binary => "nova-compute";
        public string Zone => "nova";
        public DateTime UpdatedAt => LastSeenUp ?? DateTime.MinValue;
    }

    [Fact]
    public void A_service_is_up_until_its_last_report_is_older_than_service_down_time()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var group = new ServiceGroup(ReportInterval, ServiceDownTime, time);
        var member = new Member(time.GetUtcNow().UtcDateTime);

        Assert.True(group.IsUp(member));
        time.Advance(ServiceDownTime);
        Assert.True(group.IsUp(member));
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(group.IsUp(member));
        Assert.Equal("down", group.Row(member).State);
    }

    [Fact]
    public void A_forced_down_or_never_seen_service_is_down_and_disabled_is_only_its_status()
    {
        var time = new FakeTimeProvider();
        var group = new ServiceGroup(ReportInterval, ServiceDownTime, time);
        var now = time.GetUtcNow().UtcDateTime;

        Assert.False(group.IsUp(new Member(now, ForcedDown: true)));
        Assert.False(group.IsUp(new Member(null)));
        var row = group.Row(new Member(now, Disabled: true));
        Assert.Equal(new ServiceRow("compute1", "nova-compute", "nova", true, true, now), row);
        Assert.Equal(("disabled", "up"), (row.Status, row.State));
    }

    [Fact]
    public async Task Heartbeats_come_at_once_then_every_report_interval_and_go_on_after_a_failed_report()
    {
        var time = new WatchedClock();
        var group = new ServiceGroup(ReportInterval, ServiceDownTime, time);
        var reports = Channel.CreateUnbounded<(DateTimeOffset At, TaskCompletionSource Done)>();
        using var stop = new CancellationTokenSource();
        var beating = Task.Run(() => group.HeartbeatAsync(_ =>
        {
            var done = new TaskCompletionSource();
            reports.Writer.TryWrite((time.GetUtcNow(), done));
            return done.Task;
        }, NullLogger.Instance, "compute1", stop.Token));

        var first = await NextAsync(reports);
        first.Done.SetException(new IOException("conductor unreachable"));
        for (var n = 1; n <= 3; n++)
        {
            // The clock moves only once the heartbeat waits on it: on a busy machine the loop may take a while to get there.
            await time.TimerCreated.WaitAsync(TimeSpan.FromSeconds(10));
            time.Advance(ReportInterval - TimeSpan.FromSeconds(1));
            Assert.False(reports.Reader.TryRead(out _));
            time.Advance(TimeSpan.FromSeconds(1));
            var report = await NextAsync(reports);
            Assert.Equal(first.At + ReportInterval * n, report.At);
            report.Done.SetResult();
        }
        await stop.CancelAsync();
        await beating.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(reports.Reader.TryRead(out _));
    }

    /// <summary>A fake clock that tells when someone starts waiting on it (Task.Delay makes a timer).</summary>
    sealed class WatchedClock : FakeTimeProvider
    {
        public SemaphoreSlim TimerCreated { get; } = new(0);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            TimerCreated.Release();
            return timer;
        }
    }

    static async Task<(DateTimeOffset At, TaskCompletionSource Done)> NextAsync(Channel<(DateTimeOffset, TaskCompletionSource)> reports) =>
        await reports.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
}
