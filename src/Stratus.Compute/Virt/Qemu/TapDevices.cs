using Stratus.Core.Processes;

namespace Stratus.Compute.Virt.Qemu;

/// <summary>
/// os-vif's linux_bridge plugin, as libvirt uses it for a guest's NIC: the network's bridge made if the
/// host has none yet, a tap device for the port plugged into it, both up, with the network's MTU.
/// QEMU opens the tap (<c>script=no</c>); unplugging deletes it, and the bridge once nothing else is in it.
/// </summary>
static class TapDevices
{
    public static async Task PlugAsync(NicSpec nic, CancellationToken ct)
    {
        if (nic.Bridge is null) return;
        if (!Exists(nic.Bridge))
        {
            try
            {
                await Ip(ct, "link", "add", "name", nic.Bridge, "type", "bridge");
            }
            catch (HostCommandException) when (Exists(nic.Bridge))
            {
                // Another guest of the network plugged in meanwhile.
            }
        }
        await Ip(ct, "link", "set", nic.Bridge, "up");
        if (!Exists(nic.TapDevice)) await Ip(ct, "tuntap", "add", "dev", nic.TapDevice, "mode", "tap");
        if (nic.Mtu is { } mtu) await Ip(ct, "link", "set", nic.TapDevice, "mtu", mtu.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Ip(ct, "link", "set", nic.TapDevice, "master", nic.Bridge, "up");
    }

    public static async Task UnplugAsync(NicSpec nic, CancellationToken ct)
    {
        if (nic.Bridge is null) return;
        if (Exists(nic.TapDevice)) await Ip(ct, "link", "delete", nic.TapDevice);
        var members = Path.Combine("/sys/class/net", nic.Bridge, "brif");
        if (Directory.Exists(members) && Directory.GetFileSystemEntries(members).Length == 0)
        {
            try
            {
                await Ip(ct, "link", "delete", nic.Bridge);
            }
            catch (HostCommandException) when (!Exists(nic.Bridge))
            {
            }
        }
    }

    static bool Exists(string device) => Directory.Exists(Path.Combine("/sys/class/net", device));

    static Task<string> Ip(CancellationToken ct, params string[] args) => HostCommand.RunAsync("ip", args, ct);
}
