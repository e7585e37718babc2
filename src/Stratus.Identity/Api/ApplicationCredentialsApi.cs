using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Stratus.Identity.Api;

public static class ApplicationCredentialsApi
{
    // Not yet implemented.
    public static RouteGroupBuilder MapApplicationCredentials(this RouteGroupBuilder v3) => v3;
}
