using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Stratus.Identity.Api;

public static class RolesApi
{
    // Not yet implemented.
    public static RouteGroupBuilder MapRoles(this RouteGroupBuilder v3) => v3;
}
