namespace Stratus.Core.Modules;

/// <summary>A service to put in the catalog of a region, with its service user in the <c>service</c> project.</summary>
public sealed record ServiceRegistration(string Type, string Name, string? Description, string Region, string Url, string? Username = null, string? Password = null);

/// <summary>
/// Where <c>node init</c> registers services (the install guide's <c>user create</c>, <c>role add</c>,
/// <c>service create</c>, <c>endpoint create</c>), idempotently: the identity's API, or the identity
/// database of this node while its identity is not running yet.
/// </summary>
public interface ICatalogRegistry
{
    Task RegisterAsync(ServiceRegistration registration, CancellationToken ct = default);
}
