using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Stratus.Identity.Api;

public static class GroupsApi
{
    // Not yet implemented.
    public static RouteGroupBuilder MapGroups(this RouteGroupBuilder v3) => v3;
}
