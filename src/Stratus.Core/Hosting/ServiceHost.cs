using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stratus.Core.Auth;
using Stratus.Core.Http;
using Stratus.Core.Operations;

namespace Stratus.Core.Hosting;

/// <summary>
/// The host every Stratus service runs in: Kestrel on the node's address and the service's port, the
/// same logging, and the request path every OpenStack API shares.
/// </summary>
public static class ServiceHost
{
    /// <param name="operations">Who may read <c>/metrics</c> (the service's <c>[metrics]</c>); loopback when null.</param>
    public static WebApplicationBuilder CreateBuilder(string bindHost, int port, long? maxRequestBodySize, OperationsOptions? operations = null)
    {
        var builder = CreateSlimBuilder();
        builder.Services.AddSingleton(operations ?? OperationsOptions.Default);
        builder.Services.AddSingleton<ServiceMetrics>();
        ConfigureLogging(builder.Logging);
        builder.WebHost.ConfigureKestrel(k =>
        {
            // Never all addresses: several nodes share one machine in tests and in `stratus up`.
            k.Listen(IPAddress.Parse(bindHost), port);
            k.Limits.MaxRequestBodySize = maxRequestBodySize;
            k.Limits.MaxRequestHeadersTotalSize = 64 * 1024;
            k.AddServerHeader = false;
        });
        return builder;
    }

    /// <summary>
    /// A service reads its own INI files, never an appsettings.json: the defaults' reload on change would have each host
    /// watch its content root (the working directory) recursively, one inotify watch per directory under it, which cost a
    /// node of twenty hosts seconds of CPU at every start.
    /// </summary>
    static readonly string[] HostArgs = ["--hostBuilder:reloadConfigOnChange=false"];

    /// <summary>ASP.NET Core's slim builder without a configuration file to watch (a service's own listener sets Kestrel up).</summary>
    public static WebApplicationBuilder CreateSlimBuilder()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = HostArgs, ContentRootPath = AppContext.BaseDirectory });
        builder.Services.AddSingleton<IHostLifetime, NodeLifetime>();
        return builder;
    }

    /// <summary>A host without an API, for background services only (a compute node's nova-compute).</summary>
    public static HostApplicationBuilder CreateWorkerBuilder()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = HostArgs, ContentRootPath = AppContext.BaseDirectory });
        builder.Services.AddSingleton<IHostLifetime, NodeLifetime>();
        ConfigureLogging(builder.Logging);
        return builder;
    }

    /// <summary>
    /// The process that runs a node owns its signals (<c>node start</c>: SIGTERM stops, SIGHUP reloads, every host in
    /// order); the default console lifetime would have each host stop itself on SIGTERM, cancelling a host still starting.
    /// </summary>
    sealed class NodeLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    static void ConfigureLogging(ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        logging.SetMinimumLevel(LogLevel.Warning);
    }

    /// <summary>
    /// The request path of an OpenStack API: request metrics, a request id, errors in the service's dialect (its
    /// <see cref="ErrorBodyWriter"/>), <c>/healthcheck</c> and <c>/metrics</c>, the service's own steps (microversions, path rules), the token
    /// check (keystonemiddleware's auth_token, or the identity's own), then routing — after the error
    /// middleware, so an unroutable request still gets the service's error body.
    /// </summary>
    public static IApplicationBuilder UseServicePipeline(this IApplicationBuilder app, params Func<HttpContext, RequestDelegate, Task>[] steps) =>
        app.UseServicePipeline(a => a.UseAuthToken(), steps);

    public static IApplicationBuilder UseServicePipeline(this IApplicationBuilder app, Action<IApplicationBuilder> authenticate,
        params Func<HttpContext, RequestDelegate, Task>[] steps)
    {
        app.UseMiddleware<RequestMetricsMiddleware>().UseMiddleware<RequestIdMiddleware>().UseMiddleware<ErrorMiddleware>()
            .UseMiddleware<OperationsMiddleware>();
        foreach (var step in steps) app.Use(step);
        authenticate(app);
        return app.UseRouting();
    }
}
