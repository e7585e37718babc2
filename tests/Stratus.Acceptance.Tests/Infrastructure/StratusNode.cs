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

    public string ConfigDir { get; }
    /// <summary>The admin's and the services' password given to <c>node init</c>.</summary>
    public string AdminPassword { get; }
    public string Address { get; }
    /// <summary>The identity this node's services trust: its own, or another node's.</summary>
    public string AuthUrl => _identityUrl ?? $"http://{Address}:5000/v3";
    Process? _process;
    readonly List<string> _output = [];
    readonly string? _identityUrl;
    readonly string[] _initArgs;
    readonly Action<StratusNode>? _configure;

    public string Region { get; }

    /// <summary>A RegionOne controller hosting the identity.</summary>
    public StratusNode() : this("RegionOne", null, [], null)
    {
    }

    StratusNode(string region, string? identityUrl, string[] initArgs, Action<StratusNode>? configure, string? address = null,
        string? configDir = null, string? password = null)
    {
        ConfigDir = configDir ?? Directory.CreateTempSubdirectory("stratus-node-").FullName;
        AdminPassword = password ?? Password;
        Address = address ?? $"127.77.{Environment.ProcessId % 200 + 1}.{Interlocked.Increment(ref _next) + 10}";
        Region = region;
        _identityUrl = identityUrl;
        _initArgs = initArgs;
        _configure = configure;
    }

    /// <summary>A controller of <paramref name="region"/> that trusts another node's identity (seed section 5).</summary>
    public static StratusNode UsingIdentity(string region, string identityUrl) => new(region, identityUrl, [], null);

    /// <summary>
    /// Any node: <paramref name="initArgs"/> go to <c>node init</c> (<c>--role</c>, <c>--transport-url</c> ...), and
    /// <paramref name="configure"/> edits its files before it starts, as an operator would; <paramref name="address"/> is one
    /// of 127.0.0.0/8 that the test class keeps for itself (by default the next of 127.77.x.y); <paramref name="configDir"/> and
    /// <paramref name="password"/> those the node must have (by default a new temporary directory and <see cref="Password"/>).
    /// </summary>
    public static StratusNode Custom(string region, string? identityUrl, string[] initArgs, Action<StratusNode>? configure = null, string? address = null,
        string? configDir = null, string? password = null) =>
        new(region, identityUrl, initArgs, configure, address, configDir, password);

    public async Task InitializeAsync()
    {
        await InitAsync();
        await StartAsync();
    }

    /// <summary>
    /// <c>node init</c> and the test's own changes to the files, without starting the node. Run again after editing the
    /// files, it keeps them and does the rest once more (the databases synced, the identity bootstrapped, the services
    /// registered): how a node moves to other databases.
    /// </summary>
    public async Task InitAsync()
    {
        string[] init = ["node", "init", "--config-dir", ConfigDir, "--region", Region, "--address", Address, "--password", AdminPassword, .. _initArgs];
        if (_identityUrl is not null) init = [.. init, "--identity-url", _identityUrl];
        (await ProcessRunner.RunAsync(ProcessRunner.Stratus, init)).EnsureSuccess("stratus node init");
        _configure?.Invoke(this);
    }

    /// <summary>Starts <c>node start</c> (with <paramref name="options"/>) and waits until it prints that every service is up.</summary>
    public async Task StartAsync(params string[] options)
    {
        var psi = new ProcessStartInfo(ProcessRunner.Stratus) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["node", "start", "--config-dir", ConfigDir, .. options]) psi.ArgumentList.Add(a);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _process?.Dispose();
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_output) _output.Add(e.Data);
            if (e.Data == "ready") ready.TrySetResult();
        };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.Add(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(ready.Task, exited, Task.Delay(TimeSpan.FromSeconds(60)));
        if (first == exited) throw new InvalidOperationException("node exited: " + Output);
        if (first != ready.Task) throw new TimeoutException($"node {Address} did not serve: " + Output);
    }

    /// <summary>SIGKILL, as a host that loses power: nothing gets to clean up.</summary>
    public void Kill()
    {
        if (_process is null) return;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
        _process = null;
    }

    /// <summary>Sets <paramref name="key"/> in <paramref name="section"/> of one of the node's INI files (e.g. nova/nova.conf).</summary>
    public void SetConfig(string file, string section, string key, string value)
    {
        var path = Path.Combine(ConfigDir, file);
        var lines = File.ReadAllLines(path).ToList();
        var start = lines.FindIndex(l => l.Trim() == $"[{section}]");
        if (start < 0)
        {
            lines.AddRange([$"[{section}]", $"{key} = {value}"]);
        }
        else
        {
            var end = lines.FindIndex(start + 1, l => l.TrimStart().StartsWith('['));
            if (end < 0) end = lines.Count;
            var existing = lines.FindIndex(start + 1, end - start - 1, l => l.Split('=', 2)[0].Trim() == key);
            if (existing >= 0) lines[existing] = $"{key} = {value}";
            else lines.Insert(start + 1, $"{key} = {value}");
        }
        File.WriteAllLines(path, lines);
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
        ["OS_PASSWORD"] = AdminPassword,
        ["OS_AUTH_URL"] = AuthUrl,
        ["OS_IDENTITY_API_VERSION"] = "3",
        ["OS_IMAGE_API_VERSION"] = "2",
    };

    /// <summary>Runs the real <c>openstack</c> CLI as the admin; fails the test on a non-zero exit.</summary>
    public async Task<ProcessRunner.Result> OpenStackAsync(params string[] args) =>
        (await ProcessRunner.RunAsync("openstack", args, AdminEnv())).EnsureSuccess("openstack " + string.Join(' ', args));

    /// <summary>
    /// Runs the <c>openstack</c> CLI every half second, for a minute at most, until it succeeds with an output that
    /// <paramref name="done"/> accepts, and returns that output; else fails the test with the last answer and <paramref name="logs"/>.
    /// </summary>
    public static async Task<string> EventuallyAsync(IDictionary<string, string> env, string what, Func<string, bool> done, Func<string> logs, params string[] args)
    {
        var last = "";
        for (var i = 0; i < 120; i++)
        {
            var result = await ProcessRunner.RunAsync("openstack", args, env);
            last = result.Stdout + result.Stderr;
            if (result.ExitCode == 0 && done(result.Stdout)) return result.Stdout;
            await Task.Delay(500);
        }
        Assert.Fail($"{what}: {last}\n{logs()}");
        return "";
    }

    public Task<ProcessRunner.Result> OpenStackRawAsync(IDictionary<string, string> env, params string[] args) =>
        ProcessRunner.RunAsync("openstack", args, env);

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            // SIGTERM, as an operator (or systemd) stops a node.
            Process.Start("kill", ["-TERM", _process.Id.ToString()])?.WaitForExit();
            if (!_process.WaitForExit(10_000)) _process.Kill(entireProcessTree: true);
        }
        _process?.Dispose();
        await LeftoverDataPlane.RemoveAsync(ConfigDir);
        try { Directory.Delete(ConfigDir, recursive: true); } catch (IOException) { }
    }
}
