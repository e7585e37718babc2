namespace Stratus.Core.Modules;

/// <summary><c>node init</c> and <c>node start</c> over a list of service modules.</summary>
public static class Node
{
    /// <summary>Initialises every module that belongs on the node, in the list's order (the identity first).</summary>
    public static async Task InitAsync(IEnumerable<IServiceModule> modules, NodeInit node, CancellationToken ct = default)
    {
        foreach (var module in modules) await module.InitAsync(node, ct);
    }

    /// <summary>
    /// Starts every service the given nodes configure: module by module in the list's order (the identity
    /// first: the others log in to it), node by node within a module, telling <paramref name="started"/> of each as it
    /// comes up. On a failure what started is stopped.
    /// </summary>
    public static async Task<IReadOnlyList<StartedService>> StartAsync(IEnumerable<IServiceModule> modules, IReadOnlyList<string> configDirs,
        NodeRuntime runtime, CancellationToken ct = default, Action<StartedService>? started = null)
    {
        var services = new List<StartedService>();
        try
        {
            foreach (var module in modules)
                foreach (var dir in configDirs)
                    if (await module.StartAsync(dir, runtime, ct) is { } service)
                    {
                        services.Add(service);
                        started?.Invoke(service);
                    }
        }
        catch
        {
            await StopAsync(services);
            throw;
        }
        return services;
    }

    /// <summary>Stops services in reverse order: the regional services before the identity they log in to.</summary>
    public static async Task StopAsync(IReadOnlyList<StartedService> services)
    {
        foreach (var s in Enumerable.Reverse(services))
        {
            await s.Host.StopAsync(CancellationToken.None);
            if (s.Host is IAsyncDisposable d) await d.DisposeAsync();
            else s.Host.Dispose();
        }
    }
}
