using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Stratus.Compute.TestImage;
using Stratus.Compute.Virt;
using Stratus.Compute.Virt.Qemu;
using Stratus.Core.Processes;
using Xunit.Abstractions;

namespace Stratus.Compute.Tests.Virt.Qemu;

/// <summary>Real guests: the test image booted by qemu-system-x86_64 with the accelerator the probe chose.</summary>
public sealed class QemuDriverTests(TestImageFixture image, ITestOutputHelper output) : IClassFixture<TestImageFixture>
{
    /// <summary>A boot takes 5-10 s under TCG on two cores; other builds may share them.</summary>
    static readonly TimeSpan BootTimeout = TimeSpan.FromSeconds(120);

    /// <summary>A spec over the test image in the host's cache, brought there as the compute agent brings an image.</summary>
    async Task<InstanceSpec> SpecAsync(string instances, string name)
    {
        var cached = await new ImageCache(instances).EnsureAsync("stratus-test", async (file, ct) =>
        {
            await using var source = File.OpenRead(image.ImagePath);
            await source.CopyToAsync(file, ct);
        }, CancellationToken.None);
        return new(Guid.NewGuid(), name, Vcpus: 1, MemoryMiB: 128, new RootDisk("stratus-test", cached));
    }

    [Fact]
    public async Task Instance_boots_powers_off_and_on_reboots_and_is_destroyed()
    {
        output.WriteLine($"accelerator: {image.Probe.Accelerator} ({image.Probe.Reason})");
        var instances = image.NewInstancesPath();
        var driver = image.NewDriver(instances);
        var spec = await SpecAsync(instances, "lifecycle");
        var dir = Path.Combine(instances, spec.Uuid.ToString());

        await driver.SpawnAsync(spec);
        await WaitForBootsAsync(dir, 1);
        Assert.Equal(PowerState.Running, (await driver.GetInfoAsync(spec.Uuid)).State);
        Assert.Contains(TestImageBuilder.ReadyMarker, await driver.GetConsoleOutputAsync(spec.Uuid), StringComparison.Ordinal);
        Assert.Contains("stratus: 0 network interface(s)", await driver.GetConsoleOutputAsync(spec.Uuid), StringComparison.Ordinal);
        var pid = ReadPid(dir);
        Assert.Contains($"{dir}/disk", await File.ReadAllTextAsync($"/proc/{pid}/cmdline"), StringComparison.Ordinal);
        // The root disk is an overlay over the host's cached copy of the image.
        var info = await QemuImgInfoAsync(Path.Combine(dir, "disk"));
        Assert.Contains(Path.Combine(instances, "_base", "stratus-test"), info, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InstanceExistsException>(() => driver.SpawnAsync(spec));

        // A clean power off: the guest runs its shutdown, then QEMU exits.
        await driver.PowerOffAsync(spec.Uuid, TimeSpan.FromSeconds(60));
        Assert.Equal(PowerState.Shutdown, (await driver.GetInfoAsync(spec.Uuid)).State);
        Assert.False(IsAlive(pid));
        Assert.Contains("stratus: shutting down", await File.ReadAllTextAsync(Path.Combine(dir, "console.log")), StringComparison.Ordinal);
        await Assert.ThrowsAsync<InstanceInvalidStateException>(() => driver.PauseAsync(spec.Uuid));

        await driver.PowerOnAsync(spec.Uuid);
        await WaitForBootsAsync(dir, 2);
        Assert.Equal(PowerState.Running, (await driver.GetInfoAsync(spec.Uuid)).State);

        var beforeReset = ReadPid(dir);
        await driver.RebootAsync(spec.Uuid, RebootType.Hard);
        await WaitForBootsAsync(dir, 3);
        Assert.Equal(beforeReset, ReadPid(dir));

        await driver.RebootAsync(spec.Uuid, RebootType.Soft);
        await WaitForBootsAsync(dir, 4);
        Assert.Equal(2, Count(await File.ReadAllTextAsync(Path.Combine(dir, "console.log")), "stratus: shutting down"));

        var running = ReadPid(dir);
        await driver.DestroyAsync(spec.Uuid);
        Assert.False(IsAlive(running));
        Assert.False(Directory.Exists(dir));
        Assert.Empty(await driver.ListInstancesAsync());
        await Assert.ThrowsAsync<InstanceNotFoundException>(() => driver.GetInfoAsync(spec.Uuid));
    }

    [Fact]
    public async Task Paused_and_suspended_instances_resume_where_they_were()
    {
        var instances = image.NewInstancesPath();
        var driver = image.NewDriver(instances);
        var spec = await SpecAsync(instances, "suspend");
        var dir = Path.Combine(instances, spec.Uuid.ToString());
        await driver.SpawnAsync(spec);
        await WaitForBootsAsync(dir, 1);

        await driver.PauseAsync(spec.Uuid);
        Assert.Equal(PowerState.Paused, (await driver.GetInfoAsync(spec.Uuid)).State);
        await driver.UnpauseAsync(spec.Uuid);
        Assert.Equal(PowerState.Running, (await driver.GetInfoAsync(spec.Uuid)).State);

        var pid = ReadPid(dir);
        await driver.SuspendAsync(spec.Uuid);
        Assert.Equal(PowerState.Suspended, (await driver.GetInfoAsync(spec.Uuid)).State);
        Assert.False(IsAlive(pid));
        Assert.True(new FileInfo(Path.Combine(dir, "memory.state")).Length > 1 << 20);

        await driver.ResumeAsync(spec.Uuid);
        Assert.Equal(PowerState.Running, (await driver.GetInfoAsync(spec.Uuid)).State);
        Assert.False(File.Exists(Path.Combine(dir, "memory.state")));
        // The restored guest did not boot again, and its kernel still answers the power button.
        Assert.Equal(1, Count(await File.ReadAllTextAsync(Path.Combine(dir, "console.log")), TestImageBuilder.ReadyMarker));
        await driver.PowerOffAsync(spec.Uuid, TimeSpan.FromSeconds(60));
        Assert.Contains("stratus: shutting down", await File.ReadAllTextAsync(Path.Combine(dir, "console.log")), StringComparison.Ordinal);

        await driver.DestroyAsync(spec.Uuid);
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public async Task A_resized_instance_boots_again_with_the_new_vcpus_memory_and_disk()
    {
        var instances = image.NewInstancesPath();
        var driver = image.NewDriver(instances);
        var spec = await SpecAsync(instances, "resize");
        var dir = Path.Combine(instances, spec.Uuid.ToString());
        await driver.SpawnAsync(spec);
        await WaitForBootsAsync(dir, 1);

        await driver.ResizeAsync(spec.Uuid, vcpus: 2, memoryMiB: 192, rootGiB: 1);
        await WaitForBootsAsync(dir, 2);
        Assert.Equal(PowerState.Running, (await driver.GetInfoAsync(spec.Uuid)).State);
        var cmdline = (await File.ReadAllTextAsync($"/proc/{ReadPid(dir)}/cmdline")).Split('\0');
        Assert.Equal("2", cmdline[Array.IndexOf(cmdline, "-smp") + 1]);
        Assert.Equal("192", cmdline[Array.IndexOf(cmdline, "-m") + 1]);
        Assert.Contains("virtual size: 1 GiB", await QemuImgInfoAsync(Path.Combine(dir, "disk")), StringComparison.Ordinal);

        // A stopped instance stays stopped, with the new flavor kept for its next start.
        await driver.PowerOffAsync(spec.Uuid, TimeSpan.Zero);
        await driver.ResizeAsync(spec.Uuid, vcpus: 1, memoryMiB: 160, rootGiB: 1);
        Assert.Equal(PowerState.Shutdown, (await driver.GetInfoAsync(spec.Uuid)).State);
        await driver.PowerOnAsync(spec.Uuid);
        cmdline = (await File.ReadAllTextAsync($"/proc/{ReadPid(dir)}/cmdline")).Split('\0');
        Assert.Equal("160", cmdline[Array.IndexOf(cmdline, "-m") + 1]);
        await driver.DestroyAsync(spec.Uuid);
    }

    [Fact]
    public async Task A_new_driver_finds_and_drives_the_running_instances()
    {
        var instances = image.NewInstancesPath();
        var spec = await SpecAsync(instances, "reconcile");
        var dir = Path.Combine(instances, spec.Uuid.ToString());
        await image.NewDriver(instances).SpawnAsync(spec);
        var pid = ReadPid(dir);

        // As after a restart of the compute agent: nothing shared with the driver that spawned it.
        var restarted = image.NewDriver(instances);
        Assert.Equal([spec.Uuid], await restarted.ListInstancesAsync());
        Assert.Equal(PowerState.Running, (await restarted.GetInfoAsync(spec.Uuid)).State);
        await WaitForBootsAsync(dir, 1);
        Assert.Contains(TestImageBuilder.ReadyMarker, await restarted.GetConsoleOutputAsync(spec.Uuid), StringComparison.Ordinal);

        await restarted.PowerOffAsync(spec.Uuid, TimeSpan.Zero);
        Assert.False(IsAlive(pid));
        Assert.Equal(PowerState.Shutdown, (await restarted.GetInfoAsync(spec.Uuid)).State);
        // A stopped instance is still listed: reconciliation must see it to tell it from a deleted one.
        Assert.Equal([spec.Uuid], await restarted.ListInstancesAsync());

        await restarted.DestroyAsync(spec.Uuid);
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public async Task Crashed_guest_is_reported_and_powers_on_afresh()
    {
        var instances = image.NewInstancesPath();
        var driver = image.NewDriver(instances);
        var spec = await SpecAsync(instances, "crash");
        var dir = Path.Combine(instances, spec.Uuid.ToString());
        await driver.SpawnAsync(spec);
        await WaitForBootsAsync(dir, 1);

        // Alt+SysRq+C on the guest's keyboard: its kernel panics as in a real crash.
        await using (var qmp = await QmpClient.ConnectAsync(Path.Combine(dir, "qmp.sock"), CancellationToken.None))
            await qmp.ExecuteAsync("send-key", new JsonObject { ["keys"] = new JsonArray(Key("alt"), Key("sysrq"), Key("c")) });
        var clock = Stopwatch.StartNew();
        while ((await driver.GetInfoAsync(spec.Uuid)).State != PowerState.Crashed && clock.Elapsed < BootTimeout) await Task.Delay(200);
        Assert.Equal(PowerState.Crashed, (await driver.GetInfoAsync(spec.Uuid)).State);
        Assert.Contains("Kernel panic", await driver.GetConsoleOutputAsync(spec.Uuid), StringComparison.Ordinal);

        await driver.PowerOnAsync(spec.Uuid);
        await WaitForBootsAsync(dir, 2);
        Assert.Equal(PowerState.Running, (await driver.GetInfoAsync(spec.Uuid)).State);
        await driver.DestroyAsync(spec.Uuid);
    }

    static JsonObject Key(string qcode) => new() { ["type"] = "qcode", ["data"] = qcode };

    [Fact]
    public async Task A_guest_with_a_config_drive_reads_its_metadata_from_it_and_runs_its_user_data_script()
    {
        var instances = image.NewInstancesPath();
        var driver = image.NewDriver(instances);
        var spec = await SpecAsync(instances, "configdrive");
        var metaData = new JsonObject { ["uuid"] = spec.Uuid.ToString(), ["hostname"] = "drive-guest", ["name"] = "configdrive" };
        spec = spec with
        {
            ConfigDriveFiles = Metadata.MetadataApi.ConfigDriveFiles(metaData, "#!/bin/sh\necho \"user data says $((6 * 7))\"; cat /etc/stratus/personality.txt\n"u8.ToArray(),
                new JsonObject { ["links"] = new JsonArray(), ["networks"] = new JsonArray(), ["services"] = new JsonArray() },
                [new Rpc.InjectedFile("/etc/stratus/personality.txt", Convert.ToBase64String("injected by personality\n"u8))]),
        };
        var dir = Path.Combine(instances, spec.Uuid.ToString());

        await driver.SpawnAsync(spec);
        await WaitForBootsAsync(dir, 1);
        var console = await driver.GetConsoleOutputAsync(spec.Uuid);
        Assert.Contains("stratus: config drive: found", console, StringComparison.Ordinal);
        Assert.Contains($"stratus: instance-id: {spec.Uuid}", console, StringComparison.Ordinal);
        Assert.Contains("stratus: hostname: drive-guest", console, StringComparison.Ordinal);
        // The script ran in the guest: its shell did the arithmetic.
        Assert.Contains("user data says 42", console, StringComparison.Ordinal);
        // The personality file was on the drive and the guest put it where its path said, before the script ran.
        Assert.Contains("stratus: file: /etc/stratus/personality.txt", console, StringComparison.Ordinal);
        Assert.Contains("injected by personality", console, StringComparison.Ordinal);
        // ISO 9660's primary volume descriptor (sector 16) carries the label Nova gives the drive.
        var iso = await File.ReadAllBytesAsync(Path.Combine(dir, "disk.config"));
        Assert.Equal("CD001", System.Text.Encoding.ASCII.GetString(iso, 32769, 5));
        Assert.Equal(ConfigDrive.Label, System.Text.Encoding.ASCII.GetString(iso, 32808, 32).TrimEnd());
        await driver.DestroyAsync(spec.Uuid);
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public async Task A_volume_is_hot_plugged_into_a_running_guest_which_sees_it_come_and_go()
    {
        var instances = image.NewInstancesPath();
        var driver = image.NewDriver(instances);
        var spec = await SpecAsync(instances, "hotplug");
        var volumeId = Guid.NewGuid().ToString();
        spec = spec with
        {
            ConfigDriveFiles = Metadata.MetadataApi.ConfigDriveFiles(new JsonObject { ["uuid"] = spec.Uuid.ToString() }, System.Text.Encoding.ASCII.GetBytes(GuestScripts.DiskWatcher),
                new JsonObject { ["links"] = new JsonArray(), ["networks"] = new JsonArray(), ["services"] = new JsonArray() }),
        };
        var dir = Path.Combine(instances, spec.Uuid.ToString());
        var volume = Path.Combine(instances, "volume-" + volumeId);
        await HostCommand.RunAsync("qemu-img", ["create", "-f", "qcow2", volume, "64M"]);
        var serial = volumeId[..20];

        await driver.SpawnAsync(spec);
        await WaitForBootsAsync(dir, 1);
        await driver.AttachVolumeAsync(spec.Uuid, new DiskSpec(volume, "qcow2", volumeId));
        await WaitForConsoleAsync(dir, c => c.Contains(serial, StringComparison.Ordinal), "the guest to see the volume");
        Assert.Equal(volumeId, Assert.Single(new InstanceDirectory(instances, spec.Uuid).LoadSpec().Disks).Serial);
        await Assert.ThrowsAsync<VirtException>(() => driver.AttachVolumeAsync(spec.Uuid, new DiskSpec(volume, "qcow2", volumeId)));

        await driver.DetachVolumeAsync(spec.Uuid, volumeId, TimeSpan.FromSeconds(60));
        await WaitForConsoleAsync(dir, c => !GuestScripts.LastDisksLine(c).Contains(serial, StringComparison.Ordinal),
            "the guest to lose the volume");
        Assert.Empty(new InstanceDirectory(instances, spec.Uuid).LoadSpec().Disks);
        // QEMU let go of the file too: qemu-img can take its lock (it fails while a QEMU holds it).
        await HostCommand.RunAsync("qemu-img", ["info", volume]);
        await Assert.ThrowsAsync<VirtException>(() => driver.DetachVolumeAsync(spec.Uuid, volumeId, TimeSpan.FromSeconds(5)));

        // A detach the guest does not finish in time keeps the disk (the caller rolls back); asked again, it completes.
        await driver.AttachVolumeAsync(spec.Uuid, new DiskSpec(volume, "qcow2", volumeId));
        await WaitForConsoleAsync(dir, c => GuestScripts.LastDisksLine(c).Contains(serial, StringComparison.Ordinal),
            "the guest to see the volume again");
        await Assert.ThrowsAsync<VirtException>(() => driver.DetachVolumeAsync(spec.Uuid, volumeId, TimeSpan.FromMilliseconds(1)));
        Assert.Single(new InstanceDirectory(instances, spec.Uuid).LoadSpec().Disks);
        await driver.DetachVolumeAsync(spec.Uuid, volumeId, TimeSpan.FromSeconds(60));
        Assert.Empty(new InstanceDirectory(instances, spec.Uuid).LoadSpec().Disks);
        await HostCommand.RunAsync("qemu-img", ["info", volume]);
        await driver.DestroyAsync(spec.Uuid);
    }

    [Fact]
    public async Task An_instance_boots_from_a_volume_without_a_root_disk_of_its_own()
    {
        var instances = image.NewInstancesPath();
        var driver = image.NewDriver(instances);
        // The volume: the image's bytes converted to raw, as block storage makes a volume from an image.
        var volume = Path.Combine(instances, "volume-boot.raw");
        Directory.CreateDirectory(instances);
        await HostCommand.RunAsync("qemu-img", ["convert", "-O", "raw", image.ImagePath, volume]);
        var spec = new InstanceSpec(Guid.NewGuid(), "from-volume", Vcpus: 1, MemoryMiB: 128, Root: null)
        {
            Disks = [new DiskSpec(volume, "raw", Guid.NewGuid().ToString()) { Boot = true }],
        };
        var dir = Path.Combine(instances, spec.Uuid.ToString());

        await driver.SpawnAsync(spec);
        await WaitForBootsAsync(dir, 1);
        Assert.False(File.Exists(Path.Combine(dir, "disk")));
        await driver.DestroyAsync(spec.Uuid);
        // The volume outlives the instance: it is block storage's.
        Assert.True(File.Exists(volume));
    }

    static async Task WaitForConsoleAsync(string dir, Func<string, bool> done, string what)
    {
        var log = Path.Combine(dir, "console.log");
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < BootTimeout)
        {
            if (done(await ReadSharedAsync(log))) return;
            await Task.Delay(250);
        }
        var console = await ReadSharedAsync(log);
        Assert.Fail($"gave up waiting for {what}; console:\n{console[^Math.Min(console.Length, 3000)..]}");
    }

    [Fact]
    public void Host_resources_are_the_machine_s_own()
    {
        var resources = image.NewDriver(image.NewInstancesPath()).GetHostResources();
        var memTotalKiB = long.Parse(File.ReadLines("/proc/meminfo").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(Environment.ProcessorCount, resources.Vcpus);
        Assert.Equal(memTotalKiB / 1024, resources.MemoryMiB);
        Assert.True(resources.DiskGiB > 0);
        Assert.Equal("QEMU", resources.HypervisorType);
    }

    [Fact]
    public async Task Probe_without_a_kernel_cannot_prove_kvm_and_chooses_tcg()
    {
        var probe = await AcceleratorProbe.DetectAsync("qemu-system-x86_64", kernel: null);
        Assert.Equal(Accelerator.Tcg, probe.Accelerator);
    }

    [Fact]
    public async Task A_probes_result_is_kept_beside_its_kernel_and_used_only_for_the_same_qemu()
    {
        var dir = Directory.CreateTempSubdirectory("stratus-probe-test-");
        try
        {
            // Not a kernel: QEMU refuses it at once, so the probe says TCG quickly and keeps that.
            var kernel = Path.Combine(dir.FullName, "vmlinuz-not-a-kernel");
            await File.WriteAllTextAsync(kernel, "not a kernel");
            var first = await AcceleratorProbe.DetectAsync("qemu-system-x86_64", kernel);
            Assert.Equal(Accelerator.Tcg, first.Accelerator);
            if (first.Reason.StartsWith("/dev/kvm is not usable", StringComparison.Ordinal)) return; // nothing to probe, nothing kept
            var saved = JsonNode.Parse(await File.ReadAllTextAsync(AcceleratorProbe.SavedPath(kernel)))!.AsObject();
            saved["Accelerator"] = (int)Accelerator.Kvm;
            saved["Reason"] = "kept";
            await File.WriteAllTextAsync(AcceleratorProbe.SavedPath(kernel), saved.ToJsonString());
            // Another process (here: another name of the same QEMU binary, which this process has not probed) reads what was kept.
            var qemu = (await HostCommand.RunAsync("sh", ["-c", "command -v qemu-system-x86_64"])).Trim();
            var again = await AcceleratorProbe.DetectAsync(qemu, kernel);
            Assert.Equal(Accelerator.Kvm, again.Accelerator);
            Assert.StartsWith("kept (probed at ", again.Reason, StringComparison.Ordinal);
            // Another QEMU binary is probed again.
            var other = Path.Combine(dir.FullName, "qemu-system-x86_64");
            File.CreateSymbolicLink(other, qemu);
            Assert.Equal(Accelerator.Tcg, (await AcceleratorProbe.DetectAsync(other, kernel)).Accelerator);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    static async Task WaitForBootsAsync(string dir, int boots)
    {
        var log = Path.Combine(dir, "console.log");
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < BootTimeout)
        {
            if (File.Exists(log) && Count(await ReadSharedAsync(log), TestImageBuilder.ReadyMarker) >= boots) return;
            await Task.Delay(200);
        }
        var console = File.Exists(log) ? await ReadSharedAsync(log) : "(no console.log)";
        Assert.Fail($"boot {boots} did not print \"{TestImageBuilder.ReadyMarker}\" within {BootTimeout}; console:\n{console[^Math.Min(console.Length, 3000)..]}");
    }

    static async Task<string> ReadSharedAsync(string path)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(file);
        return await reader.ReadToEndAsync();
    }

    static int Count(string text, string line) => Regex.Matches(text, Regex.Escape(line)).Count;

    static int ReadPid(string dir) => int.Parse(File.ReadAllText(Path.Combine(dir, "qemu.pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    static bool IsAlive(int pid) =>
        File.Exists($"/proc/{pid}/stat") && File.ReadAllText($"/proc/{pid}/stat").Split(") ")[^1][0] is not ('Z' or 'X');

    static Task<string> QemuImgInfoAsync(string disk) => HostCommand.RunAsync("qemu-img", ["info", "-U", disk]);
}
