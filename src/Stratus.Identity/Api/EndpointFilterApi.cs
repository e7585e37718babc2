using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Stratus.Identity.Api;

public static class EndpointFilterApi
{
    // Not yet implemented.
    public static RouteGroupBuilder MapEndpointFilter(this RouteGroupBuilder v3) => v3;
}
