using System.Diagnostics;
using Stratus.Acceptance.Tests.Infrastructure;

namespace Stratus.Acceptance.Tests;

/// <summary><c>./stratus up</c>: the two-region cloud from one command, used as the seed uses it.</summary>
public sealed class UpTests : IAsyncLifetime
{
    const string Password = "up-Pa55word";
    readonly string _data = Directory.CreateTempSubdirectory("stratus-up-").FullName;
    // Addresses of their own, so a developer's running `./stratus up` does not collide with the test.
    readonly string _one = $"127.79.{Environment.ProcessId % 200 + 1}.72";
    readonly string _two = $"127.79.{Environment.ProcessId % 200 + 1}.73";
    Process? _up;

    public async Task InitializeAsync()
    {
        var psi = new ProcessStartInfo(Cli.Stratus) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "up", "--data", _data, "--region-one-address", _one, "--region-two-address", _two, "--password", Password })
            psi.ArgumentList.Add(a);
        _up = Process.Start(psi)!;
        _up.BeginOutputReadLine();
        _up.BeginErrorReadLine();
        using var http = new HttpClient();
        for (var i = 0; i < 600; i++)
        {
            Assert.False(_up.HasExited, "stratus up exited early");
            try
            {
                if ((await http.GetAsync($"http://{_one}:5000/v3")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("stratus up did not serve identity");
    }

    static Dictionary<string, string> Openrc(string path) =>
        File.ReadAllLines(path).Where(l => l.StartsWith("export ", StringComparison.Ordinal))
            .Select(l => l["export ".Length..].Split('=', 2)).ToDictionary(p => p[0], p => p[1]);

    [Fact]
    public async Task Both_regions_share_RegionOnes_identity()
    {
        var one = Openrc(Path.Combine(_data, "regionone", "admin-openrc"));
        var two = Openrc(Path.Combine(_data, "regiontwo", "admin-openrc"));
        Assert.Equal("RegionOne", one["OS_REGION_NAME"]);
        Assert.Equal("RegionTwo", two["OS_REGION_NAME"]);
        // Seed 4.2: RegionTwo's credentials authenticate against RegionOne's keystone.
        Assert.Equal($"http://{_one}:5000/v3", two["OS_AUTH_URL"]);
        Assert.Equal(one["OS_AUTH_URL"], two["OS_AUTH_URL"]);

        var regions = (await Cli.RunAsync("openstack", ["region", "list", "-f", "value", "-c", "Region"], two)).EnsureSuccess("region list");
        Assert.Equal(["RegionOne", "RegionTwo"], regions.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());
        var endpoints = (await Cli.RunAsync("openstack", ["endpoint", "list", "--service", "identity", "-f", "value", "-c", "Region", "-c", "URL"], one))
            .EnsureSuccess("endpoint list");
        var lines = endpoints.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Count(l => l.StartsWith("RegionOne ", StringComparison.Ordinal)));
        Assert.Equal(3, lines.Count(l => l.StartsWith("RegionTwo ", StringComparison.Ordinal)));
        Assert.All(lines, l => Assert.EndsWith($"http://{_one}:5000/v3/", l));
    }

    [Fact]
    public async Task Sighup_reloads_and_the_cloud_keeps_serving()
    {
        Process.Start("kill", ["-HUP", _up!.Id.ToString()])!.WaitForExit();
        var env = Openrc(Path.Combine(_data, "regionone", "admin-openrc"));
        Cli.Result? result = null;
        for (var i = 0; i < 50; i++)
        {
            result = await Cli.RunAsync("openstack", ["token", "issue", "-f", "value", "-c", "id"], env);
            if (result.ExitCode == 0) break;
            await Task.Delay(200);
        }
        Assert.Equal(0, result!.ExitCode);
        Assert.False(_up.HasExited);
    }

    public async Task DisposeAsync()
    {
        if (_up is { HasExited: false })
        {
            Process.Start("kill", ["-TERM", _up.Id.ToString()])!.WaitForExit();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await _up.WaitForExitAsync(cts.Token);
            Assert.Equal(0, _up.ExitCode);
        }
        _up?.Dispose();
        Directory.Delete(_data, recursive: true);
    }
}
