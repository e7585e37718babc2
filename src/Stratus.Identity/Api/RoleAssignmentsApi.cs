using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Stratus.Identity.Api;

public static class RoleAssignmentsApi
{
    // Not yet implemented.
    public static RouteGroupBuilder MapRoleAssignments(this RouteGroupBuilder v3) => v3;
}
