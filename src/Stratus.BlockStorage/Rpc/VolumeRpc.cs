using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Stratus.Core.Messaging;

namespace Stratus.BlockStorage.Rpc;

/// <summary>
/// The RPC topics of Cinder's services: the API casts creates to <c>cinder-scheduler</c>, which picks a
/// backend and casts to <c>cinder-volume</c> on server <c>host@backend</c>; everything else about an
/// existing volume goes straight to the backend that holds it, as Cinder's volume rpcapi does.
/// </summary>
public static class VolumeRpc
{
    public const string SchedulerTopic = "cinder-scheduler", VolumeTopic = "cinder-volume";

    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);
}

public sealed class SchedulerApi(IMessageBus bus) : RpcClient(bus, VolumeRpc.SchedulerTopic, VolumeRpcJson.Default, VolumeRpc.CallTimeout);

public sealed class VolumeApi(IMessageBus bus) : RpcClient(bus, VolumeRpc.VolumeTopic, VolumeRpcJson.Default, VolumeRpc.CallTimeout);

/// <summary>
/// Make a volume that the API recorded as creating: empty, or from <see cref="SourceVolId"/>, <see cref="SnapshotId"/>
/// or an image read at <see cref="ImageEndpoint"/> with the user's <see cref="Token"/> (oslo's context carries it).
/// </summary>
public sealed record CreateVolume(string VolumeId, string? ImageEndpoint = null, string? Token = null, string? RequestId = null) : IRpcCast;

public sealed record DeleteVolume(string VolumeId) : IRpcCast;

public sealed record ExtendVolume(string VolumeId, int NewSize, string ReturnStatus) : IRpcCast;

/// <summary>Write a volume in uploading into the queued image <see cref="ImageId"/> at <see cref="ImageEndpoint"/>, as <see cref="DiskFormat"/>.</summary>
public sealed record UploadImage(string VolumeId, string ImageId, string DiskFormat, string ImageEndpoint, string? Token, string? RequestId = null) : IRpcCast;

public sealed record CreateSnapshot(string SnapshotId) : IRpcCast;

public sealed record DeleteSnapshot(string SnapshotId) : IRpcCast;

/// <summary>Make a group the API recorded as creating: to the scheduler to place it, then to its backend, which makes the volumes it copies from a source.</summary>
public sealed record CreateGroup(string GroupId) : IRpcCast;

public sealed record DeleteGroup(string GroupId) : IRpcCast;

public sealed record CreateGroupSnapshot(string GroupSnapshotId) : IRpcCast;

public sealed record DeleteGroupSnapshot(string GroupSnapshotId) : IRpcCast;

/// <summary>The connection info of a volume for a connector (os-brick's), as the driver exports it.</summary>
public sealed record InitializeConnection(string VolumeId, string? Connector) : IRpcCall<VolumeConnection>;

public sealed record VolumeConnection(string Json);

/// <summary>
/// A backend's stats, fanned out by its cinder-volume to every scheduler (Cinder's update_service_capabilities): what it
/// is (vendor, driver, protocol) and its pools with their capacity.
/// </summary>
public sealed record UpdateServiceCapabilities(string Host, JsonObject Capabilities, DateTime Timestamp) : IRpcCast;

/// <summary>A scheduler that starts asks every cinder-volume for its stats at once, instead of waiting for the next report.</summary>
public sealed record PublishServiceCapabilities(string? Reason = null) : IRpcCast;

/// <summary>The pools the scheduler knows, optionally only the one named or those a volume type's extra specs fit.</summary>
public sealed record GetPools(string? Name = null, Dictionary<string, string>? TypeSpecs = null) : IRpcCall<PoolList>;

public sealed record Pool(string Name, JsonObject Capabilities);

public sealed record PoolList(List<Pool> Pools);

/// <summary>A backend's capabilities with the standard properties extra specs may set (Cinder's get_capabilities).</summary>
public sealed record GetCapabilities(bool Discover) : IRpcCall<BackendCapabilities>;

public sealed record BackendCapabilities(JsonObject Capabilities);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CreateVolume))]
[JsonSerializable(typeof(DeleteVolume))]
[JsonSerializable(typeof(ExtendVolume))]
[JsonSerializable(typeof(UploadImage))]
[JsonSerializable(typeof(CreateSnapshot))]
[JsonSerializable(typeof(DeleteSnapshot))]
[JsonSerializable(typeof(CreateGroup))]
[JsonSerializable(typeof(DeleteGroup))]
[JsonSerializable(typeof(CreateGroupSnapshot))]
[JsonSerializable(typeof(DeleteGroupSnapshot))]
[JsonSerializable(typeof(InitializeConnection))]
[JsonSerializable(typeof(VolumeConnection))]
[JsonSerializable(typeof(UpdateServiceCapabilities))]
[JsonSerializable(typeof(PublishServiceCapabilities))]
[JsonSerializable(typeof(GetPools))]
[JsonSerializable(typeof(PoolList))]
[JsonSerializable(typeof(GetCapabilities))]
[JsonSerializable(typeof(BackendCapabilities))]
public sealed partial class VolumeRpcJson : JsonSerializerContext;
