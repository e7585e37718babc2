using System.Net;

namespace Stratus.Identity.Tests.Resource;

static class ResourceHttp
{
    /// <summary>GET /v3/auth/tokens for <paramref name="token"/> with the caller's own token: 200 valid, 404 revoked.</summary>
    public static async Task<HttpStatusCode> SendValidate(this HttpClient caller, string token)
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, "v3/auth/tokens");
        req.Headers.Add("X-Subject-Token", token);
        using var resp = await caller.SendAsync(req);
        return resp.StatusCode;
    }
}
