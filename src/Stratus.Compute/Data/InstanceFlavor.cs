using System.Text.Json;
using System.Text.Json.Serialization;
using Stratus.Compute.Rpc;

namespace Stratus.Compute.Data;

/// <summary>
/// The flavor a server was built with, kept with the server (the flavor itself may change or go) and
/// handed as it is to the scheduler and the host's agent. Stored and sent under the API's names.
/// </summary>
public sealed record InstanceFlavor(
    [property: JsonPropertyName("id")] string FlavorId,
    string Name,
    int Vcpus,
    [property: JsonPropertyName("ram")] int MemoryMb,
    [property: JsonPropertyName("disk")] int RootGb,
    [property: JsonPropertyName("ephemeral")] int EphemeralGb,
    int Swap,
    IReadOnlyDictionary<string, string> ExtraSpecs)
{
    /// <summary>What the server takes of its host's disk: root and ephemeral.</summary>
    [JsonIgnore]
    public int DiskGb => RootGb + EphemeralGb;

    public static InstanceFlavor Of(Flavor f) =>
        new(f.FlavorId, f.Name, f.Vcpus, f.MemoryMb, f.RootGb, f.EphemeralGb, f.Swap, f.ExtraSpecs.ToDictionary(s => s.Key, s => s.Value));

    public static InstanceFlavor Parse(string json) => JsonSerializer.Deserialize(json, ComputeRpcJson.Default.InstanceFlavor)!;

    public string ToJson() => JsonSerializer.Serialize(this, ComputeRpcJson.Default.InstanceFlavor);
}
