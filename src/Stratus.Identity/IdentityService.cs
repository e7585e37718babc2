using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Stratus.Core.Data;
using Stratus.Core.Hosting;
using Stratus.Core.Operations;
using Stratus.Core.Policy;
using Stratus.Identity.Api;
using Stratus.Identity.Catalog;
using Stratus.Identity.Policy;
using Stratus.Identity.Tokens;

namespace Stratus.Identity;

/// <summary>The identity service as a library any host composes (YARP style).</summary>
public static class IdentityService
{
    public static IServiceCollection AddIdentityService(this IServiceCollection services, IdentityOptions options)
    {
        var db = DatabaseUrl.Parse(options.DatabaseConnection);
        services.AddSingleton(options);
        services.AddSingleton(db);
        services.AddDatabaseHealthCheck(options.DatabaseConnection);
        services.AddSingleton<IdentityGeneration>();
        services.AddSingleton<IdentityStore>();
        // EF Core only when an API that needs it runs (the token, catalog and region paths read through
        // IdentityStore): AddDbContext itself would load and run EF Core at start.
        DbContextOptions<IdentityDb>? dbOptions = null;
        services.AddScoped(sp => new IdentityDb(
            dbOptions ??= CreateDbOptions(db), sp.GetRequiredService<IdentityGeneration>()));
        services.AddPolicy(KeystonePolicy.Options(options.PolicyFile));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new FernetKeyRepository(options.KeyRepository, options.MaxActiveKeys, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<TokenFormatter>();
        services.AddSingleton<Revocations>();
        services.AddSingleton<TokenCache>();
        services.AddSingleton<CatalogBuilder>();
        services.AddScoped<TokenService>();
        services.AddSingleton<ErrorBodyWriter>(ErrorBodies.Keystone);
        return services;
    }

    /// <summary>Builds the identity web application bound to the node's address (never all addresses).</summary>
    public static WebApplication Build(IdentityOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = ServiceHost.CreateBuilder(options.BindHost, options.BindPort, options.MaxRequestBodySize, options.Operations);
        builder.Services.AddIdentityService(options);
        configure?.Invoke(builder);
        var app = builder.Build();
        app.UseIdentityPipeline();
        app.MapIdentityApi();
        return app;
    }

    /// <summary>The shared pipeline with the identity's own token check (it validates its own tokens).</summary>
    public static IApplicationBuilder UseIdentityPipeline(this IApplicationBuilder app) =>
        app.UseServicePipeline(a => a.UseMiddleware<TokenAuthMiddleware>(), static (http, next) =>
        {
            // Responses depend on the caller's token: caches must key on it (as Keystone says).
            http.Response.Headers.Vary = "X-Auth-Token";
            return next(http);
        });

    /// <summary>keystone-manage db_sync: creates the schema (and SQLite's WAL mode) if missing, or upgrades an older one.</summary>
    public static async Task SyncDatabaseAsync(IdentityOptions options, bool upgrade = true, CancellationToken ct = default)
    {
        var url = DatabaseUrl.Parse(options.DatabaseConnection);
        if (await url.IsCurrentAsync(ct)) return;
        await using var db = OpenDatabase(options);
        await url.EnsureSchemaAsync(db, IdentityDb.History, upgrade, ct);
    }

    /// <summary>A database context outside any web host (for keystone-manage).</summary>
    public static IdentityDb OpenDatabase(IdentityOptions options) =>
        new(CreateDbOptions(DatabaseUrl.Parse(options.DatabaseConnection)));

    static DbContextOptions<IdentityDb> CreateDbOptions(DatabaseUrl url)
    {
        var b = new DbContextOptionsBuilder<IdentityDb>();
        url.Configure(b);
        return b.Options;
    }
}
