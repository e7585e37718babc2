using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Stratus.Identity.Api;

public static class GrantsApi
{
    // Not yet implemented.
    public static RouteGroupBuilder MapGrants(this RouteGroupBuilder v3) => v3;
}
