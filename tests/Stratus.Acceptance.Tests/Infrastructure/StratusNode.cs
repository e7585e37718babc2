using System.Diagnostics;

namespace Stratus.Acceptance.Tests.Infrastructure;

/// <summary>
/// A real node: <c>./stratus node init</c> into a temporary config directory, then
/// <c>./stratus node start</c> as its own process, on an address of 127.0.0.0/8 of its own.
/// </summary>
public sealed class StratusNode : IAsyncLifetime
{
    public const string Password = "acceptance-Pa55";
    static int _next;

    public string ConfigDir { get; } = Directory.CreateTempSubdirectory("stratus-node-").FullName;
    public string Address { get; } = $"127.77.{Environment.ProcessId % 200 + 1}.{Interlocked.Increment(ref _next) + 10}";
    /// <summary>The identity this node's services trust: its own, or another node's.</summary>
    public string AuthUrl => _identityUrl ?? $"http://{Address}:5000/v3";
    Process? _process;
    readonly List<string> _output = [];
    readonly string? _identityUrl;

    public string Region { get; }

    /// <summary>A RegionOne controller hosting the identity.</summary>
    public StratusNode() : this("RegionOne", null)
    {
    }

    StratusNode(string region, string? identityUrl)
    {
        Region = region;
        _identityUrl = identityUrl;
    }

    /// <summary>A controller of <paramref name="region"/> that trusts another node's identity (seed section 5).</summary>
    public static StratusNode UsingIdentity(string region, string identityUrl) => new(region, identityUrl);

    public async Task InitializeAsync()
    {
        string[] init = ["node", "init", "--config-dir", ConfigDir, "--region", Region, "--address", Address, "--password", Password];
        if (_identityUrl is not null) init = [.. init, "--identity-url", _identityUrl];
        (await Cli.RunAsync(Cli.Stratus, init)).EnsureSuccess("stratus node init");
        var psi = new ProcessStartInfo(Cli.Stratus) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "node", "start", "--config-dir", ConfigDir }) psi.ArgumentList.Add(a);
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.Add(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.Add(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var http = new HttpClient();
        for (var i = 0; i < 300; i++)
        {
            if (_process.HasExited) throw new InvalidOperationException("node exited: " + Output);
            try
            {
                // Ready when the last service it starts, the image API, answers.
                if ((await http.GetAsync($"http://{Address}:9292/versions")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"node {Address} did not serve: " + Output);
    }

    public string Output { get { lock (_output) return string.Join('\n', _output); } }

    /// <summary>The seed's admin-openrc variables (section 4.2), for the region asked.</summary>
    public Dictionary<string, string> AdminEnv(string? region = null) => new()
    {
        ["OS_REGION_NAME"] = region ?? Region,
        ["OS_PROJECT_DOMAIN_NAME"] = "Default",
        ["OS_USER_DOMAIN_NAME"] = "Default",
        ["OS_PROJECT_NAME"] = "admin",
        ["OS_USERNAME"] = "admin",
        ["OS_PASSWORD"] = Password,
        ["OS_AUTH_URL"] = AuthUrl,
        ["OS_IDENTITY_API_VERSION"] = "3",
        ["OS_IMAGE_API_VERSION"] = "2",
    };

    /// <summary>Runs the real <c>openstack</c> CLI as the admin; fails the test on a non-zero exit.</summary>
    public async Task<Cli.Result> OpenStackAsync(params string[] args) =>
        (await Cli.RunAsync("openstack", args, AdminEnv())).EnsureSuccess("openstack " + string.Join(' ', args));

    public Task<Cli.Result> OpenStackRawAsync(IDictionary<string, string> env, params string[] args) =>
        Cli.RunAsync("openstack", args, env);

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            // SIGTERM, as an operator (or systemd) stops a node.
            Process.Start("kill", ["-TERM", _process.Id.ToString()])?.WaitForExit();
            if (!_process.WaitForExit(10_000)) _process.Kill(entireProcessTree: true);
        }
        _process?.Dispose();
        try { Directory.Delete(ConfigDir, recursive: true); } catch (IOException) { }
    }
}
