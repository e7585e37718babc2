
namespace Stratus.Identity.Api;

/// <summary>The Identity v3 API surface, as Keystone's keystone/api package lays it out.</summary>
public static class IdentityApi
{
    public static IEndpointRouteBuilder MapIdentityApi(this IEndpointRouteBuilder app)
    {
        app.MapVersions();
        var v3 = app.MapGroup("/v3");
        v3.MapAuth();
        v3.MapRegions();
        v3.MapServices();
        v3.MapEndpoints();
        v3.MapEndpointFilter();
        v3.MapDomains();
        v3.MapProjects();
        v3.MapUsers();
        v3.MapGroups();
        v3.MapCredentials();
        v3.MapApplicationCredentials();
        v3.MapRoles();
        v3.MapGrants();
        v3.MapRoleAssignments();
        v3.MapPolicies();
        v3.MapOAuthConsumers();
        v3.MapOAuth();
        v3.MapTrusts();
        v3.MapEc2Tokens();
        return app;
    }
}
