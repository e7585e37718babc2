using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Stratus.Identity.Api;

public static class CredentialsApi
{
    // Not yet implemented.
    public static RouteGroupBuilder MapCredentials(this RouteGroupBuilder v3) => v3;
}
