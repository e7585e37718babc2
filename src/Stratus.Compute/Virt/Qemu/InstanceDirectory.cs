using System.Text.Json;
using System.Text.Json.Serialization;

namespace Stratus.Compute.Virt.Qemu;

/// <summary>
/// One instance's files, in Nova's layout: <c>instances_path/&lt;uuid&gt;/disk</c>, <c>console.log</c>, plus
/// what lets a restarted driver find and drive the instance again: the spec it was spawned with, QEMU's
/// pidfile and QMP socket, and the saved memory of a suspended guest.
/// </summary>
sealed class InstanceDirectory(string instancesPath, Guid uuid)
{
    /// <summary>sun_path holds 108 bytes; the QMP socket lives in this directory.</summary>
    const int MaxSocketPath = 107;

    public Guid Uuid { get; } = uuid;
    public string Path { get; } = System.IO.Path.Combine(instancesPath, uuid.ToString());
    public string Disk => System.IO.Path.Combine(Path, "disk");
    /// <summary>Nova's name for the config drive beside the disk.</summary>
    public string ConfigDrive => System.IO.Path.Combine(Path, "disk.config");
    public string ConsoleLog => System.IO.Path.Combine(Path, "console.log");
    public string PidFile => System.IO.Path.Combine(Path, "qemu.pid");
    public string QmpSocket => System.IO.Path.Combine(Path, "qmp.sock");
    public string SpecFile => System.IO.Path.Combine(Path, "instance.json");
    public string MemoryState => System.IO.Path.Combine(Path, "memory.state");

    public bool Exists => File.Exists(SpecFile);

    public static void EnsureUsable(string instancesPath)
    {
        var probe = new InstanceDirectory(instancesPath, Guid.Empty).QmpSocket;
        if (System.Text.Encoding.UTF8.GetByteCount(probe) > MaxSocketPath)
            throw new VirtException($"instances_path {instancesPath} is too long: the QMP socket path {probe} exceeds {MaxSocketPath} bytes");
        if (instancesPath.Contains('\'', StringComparison.Ordinal))
            throw new VirtException($"instances_path {instancesPath} must not contain a quote (QEMU saves suspended guests through a shell command)");
    }

    /// <summary>Writes the spec under a temporary name first, so a crash never leaves half of one.</summary>
    public void SaveSpec(InstanceSpec spec)
    {
        var temp = SpecFile + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(spec, InstanceSpecJson.Default.InstanceSpec));
        File.Move(temp, SpecFile, overwrite: true);
    }

    public InstanceSpec LoadSpec() =>
        JsonSerializer.Deserialize(File.ReadAllText(SpecFile), InstanceSpecJson.Default.InstanceSpec)
        ?? throw new VirtException($"{SpecFile} is empty");

    /// <summary>The pid QEMU wrote; null when there is no pidfile, as QEMU removes it when it exits.</summary>
    public int? ReadPid()
    {
        try
        {
            return int.TryParse(File.ReadAllText(PidFile).Trim(), out var pid) ? pid : null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(InstanceSpec))]
sealed partial class InstanceSpecJson : JsonSerializerContext;
