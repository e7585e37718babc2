using Stratus.Core.Messaging;

namespace Stratus.Compute.Rpc;

/// <summary>
/// From the conductor: a host for the server, its resources claimed in placement, or NoValidHost
/// (Nova's select_destinations for one server).
/// </summary>
public sealed record SelectDestination(string Uuid, InstanceFlavor Flavor, string ProjectId, string UserId, string? AvailabilityZone,
    IReadOnlyList<string> ExcludedHosts) : IRpcCall<Destination>;

/// <summary>The chosen host, its node and its availability zone (which becomes the server's).</summary>
public sealed record Destination(string Host, string Node, string Zone);
