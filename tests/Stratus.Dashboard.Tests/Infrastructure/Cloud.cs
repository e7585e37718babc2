using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Stratus.Acceptance.Tests.Infrastructure;
using Stratus.Testing;
using static Microsoft.Playwright.Assertions;

namespace Stratus.Dashboard.Tests.Infrastructure;

/// <summary>
/// A real <c>./stratus up</c> (both regions, the compute node with QEMU under TCG, the dashboard on
/// RegionOne's controller and the redirect on RegionTwo's), on addresses of its own derived from the
/// process id; the test image, a non-admin user, and one Chromium (Debian's) for every test.
/// </summary>
/// <remarks>
/// Waits are for what a test needs next: a page counts as arrived when its response is committed,
/// never at its load event or network idleness, which lag on a busy machine; then the next action or
/// expectation waits for its own element.
/// </remarks>
public sealed class Cloud : IAsyncLifetime
{
    /// <summary>How long (ms) a navigation, an action or an expectation may wait, generous for a loaded 2-core machine.</summary>
    public const int Timeout = 60_000;

    public const string Password = "dash-Pa55word";
    public const string MemberName = "alice";
    public const string MemberPassword = "alice-Pa55word";

    public string Data { get; } = Directory.CreateTempSubdirectory("strd-").FullName;
    public string One { get; } = $"127.93.{Environment.ProcessId % 200 + 1}.72";
    public string Two { get; } = $"127.93.{Environment.ProcessId % 200 + 1}.73";
    public string Compute { get; } = $"127.93.{Environment.ProcessId % 200 + 1}.74";
    /// <summary>The default, 80, where this process may bind it; another port otherwise (the setting is what is tested).</summary>
    public int Port { get; } = Environment.UserName == "root" ? 80 : 18000 + Environment.ProcessId % 1000;

    public string DashboardUrl => $"http://{One}{(Port == 80 ? "" : ":" + Port)}/dashboard";
    public string RegionTwoRoot => $"http://{Two}{(Port == 80 ? "" : ":" + Port)}/";
    public string IdentityUrl => $"http://{One}:5000/v3";
    public string TestImage => Path.Combine(Data, "test.qcow2");
    public string Screenshots { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");
    public string KeyStore => Path.Combine(Data, "regionone", "dashboard", "keys");

    Process? _up;
    readonly List<string> _output = [];
    IPlaywright? _playwright;
    public IBrowser Browser { get; private set; } = null!;

    public string Output { get { lock (_output) return string.Join('\n', _output); } }

    public async Task InitializeAsync()
    {
        SetDefaultExpectTimeout(Timeout);
        Directory.CreateDirectory(Screenshots);
        var psi = new ProcessStartInfo(ProcessRunner.Stratus) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "up", "--data", Data, "--region-one-address", One, "--region-two-address", Two, "--region-two-compute-address", Compute,
            "--password", Password, "--dashboard-port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        _up = Process.Start(psi)!;
        _up.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.Add(e.Data); };
        _up.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.Add(e.Data); };
        _up.BeginOutputReadLine();
        _up.BeginErrorReadLine();
        var image = ProcessRunner.RunAsync(ProcessRunner.Stratus, ["test-image", "--output", TestImage], timeout: TimeSpan.FromMinutes(5));
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) })
        {
            for (var i = 0; ; i++)
            {
                if (_up.HasExited) throw new InvalidOperationException("stratus up exited: " + Output);
                if (i > 1200) throw new TimeoutException("stratus up did not serve the dashboard: " + Output);
                if (Output.Contains("\nready", StringComparison.Ordinal) || Output.StartsWith("ready", StringComparison.Ordinal))
                {
                    try
                    {
                        if ((await http.GetAsync(DashboardUrl + "/auth/login")).IsSuccessStatusCode) break;
                    }
                    catch (HttpRequestException)
                    {
                    }
                }
                await Task.Delay(100);
            }
        }
        (await image).EnsureSuccess("stratus test-image");
        await CreateMemberAsync();

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            Headless = true,
        });
    }

    /// <summary>A user with the member role only, in a project of their own: what a non-admin sees.</summary>
    async Task CreateMemberAsync()
    {
        using var http = new HttpClient();
        var admin = await TokenAsync(http, "admin", Password, "admin");
        async Task<JsonNode> Post(string path, JsonObject body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, IdentityUrl + path) { Content = JsonContent.Create(body) };
            request.Headers.Add("X-Auth-Token", admin);
            using var response = await http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {text}");
            return JsonNode.Parse(text)!;
        }
        var project = (string)(await Post("/projects", new JsonObject { ["project"] = new JsonObject { ["name"] = "demo", ["domain_id"] = "default" } }))["project"]!["id"]!;
        var user = (string)(await Post("/users", new JsonObject
        {
            ["user"] = new JsonObject { ["name"] = MemberName, ["password"] = MemberPassword, ["domain_id"] = "default", ["default_project_id"] = project },
        }))["user"]!["id"]!;
        using var roles = new HttpRequestMessage(HttpMethod.Get, IdentityUrl + "/roles?name=member");
        roles.Headers.Add("X-Auth-Token", admin);
        var member = (string)JsonNode.Parse(await (await http.SendAsync(roles)).Content.ReadAsStringAsync())!["roles"]![0]!["id"]!;
        using var grant = new HttpRequestMessage(HttpMethod.Put, $"{IdentityUrl}/projects/{project}/users/{user}/roles/{member}");
        grant.Headers.Add("X-Auth-Token", admin);
        (await http.SendAsync(grant)).EnsureSuccessStatusCode();
    }

    /// <summary>A project-scoped token, straight from the identity API (for checks beside the browser).</summary>
    public async Task<string> TokenAsync(HttpClient http, string user, string password, string project)
    {
        var body = new JsonObject
        {
            ["auth"] = new JsonObject
            {
                ["identity"] = new JsonObject
                {
                    ["methods"] = new JsonArray("password"),
                    ["password"] = new JsonObject { ["user"] = new JsonObject { ["name"] = user, ["domain"] = new JsonObject { ["id"] = "default" }, ["password"] = password } },
                },
                ["scope"] = new JsonObject { ["project"] = new JsonObject { ["name"] = project, ["domain"] = new JsonObject { ["id"] = "default" } } },
            },
        };
        using var response = await http.PostAsJsonAsync(IdentityUrl + "/auth/tokens?nocatalog", body);
        response.EnsureSuccessStatusCode();
        return response.Headers.GetValues("X-Subject-Token").First();
    }

    /// <summary>A fresh browser context (its own cookies) with a page.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1366, Height = 860 } });
        context.SetDefaultTimeout(Timeout);
        var page = await context.NewPageAsync();
        // A failure of the page's own script is a test failure too.
        page.PageError += (_, e) => { lock (PageErrors) PageErrors.Add(e); };
        return page;
    }

    public List<string> PageErrors { get; } = [];

    /// <summary>Opens a page of the dashboard (<paramref name="path"/> below its root), returning its response once committed.</summary>
    public async Task<IResponse> OpenAsync(IPage page, string path) =>
        (await page.GotoAsync($"{DashboardUrl}/{path}", new() { WaitUntil = WaitUntilState.Commit }))!;

    /// <summary>Waits until the browser has committed to <paramref name="path"/> (below the dashboard's root).</summary>
    public Task WaitForPageAsync(IPage page, string path) =>
        page.WaitForURLAsync($"{DashboardUrl}/{path}", new() { WaitUntil = WaitUntilState.Commit });

    /// <summary>Follows a sidebar link, until the new page marks it as the current one.</summary>
    public static async Task FollowAsync(IPage page, string link)
    {
        await page.ClickAsync($"nav >> text={link}");
        await Expect(page.Locator("nav a[aria-current=page]")).ToHaveTextAsync(link);
    }

    public async Task LoginAsync(IPage page, string user = "admin", string? password = null)
    {
        await OpenAsync(page, "auth/login");
        await page.FillAsync("input[name=domain]", "Default");
        await page.FillAsync("input[name=username]", user);
        await page.FillAsync("input[name=password]", password ?? (user == "admin" ? Password : MemberPassword));
        await page.ClickAsync("button[type=submit]");
        await WaitForPageAsync(page, "project");
        await Expect(page.Locator("#sidebar")).ToBeVisibleAsync();
    }

    public async Task SignOutAsync(IPage page)
    {
        await page.ClickAsync("button:text('Sign out')");
        await WaitForPageAsync(page, "auth/login");
        await Expect(page.Locator("input[name=username]")).ToBeVisibleAsync();
    }

    public async Task SwitchRegionAsync(IPage page, string region)
    {
        await page.SelectOptionAsync("#region-select", region);
        await page.WaitForSelectorAsync($".context .chip:text-is('{region}')");
    }

    public Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        if (_up is { HasExited: false })
        {
            Process.Start("kill", ["-TERM", _up.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            if (!_up.WaitForExit(20_000)) _up.Kill(entireProcessTree: true);
        }
        _up?.Dispose();
        // Guests outlive their compute agent by design (it reattaches on restart); a failed test may leave one running.
        foreach (var pidFile in Directory.EnumerateFiles(Data, "*.pid", SearchOption.AllDirectories))
            if (int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid))
                try { System.Diagnostics.Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { }
        try { Directory.Delete(Data, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class CloudCollection : ICollectionFixture<Cloud>
{
    public const string Name = "stratus up with the dashboard";
}
