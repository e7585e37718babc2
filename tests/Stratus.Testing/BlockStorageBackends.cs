using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Stratus.BlockStorage;

namespace Stratus.Testing;

/// <summary>
/// Each backend's cinder-volume records its service in the background when a node starts; a volume scheduled before
/// that finds no backend and ends in error (as with Cinder): fixtures start their tests once every backend reported.
/// </summary>
public static class BlockStorageBackends
{
    public static async Task WaitAsync(TestNode node, IdentityServer identity)
    {
        var options = node.Options<CinderOptions>();
        var project = await identity.ProjectIdAsync(identity.AdminToken);
        using var admin = TestHttp.Client($"http://{options.ListenAddress}:{options.ListenPort}/v3/{project}", identity.AdminToken, "volume 3.70");
        await Poll.UntilAsync(() => admin.GetFromJsonAsync<JsonObject>("os-services?binary=cinder-volume"),
            s => s?["services"]?.AsArray().Count >= options.Backends.Count, $"each of the {options.Backends.Count} backends reporting");
    }
}
