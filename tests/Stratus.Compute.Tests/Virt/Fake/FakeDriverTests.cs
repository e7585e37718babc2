using Stratus.Compute.Virt;
using Stratus.Compute.Virt.Fake;

namespace Stratus.Compute.Tests.Virt.Fake;

public class FakeDriverTests
{
    static InstanceSpec Spec(string name = "vm") =>
        new(Guid.NewGuid(), name, Vcpus: 1, MemoryMiB: 64, new RootDisk("cirros", "/nonexistent/cirros.qcow2"));

    [Fact]
    public async Task Spawned_instance_runs_and_is_listed()
    {
        var driver = new FakeDriver();
        var spec = Spec();
        await driver.SpawnAsync(spec);

        Assert.Equal(PowerState.Running, (await driver.GetInfoAsync(spec.Uuid)).State);
        Assert.Equal([spec.Uuid], await driver.ListInstancesAsync());
        Assert.Contains("vm", await driver.GetConsoleOutputAsync(spec.Uuid), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Spawning_the_same_uuid_twice_is_refused()
    {
        var driver = new FakeDriver();
        var spec = Spec();
        await driver.SpawnAsync(spec);
        await Assert.ThrowsAsync<InstanceExistsException>(() => driver.SpawnAsync(spec with { Name = "other" }));
    }

    [Fact]
    public async Task Power_pause_and_suspend_follow_the_power_states()
    {
        var driver = new FakeDriver();
        var uuid = Spec().Uuid;
        await driver.SpawnAsync(Spec() with { Uuid = uuid });

        await driver.PauseAsync(uuid);
        Assert.Equal(PowerState.Paused, (await driver.GetInfoAsync(uuid)).State);
        await driver.UnpauseAsync(uuid);
        await driver.SuspendAsync(uuid);
        Assert.Equal(PowerState.Suspended, (await driver.GetInfoAsync(uuid)).State);
        await driver.ResumeAsync(uuid);
        await driver.PowerOffAsync(uuid, TimeSpan.FromSeconds(1));
        Assert.Equal(PowerState.Shutdown, (await driver.GetInfoAsync(uuid)).State);
        await driver.RebootAsync(uuid, RebootType.Hard);
        Assert.Equal(PowerState.Running, (await driver.GetInfoAsync(uuid)).State);
    }

    [Fact]
    public async Task Calls_that_do_not_fit_the_state_are_refused()
    {
        var driver = new FakeDriver();
        var spec = Spec();
        await driver.SpawnAsync(spec);
        await driver.PowerOffAsync(spec.Uuid, TimeSpan.Zero);

        var e = await Assert.ThrowsAsync<InstanceInvalidStateException>(() => driver.PauseAsync(spec.Uuid));
        Assert.Contains("shutdown", e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InstanceInvalidStateException>(() => driver.RebootAsync(spec.Uuid, RebootType.Soft));
        await Assert.ThrowsAsync<InstanceInvalidStateException>(() => driver.ResumeAsync(spec.Uuid));
        Assert.Equal(PowerState.Shutdown, (await driver.GetInfoAsync(spec.Uuid)).State);
    }

    [Fact]
    public async Task Destroyed_instance_is_gone_and_destroying_again_is_harmless()
    {
        var driver = new FakeDriver();
        var spec = Spec();
        await driver.SpawnAsync(spec);
        await driver.DestroyAsync(spec.Uuid);
        await driver.DestroyAsync(spec.Uuid);

        Assert.Empty(await driver.ListInstancesAsync());
        await Assert.ThrowsAsync<InstanceNotFoundException>(() => driver.GetInfoAsync(spec.Uuid));
    }

    [Fact]
    public async Task Thousands_of_instances_fit_in_one_driver()
    {
        var driver = new FakeDriver();
        await Parallel.ForEachAsync(Enumerable.Range(0, 5000), async (i, ct) => await driver.SpawnAsync(Spec($"vm-{i}"), ct));
        Assert.Equal(5000, (await driver.ListInstancesAsync()).Count);
        Assert.Equal(1000, driver.GetHostResources().Vcpus);
    }
}
