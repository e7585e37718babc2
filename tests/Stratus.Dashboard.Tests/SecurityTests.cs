using System.Net;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Playwright;
using Stratus.Dashboard.Session;
using Stratus.Dashboard.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Stratus.Dashboard.Tests;

/// <summary>Who may see what, forms that did not come from the dashboard, the session's tokens, and bad input.</summary>
[Collection(CloudCollection.Name)]
public sealed class SecurityTests(Cloud cloud)
{
    static readonly string[] AdminPages = ["admin", "admin/services", "admin/hypervisors", "admin/instances", "admin/flavors", "admin/projects", "admin/users", "admin/roleassignments"];

    [Fact]
    public async Task A_user_without_the_admin_role_sees_no_admin_pages_and_gets_403_from_them()
    {
        var page = await cloud.NewPageAsync();
        await cloud.LoginAsync(page, Cloud.MemberName);
        await Expect(page.Locator(".context")).ToContainTextAsync("demo");
        await Expect(page.Locator("#sidebar")).ToContainTextAsync("Instances");
        await Expect(page.Locator("#sidebar")).Not.ToContainTextAsync("Admin");
        await Expect(page.Locator("[data-admin-nav]")).ToHaveCountAsync(0);
        Assert.Empty(await page.Locator("a[href*='/dashboard/admin']").AllAsync());
        foreach (var path in AdminPages)
        {
            var response = await cloud.OpenAsync(page, path);
            Assert.Equal(403, response.Status);
            await Expect(page.Locator(".error-message")).ToHaveTextAsync("You are not authorized to access this page.");
        }
        // The admin does see them (so the 403s above are about the role, not broken pages).
        var admin = await cloud.NewPageAsync();
        await cloud.LoginAsync(admin);
        await Expect(admin.Locator("[data-admin-nav]")).ToBeVisibleAsync();
        foreach (var path in AdminPages)
            Assert.Equal(200, (await cloud.OpenAsync(admin, path)).Status);
        await Expect(admin.Locator("#role-assignments")).ToContainTextAsync("user alice");
    }

    [Fact]
    public async Task Forged_and_replayed_form_posts_are_rejected()
    {
        var page = await cloud.NewPageAsync();
        await cloud.LoginAsync(page);
        var url = cloud.DashboardUrl + "/project/keypairs?handler=Create";
        async Task<IAPIResponse> PostAsync(IPage from, string name, string? token)
        {
            var form = from.Context.APIRequest.CreateFormData();
            form.Set("Name", name);
            if (token is not null) form.Set("__RequestVerificationToken", token);
            return await from.Context.APIRequest.PostAsync(url, new() { Form = form, MaxRedirects = 0 });
        }
        async Task<string> TokenOfAsync(IPage p)
        {
            await cloud.OpenAsync(p, "project/keypairs");
            return (await p.Locator("form[action*='handler=Create'] input[name=__RequestVerificationToken]").GetAttributeAsync("value"))!;
        }

        // No token, a made-up token, and another session's token: all refused, with a readable page.
        var none = await PostAsync(page, "forged-none", null);
        Assert.Equal(400, none.Status);
        Assert.Contains("was not sent from this dashboard", await none.TextAsync(), StringComparison.Ordinal);
        Assert.Equal(400, (await PostAsync(page, "forged-made-up", "CfDJ8made-up-token")).Status);
        var other = await cloud.NewPageAsync();
        await cloud.LoginAsync(other);
        Assert.Equal(400, (await PostAsync(page, "forged-other", await TokenOfAsync(other))).Status);

        // Replayed: a token of this browser's previous session, after signing out and in again.
        var old = await TokenOfAsync(page);
        await cloud.SignOutAsync(page);
        await cloud.LoginAsync(page);
        Assert.Equal(400, (await PostAsync(page, "forged-replayed", old)).Status);

        // The same post with this session's own token goes through (so the refusals above are about the token).
        var ok = await PostAsync(page, "control-key", await TokenOfAsync(page));
        Assert.Equal(200, ok.Status);
        Assert.Contains("PRIVATE KEY", await ok.TextAsync(), StringComparison.Ordinal);
        await cloud.OpenAsync(page, "project/keypairs");
        await Expect(page.Locator("#keypairs tbody th")).ToContainTextAsync(["control-key"]);
        await Expect(page.Locator("#keypairs")).Not.ToContainTextAsync("forged");
        page.Dialog += (_, d) => d.AcceptAsync();
        await page.Locator("#keypairs tr", new() { Has = page.Locator("th:text-is('control-key')") }).Locator("button:text('Delete')").ClickAsync();
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync("Deleted key pair control-key.");
    }

    [Fact]
    public async Task Logout_revokes_the_sessions_tokens_and_the_cookie_holds_no_password()
    {
        var page = await cloud.NewPageAsync();
        await cloud.LoginAsync(page);
        var cookies = await page.Context.CookiesAsync();
        var session = cookies.Single(c => c.Name == DashboardService.SessionCookie);
        Assert.True(session.HttpOnly);
        Assert.Equal(SameSiteAttribute.Lax, session.SameSite);
        Assert.Equal("/dashboard", session.Path);
        Assert.True(cookies.Single(c => c.Name == DashboardService.CsrfCookie).HttpOnly);

        // Read the session as the dashboard does, with its key ring.
        var protector = DataProtectionProvider.Create(new DirectoryInfo(cloud.KeyStore), b => b.SetApplicationName(DashboardService.ApplicationName))
            .CreateProtector("Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationMiddleware", "Cookies", "v2");
        var ticket = new TicketDataFormat(protector).Unprotect(session.Value) ?? throw new InvalidOperationException("the session cookie does not decrypt");
        var state = CloudSession.From(ticket.Principal)!;
        Assert.Equal("admin", state.UserName);
        Assert.Equal("RegionOne", state.Region);
        Assert.Contains("admin", state.Roles);
        Assert.DoesNotContain(ticket.Principal.Claims, c => c.Value.Contains(Cloud.Password, StringComparison.Ordinal));

        using var http = new HttpClient();
        var admin = await cloud.TokenAsync(http, "admin", Cloud.Password, "admin");
        async Task<HttpStatusCode> ValidateAsync(string token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, cloud.IdentityUrl + "/auth/tokens?nocatalog");
            request.Headers.Add("X-Auth-Token", admin);
            request.Headers.Add("X-Subject-Token", token);
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }
        Assert.Equal(HttpStatusCode.OK, await ValidateAsync(state.Token));
        Assert.Equal(HttpStatusCode.OK, await ValidateAsync(state.UnscopedToken));

        await cloud.SignOutAsync(page);
        Assert.Equal(HttpStatusCode.NotFound, await ValidateAsync(state.Token));
        Assert.Equal(HttpStatusCode.NotFound, await ValidateAsync(state.UnscopedToken));
        Assert.DoesNotContain(await page.Context.CookiesAsync(), c => c.Name == DashboardService.SessionCookie);

        // A copy of the old cookie is worth nothing now: the identity refuses its token, the dashboard ends the session.
        await page.Context.AddCookiesAsync([new Microsoft.Playwright.Cookie { Name = session.Name, Value = session.Value, Domain = session.Domain, Path = session.Path }]);
        await cloud.OpenAsync(page, "project/instances");
        Assert.StartsWith(cloud.DashboardUrl + "/auth/login", page.Url, StringComparison.Ordinal);
        await Expect(page.Locator(".alert-info")).ToHaveTextAsync("Your session has ended. Please log in again.");
    }

    [Fact]
    public async Task Bad_input_gives_readable_messages_and_never_a_server_error()
    {
        var page = await cloud.NewPageAsync();
        await cloud.OpenAsync(page, "auth/login");
        await page.FillAsync("input[name=domain]", "");
        Task<IResponse> SubmitAsync() => page.RunAndWaitForResponseAsync(() => page.ClickAsync("button[type=submit]"), r => r.Request.Method == "POST");
        var empty = await SubmitAsync();
        Assert.Equal(200, empty.Status);
        await Expect(page.Locator("#login-errors li")).ToHaveTextAsync(["Domain is required.", "User Name is required.", "Password is required."]);

        await page.FillAsync("input[name=domain]", "Default");
        await page.FillAsync("input[name=username]", "admin");
        await page.FillAsync("input[name=password]", "not-the-password");
        Assert.Equal(200, (await SubmitAsync()).Status);
        await Expect(page.Locator("#login-errors")).ToHaveTextAsync("Invalid credentials.");
        await Expect(page.Locator("input[name=password]")).ToHaveValueAsync("");
        await Expect(page.Locator("input[name=username]")).ToHaveValueAsync("admin");

        await page.FillAsync("input[name=domain]", "NoSuchDomain");
        await page.FillAsync("input[name=password]", Cloud.Password);
        // The answer to this post, not the same message still shown from the last one.
        Assert.Equal(200, (await SubmitAsync()).Status);
        await Expect(page.Locator("#login-errors")).ToHaveTextAsync("Invalid credentials.");

        await cloud.LoginAsync(page);
        await cloud.OpenAsync(page, "project/instances/launch");
        await page.ClickAsync("button:text('Launch Instance')");
        await Expect(page.Locator(".alert-error li")).ToHaveTextAsync(["Instance Name is required.", "Choose an image.", "Choose a flavor."]);

        await cloud.OpenAsync(page, "project/images");
        await page.FillAsync("#Name", "no-file");
        await page.ClickAsync("button:text('Upload Image')");
        await Expect(page.Locator(".alert-error li")).ToHaveTextAsync(["Choose a file to upload."]);

        // A service's refusal is shown in the service's own words.
        var missing = await cloud.OpenAsync(page, "project/instances/00000000-0000-0000-0000-000000000000");
        Assert.Equal(200, missing.Status);
        await Expect(page.Locator(".alert-error")).ToContainTextAsync("could not be found");
        var unknown = await cloud.OpenAsync(page, "no/such/page");
        Assert.Equal(404, unknown.Status);
        await Expect(page.Locator(".error-message")).ToHaveTextAsync("The page you asked for does not exist.");
        Assert.DoesNotContain("Exception", await page.ContentAsync(), StringComparison.Ordinal);
    }
}
