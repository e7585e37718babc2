using Stratus.Compute.Images;
using Stratus.Core.Catalog;

namespace Stratus.Compute.Servers;

/// <summary>What a server may boot (create) or be rebuilt from.</summary>
static class ServerImage
{
    /// <summary>The image must exist for the caller in this region's image service, be active, and fit the flavor.</summary>
    public static async Task CheckBootableAsync(ImageClient images, string imageRef, InstanceFlavor flavor, string token, CancellationToken ct)
    {
        JsonObject? image;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            image = await images.ShowAsync(imageRef, token, timeout.Token);
        }
        catch (Exception e) when (e is EndpointNotFoundException or IdentityUnreachableException or ServiceCredentialsRejectedException)
        {
            throw OpenStackError.BadRequest($"Image {imageRef} could not be found: {e.Message}");
        }
        catch (ImageServiceException e) when (e.Status is null)
        {
            throw OpenStackError.Unavailable($"The image service at {e.Endpoint} could not be reached: {e.Message}");
        }
        catch (ImageServiceException e)
        {
            throw OpenStackError.BadRequest($"Invalid image identifier or unable to access requested image. (HTTP {e.Status} from {e.Endpoint})");
        }
        if (image is null) throw OpenStackError.BadRequest($"Image {imageRef} could not be found.");
        if ((string?)image["status"] != "active") throw OpenStackError.BadRequest($"Image {imageRef} is not active.");
        if ((int?)image["min_ram"] is { } minRam && minRam > flavor.MemoryMb) throw OpenStackError.BadRequest("Flavor's memory is too small for requested image.");
        if ((int?)image["min_disk"] is { } minDisk && flavor.RootGb > 0 && minDisk > flavor.RootGb)
            throw OpenStackError.BadRequest("Flavor's disk is too small for requested image.");
    }
}
