using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Stratus.Identity.Api;

public static class EndpointsApi
{
    // Not yet implemented.
    public static RouteGroupBuilder MapEndpoints(this RouteGroupBuilder v3) => v3;
}
