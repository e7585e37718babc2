using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Stratus.Identity.Api;

public static class AuthApi
{
    // Not yet implemented.
    public static RouteGroupBuilder MapAuth(this RouteGroupBuilder v3) => v3;
}
