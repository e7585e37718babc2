namespace Stratus.Identity.Policy;

/// <summary>The v3 <c>/policies</c> resource: opaque policy blobs Keystone stores for other services.</summary>
public sealed class PolicyBlob
{
    public required string Id { get; set; }
    public required string Type { get; set; }
    public required string Blob { get; set; }
    public string Extra { get; set; } = "{}";
}
