using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Stratus.Identity.Api;

public static class PoliciesApi
{
    // Not yet implemented.
    public static RouteGroupBuilder MapPolicies(this RouteGroupBuilder v3) => v3;
}
