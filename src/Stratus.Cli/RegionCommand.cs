using System.Diagnostics;
using System.Text.Json;
using Stratus.Core.Config;
using Stratus.Core.Modules;
using Stratus.Dashboard;
using Stratus.Identity;

namespace Stratus.Cli;

/// <summary>
/// <c>region join</c> and <c>region leave</c>: the seed's sections 4 and 5 as one command. A node made by <c>node init</c>
/// with an identity of its own becomes a region of another cloud: its region, the identity endpoints and its services'
/// endpoints and users go into the shared identity, and every file of the node that names the identity or the region
/// is edited where it says so (the rest of each file, comments included, stays). The node's own identity stops; its
/// files and what they held are kept under <c>.region-join/</c> so that <c>region leave</c> gives the cloud back.
/// </summary>
static class RegionCommand
{
    const string StateDirName = ".region-join";
    const string StateFile = "state.json";

    /// <summary>What a join changed, for a second join (nothing to do) and for leave.</summary>
    sealed record JoinState(string Identity, string Region, string PreviousIdentity, string PreviousRegion, bool SharedServiceUsers,
        string? DashboardRedirect, IReadOnlyList<string> ServiceUsers);

    /// <summary>The keys that name the identity (keystonemiddleware, keystoneauth sections, the dashboard).</summary>
    static readonly HashSet<string> IdentityKeys = ["www_authenticate_uri", "auth_uri", "auth_url", "openstack_keystone_url"];
    /// <summary>The keys that name the node's region (keystoneauth, nova's [placement] and [cinder], the dashboard).</summary>
    static readonly HashSet<string> RegionKeys = ["region_name", "os_region_name", "default_region"];

    public static async Task<int> JoinAsync(string configDir, string identity, string region, string? adminPassword, bool sharedServiceUsers,
        string? dashboardUrl, bool dryRun, CancellationToken ct)
    {
        var node = new NodeLayout(configDir);
        var openrc = NodeLayout.ReadOpenrc(node);
        var shared = IdentityRoot(identity);
        var sharedV3 = shared + "/v3";
        adminPassword ??= openrc.GetValueOrDefault("OS_PASSWORD") ?? throw new UsageException("--admin-password is required");
        var state = ReadState(configDir);
        if (state is not null && (state.Identity != shared || state.Region != region))
            throw new UsageException($"{configDir} is already a region ({state.Region}) of the identity at {state.Identity}: run region leave first");
        var previousIdentity = state?.PreviousIdentity ?? IdentityRoot(openrc.GetValueOrDefault("OS_AUTH_URL") ?? "");
        var previousRegion = state?.PreviousRegion ?? openrc.GetValueOrDefault("OS_REGION_NAME") ?? "RegionOne";
        if (state is null && SameAuthority(previousIdentity, shared))
            throw new UsageException($"{configDir} already uses the identity at {shared}: it is a region of that cloud");
        dashboardUrl ??= state?.DashboardRedirect ?? $"http://{new Uri(shared).Host}/dashboard";

        // The files as they will be, first in a scratch copy: the modules read their catalog entries (users renamed) from it.
        var serviceUsers = state?.ServiceUsers.ToHashSet() ?? ServiceUsers(configDir);
        string Rename(string user) => sharedServiceUsers || !serviceUsers.Contains(user) ? user : $"{user}-{region}";
        var changes = new List<(string Path, string Before, string After)>();
        foreach (var path in ConfigFiles(configDir))
        {
            var before = await File.ReadAllTextAsync(path, ct);
            var after = IniEdit.Rewrite(before, (ini, e) =>
                IdentityKeys.Contains(e.Key) && SameAuthority(e.Value, previousIdentity) ? shared + new Uri(e.Value).AbsolutePath.TrimEnd('/') :
                RegionKeys.Contains(e.Key) && e.Value == previousRegion ? region :
                e.Key == "username" && ini.GetString(e.Section, "auth_url") is not null ? Rename(e.Value) :
                null);
            if (Path.GetRelativePath(configDir, path) == DashboardModule.LocalSettings && IniFile.Parse(after).GetString("dashboard", "root_redirect") is null)
                after = IniEdit.Set(after, "dashboard", "root_redirect", dashboardUrl); // seed 7: RegionTwo's web root goes to RegionOne's dashboard
            if (after != before) changes.Add((path, before, after));
        }
        var openrcText = await File.ReadAllTextAsync(node.AdminOpenrc, ct);
        var openrcAfter = NodeLayout.FormatAdminOpenrc(sharedV3, region, adminPassword);
        if (openrcText != openrcAfter) changes.Add((node.AdminOpenrc, openrcText, openrcAfter));

        using var scratch = new ScratchCopy(configDir, changes);
        var init = new NodeInit(scratch.Root, new NodeSpec(region, "", adminPassword) { IdentityUrl = sharedV3 });
        var registrations = new List<ServiceRegistration> { IdentityModule.RegionEndpoints(region, sharedV3) };
        registrations.AddRange(ServiceModules.All.SelectMany(m => m.CatalogEntries(init)));
        var keystoneConf = Path.Combine(configDir, IdentityModule.KeystoneConf);
        var ownIdentity = File.Exists(keystoneConf) ? ServiceModules.Identity.ReadOptions(configDir) : null;

        if (dryRun)
        {
            Console.WriteLine($"region join --dry-run: {configDir} as {region} of the identity at {sharedV3}; nothing is changed.");
            foreach (var (path, before, after) in changes) Console.Write(await UnifiedDiffAsync(configDir, path, before, after, ct));
            if (ownIdentity is not null)
                Console.WriteLine($"{IdentityModule.KeystoneConf}: moved to {StateDirName}/{IdentityModule.KeystoneConf}: the node stops running its own identity");
            Console.WriteLine("The calls to the shared identity that would change it:");
            var plan = new IdentityApiRegistry(sharedV3, adminPassword, dryRun: Console.Out);
            foreach (var r in registrations) await plan.RegisterAsync(r, ct);
            if (ownIdentity is not null) await ReportAsync(ownIdentity, serviceUsers, ct);
            return 0;
        }

        // The shared identity first: when it refuses, no file has changed.
        var registry = new IdentityApiRegistry(sharedV3, adminPassword);
        foreach (var r in registrations) await registry.RegisterAsync(r, ct);
        if (ownIdentity is not null) await ReportAsync(ownIdentity, serviceUsers, ct);

        if (changes.Count == 0 && ownIdentity is null)
        {
            Console.WriteLine($"{configDir} is region {region} of the identity at {sharedV3} already: its catalog entries are in place, its files need no change.");
            return 0;
        }
        var stateDir = Path.Combine(configDir, StateDirName);
        foreach (var (path, before, after) in changes)
        {
            var original = Path.Combine(stateDir, Path.GetRelativePath(configDir, path));
            Directory.CreateDirectory(Path.GetDirectoryName(original)!);
            if (!File.Exists(original)) CopyKeepingMode(path, original);
            AtomicFile.Write(path, after, OperatingSystem.IsWindows() ? null : File.GetUnixFileMode(path));
            Console.WriteLine($"{Path.GetRelativePath(configDir, path)}: edited (the original is in {StateDirName}/)");
        }
        if (ownIdentity is not null)
        {
            var aside = Path.Combine(stateDir, IdentityModule.KeystoneConf);
            Directory.CreateDirectory(Path.GetDirectoryName(aside)!);
            File.Move(keystoneConf, aside, overwrite: true);
            Console.WriteLine($"{IdentityModule.KeystoneConf}: moved to {StateDirName}/ (the node's own identity stops)");
        }
        Directory.CreateDirectory(stateDir);
        await File.WriteAllTextAsync(Path.Combine(stateDir, StateFile), JsonSerializer.Serialize(new JoinState(shared, region, previousIdentity, previousRegion,
            sharedServiceUsers, dashboardUrl, [.. serviceUsers.Order(StringComparer.Ordinal)])), ct);
        Console.WriteLine($"{configDir} is region {region} of the identity at {sharedV3} ({registrations.Count} catalog entries).");
        Restart(configDir);
        return 0;
    }

    public static async Task<int> LeaveAsync(string configDir, string? adminPassword, CancellationToken ct)
    {
        var node = new NodeLayout(configDir);
        var state = ReadState(configDir) ?? throw new UsageException($"{configDir} has not joined a region with region join");
        var stateDir = Path.Combine(configDir, StateDirName);
        adminPassword ??= NodeLayout.ReadOpenrc(node).GetValueOrDefault("OS_PASSWORD") ?? throw new UsageException("--admin-password is required");
        var sharedV3 = state.Identity + "/v3";

        // Out of the shared catalog: the region's endpoints of this node's services, its own users, then the region if nothing else is in it.
        var init = new NodeInit(configDir, new NodeSpec(state.Region, "", adminPassword) { IdentityUrl = sharedV3 });
        var registry = new IdentityApiRegistry(sharedV3, adminPassword);
        foreach (var r in ServiceModules.All.SelectMany(m => m.CatalogEntries(init)))
            await registry.UnregisterAsync(r, deleteUser: !state.SharedServiceUsers, ct);
        await registry.DeleteRegionIfUnusedAsync(state.Region, ct);

        // The files as they were: every original back, the node's own identity with them.
        foreach (var original in Directory.EnumerateFiles(stateDir, "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) != StateFile))
        {
            var relative = Path.GetRelativePath(stateDir, original);
            File.Move(original, Path.Combine(configDir, relative), overwrite: true);
            Console.WriteLine($"{relative}: restored");
        }
        Directory.Delete(stateDir, recursive: true);
        Console.WriteLine($"{configDir} has left {state.Region}: it is again a cloud of its own ({state.PreviousRegion} at {state.PreviousIdentity}/v3).");
        Restart(configDir);
        return 0;
    }

    /// <summary>What the node's own identity holds beyond its bootstrap: the shared identity does not receive it.</summary>
    static async Task ReportAsync(IdentityOptions ownIdentity, IReadOnlySet<string> serviceUsers, CancellationToken ct)
    {
        var (projects, users) = await IdentityModule.ContentsAsync(ownIdentity, ct);
        var ownProjects = projects.Where(p => p is not "Default/admin" and not "Default/service").ToList();
        var ownUsers = users.Where(u => u != "Default/admin" && !serviceUsers.Contains(u["Default/".Length..])).ToList();
        if (ownProjects.Count + ownUsers.Count == 0) return;
        Console.WriteLine("The node's own identity holds what the shared identity does not receive (kept in its database, back with region leave):");
        if (ownProjects.Count > 0) Console.WriteLine("  projects: " + string.Join(", ", ownProjects));
        if (ownUsers.Count > 0) Console.WriteLine("  users: " + string.Join(", ", ownUsers));
    }

    /// <summary>The service users the node's files name (each service section's <c>username</c>), before any join renamed them.</summary>
    static HashSet<string> ServiceUsers(string configDir) =>
        [.. ConfigFiles(configDir).Select(IniFile.Load).SelectMany(ini => ini.Sections
            .Where(s => ini.GetString(s, "auth_url") is not null && ini.GetString(s, "username") is { } u && u != "admin")
            .Select(s => ini.GetString(s, "username")!))];

    /// <summary>The node's INI files (every service's, the dashboard's), without the identity's and what a join kept aside.</summary>
    static IEnumerable<string> ConfigFiles(string configDir) =>
        Directory.EnumerateFiles(configDir, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".conf", StringComparison.Ordinal) || f.EndsWith(".ini", StringComparison.Ordinal)
                || Path.GetRelativePath(configDir, f) == DashboardModule.LocalSettings)
            .Where(f => !Path.GetRelativePath(configDir, f).StartsWith(StateDirName + "/", StringComparison.Ordinal)
                && Path.GetRelativePath(configDir, f) != IdentityModule.KeystoneConf)
            .Order(StringComparer.Ordinal);

    static JoinState? ReadState(string configDir)
    {
        var path = Path.Combine(configDir, StateDirName, StateFile);
        return File.Exists(path) ? JsonSerializer.Deserialize<JoinState>(File.ReadAllText(path)) : null;
    }

    /// <summary>An identity URL as the seed's auth_url writes it: scheme, host and port, without /v3.</summary>
    static string IdentityRoot(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new UsageException($"'{url}' is not an identity URL (http://HOST:5000)");
        return uri.GetLeftPart(UriPartial.Authority);
    }

    static bool SameAuthority(string url, string root) =>
        Uri.TryCreate(url, UriKind.Absolute, out var a) && Uri.TryCreate(root, UriKind.Absolute, out var b)
        && a.Scheme == b.Scheme && string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    /// <summary>The change of one file as <c>diff -u</c> prints it, paths relative to the node's directory.</summary>
    static async Task<string> UnifiedDiffAsync(string configDir, string path, string before, string after, CancellationToken ct)
    {
        var relative = Path.GetRelativePath(configDir, path);
        var a = Path.GetTempFileName();
        var b = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(a, Redact(relative, before), ct);
            await File.WriteAllTextAsync(b, Redact(relative, after), ct);
            var psi = new ProcessStartInfo("diff", ["-u", "--label", "a/" + relative, "--label", "b/" + relative, a, b]) { RedirectStandardOutput = true };
            using var diff = Process.Start(psi)!;
            var text = await diff.StandardOutput.ReadToEndAsync(ct);
            await diff.WaitForExitAsync(ct);
            return text;
        }
        finally
        {
            File.Delete(a);
            File.Delete(b);
        }
    }

    /// <summary>Keys whose values may hold a secret (passwords, also inside URLs).</summary>
    static readonly HashSet<string> SecretKeys = ["password", "connection", "transport_url", "metadata_proxy_shared_secret", "memcache_secret_key"];

    /// <summary>Secrets stay out of what a dry run prints, also on the lines around a change.</summary>
    static string Redact(string relative, string text) => relative == "admin-openrc"
        ? string.Join('\n', text.Split('\n').Select(l => l.StartsWith("export OS_PASSWORD=", StringComparison.Ordinal) ? "export OS_PASSWORD=***" : l))
        : IniEdit.Rewrite(text, (_, e) => SecretKeys.Contains(e.Key) ? "***" : null);

    /// <summary>SIGHUP to the <c>node start</c> running the node, which re-reads its files; else how to start it.</summary>
    static void Restart(string configDir)
    {
        if (NodeCommand.RunningPid(configDir) is { } pid)
        {
            Process.Start("kill", ["-HUP", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            Console.WriteLine($"Restarted the node's services (SIGHUP to node start, pid {pid}).");
        }
        else Console.WriteLine($"Start the node: ./stratus node start --config-dir {configDir}");
    }

    static void CopyKeepingMode(string from, string to)
    {
        File.Copy(from, to, overwrite: true);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(to, File.GetUnixFileMode(from));
    }

    /// <summary>Writes a file whole or not at all, with the mode it had (secrets stay readable by their owner only).</summary>
    /// <summary>The node's config files with the join's changes, in a scratch directory, for the modules to read.</summary>
    sealed class ScratchCopy : IDisposable
    {
        public string Root { get; } = Directory.CreateTempSubdirectory("stratus-join-").FullName;

        public ScratchCopy(string configDir, IEnumerable<(string Path, string Before, string After)> changes)
        {
            var changed = changes.ToDictionary(c => c.Path, c => c.After);
            foreach (var path in ConfigFiles(configDir))
            {
                var copy = Path.Combine(Root, Path.GetRelativePath(configDir, path));
                Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
                File.WriteAllText(copy, changed.TryGetValue(path, out var after) ? after : File.ReadAllText(path));
            }
        }

        public void Dispose() => Directory.Delete(Root, recursive: true);
    }
}
