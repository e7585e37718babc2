using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Stratus.Identity.Api;

public static class DomainsApi
{
    // Not yet implemented.
    public static RouteGroupBuilder MapDomains(this RouteGroupBuilder v3) => v3;
}
