using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Stratus.Identity.Api;

public static class ServicesApi
{
    // Not yet implemented.
    public static RouteGroupBuilder MapServices(this RouteGroupBuilder v3) => v3;
}
