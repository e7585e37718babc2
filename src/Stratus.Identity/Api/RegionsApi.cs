using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Stratus.Identity.Api;

public static class RegionsApi
{
    // Not yet implemented.
    public static RouteGroupBuilder MapRegions(this RouteGroupBuilder v3) => v3;
}
