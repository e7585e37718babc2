using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Stratus.Identity.Api;

public static class UsersApi
{
    // Not yet implemented.
    public static RouteGroupBuilder MapUsers(this RouteGroupBuilder v3) => v3;
}
