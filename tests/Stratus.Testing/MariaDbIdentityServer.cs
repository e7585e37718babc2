namespace Stratus.Testing;

/// <summary>
/// The identity server on a real MariaDB (<see cref="MariaDbServer"/>), reached through a <c>mysql+pymysql://</c> URL as
/// the seed writes them, and stopped afterwards.
/// </summary>
public sealed class MariaDbIdentityServer : IdentityServer
{
    MariaDbServer? _server;

    protected override async Task<string?> CreateDatabaseAsync()
    {
        _server = await MariaDbServer.StartAsync();
        return await _server.CreateDatabaseAsync("keystone", "keystone", "ks");
    }

    protected override async Task DropDatabaseAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}
