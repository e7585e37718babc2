using System.Text.Json.Serialization;
using Stratus.Core.Messaging;

namespace Stratus.BlockStorage.Rpc;

/// <summary>
/// cinder-backup's topic, as Cinder's backup rpcapi: the API casts to the backup service on server <c>host</c>
/// that the backup row names (an up one, as <c>_get_available_backup_service_host</c> picks).
/// </summary>
public sealed class BackupApi(IMessageBus bus) : RpcClient(bus, BackupApi.Topic, BackupRpcJson.Default, VolumeRpc.CallTimeout)
{
    public const string Topic = "cinder-backup";
}

public sealed record CreateBackup(string BackupId) : IRpcCast;

public sealed record DeleteBackup(string BackupId) : IRpcCast;

public sealed record RestoreBackup(string BackupId, string VolumeId) : IRpcCast;

/// <summary>A record imported by the API: the backup service checks its objects are in the store and makes it available.</summary>
public sealed record ImportBackup(string BackupId) : IRpcCast;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CreateBackup))]
[JsonSerializable(typeof(DeleteBackup))]
[JsonSerializable(typeof(RestoreBackup))]
[JsonSerializable(typeof(ImportBackup))]
public sealed partial class BackupRpcJson : JsonSerializerContext;
