namespace Stratus.Testing;

/// <summary>The identity server on a real PostgreSQL (<see cref="PostgresServer"/>), dropped afterwards.</summary>
public sealed class PostgresIdentityServer : IdentityServer
{
    PostgresServer? _server;

    protected override async Task<string?> CreateDatabaseAsync()
    {
        _server = await PostgresServer.StartAsync();
        return await _server.CreateDatabaseAsync("keystone", "keystone", "ks");
    }

    protected override async Task DropDatabaseAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}
