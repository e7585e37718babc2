using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Stratus.Identity.Api;

public static class ProjectsApi
{
    // Not yet implemented.
    public static RouteGroupBuilder MapProjects(this RouteGroupBuilder v3) => v3;
}
