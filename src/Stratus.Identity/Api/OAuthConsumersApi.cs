using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Stratus.Identity.Api;

public static class OAuthConsumersApi
{
    // Not yet implemented.
    public static RouteGroupBuilder MapOAuthConsumers(this RouteGroupBuilder v3) => v3;
}
