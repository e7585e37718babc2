using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
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
        var project = (string)(await AdminApiAsync(HttpMethod.Post, IdentityUrl + "/projects",
            new JsonObject { ["project"] = new JsonObject { ["name"] = "demo", ["domain_id"] = "default" } }))!["project"]!["id"]!;
        var user = (string)(await AdminApiAsync(HttpMethod.Post, IdentityUrl + "/users", new JsonObject
        {
            ["user"] = new JsonObject { ["name"] = MemberName, ["password"] = MemberPassword, ["domain_id"] = "default", ["default_project_id"] = project },
        }))!["user"]!["id"]!;
        var member = (string)(await AdminApiAsync(HttpMethod.Get, IdentityUrl + "/roles?name=member"))!["roles"]![0]!["id"]!;
        await AdminApiAsync(HttpMethod.Put, $"{IdentityUrl}/projects/{project}/users/{user}/roles/{member}");
    }

    readonly HttpClient _http = new() { Timeout = TimeSpan.FromMinutes(5) };
    string? _adminToken;

    /// <summary>A call to an API as the admin of the admin project (setup and checks beside the browser): the answer's JSON.</summary>
    public Task<JsonNode?> AdminApiAsync(HttpMethod method, string url, JsonObject? body = null) =>
        AdminSendAsync(method, url, body is null ? null : JsonContent.Create(body));

    public async Task<JsonNode?> AdminSendAsync(HttpMethod method, string url, HttpContent? content)
    {
        _adminToken ??= await TokenAsync(_http, "admin", Password, "admin");
        using var request = new HttpRequestMessage(method, url) { Content = content };
        request.Headers.Add("X-Auth-Token", _adminToken);
        request.Headers.Add("OpenStack-API-Version", "compute 2.37");
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{method} {url}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? null : JsonNode.Parse(text);
    }

    /// <summary>A region's controller: RegionOne's or RegionTwo's address.</summary>
    public string ControllerOf(string region) => region == "RegionOne" ? One : Two;

    readonly Dictionary<string, Task<string>> _externalNetworks = [];

    /// <summary>
    /// The region's external network "public" with an IPv4 subnet (a router's gateway, the floating IPs' pool), made
    /// once by the admin through the network API, as an operator makes it.
    /// </summary>
    public Task<string> ExternalNetworkAsync(string region)
    {
        lock (_externalNetworks)
        {
            if (!_externalNetworks.TryGetValue(region, out var made)) _externalNetworks[region] = made = MakeAsync();
            return made;
        }
        async Task<string> MakeAsync()
        {
            var neutron = $"http://{ControllerOf(region)}:9696/v2.0";
            var id = (string)(await AdminApiAsync(HttpMethod.Post, neutron + "/networks",
                new JsonObject { ["network"] = new JsonObject { ["name"] = "public", ["router:external"] = true } }))!["network"]!["id"]!;
            await AdminApiAsync(HttpMethod.Post, neutron + "/subnets", new JsonObject
            {
                ["subnet"] = new JsonObject { ["name"] = "public-subnet", ["network_id"] = id, ["ip_version"] = 4, ["cidr"] = ExternalCidr(region), ["enable_dhcp"] = false },
            });
            return id;
        }
    }

    readonly Dictionary<string, Task<(string, string)>> _imagesAndFlavors = [];

    /// <summary>
    /// The test image and a flavor for it in the region, made once through the APIs (for tests that look at something
    /// else than the launch form): their ids.
    /// </summary>
    public Task<(string Image, string Flavor)> ImageAndFlavorAsync(string region)
    {
        lock (_imagesAndFlavors)
        {
            if (!_imagesAndFlavors.TryGetValue(region, out var made)) _imagesAndFlavors[region] = made = MakeAsync();
            return made;
        }
        async Task<(string, string)> MakeAsync()
        {
            var host = ControllerOf(region);
            var flavor = (string)(await AdminApiAsync(HttpMethod.Post, $"http://{host}:8774/v2.1/flavors",
                new JsonObject { ["flavor"] = new JsonObject { ["name"] = "dashapi.tiny", ["ram"] = 128, ["vcpus"] = 1, ["disk"] = 1 } }))!["flavor"]!["id"]!;
            var image = (string)(await AdminApiAsync(HttpMethod.Post, $"http://{host}:9292/v2/images",
                new JsonObject { ["name"] = "dashapi-image", ["disk_format"] = "qcow2", ["container_format"] = "bare" }))!["id"]!;
            await using var data = File.OpenRead(TestImage);
            var content = new StreamContent(data);
            content.Headers.ContentType = new("application/octet-stream");
            await AdminSendAsync(HttpMethod.Put, $"http://{host}:9292/v2/images/{image}/file", content);
            return (image, flavor);
        }
    }

    /// <summary>
    /// RegionThree, a region whose catalog has only an identity endpoint, for as long as the answer is not disposed
    /// (what a page shows where a service is missing).
    /// </summary>
    public async Task<IAsyncDisposable> BareRegionAsync()
    {
        await AdminApiAsync(HttpMethod.Post, IdentityUrl + "/regions", new JsonObject { ["region"] = new JsonObject { ["id"] = "RegionThree" } });
        var region = new BareRegion(this);
        try
        {
            var service = (string)(await AdminApiAsync(HttpMethod.Get, IdentityUrl + "/services?type=identity"))!["services"]![0]!["id"]!;
            region.Endpoint = (string)(await AdminApiAsync(HttpMethod.Post, IdentityUrl + "/endpoints", new JsonObject
            {
                ["endpoint"] = new JsonObject { ["service_id"] = service, ["interface"] = "public", ["region_id"] = "RegionThree", ["url"] = IdentityUrl },
            }))!["endpoint"]!["id"]!;
            return region;
        }
        catch
        {
            await region.DisposeAsync();
            throw;
        }
    }

    sealed class BareRegion(Cloud cloud) : IAsyncDisposable
    {
        public string? Endpoint { get; set; }

        public async ValueTask DisposeAsync()
        {
            if (Endpoint is not null) await cloud.AdminApiAsync(HttpMethod.Delete, cloud.IdentityUrl + "/endpoints/" + Endpoint);
            await cloud.AdminApiAsync(HttpMethod.Delete, cloud.IdentityUrl + "/regions/RegionThree");
        }
    }

    /// <summary>The external network's addresses (documentation ranges, one per region).</summary>
    public static string ExternalCidr(string region) => region == "RegionOne" ? "203.0.113.0/24" : "198.51.100.0/24";

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

    /// <summary>
    /// Posts a form of a page's handler straight from the page's browser context (its cookies and form token), without
    /// following a redirect: what the dashboard answers a post its page does not offer.
    /// </summary>
    public async Task<IAPIResponse> PostFormAsync(IPage page, string path, string handler, Dictionary<string, string> fields)
    {
        await OpenAsync(page, path);
        var token = await page.Locator("input[name=__RequestVerificationToken]").First.GetAttributeAsync("value");
        var form = page.Context.APIRequest.CreateFormData();
        foreach (var (name, value) in fields) form.Set(name, value);
        form.Set("__RequestVerificationToken", token!);
        return await page.Context.APIRequest.PostAsync($"{DashboardUrl}/{path}?handler={handler}", new() { Form = form, MaxRedirects = 0 });
    }

    /// <summary>Waits until the browser has committed to <paramref name="path"/> (below the dashboard's root).</summary>
    public Task WaitForPageAsync(IPage page, string path) =>
        page.WaitForURLAsync($"{DashboardUrl}/{path}", new() { WaitUntil = WaitUntilState.Commit });

    /// <summary>Follows a sidebar link, until the new page marks it as the current one.</summary>
    public static async Task FollowAsync(IPage page, string link)
    {
        await page.ClickAsync($"nav >> text={link}");
        await Expect(page.Locator("nav a[aria-current=page]")).ToHaveTextAsync(link);
    }

    /// <summary>
    /// Opens a folded form (its details element) whether or not it is open already: a page folds its create form
    /// once it lists something, which depends on what other tests made before.
    /// </summary>
    public static Task OpenFormAsync(IPage page, string summary) =>
        page.Locator("details", new() { Has = page.Locator("summary", new() { HasText = summary }) }).Last.EvaluateAsync("d => d.open = true");

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

    /// <summary>A new page signed in as the admin, in <paramref name="region"/>; deletes ask first, and the tests say yes.</summary>
    public async Task<IPage> AdminPageAsync(string region)
    {
        var page = await NewPageAsync();
        await LoginAsync(page);
        await SwitchRegionAsync(page, region);
        page.Dialog += (_, d) => d.AcceptAsync();
        return page;
    }

    /// <summary>A row of a table, by the whole text of its first cell (a link or not).</summary>
    public static ILocator Row(IPage page, string table, string name) =>
        page.Locator($"{table} tbody tr", new() { Has = page.Locator("th", new() { HasTextRegex = new Regex("^" + Regex.Escape(name) + "$") }) });

    /// <summary>A failure of a page's own script is a test failure too.</summary>
    public void AssertNoPageErrors()
    {
        lock (PageErrors) Assert.Empty(PageErrors);
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
        _http.Dispose();
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
        await LeftoverDataPlane.RemoveAsync(Data);
        try { Directory.Delete(Data, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class CloudCollection : ICollectionFixture<Cloud>
{
    public const string Name = "stratus up with the dashboard";
}
