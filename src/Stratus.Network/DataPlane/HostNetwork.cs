using System.Text.Json;
using Stratus.Core.Processes;

namespace Stratus.Network.DataPlane;

/// <summary>
/// The network stack the agents of one node change: the machine's own, or a network namespace that
/// stands for the node's host where several nodes share one kernel (the nodes of <c>stratus up</c>, test
/// nodes), so that each node's bridges, taps and namespaces are its own. Every command goes through
/// <c>ip</c> (with <c>-n</c> for a namespace), never a shell.
/// </summary>
public sealed class HostNetwork(string? @namespace = null)
{
    public string? Namespace => @namespace;

    /// <summary>One link as <c>ip -d link show</c> lists it.</summary>
    public sealed record Link(string Name, string? Master, string? Kind, int Mtu, bool Up);

    public Task<string> IpAsync(CancellationToken ct, params string[] args) =>
        HostCommand.RunAsync("ip", @namespace is null ? args : ["-n", @namespace, .. args], ct);

    public async Task<IReadOnlyList<Link>> LinksAsync(CancellationToken ct)
    {
        using var doc = JsonDocument.Parse(await IpAsync(ct, "-j", "-d", "link", "show"));
        return [.. doc.RootElement.EnumerateArray().Select(l => new Link(
            l.GetProperty("ifname").GetString()!,
            l.TryGetProperty("master", out var m) ? m.GetString() : null,
            l.TryGetProperty("linkinfo", out var info) && info.TryGetProperty("info_kind", out var kind) ? kind.GetString() : null,
            l.TryGetProperty("mtu", out var mtu) ? mtu.GetInt32() : 0,
            l.TryGetProperty("flags", out var flags) && flags.EnumerateArray().Any(f => f.GetString() == "UP")))];
    }

    /// <summary>Creates the namespace this host network stands for, if it is one and missing (with its loopback up).</summary>
    public async Task EnsureNamespaceAsync(CancellationToken ct)
    {
        if (@namespace is null || Directory.Exists("/run/netns") && File.Exists(Path.Combine("/run/netns", @namespace))) return;
        await HostCommand.RunAsync("ip", ["netns", "add", @namespace], ct);
        await IpAsync(ct, "link", "set", "lo", "up");
    }

    /// <summary>Deletes the namespace with everything in it (a test's or a removed node's host).</summary>
    public async Task DeleteNamespaceAsync(CancellationToken ct)
    {
        if (@namespace is not null && File.Exists(Path.Combine("/run/netns", @namespace)))
            await HostCommand.RunAsync("ip", ["netns", "delete", @namespace], ct);
    }
}
