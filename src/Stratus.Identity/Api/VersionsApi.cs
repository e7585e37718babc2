using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Stratus.Identity.Api;

public static class VersionsApi
{
    // Not yet implemented.
    public static IEndpointRouteBuilder MapVersions(this IEndpointRouteBuilder app) => app;
}
