using System.Data.Common;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Stratus.BlockStorage;
using Stratus.Compute;
using Stratus.Core.Auth;
using Stratus.Core.Config;
using Stratus.Core.Data;
using Stratus.Identity;
using Stratus.Image;
using Stratus.Network;
using Stratus.Placement;

namespace Stratus.Cli;

/// <summary>
/// <c>doctor</c>: checks a running cloud from the shared identity's catalog and from each node's files, as an operator
/// who knows the seed would: endpoints that do not answer, services that trust another identity or name a region
/// without their peers (the seed's known errors, section 6), service users that cannot log in, services and agents
/// that are down, secrets that every user can read, clocks that drift. One line per problem says what is wrong,
/// where (host, file, section, key) and the fix; exit 1 when there is one.
/// </summary>
static partial class DoctorCommand
{
    [GeneratedRegex(@"(//[^:/@]+:)[^@]*@")]
    private static partial Regex RedactedPassword();

    sealed record Problem(string Check, string Host, string? File, string? Section, string? Key, string What, string Fix);

    /// <summary>The services whose <c>[keystone_authtoken]</c> trusts the shared identity, with the catalog type each serves.</summary>
    static readonly (string File, string Type)[] Services =
    [
        (ImageModule.GlanceApiConf, "image"),
        (ComputeModule.NovaConf, "compute"),
        (PlacementModule.PlacementConf, "placement"),
        (BlockStorageModule.CinderConf, "volumev3"),
        (NetworkModule.NeutronConf, "network"),
    ];

    const string Authtoken = "keystone_authtoken";
    // Quotes as they are: the fixes quote the seed's error messages.
    static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    static readonly TimeSpan ClockTolerance = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync(IReadOnlyList<string> nodeDirs, bool json, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var nodes = nodeDirs.Select(d => new NodeLayout(d)).ToList();
        var checkup = new Checkup(http, nodes, ct);
        foreach (var node in nodes) await checkup.NodeAsync(node);
        var problems = checkup.Problems;
        if (json)
            Console.WriteLine(new JsonArray([.. problems.Select(p => new JsonObject
            {
                ["check"] = p.Check, ["host"] = p.Host, ["file"] = p.File, ["section"] = p.Section, ["key"] = p.Key, ["problem"] = p.What, ["fix"] = p.Fix,
            })]).ToJsonString(JsonOptions));
        else if (problems.Count == 0)
            Console.WriteLine($"doctor: no problem found ({nodeDirs.Count} node(s), {checkup.Endpoints} endpoint(s) checked)");
        else
            foreach (var p in problems)
                Console.WriteLine($"{p.Check}: {string.Join(' ', new[] { p.Host, p.File, p.Section is null ? null : $"[{p.Section}]", p.Key }.OfType<string>())}: {p.What}; fix: {p.Fix}");
        return problems.Count == 0 ? 0 : 1;
    }

    /// <summary>What the admin of one identity sees: the regions and the catalog's public endpoints.</summary>
    sealed record Cloud(string Identity, IssuedToken Token, IReadOnlyList<string> Regions, IReadOnlyList<(string Region, string Type, string Url)> Endpoints)
    {
        public string? Url(string type, string? region) => Endpoints.FirstOrDefault(e => e.Type == type && e.Region == region).Url;

        public string RegionsWith(string type) => Endpoints.Where(e => e.Type == type).Select(e => e.Region).Distinct().ToList() is { Count: > 0 } regions
            ? $"it has them in {string.Join(", ", regions)}"
            : "it has none";
    }

    /// <summary>An HTTP answer (its status and Date), or why none came; when it was asked and answered.</summary>
    sealed record Probe(int? Status, string? Error, DateTimeOffset? Date, DateTimeOffset Sent, DateTimeOffset Received)
    {
        public bool Answers => Status is < 500;
        public string Failure => Status is { } s ? $"it answers {s}" : $"no answer: {Error}";
    }

    sealed class Checkup(HttpClient http, IReadOnlyList<NodeLayout> nodes, CancellationToken ct)
    {
        public List<Problem> Problems { get; } = [];
        public int Endpoints { get; private set; }
        // The directory of each node checked by its region and service host name ("RegionTwo compute1"), for the fix of a service that is down.
        readonly Dictionary<string, string> _nodesByHost = NodesByHost(nodes);
        // Identities (host:port) that did not answer the admin: the services' logins to them are not reported one by one.
        readonly HashSet<string> _unanswered = new(StringComparer.OrdinalIgnoreCase);
        // One admin login per set of credentials, the catalog checks once per identity, one login per service user.
        readonly Dictionary<string, Cloud?> _clouds = new(StringComparer.Ordinal);
        readonly HashSet<string> _checkedIdentities = new(StringComparer.Ordinal);
        readonly Dictionary<string, KeystoneLoginException?> _logins = new(StringComparer.Ordinal);
        readonly HashSet<string> _clockReported = new(StringComparer.OrdinalIgnoreCase);

        void Add(string check, string host, string? file, string? section, string? key, string what, string fix) =>
            Problems.Add(new Problem(check, host, file, section, key, what, fix));

        public async Task NodeAsync(NodeLayout node)
        {
            var env = NodeLayout.ReadOpenrc(node);
            var host = HostOf(node);
            SecretFiles(node, host);
            var cloud = await CloudAsync(node, env);
            var files = new Dictionary<string, IniFile>(StringComparer.Ordinal);
            foreach (var (file, type) in Services)
            {
                if (Load(node, file, host) is not { } ini) continue;
                files[file] = ini;
                if (cloud is not null) IdentityOf(cloud, ini, type, host, env);
                await LoginsAsync(cloud, ini, host);
                await BackendsAsync(ini, host);
            }
            if (Load(node, IdentityModule.KeystoneConf, host) is { } keystone) await BackendsAsync(keystone, host);
            if (cloud is null) return;
            if (files.TryGetValue(ComputeModule.NovaConf, out var nova)) await NovaAsync(cloud, nova, host, OwnRegion(cloud, nova, env));
            if (files.TryGetValue(BlockStorageModule.CinderConf, out var cinder)) await CinderAsync(cloud, cinder, host, OwnRegion(cloud, cinder, env));
            if (files.TryGetValue(NetworkModule.NeutronConf, out var neutron))
                Region(cloud, neutron, host, "nova", "region_name", "compute", OwnRegion(cloud, neutron, env),
                    "neutron cannot tell nova that a port is ready, and server boots fail waiting for network-vif-plugged");
        }

        IniFile? Load(NodeLayout node, string file, string host)
        {
            var path = Path.Combine(node.Root, file);
            if (!File.Exists(path)) return null;
            try
            {
                return IniFile.Load(path);
            }
            catch (ConfigException e)
            {
                Add("config", host, path, null, null, e.Message, "correct the file: the service does not start with it");
                return null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Add("config", host, path, null, null, $"cannot be read: {e.Message}", "run doctor as the user that runs the node");
                return null;
            }
        }

        /// <summary>The databases, RabbitMQ and memcached servers the file names answer.</summary>
        async Task BackendsAsync(IniFile ini, string host)
        {
            // A compute node's nova-compute and agents do not reach the databases: a connection left in their files is not used.
            var databases = Path.GetFileName(ini.Path) switch
            {
                "nova.conf" => NovaOptions.UsesDatabasesIn(ini),
                "neutron.conf" => NetworkOptions.RunsServerIn(ini),
                _ => true,
            };
            foreach (var section in databases ? new[] { "database", "api_database", "placement_database" } : [])
                if (ini.GetString(section, "connection") is { Length: > 0 } connection && await DatabaseFailureAsync(connection) is { } failure)
                    Add("backend", host, ini.Path, section, "connection", $"the database {Redacted(connection)} does not answer ({failure})",
                        "start that database server, or correct the connection URL (user, password, host, database name)");
            if (ini.GetString("DEFAULT", "transport_url") is { } transport && transport.StartsWith("rabbit://", StringComparison.Ordinal))
            {
                // rabbit://user:pass@host1:5672,user:pass@host2:5672/vhost: one answering broker is enough.
                var servers = transport["rabbit://".Length..].Split('/')[0].Split(',').Select(s => s[(s.LastIndexOf('@') + 1)..]).ToList();
                var failures = new List<string>();
                foreach (var server in servers)
                    if (await TcpFailureAsync(server, 5672, null) is { } f) failures.Add($"{server}: {f}");
                if (failures.Count == servers.Count)
                    Add("backend", host, ini.Path, "DEFAULT", "transport_url", $"no RabbitMQ of {string.Join(", ", servers)} answers ({string.Join("; ", failures)})",
                        "start RabbitMQ there, or correct transport_url: the region's services cannot talk to each other without it");
            }
            if (ini.GetString(Authtoken, "memcached_servers") is { Length: > 0 } memcached)
                foreach (var server in memcached.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                    if (await TcpFailureAsync(server.StartsWith("inet:", StringComparison.Ordinal) ? server[5..] : server, 11211, "version\r\n") is { } f)
                        Add("backend", host, ini.Path, Authtoken, "memcached_servers", $"memcached at {server} does not answer ({f})",
                            "start memcached there, or take it out of memcached_servers (token validations are then cached in each service)");
        }

        async Task<string?> DatabaseFailureAsync(string connection)
        {
            try
            {
                var url = DatabaseUrl.Parse(connection);
                // A SQLite file that is not there would be made by opening it: that it exists is the check.
                if (url.SqlitePath is not null) return File.Exists(url.SqlitePath) ? null : $"{url.SqlitePath} does not exist: run the service's db sync";
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                await using var db = url.CreateConnection();
                await db.OpenAsync(timeout.Token);
                return null;
            }
            catch (Exception e) when (e is FormatException or DbException or OperationCanceledException or InvalidOperationException or System.Net.Sockets.SocketException)
            {
                return e is OperationCanceledException ? "no answer within 5 s" : e.Message;
            }
        }

        /// <summary>Connects to HOST:PORT and, when given, sends a command that must get an answer.</summary>
        async Task<string?> TcpFailureAsync(string server, int defaultPort, string? command)
        {
            var colon = server.LastIndexOf(':');
            var (name, port) = colon > 0 && int.TryParse(server[(colon + 1)..], out var p) ? (server[..colon], p) : (server, defaultPort);
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                using var client = new System.Net.Sockets.TcpClient();
                await client.ConnectAsync(name, port, timeout.Token);
                if (command is null) return null;
                var stream = client.GetStream();
                await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(command), timeout.Token);
                var buffer = new byte[64];
                return await stream.ReadAsync(buffer, timeout.Token) > 0 ? null : "it closed the connection";
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or OperationCanceledException or IOException)
            {
                return e is OperationCanceledException ? "no answer within 5 s" : e.Message;
            }
        }

        /// <summary>A database or bus URL without its password.</summary>
        static string Redacted(string url) => RedactedPassword().Replace(url, "$1***@");

        /// <summary>The admin's view of the identity that the node's admin-openrc names; null (and a problem) when it refuses.</summary>
        async Task<Cloud?> CloudAsync(NodeLayout node, Dictionary<string, string> env)
        {
            var credentials = string.Join('\n', new[] { "OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME", "OS_USER_DOMAIN_NAME", "OS_PROJECT_DOMAIN_NAME" }
                .Select(k => env.GetValueOrDefault(k)));
            if (_clouds.TryGetValue(credentials, out var known)) return known;
            var authUrl = env.GetValueOrDefault("OS_AUTH_URL") ?? "";
            var identityHost = HostOfUrl(authUrl);
            Cloud? cloud = null;
            try
            {
                var token = await StatusCommand.AdminLoginAsync(http, node.Root, env, ct);
                var identity = KeystoneLogin.V3Root(authUrl);
                var regions = await StatusCommand.GetAsync(http, token.Id, identity + "/regions", ct);
                cloud = new Cloud(identity, token, [.. (regions["regions"] as JsonArray ?? []).Select(r => (string)r!["id"]!)], [.. StatusCommand.PublicEndpoints(token)]);
            }
            catch (KeystoneLoginException e) when (e.Unreachable)
            {
                _unanswered.Add(Authority(authUrl));
                var dir = nodes.FirstOrDefault(n => Setting(n, IdentityModule.KeystoneConf, "eventlet_server", "public_bind_host") == identityHost)?.Root ?? "DIR";
                Add("identity", identityHost, node.AdminOpenrc, null, "OS_AUTH_URL", $"the identity at {authUrl} does not answer ({e.Detail})",
                    $"start the node that runs the identity (./stratus node start --config-dir {dir}), or set OS_AUTH_URL to the shared identity; nothing else is checked through the catalog until it answers");
            }
            catch (KeystoneLoginException e)
            {
                Add("identity", identityHost, node.AdminOpenrc, null, "OS_PASSWORD", $"the identity refuses the admin's login ({e.Status}: {e.Detail})",
                    "set OS_USERNAME, OS_PASSWORD and OS_PROJECT_NAME to the admin's of keystone-manage bootstrap (seed section 4.2)");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                Add("identity", identityHost, null, null, null, $"the identity at {authUrl} logs the admin in but does not list its regions: {e.Message}",
                    $"read the identity's log on {identityHost}");
            }
            _clouds[credentials] = cloud;
            if (cloud is not null && _checkedIdentities.Add(cloud.Identity)) await CatalogAsync(cloud);
            return cloud;
        }

        /// <summary>Every endpoint answers its version document with a clock close to ours; no compute or volume service or network agent is down.</summary>
        async Task CatalogAsync(Cloud cloud)
        {
            Endpoints += cloud.Endpoints.Count;
            var probes = await Task.WhenAll(cloud.Endpoints.Select(e => ProbeAsync(e.Url)));
            foreach (var ((region, type, url), probe) in cloud.Endpoints.Zip(probes))
            {
                var host = HostOfUrl(url);
                if (!probe.Answers)
                    Add("endpoint", host, null, null, null, $"the {type} endpoint of {region}, {url}, does not answer its version document ({probe.Failure})", probe.Status is null
                        ? $"start the node that serves it on {host}, or correct the endpoint (openstack endpoint list --region {region} --service {type}; openstack endpoint set --url URL ID)"
                        : $"read the service's log on {host}; {new Uri(url).GetLeftPart(UriPartial.Authority)}/healthcheck names what it lacks");
                Clock(host, probe);
            }
            var allWorkers = new List<StatusCommand.Row>();
            foreach (var ((region, type, url), probe) in cloud.Endpoints.Zip(probes))
            {
                if (!probe.Answers) continue;
                IEnumerable<StatusCommand.Row>? workers;
                try
                {
                    workers = await StatusCommand.WorkersAsync(http, cloud.Token.Id, region, type, url, ct);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
                {
                    Add("services", HostOfUrl(url), null, null, null, $"the {type} endpoint of {region} does not list its services or agents: {e.Message}",
                        $"read the service's log on {HostOfUrl(url)}");
                    continue;
                }
                allWorkers.AddRange(workers ?? []);
                foreach (var w in (workers ?? []).Where(w => !w.Up))
                {
                    // cinder-volume's host is host@backend
                    var dir = _nodesByHost.GetValueOrDefault($"{region} {w.Host.Split('@')[0]}") ?? "DIR";
                    Add("services", w.Host, null, null, null, $"{w.Binary} on {w.Host} in {region} is down (last report: {w.Updated ?? "never"})",
                        $"start the node that runs it (./stratus node start --config-dir {dir}) or read its log; until it reports, {Consequence(w.Binary, w.Host)}");
                }
            }
            foreach (var ((region, type, url), probe) in cloud.Endpoints.Zip(probes))
                if (type == "compute" && probe.Answers) await FailedServersAsync(cloud, region, url, allWorkers);
        }

        /// <summary>
        /// Servers in ERROR whose fault is one of the seed's known errors (section 6): each named with the cause the seed
        /// gives, told apart with what the region's services and agents say.
        /// </summary>
        async Task FailedServersAsync(Cloud cloud, string region, string computeUrl, List<StatusCommand.Row> workers)
        {
            JsonObject servers;
            try
            {
                servers = await StatusCommand.GetAsync(http, cloud.Token.Id, computeUrl + "/servers/detail?all_tenants=1&status=ERROR", ct);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                return; // the endpoint's own problem is reported above
            }
            foreach (var server in (servers["servers"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var fault = (string?)server["fault"]?["message"] ?? "";
                var host = (string?)server["OS-EXT-SRV-ATTR:host"] ?? "";
                var what = $"server {(string?)server["name"]} ({(string?)server["id"]}) in {region} is in ERROR: {fault}";
                if (fault.StartsWith("PortBindingFailed", StringComparison.Ordinal))
                {
                    var agent = workers.FirstOrDefault(w => w.Region == region && w.Binary == "neutron-linuxbridge-agent" && w.Host == host);
                    var dir = _nodesByHost.GetValueOrDefault($"{region} {host}") ?? "DIR";
                    Add("servers", host, null, null, null, what, agent is null or { Up: false }
                        ? $"the Linux bridge agent of {host} is {(agent is null ? "not registered" : "down")}: start it (./stratus node start --config-dir {dir}), then rebuild or delete the server"
                        : $"the Linux bridge agent of {host} is alive but cannot reach the network's segment: map its physical network in " +
                          $"physical_interface_mappings, or set [vxlan] local_ip, in neutron/plugins/ml2/linuxbridge_agent.ini of {dir} (the network service's log names the reason), then rebuild or delete the server");
                }
                else if (fault.StartsWith("Invalid image identifier or unable to access requested image", StringComparison.Ordinal))
                    Add("servers", host, null, null, null, what,
                        $"the block storage of {region} cannot read the image service: set cinder.conf's glance_api_servers and nova.conf's [cinder] os_region_name (seed section 6), then delete the server and its volume and create them again");
                else if (fault.StartsWith("No valid host was found", StringComparison.Ordinal))
                    Add("servers", host, null, null, null, what,
                        $"no compute host of {region} could take it: a nova-compute down, or one whose resources placement never got (ResourceProviderCreationFailed: nova.conf's [placement] not pointed at the shared identity and {region}); then rebuild or delete the server");
            }
        }

        static string Consequence(string binary, string host) => binary switch
        {
            "nova-compute" => $"no server is scheduled to {host} (No valid host was found)",
            "nova-scheduler" or "nova-conductor" => "new servers stay in BUILD",
            "neutron-linuxbridge-agent" or "neutron-openvswitch-agent" => $"ports on {host} fail to bind: PortBindingFailed",
            "neutron-dhcp-agent" => "new servers get no address by DHCP",
            "neutron-metadata-agent" => "servers get no metadata (no SSH key)",
            "neutron-l3-agent" => "routers and floating IPs do not work",
            _ when binary.StartsWith("cinder-", StringComparison.Ordinal) => "volumes that need it stay creating or attaching, or go to error",
            _ => "what it does for the region waits or fails",
        };

        void Clock(string host, Probe probe)
        {
            if (probe.Date is not { } date) return;
            // Date (whole seconds: the server's time was in [date, date + 1 s)) was stamped between our send and our receipt.
            var offset = date.AddSeconds(1) < probe.Sent ? date.AddSeconds(1) - probe.Sent : date > probe.Received ? date - probe.Received : TimeSpan.Zero;
            if (offset.Duration() <= ClockTolerance || !_clockReported.Add(host)) return;
            Add("clock", host, null, null, null, $"its clock is {offset.TotalSeconds:+0;-0} s off this machine's (Date: {date:R})",
                $"synchronise the clocks of {host} and this machine (chrony or another NTP client); until then tokens look expired or not yet valid between hosts");
        }

        async Task<Probe> ProbeAsync(string url)
        {
            var sent = DateTimeOffset.UtcNow;
            try
            {
                using var response = await http.GetAsync(url, ct);
                return new Probe((int)response.StatusCode, null, response.Headers.Date, sent, DateTimeOffset.UtcNow);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                return new Probe(null, e.Message, null, sent, DateTimeOffset.UtcNow);
            }
        }

        /// <summary>The service's [keystone_authtoken] trusts the identity of admin-openrc, in a region that has the service's endpoints.</summary>
        void IdentityOf(Cloud cloud, IniFile ini, string type, string host, Dictionary<string, string> env)
        {
            var identity = Authority(cloud.Identity);
            var root = new Uri(cloud.Identity).GetLeftPart(UriPartial.Authority);
            if (!ini.HasSection(Authtoken))
            {
                Add("identity", host, ini.Path, Authtoken, null, "the section is missing: the service cannot validate tokens",
                    $"add [{Authtoken}] with www_authenticate_uri = auth_url = {root}, the service user and region_name, as seed section 5 writes it");
                return;
            }
            foreach (var key in new[] { "www_authenticate_uri", "auth_url" })
            {
                var value = ini.GetString(Authtoken, key) ?? (key == "www_authenticate_uri" ? ini.GetString(Authtoken, "auth_uri") : null);
                if (value is null && key == "www_authenticate_uri") continue; // keystonemiddleware falls back to auth_url
                if (value is not null && Uri.TryCreate(value, UriKind.Absolute, out var u) && string.Equals(u.Authority, identity, StringComparison.OrdinalIgnoreCase)) continue;
                Add("identity", host, ini.Path, Authtoken, key, value is null ? "is not set" : $"'{value}' is not the shared identity {identity} (admin-openrc's OS_AUTH_URL)",
                    $"set {key} = {root}: a service validates tokens with the identity that issues them (seed section 5)");
            }
            Region(cloud, ini, host, Authtoken, "region_name", type, null,
                "the service looks for its own and its peers' endpoints in a region that does not have them", env.GetValueOrDefault("OS_REGION_NAME"));
        }

        /// <summary>
        /// The region that <paramref name="section"/>'s <paramref name="key"/> names exists and has a <paramref name="type"/>
        /// endpoint, and is the node's own (when <paramref name="own"/> is given).
        /// </summary>
        void Region(Cloud cloud, IniFile ini, string host, string section, string key, string type, string? own, string symptom, string? suggested = null)
        {
            var value = ini.GetString(section, key);
            var what = string.IsNullOrEmpty(value) ? "is not set"
                : !cloud.Regions.Contains(value) ? $"names region '{value}', which the identity does not have (its regions: {string.Join(", ", cloud.Regions)})"
                : cloud.Url(type, value) is null ? $"names region '{value}', where the catalog has no {type} endpoint ({cloud.RegionsWith(type)})"
                : own is not null && value != own ? $"names region '{value}', not the node's own region '{own}' (its [{Authtoken}] region_name)"
                : null;
            if (what is null) return;
            suggested ??= own ?? cloud.Endpoints.FirstOrDefault(e => e.Type == type).Region ?? "REGION";
            Add("region", host, ini.Path, section, key, what, $"set {key} = {suggested}; until then, {symptom}");
        }

        /// <summary>The node's region: that of the file's [keystone_authtoken] when the identity has it, else admin-openrc's.</summary>
        static string? OwnRegion(Cloud cloud, IniFile ini, Dictionary<string, string> env) =>
            ini.GetString(Authtoken, "region_name") is { } r && cloud.Regions.Contains(r) ? r : env.GetValueOrDefault("OS_REGION_NAME");

        /// <summary>Seed sections 5.2 and 6: nova's placement, cinder and neutron in the node's own region; its image servers answer.</summary>
        async Task NovaAsync(Cloud cloud, IniFile nova, string host, string? own)
        {
            var placementKey = nova.GetString("placement", "os_region_name") is null && nova.GetString("placement", "region_name") is not null ? "region_name" : "os_region_name";
            Region(cloud, nova, host, "placement", placementKey, "placement", own,
                "nova-compute cannot report its resources: ResourceProviderCreationFailed / placement 401 in its log (seed section 6)");
            Region(cloud, nova, host, "cinder", "os_region_name", "volumev3", own,
                "server builds from volumes fail with 'Invalid image identifier or unable to access requested image' (seed section 6)");
            Region(cloud, nova, host, "neutron", "region_name", "network", own,
                "servers' ports fail to bind: PortBindingFailed (seed section 6)");
            await ServersAnswerAsync(cloud, nova, host, "glance", "api_servers", own, "servers cannot be built from their image");
        }

        /// <summary>Seed section 6: cinder needs glance_api_servers, answering, to make volumes from images.</summary>
        async Task CinderAsync(Cloud cloud, IniFile cinder, string host, string? own)
        {
            const string symptom = "server builds from volumes fail with 'Invalid image identifier or unable to access requested image' (seed section 6)";
            if (cinder.GetList("DEFAULT", "glance_api_servers").Count == 0)
                Add("peers", host, cinder.Path, "DEFAULT", "glance_api_servers", "is not set: cinder cannot reach the image service",
                    $"set glance_api_servers = {cloud.Url("image", own) ?? "the image endpoint"} (the image endpoint of {own}); without it, {symptom}");
            else
                await ServersAnswerAsync(cloud, cinder, host, "DEFAULT", "glance_api_servers", own, symptom);
        }

        async Task ServersAnswerAsync(Cloud cloud, IniFile ini, string host, string section, string key, string? own, string symptom)
        {
            foreach (var server in ini.GetList(section, key))
            {
                var probe = await ProbeAsync(server.Contains("://", StringComparison.Ordinal) ? server : "http://" + server);
                if (!probe.Answers)
                    Add("peers", host, ini.Path, section, key, $"{server} does not answer ({probe.Failure})",
                        $"start the image service there, or set {key} = {cloud.Url("image", own) ?? "the image endpoint"} (the image endpoint of {own}); until then, {symptom}");
            }
        }

        /// <summary>Every section with a service user (keystone_authtoken, nova's [placement] and [neutron], [nova]...) logs in with its password.</summary>
        async Task LoginsAsync(Cloud? cloud, IniFile ini, string host)
        {
            foreach (var section in ini.Sections.Where(s => ini.Keys(s).Contains("username") && ini.Keys(s).Contains("password")).ToList())
            {
                KeystoneAuthtokenOptions user;
                try
                {
                    user = KeystoneAuthtokenOptions.FromSection(ini, section);
                }
                catch (ConfigException e)
                {
                    Add("login", host, ini.Path, section, null, e.Message,
                        "give the section auth_url, auth_type = password, username, password, project_name, user_domain_name and project_domain_name, as seed section 5 does");
                    continue;
                }
                var credentials = string.Join('\n', KeystoneLogin.V3Root(user.AuthUrl), user.Username, user.UserDomainName, user.Password, user.ProjectName, user.ProjectDomainName);
                if (!_logins.TryGetValue(credentials, out var failure)) _logins[credentials] = failure = await LoginAsync(user);
                if (failure is null) continue;
                // Said already: where auth_url should point, or that the identity does not answer.
                if (failure.Unreachable && (_unanswered.Contains(Authority(user.AuthUrl)) || Problems.Any(p => p.File == ini.Path && p.Section == section && p.Key == "auth_url")))
                    continue;
                if (failure.Unreachable)
                    Add("login", host, ini.Path, section, "auth_url", $"the identity at {user.AuthUrl} does not answer {user.Username}'s login ({failure.Detail})",
                        $"set auth_url = {(cloud is null ? "the shared identity's URL" : new Uri(cloud.Identity).GetLeftPart(UriPartial.Authority))}, and have that identity running");
                else if (failure.Status == 401 && cloud is not null && !await UserExistsAsync(cloud, user.Username))
                    Add("login", host, ini.Path, section, "username", $"there is no user '{user.Username}' in the identity",
                        $"create it: openstack user create --domain {user.UserDomainName} --password-prompt {user.Username}; openstack role add --project {user.ProjectName} --user {user.Username} admin");
                else
                    Add("login", host, ini.Path, section, "password", $"{user.Username} cannot log in to project {user.ProjectName} with this password (the identity answers {failure.Status})",
                        $"set password to {user.Username}'s password in the identity, or reset it there (openstack user set --password-prompt {user.Username}); the service's requests are refused with 401 until then");
            }
        }

        async Task<KeystoneLoginException?> LoginAsync(KeystoneAuthtokenOptions user)
        {
            try
            {
                await new KeystoneLogin(http, user.AuthUrl).PasswordAsync(new PasswordUser(user.Username, DomainRef.Named(user.UserDomainName), user.Password),
                    LoginScope.Project(user.ProjectName, DomainRef.Named(user.ProjectDomainName)), withCatalog: false, ct);
                return null;
            }
            catch (KeystoneLoginException e)
            {
                return e;
            }
        }

        async Task<bool> UserExistsAsync(Cloud cloud, string name)
        {
            try
            {
                var users = await StatusCommand.GetAsync(http, cloud.Token.Id, $"{cloud.Identity}/users?name={Uri.EscapeDataString(name)}", ct);
                return users["users"] is not JsonArray { Count: 0 };
            }
            catch (HttpRequestException)
            {
                return true; // cannot tell: the login's own answer stands
            }
        }

        /// <summary>A file that holds a secret (a password, a URL with one, the metadata secret, admin-openrc) is not readable by every user.</summary>
        void SecretFiles(NodeLayout node, string host)
        {
            if (OperatingSystem.IsWindows()) return;
            foreach (var path in Directory.EnumerateFiles(node.Root, "*", SearchOption.AllDirectories)
                .Where(p => p == node.AdminOpenrc || p.EndsWith(".conf", StringComparison.Ordinal) || p.EndsWith(".ini", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
            {
                var mode = File.GetUnixFileMode(path);
                if ((mode & UnixFileMode.OtherRead) == 0) continue;
                var secret = path == node.AdminOpenrc ? (null, "OS_PASSWORD") : SecretIn(path);
                if (secret is not { } s) continue;
                Add("permissions", host, path, s.Section, s.Key, $"every user of {host} can read this secret (mode {Convert.ToString((int)mode, 8)})", $"chmod o-r {path}");
            }
        }

        static (string? Section, string Key)? SecretIn(string path)
        {
            try
            {
                var ini = IniFile.Load(path);
                foreach (var section in ini.Sections)
                    foreach (var key in ini.Keys(section))
                        if (key is "password" or "metadata_proxy_shared_secret"
                            || (key is "connection" or "transport_url" && UrlWithPassword().IsMatch(ini.GetString(section, key) ?? "")))
                            return (section, key);
            }
            catch (Exception e) when (e is ConfigException or IOException or UnauthorizedAccessException)
            {
                // not an INI file, or one that the service's own start reports
            }
            return null;
        }
    }

    /// <summary>The node's address, as its services bind to it; its directory's name when no file says.</summary>
    static string HostOf(NodeLayout node)
    {
        (string File, string Section, string Key)[] addresses =
        [
            (ComputeModule.NovaConf, "DEFAULT", "my_ip"), (BlockStorageModule.CinderConf, "DEFAULT", "my_ip"), (NetworkModule.NeutronConf, "DEFAULT", "bind_host"),
            (ImageModule.GlanceApiConf, "DEFAULT", "bind_host"), (PlacementModule.PlacementConf, "DEFAULT", "bind_host"),
            (IdentityModule.KeystoneConf, "eventlet_server", "public_bind_host"),
        ];
        return addresses.Select(a => Setting(node, a.File, a.Section, a.Key)).FirstOrDefault(a => a is not null) ?? Path.GetFileName(node.Root.TrimEnd('/'));
    }

    /// <summary>Each node's directory by the region and the host name its compute, network and volume services report.</summary>
    static Dictionary<string, string> NodesByHost(IEnumerable<NodeLayout> nodes)
    {
        var byHost = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var node in nodes)
            foreach (var file in new[] { ComputeModule.NovaConf, NetworkModule.NeutronConf, BlockStorageModule.CinderConf })
                if (Setting(node, file, "DEFAULT", "host") is { } host && Setting(node, file, Authtoken, "region_name") is { } region)
                    byHost.TryAdd($"{region} {host}", node.Root);
        return byHost;
    }

    /// <summary>A key of one of the node's files; null when the file or the key is missing (a broken file is reported when it is checked).</summary>
    static string? Setting(NodeLayout node, string file, string section, string key)
    {
        var path = Path.Combine(node.Root, file);
        try
        {
            return File.Exists(path) && IniFile.Load(path).GetString(section, key) is { Length: > 0 } value ? value : null;
        }
        catch (Exception e) when (e is ConfigException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    static string HostOfUrl(string url) => Uri.TryCreate(url, UriKind.Absolute, out var u) ? u.Host : url;

    static string Authority(string url) => Uri.TryCreate(url, UriKind.Absolute, out var u) ? u.Authority : url;

    /// <summary>scheme://user:password@...: a database or message bus URL with its password.</summary>
    [GeneratedRegex(@"^[\w+.-]+://[^/@]*:[^/@]*@")]
    private static partial Regex UrlWithPassword();
}
