using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Stratus.Core.Processes;

namespace Stratus.Compute.Virt.Qemu;

/// <summary>
/// Runs each instance as its own daemonized <c>qemu-system-x86_64</c>, after Nova's libvirt driver with
/// <c>virt_type = qemu|kvm</c> but without libvirt: everything the driver knows lives in the instance's
/// directory (spec, pidfile, QMP socket), and every call opens a fresh QMP session. A driver started
/// after a crash or an upgrade therefore finds and drives the running guests as if it had started them.
/// Calls on one instance run one at a time.
/// </summary>
public sealed class QemuDriver : IVirtDriver
{
    /// <summary>Nova's <c>MAX_CONSOLE_BYTES</c>.</summary>
    const int MaxConsoleBytes = 100 * 1024;

    static readonly TimeSpan HardStopTimeout = TimeSpan.FromSeconds(5);

    readonly QemuDriverOptions _options;
    readonly ConcurrentDictionary<Guid, SemaphoreSlim> _locks = new();

    public QemuDriver(QemuDriverOptions options)
    {
        InstanceDirectory.EnsureUsable(options.InstancesPath);
        Directory.CreateDirectory(options.InstancesPath);
        _options = options;
    }

    /// <summary>The accelerator instances start with: the configured one, or what the probe proved works.</summary>
    public async Task<Accelerator> GetAcceleratorAsync() =>
        _options.VirtType ?? (await AcceleratorProbe.DetectAsync(_options.QemuBinary, _options.ProbeKernel)).Accelerator;

    /// <summary>The instance's own root disk: a qcow2 overlay over the host's cached image, which it never writes.</summary>
    async Task CreateOverlayAsync(RootDisk root, string overlay, CancellationToken ct)
    {
        if (!File.Exists(root.ImagePath)) throw new VirtException($"image {root.ImageId} not found at {root.ImagePath}");
        var info = JsonNode.Parse(await HostCommand.RunAsync(_options.QemuImgBinary, ["info", "--output=json", root.ImagePath], ct));
        var format = info?["format"]?.GetValue<string>() ?? throw new VirtException($"qemu-img cannot tell the format of {root.ImagePath}");
        List<string> args = ["create", "-q", "-f", "qcow2", "-F", format, "-b", root.ImagePath, overlay];
        if (root.SizeGiB is { } gib) args.Add($"{gib}G");
        await HostCommand.RunAsync(_options.QemuImgBinary, args, ct);
    }

    public async Task<bool> PlugVifsAsync(InstanceSpec spec, CancellationToken ct = default)
    {
        foreach (var nic in spec.Nics) await TapDevices.PlugAsync(nic, ct);
        return spec.Nics.Count > 0;
    }

    public async Task UnplugVifsAsync(InstanceSpec spec, CancellationToken ct = default)
    {
        foreach (var nic in spec.Nics) await TapDevices.UnplugAsync(nic, ct);
    }

    /// <summary>QMP's netdev_add and device_add, as libvirt's attach-interface does; the spec keeps the NIC for the next boot.</summary>
    public Task AttachInterfaceAsync(Guid uuid, NicSpec nic, CancellationToken ct = default) => Locked(uuid, async () =>
    {
        var dir = Existing(uuid);
        await TapDevices.PlugAsync(nic, ct);
        if (File.Exists(dir.QmpSocket) && QemuProcess.FindLive(dir) is not null)
        {
            await using var qmp = await QmpClient.ConnectAsync(dir.QmpSocket, ct);
            var id = QemuCommandLine.NicId(nic);
            await qmp.ExecuteAsync("netdev_add", new JsonObject { ["type"] = "tap", ["id"] = "net-" + id, ["ifname"] = nic.TapDevice, ["script"] = "no", ["downscript"] = "no" }, ct);
            await qmp.ExecuteAsync("device_add", new JsonObject { ["driver"] = "virtio-net-pci", ["netdev"] = "net-" + id, ["mac"] = nic.MacAddress, ["id"] = "nic-" + id }, ct);
        }
        var spec = dir.LoadSpec();
        dir.SaveSpec(spec with { Nics = [.. spec.Nics, nic] });
    });

    public Task DetachInterfaceAsync(Guid uuid, NicSpec nic, CancellationToken ct = default) => Locked(uuid, async () =>
    {
        var dir = Existing(uuid);
        var spec = dir.LoadSpec();
        if (File.Exists(dir.QmpSocket) && QemuProcess.FindLive(dir) is not null)
        {
            await using var qmp = await QmpClient.ConnectAsync(dir.QmpSocket, ct);
            await qmp.ExecuteAsync("device_del", new JsonObject { ["id"] = "nic-" + QemuCommandLine.NicId(nic) }, ct);
            await qmp.ExecuteAsync("netdev_del", new JsonObject { ["id"] = "net-" + QemuCommandLine.NicId(nic) }, ct);
        }
        dir.SaveSpec(spec with { Nics = [.. spec.Nics.Where(n => n.TapDevice != nic.TapDevice)] });
        await TapDevices.UnplugAsync(nic, ct);
    });

    /// <summary>QMP's blockdev-add and device_add, as libvirt's attach_volume; the spec keeps the disk for the next boot.</summary>
    public Task AttachVolumeAsync(Guid uuid, DiskSpec disk, CancellationToken ct = default) => Locked(uuid, async () =>
    {
        var dir = Existing(uuid);
        var spec = dir.LoadSpec();
        if (spec.Disks.Any(d => d.Serial == disk.Serial)) throw new VirtException($"Instance {uuid} already has disk {disk.Serial}.");
        if (File.Exists(dir.QmpSocket) && QemuProcess.FindLive(dir) is not null)
        {
            await using var qmp = await QmpClient.ConnectAsync(dir.QmpSocket, ct);
            await qmp.ExecuteAsync("blockdev-add", QemuCommandLine.BlockdevOptions(disk), ct);
            try
            {
                await qmp.ExecuteAsync("device_add", new JsonObject
                {
                    ["driver"] = "virtio-blk-pci", ["drive"] = QemuCommandLine.DiskNode(disk), ["id"] = QemuCommandLine.DiskDevice(disk),
                    ["serial"] = QemuCommandLine.GuestSerial(disk),
                }, ct);
            }
            catch (VirtException)
            {
                await qmp.ExecuteAsync("blockdev-del", new JsonObject { ["node-name"] = QemuCommandLine.DiskNode(disk) }, CancellationToken.None);
                throw;
            }
        }
        dir.SaveSpec(spec with { Disks = [.. spec.Disks, disk] });
    });

    /// <summary>
    /// device_del, then the guest's DEVICE_DELETED (it ejects the disk through ACPI), then blockdev-del. A guest
    /// that does not let go within <paramref name="timeout"/> keeps the disk: the caller rolls the detach back.
    /// </summary>
    public Task DetachVolumeAsync(Guid uuid, string serial, TimeSpan timeout, CancellationToken ct = default) => Locked(uuid, async () =>
    {
        var dir = Existing(uuid);
        var spec = dir.LoadSpec();
        var disk = spec.Disks.FirstOrDefault(d => d.Serial == serial) ?? throw new VirtException($"Instance {uuid} has no disk {serial}.");
        if (File.Exists(dir.QmpSocket) && QemuProcess.FindLive(dir) is not null)
        {
            await using var qmp = await QmpClient.ConnectAsync(dir.QmpSocket, ct);
            var device = QemuCommandLine.DiskDevice(disk);
            try
            {
                await qmp.ExecuteAsync("device_del", new JsonObject { ["id"] = device }, ct);
            }
            catch (VirtException e) when (e.Message.Contains("already in the process of unplug", StringComparison.Ordinal))
            {
                // An earlier detach's request is still with the guest: wait for it again.
            }
            catch (VirtException e) when (e.Message.Contains("not found", StringComparison.Ordinal))
            {
                // The guest let go after an earlier detach gave up waiting: only the block node is left.
                await qmp.ExecuteAsync("blockdev-del", new JsonObject { ["node-name"] = QemuCommandLine.DiskNode(disk) }, ct);
                dir.SaveSpec(spec with { Disks = [.. spec.Disks.Where(d => d.Serial != serial)] });
                return;
            }
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
            wait.CancelAfter(timeout);
            try
            {
                await qmp.WaitForEventAsync("DEVICE_DELETED", data => (string?)data["device"] == device, wait.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new VirtException($"Device detach failed for {serial}: the guest of instance {uuid} did not release it within {timeout.TotalSeconds:0} s.");
            }
            await qmp.ExecuteAsync("blockdev-del", new JsonObject { ["node-name"] = QemuCommandLine.DiskNode(disk) }, ct);
        }
        dir.SaveSpec(spec with { Disks = [.. spec.Disks.Where(d => d.Serial != serial)] });
    });

    public Task SpawnAsync(InstanceSpec spec, CancellationToken ct = default) => Locked(spec.Uuid, async () =>
    {
        var dir = new InstanceDirectory(_options.InstancesPath, spec.Uuid);
        if (Directory.Exists(dir.Path)) throw new InstanceExistsException(spec.Uuid);
        Directory.CreateDirectory(dir.Path);
        try
        {
            dir.SaveSpec(spec);
            if (spec.Root is { } root) await CreateOverlayAsync(root, dir.Disk, ct);
            if (spec.ConfigDriveFiles is { } files) await ConfigDrive.WriteAsync(files, dir.ConfigDrive, _options.MkisofsCmd, ct);
            await LaunchAsync(dir, restoreMemory: false, ct);
        }
        catch
        {
            await RemoveAsync(dir, CancellationToken.None);
            throw;
        }
    });

    public Task DestroyAsync(Guid uuid, CancellationToken ct = default) => Locked(uuid, async () =>
    {
        var dir = new InstanceDirectory(_options.InstancesPath, uuid);
        if (Directory.Exists(dir.Path)) await RemoveAsync(dir, ct);
    });

    public Task PowerOnAsync(Guid uuid, CancellationToken ct = default) => Locked(uuid, async () =>
    {
        var dir = Existing(uuid);
        if (QemuProcess.FindLive(dir) is not null)
        {
            var state = await StateAsync(dir, ct);
            // A crashed guest's QEMU is still there, stopped: powering on starts the machine afresh.
            if (state != PowerState.Crashed) throw new InstanceInvalidStateException(uuid, state, "power on");
            await HardRebootAsync(dir, ct);
        }
        else if (File.Exists(dir.MemoryState)) await RestoreAsync(dir, ct);
        else await LaunchAsync(dir, restoreMemory: false, ct);
    });

    public Task PowerOffAsync(Guid uuid, TimeSpan cleanShutdownTimeout, CancellationToken ct = default) => Locked(uuid, async () =>
    {
        var dir = Existing(uuid);
        // Powering off a suspended instance forgets its memory, as libvirt drops a managed save.
        File.Delete(dir.MemoryState);
        if (cleanShutdownTimeout > TimeSpan.Zero && await ShutDownCleanlyAsync(dir, cleanShutdownTimeout, ct)) return;
        await StopHardAsync(dir, ct);
    });

    /// <summary>
    /// A same-host resize as Nova's libvirt driver does it: the guest is shut down, gets the new vCPUs and
    /// memory and a root disk grown to the new size (never shrunk), and runs again if it was running.
    /// A suspended guest's saved memory cannot come back into another machine: it boots afresh.
    /// </summary>
    public Task ResizeAsync(Guid uuid, int vcpus, int memoryMiB, int? rootGiB, CancellationToken ct = default) => Locked(uuid, async () =>
    {
        var dir = Existing(uuid);
        var state = await StateAsync(dir, ct);
        var wasRunning = state is PowerState.Running or PowerState.Paused or PowerState.Suspended;
        File.Delete(dir.MemoryState);
        if (QemuProcess.FindLive(dir) is not null && !await ShutDownCleanlyAsync(dir, _options.ShutdownTimeout, ct)) await StopHardAsync(dir, ct);
        var spec = dir.LoadSpec();
        // A volume-backed instance's root is its volume's size, block storage's to change (extend).
        if (spec.Root is { } root && rootGiB is { } gib && gib > (root.SizeGiB ?? 0))
            await HostCommand.RunAsync(_options.QemuImgBinary, ["resize", "-q", dir.Disk, $"{gib}G"], ct);
        dir.SaveSpec(spec with { Vcpus = vcpus, MemoryMiB = memoryMiB, Root = spec.Root is { } r ? r with { SizeGiB = rootGiB ?? r.SizeGiB } : null });
        if (wasRunning) await LaunchAsync(dir, restoreMemory: false, ct);
    });

    public Task RebootAsync(Guid uuid, RebootType type, CancellationToken ct = default) => Locked(uuid, async () =>
    {
        var dir = Existing(uuid);
        if (type == RebootType.Soft)
        {
            var state = await StateAsync(dir, ct);
            if (state != PowerState.Running) throw new InstanceInvalidStateException(uuid, state, "soft reboot");
            // As Nova's libvirt driver: a clean shutdown and a fresh start, or a hard reboot when the guest ignores it.
            if (await ShutDownCleanlyAsync(dir, _options.ShutdownTimeout, ct))
            {
                await LaunchAsync(dir, restoreMemory: false, ct);
                return;
            }
        }
        await HardRebootAsync(dir, ct);
    });

    public Task PauseAsync(Guid uuid, CancellationToken ct = default) => Locked(uuid, async () =>
    {
        var dir = Existing(uuid);
        await RequireStateAsync(dir, "pause", ct, PowerState.Running);
        await QmpAsync(dir, "stop", ct);
    });

    public Task UnpauseAsync(Guid uuid, CancellationToken ct = default) => Locked(uuid, async () =>
    {
        var dir = Existing(uuid);
        await RequireStateAsync(dir, "unpause", ct, PowerState.Paused);
        await QmpAsync(dir, "cont", ct);
    });

    /// <summary>Libvirt's managed save: the guest's memory goes to <c>memory.state</c> through QEMU's migration, and QEMU exits.</summary>
    public Task SuspendAsync(Guid uuid, CancellationToken ct = default) => Locked(uuid, async () =>
    {
        var dir = Existing(uuid);
        await RequireStateAsync(dir, "suspend", ct, PowerState.Running, PowerState.Paused);
        var partial = dir.MemoryState + ".part";
        await using (var qmp = await QmpClient.ConnectAsync(dir.QmpSocket, ct))
        {
            await qmp.ExecuteAsync("stop", ct: ct);
            await qmp.ExecuteAsync("migrate", new JsonObject { ["uri"] = $"exec:cat > '{partial}'" }, ct);
            await WaitForMigrationAsync(qmp, dir, ct);
        }
        await StopHardAsync(dir, ct);
        File.Move(partial, dir.MemoryState, overwrite: true);
    });

    public Task ResumeAsync(Guid uuid, CancellationToken ct = default) => Locked(uuid, async () =>
    {
        var dir = Existing(uuid);
        await RequireStateAsync(dir, "resume", ct, PowerState.Suspended);
        await RestoreAsync(dir, ct);
    });

    public async Task<InstanceInfo> GetInfoAsync(Guid uuid, CancellationToken ct = default) =>
        new(uuid, await StateAsync(Existing(uuid), ct));

    /// <summary>Every instance directory with a spec: running guests are found again through their pidfile and QMP socket.</summary>
    public Task<IReadOnlyList<Guid>> ListInstancesAsync(CancellationToken ct = default)
    {
        IReadOnlyList<Guid> uuids = [.. Directory.EnumerateDirectories(_options.InstancesPath)
            .Select(path => Guid.TryParse(Path.GetFileName(path), out var uuid) ? uuid : Guid.Empty)
            .Where(uuid => uuid != Guid.Empty && new InstanceDirectory(_options.InstancesPath, uuid).Exists)];
        return Task.FromResult(uuids);
    }

    public async Task<string> GetConsoleOutputAsync(Guid uuid, CancellationToken ct = default)
    {
        var dir = Existing(uuid);
        if (!File.Exists(dir.ConsoleLog)) return "";
        await using var log = new FileStream(dir.ConsoleLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        log.Seek(Math.Max(0, log.Length - MaxConsoleBytes), SeekOrigin.Begin);
        using var reader = new StreamReader(log);
        return await reader.ReadToEndAsync(ct);
    }

    public HostResources GetHostResources()
    {
        var memTotalKiB = File.ReadLines("/proc/meminfo")
            .Where(line => line.StartsWith("MemTotal:", StringComparison.Ordinal))
            .Select(line => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture))
            .First();
        var disk = new DriveInfo(Path.GetFullPath(_options.InstancesPath));
        return new HostResources(Environment.ProcessorCount, memTotalKiB / 1024, disk.TotalSize >> 30, "QEMU");
    }

    async Task Locked(Guid uuid, Func<Task> action)
    {
        var gate = _locks.GetOrAdd(uuid, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync();
        try
        {
            await action();
        }
        catch (HostCommandException e)
        {
            // The driver's callers handle its failures as VirtException, whichever host command failed.
            throw new VirtException(e.Message, e);
        }
        finally
        {
            gate.Release();
        }
    }

    InstanceDirectory Existing(Guid uuid)
    {
        var dir = new InstanceDirectory(_options.InstancesPath, uuid);
        return dir.Exists ? dir : throw new InstanceNotFoundException(uuid);
    }

    async Task LaunchAsync(InstanceDirectory dir, bool restoreMemory, CancellationToken ct)
    {
        var accelerator = await GetAcceleratorAsync();
        File.Delete(dir.PidFile);
        File.Delete(dir.QmpSocket);
        var spec = dir.LoadSpec();
        foreach (var nic in spec.Nics) await TapDevices.PlugAsync(nic, ct);
        // -daemonize returns once the machine is set up, with QEMU's own error message when it is not.
        await HostCommand.RunAsync(_options.QemuBinary, QemuCommandLine.For(spec, dir, accelerator, restoreMemory), ct);
    }

    async Task RestoreAsync(InstanceDirectory dir, CancellationToken ct)
    {
        await LaunchAsync(dir, restoreMemory: true, ct);
        await using var qmp = await QmpClient.ConnectAsync(dir.QmpSocket, ct);
        var deadline = Stopwatch.StartNew();
        while ((await qmp.ExecuteAsync("query-status", ct: ct))?["status"]?.GetValue<string>() == "inmigrate")
        {
            if (deadline.Elapsed > _options.SuspendTimeout) throw new VirtException($"instance {dir.Uuid} did not resume within {_options.SuspendTimeout}");
            await Task.Delay(100, ct);
        }
        // The memory was saved from a stopped guest, so QEMU restores it stopped.
        await qmp.ExecuteAsync("cont", ct: ct);
        File.Delete(dir.MemoryState);
    }

    async Task WaitForMigrationAsync(QmpClient qmp, InstanceDirectory dir, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var migration = await qmp.ExecuteAsync("query-migrate", ct: ct);
            switch (migration?["status"]?.GetValue<string>())
            {
                case "completed":
                    return;
                case "failed" or "cancelled":
                    throw new VirtException($"saving the memory of instance {dir.Uuid} failed: {migration["error-desc"]?.GetValue<string>()}");
            }
            if (deadline.Elapsed > _options.SuspendTimeout) throw new VirtException($"saving the memory of instance {dir.Uuid} took longer than {_options.SuspendTimeout}");
            await Task.Delay(100, ct);
        }
    }

    /// <summary>Presses the ACPI power button and waits for the guest to power itself off.</summary>
    async Task<bool> ShutDownCleanlyAsync(InstanceDirectory dir, TimeSpan timeout, CancellationToken ct)
    {
        if (QemuProcess.FindLive(dir) is not { } pid) return true;
        try
        {
            await QmpAsync(dir, "system_powerdown", ct);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            return false;
        }
        return await QemuProcess.WaitForExitAsync(pid, timeout, ct);
    }

    /// <summary>QMP <c>quit</c> first, so QEMU flushes its disks; SIGKILL when it does not answer.</summary>
    async Task StopHardAsync(InstanceDirectory dir, CancellationToken ct)
    {
        if (QemuProcess.FindLive(dir) is not { } pid) return;
        try
        {
            await QmpAsync(dir, "quit", ct);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or VirtException)
        {
            // QEMU may close the socket before answering; the wait below decides.
        }
        if (!await QemuProcess.WaitForExitAsync(pid, HardStopTimeout, ct)) await QemuProcess.KillAsync(dir, ct);
    }

    async Task HardRebootAsync(InstanceDirectory dir, CancellationToken ct)
    {
        if (QemuProcess.FindLive(dir) is null)
        {
            File.Delete(dir.MemoryState);
            await LaunchAsync(dir, restoreMemory: false, ct);
            return;
        }
        await using var qmp = await QmpClient.ConnectAsync(dir.QmpSocket, ct);
        await qmp.ExecuteAsync("system_reset", ct: ct);
        await qmp.ExecuteAsync("cont", ct: ct);
    }

    async Task RemoveAsync(InstanceDirectory dir, CancellationToken ct)
    {
        await QemuProcess.KillAsync(dir, ct);
        if (File.Exists(dir.SpecFile))
            foreach (var nic in dir.LoadSpec().Nics) await TapDevices.UnplugAsync(nic, ct);
        Directory.Delete(dir.Path, recursive: true);
    }

    async Task RequireStateAsync(InstanceDirectory dir, string action, CancellationToken ct, params PowerState[] allowed)
    {
        var state = await StateAsync(dir, ct);
        if (!allowed.Contains(state)) throw new InstanceInvalidStateException(dir.Uuid, state, action);
    }

    async Task<PowerState> StateAsync(InstanceDirectory dir, CancellationToken ct)
    {
        if (QemuProcess.FindLive(dir) is null)
            return File.Exists(dir.MemoryState) ? PowerState.Suspended : PowerState.Shutdown;
        try
        {
            var status = await QmpAsync(dir, "query-status", ct);
            return FromRunState(status?["status"]?.GetValue<string>());
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or VirtException)
        {
            return PowerState.NoState;
        }
    }

    /// <summary>QEMU's RunState, as Nova's libvirt driver maps libvirt's domain states.</summary>
    static PowerState FromRunState(string? status) => status switch
    {
        "running" => PowerState.Running,
        "paused" or "suspended" or "inmigrate" or "postmigrate" or "prelaunch" or "finish-migrate"
            or "save-vm" or "restore-vm" or "debug" or "colo" or "io-error" => PowerState.Paused,
        "guest-panicked" or "internal-error" => PowerState.Crashed,
        "shutdown" => PowerState.Shutdown,
        _ => PowerState.NoState,
    };

    static async Task<JsonNode?> QmpAsync(InstanceDirectory dir, string command, CancellationToken ct)
    {
        await using var qmp = await QmpClient.ConnectAsync(dir.QmpSocket, ct);
        return await qmp.ExecuteAsync(command, ct: ct);
    }
}
