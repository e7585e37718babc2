using System.Globalization;
using Stratus.Network.Ipam;
using Stratus.Network.Policy;

namespace Stratus.Network.Api;

/// <summary>
/// <c>/v2.0/security-groups</c> and <c>/v2.0/security-group-rules</c>: a project's groups (its <c>default</c>
/// made on first use), each with its rules — direction, ethertype, protocol by name or number, port
/// range or ICMP type/code, a remote prefix or group — validated as Neutron's securitygroups_db does.
/// </summary>
static class SecurityGroupsApi
{
    public static readonly Collection Groups = new("security_group", "security_groups", Standard.Attributes(
        ("security_group_rules", Access.None), ("stateful", Access.Both), ("shared", Access.None)));

    public static readonly Collection Rules = new("security_group_rule", "security_group_rules", Standard.Attributes(
        ("security_group_id", Access.Post), ("direction", Access.Post), ("ethertype", Access.Post), ("protocol", Access.Post),
        ("port_range_min", Access.Post), ("port_range_max", Access.Post), ("remote_ip_prefix", Access.Post), ("remote_group_id", Access.Post),
        ("remote_address_group_id", Access.Post), ("normalized_cidr", Access.None), ("belongs_to_default_sg", Access.None)));

    /// <summary>neutron_lib's IP_PROTOCOL_MAP: the names a rule's protocol may be given by.</summary>
    static readonly Dictionary<string, int> Protocols = new(StringComparer.Ordinal)
    {
        ["ah"] = 51, ["dccp"] = 33, ["egp"] = 8, ["esp"] = 50, ["gre"] = 47, ["hopopt"] = 0, ["icmp"] = 1, ["igmp"] = 2, ["ip"] = 0,
        ["ipip"] = 4, ["ipv6-encap"] = 41, ["ipv6-frag"] = 44, ["ipv6-icmp"] = 58, ["icmpv6"] = 58, ["ipv6-nonxt"] = 59, ["ipv6-opts"] = 60,
        ["ipv6-route"] = 43, ["ospf"] = 89, ["pgm"] = 113, ["rsvp"] = 46, ["sctp"] = 132, ["tcp"] = 6, ["udp"] = 17, ["udplite"] = 136,
        ["vrrp"] = 112, ["any"] = -1,
    };

    static readonly int[] PortProtocols = [6, 17, 33, 132, 136];

    public static IEndpointRouteBuilder MapSecurityGroups(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v2.0/security-groups", ListGroupsAsync);
        app.MapGet("/v2.0/security-groups/{id}", ShowGroupAsync);
        app.MapPost("/v2.0/security-groups", CreateGroupAsync);
        app.MapPut("/v2.0/security-groups/{id}", UpdateGroupAsync);
        app.MapDelete("/v2.0/security-groups/{id}", DeleteGroupAsync);
        app.MapGet("/v2.0/security-group-rules", ListRulesAsync);
        app.MapGet("/v2.0/security-group-rules/{id}", ShowRuleAsync);
        app.MapPost("/v2.0/security-group-rules", CreateRulesAsync);
        app.MapDelete("/v2.0/security-group-rules/{id}", DeleteRuleAsync);
        return app;
    }

    static JsonObject RuleView(SecurityGroupRuleRow r, bool inDefault) => new()
    {
        ["id"] = r.Id, ["security_group_id"] = r.SecurityGroupId, ["tenant_id"] = r.ProjectId, ["project_id"] = r.ProjectId,
        ["direction"] = r.Direction, ["ethertype"] = r.Ethertype, ["protocol"] = r.Protocol, ["port_range_min"] = r.PortRangeMin,
        ["port_range_max"] = r.PortRangeMax, ["remote_ip_prefix"] = r.RemoteIpPrefix, ["normalized_cidr"] = r.RemoteIpPrefix,
        ["remote_group_id"] = r.RemoteGroupId, ["remote_address_group_id"] = r.RemoteAddressGroupId, ["description"] = r.Description,
        ["belongs_to_default_sg"] = inDefault, ["tags"] = new JsonArray(),
        ["created_at"] = Standard.Time(r.CreatedAt), ["updated_at"] = Standard.Time(r.UpdatedAt), ["revision_number"] = r.RevisionNumber,
    };

    static JsonObject GroupView(SecurityGroupRow g, IEnumerable<SecurityGroupRuleRow> rules, IReadOnlyDictionary<string, List<string>> tags, bool isDefault)
    {
        var v = new JsonObject
        {
            ["id"] = g.Id, ["name"] = g.Name, ["stateful"] = g.Stateful, ["shared"] = false,
            ["security_group_rules"] = new JsonArray([.. rules.Select(r => (JsonNode)RuleView(r, isDefault))]),
        };
        Standard.Write(v, g, tags);
        return v;
    }

    static async Task<List<JsonObject>> GroupViewsAsync(NetworkDb db, List<SecurityGroupRow> groups, CancellationToken ct)
    {
        var ids = groups.Select(g => g.Id).ToList();
        var rules = (await db.SecurityGroupRules.AsNoTracking().Where(r => ids.Contains(r.SecurityGroupId)).ToListAsync(ct))
            .OrderBy(r => r.CreatedAt).ThenBy(r => r.Id).ToLookup(r => r.SecurityGroupId);
        var defaults = (await db.DefaultSecurityGroups.AsNoTracking().Where(d => ids.Contains(d.SecurityGroupId)).Select(d => d.SecurityGroupId).ToListAsync(ct)).ToHashSet();
        var tags = await Tags.OfAsync(db, ids, ct);
        return groups.Select(g => GroupView(g, rules[g.Id], tags, defaults.Contains(g.Id))).ToList();
    }

    static async Task<IResult> ListGroupsAsync(HttpContext http, NetworkDb db, TimeProvider time, CancellationToken ct)
    {
        var caller = http.Caller();
        // Neutron makes the caller's default group when it lists its groups for the first time.
        if (caller.ProjectId is { Length: > 0 } project) await DefaultGroup.EnsureAsync(db, project, time.GetUtcNow().UtcDateTime, ct);
        var rows = await (caller.IsAdmin ? db.SecurityGroups : db.SecurityGroups.Where(g => g.ProjectId == caller.ProjectId))
            .AsNoTracking().OrderBy(g => g.CreatedAt).ThenBy(g => g.Id).ToListAsync(ct);
        var views = (await GroupViewsAsync(db, rows, ct)).Where(v => NeutronPolicy.CanSee(http, "security_group", NeutronPolicy.Target(v)));
        return Groups.List(http, views);
    }

    static async Task<SecurityGroupRow> FindGroupAsync(HttpContext http, NetworkDb db, string id, CancellationToken ct)
    {
        var g = await db.SecurityGroups.FindAsync([id], ct);
        // Neutron's model query scopes groups to the caller's project (policy alone lets any user "get").
        var caller = http.Caller();
        if (g is null || !caller.IsAdmin && g.ProjectId != caller.ProjectId || !NeutronPolicy.CanSee(http, "security_group", Target(g)))
            throw new OpenStackError(404, "SecurityGroupNotFound", $"Security group {id} does not exist");
        return g;
    }

    static Dictionary<string, string?> Target(SecurityGroupRow g) =>
        new(StringComparer.Ordinal) { ["project_id"] = g.ProjectId, ["tenant_id"] = g.ProjectId, ["id"] = g.Id, ["name"] = g.Name };

    static async Task<IResult> ShowGroupAsync(string id, HttpContext http, NetworkDb db, CancellationToken ct)
    {
        var g = await FindGroupAsync(http, db, id, ct);
        return Groups.Show(http, (await GroupViewsAsync(db, [g], ct))[0]);
    }

    static async Task<IResult> CreateGroupAsync(HttpContext http, NetworkDb db, TimeProvider time, CancellationToken ct)
    {
        var caller = http.Caller();
        var (items, bulk) = await Groups.ReadCreateAsync(http.Request, ct);
        var now = time.GetUtcNow().UtcDateTime;
        var created = new List<SecurityGroupRow>();
        foreach (var body in items)
        {
            var project = Standard.ProjectOf(body, caller);
            var target = NeutronPolicy.Target(body);
            target["project_id"] = target["tenant_id"] = project;
            NeutronPolicy.Enforce(http, "create", "security_group", body, target);
            var name = Standard.Text(body, "name") ?? "";
            if (name == "default") throw NeutronErrors.Conflict("SecurityGroupDefaultAlreadyExists", "Default security group already exists.");
            // The project's default group comes first, as Neutron makes it on the project's first group.
            await DefaultGroup.EnsureAsync(db, project, now, ct);
            var g = new SecurityGroupRow
            {
                Id = Guid.NewGuid().ToString(), ProjectId = project, Name = name, Description = Standard.Text(body, "description") ?? "",
                Stateful = Standard.Bool(body, "stateful") ?? true, CreatedAt = now, UpdatedAt = now, RevisionNumber = 1,
            };
            db.SecurityGroups.Add(g);
            foreach (var ethertype in new[] { "IPv4", "IPv6" })
                db.SecurityGroupRules.Add(new SecurityGroupRuleRow
                {
                    Id = Guid.NewGuid().ToString(), SecurityGroupId = g.Id, ProjectId = project, Direction = "egress", Ethertype = ethertype,
                    CreatedAt = now, UpdatedAt = now,
                });
            created.Add(g);
        }
        await db.SaveChangesAsync(ct);
        var views = await GroupViewsAsync(db, created, ct);
        return bulk ? new JsonResponse(new JsonObject { ["security_groups"] = new JsonArray([.. views]) }, 201) : Groups.Show(http, views[0], 201);
    }

    static async Task<IResult> UpdateGroupAsync(string id, HttpContext http, NetworkDb db, TimeProvider time, CancellationToken ct)
    {
        var body = await Groups.ReadUpdateAsync(http.Request, ct);
        var g = await FindGroupAsync(http, db, id, ct);
        NeutronPolicy.Enforce(http, "update", "security_group", body, Target(g));
        if (body.ContainsKey("name"))
        {
            var name = Standard.Text(body, "name") ?? "";
            if (g.Name == "default" && name != "default" && await db.DefaultSecurityGroups.AnyAsync(d => d.SecurityGroupId == id, ct))
                throw NeutronErrors.Conflict("SecurityGroupCannotUpdateDefault", "Updating default security group not allowed.");
            if (name == "default" && g.Name != "default") throw NeutronErrors.Conflict("SecurityGroupDefaultAlreadyExists", "Default security group already exists.");
            g.Name = name;
        }
        if (body.ContainsKey("description")) g.Description = Standard.Text(body, "description") ?? "";
        if (Standard.Bool(body, "stateful") is { } stateful)
        {
            if (stateful != g.Stateful && await db.PortSecurityGroups.AnyAsync(b => b.SecurityGroupId == id, ct))
                throw NeutronErrors.Conflict("SecurityGroupInUse", $"Security Group {id} in use.");
            g.Stateful = stateful;
        }
        Standard.Touch(g, time.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync(ct);
        return Groups.Show(http, (await GroupViewsAsync(db, [g], ct))[0]);
    }

    static async Task<IResult> DeleteGroupAsync(string id, HttpContext http, NetworkDb db, CancellationToken ct)
    {
        var caller = http.Caller();
        var g = await FindGroupAsync(http, db, id, ct);
        NeutronPolicy.Enforce(http, "delete_security_group", Target(g));
        var asDefault = await db.DefaultSecurityGroups.FirstOrDefaultAsync(d => d.SecurityGroupId == id, ct);
        if (asDefault is not null && !caller.IsAdmin)
            throw NeutronErrors.Conflict("SecurityGroupCannotRemoveDefault", "Insufficient rights for removing default security group.");
        if (await db.PortSecurityGroups.AnyAsync(b => b.SecurityGroupId == id, ct))
            throw NeutronErrors.Conflict("SecurityGroupInUse", $"Security Group {id} in use.");
        db.SecurityGroupRules.RemoveRange(await db.SecurityGroupRules.Where(r => r.SecurityGroupId == id || r.RemoteGroupId == id).ToListAsync(ct));
        if (asDefault is not null) db.DefaultSecurityGroups.Remove(asDefault);
        await Tags.RemoveAsync(db, id, ct);
        db.SecurityGroups.Remove(g);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    static async Task<IResult> ListRulesAsync(HttpContext http, NetworkDb db, CancellationToken ct)
    {
        var caller = http.Caller();
        var rows = await (caller.IsAdmin ? db.SecurityGroupRules
                : db.SecurityGroupRules.Where(r => r.ProjectId == caller.ProjectId || db.SecurityGroups.Any(g => g.Id == r.SecurityGroupId && g.ProjectId == caller.ProjectId)))
            .AsNoTracking().OrderBy(r => r.CreatedAt).ThenBy(r => r.Id).ToListAsync(ct);
        var defaults = (await db.DefaultSecurityGroups.AsNoTracking().Select(d => d.SecurityGroupId).ToListAsync(ct)).ToHashSet();
        return Rules.List(http, rows.Select(r => RuleView(r, defaults.Contains(r.SecurityGroupId))));
    }

    static async Task<SecurityGroupRuleRow> FindRuleAsync(HttpContext http, NetworkDb db, string id, CancellationToken ct)
    {
        var r = await db.SecurityGroupRules.FindAsync([id], ct);
        var group = r is null ? null : await db.SecurityGroups.FindAsync([r.SecurityGroupId], ct);
        var target = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["project_id"] = r?.ProjectId, ["tenant_id"] = r?.ProjectId, ["security_group:tenant_id"] = group?.ProjectId,
        };
        var caller = http.Caller();
        if (r is null || !caller.IsAdmin && r.ProjectId != caller.ProjectId && group?.ProjectId != caller.ProjectId
            || !NeutronPolicy.CanSee(http, "security_group_rule", target))
            throw new OpenStackError(404, "SecurityGroupRuleNotFound", $"Security group rule {id} does not exist");
        return r;
    }

    static async Task<IResult> ShowRuleAsync(string id, HttpContext http, NetworkDb db, CancellationToken ct)
    {
        var r = await FindRuleAsync(http, db, id, ct);
        return Rules.Show(http, RuleView(r, await db.DefaultSecurityGroups.AnyAsync(d => d.SecurityGroupId == r.SecurityGroupId, ct)));
    }

    static async Task<IResult> CreateRulesAsync(HttpContext http, NetworkDb db, TimeProvider time, CancellationToken ct)
    {
        var caller = http.Caller();
        var (items, bulk) = await Rules.ReadCreateAsync(http.Request, ct);
        var now = time.GetUtcNow().UtcDateTime;
        var created = new List<SecurityGroupRuleRow>();
        foreach (var body in items)
        {
            var groupId = Standard.Text(body, "security_group_id") ?? throw NeutronErrors.BadRequest("Failed to parse request. Required attribute 'security_group_id' not specified");
            var group = await FindGroupAsync(http, db, groupId, ct);
            var project = Standard.ProjectOf(body, caller);
            var target = NeutronPolicy.Target(body);
            target["project_id"] = target["tenant_id"] = project;
            target["security_group:tenant_id"] = group.ProjectId;
            NeutronPolicy.Enforce(http, "create", "security_group_rule", body, target);
            var rule = await ValidateAsync(db, body, group, now, ct);
            rule.ProjectId = project;
            if (created.Concat(await db.SecurityGroupRules.Where(r => r.SecurityGroupId == groupId).ToListAsync(ct)).FirstOrDefault(r => Same(r, rule)) is { } dup)
                throw created.Contains(dup)
                    ? NeutronErrors.Conflict("DuplicateSecurityGroupRuleInPost", "Duplicate Security Group Rule in POST.")
                    : NeutronErrors.Conflict("SecurityGroupRuleExists", $"Security group rule already exists. Rule id is {dup.Id}.");
            db.SecurityGroupRules.Add(rule);
            Standard.Touch(group, now);
            created.Add(rule);
        }
        await db.SaveChangesAsync(ct);
        var defaults = (await db.DefaultSecurityGroups.AsNoTracking().Select(d => d.SecurityGroupId).ToListAsync(ct)).ToHashSet();
        var views = created.Select(r => RuleView(r, defaults.Contains(r.SecurityGroupId))).ToList();
        return bulk ? new JsonResponse(new JsonObject { ["security_group_rules"] = new JsonArray([.. views]) }, 201) : Rules.Show(http, views[0], 201);
    }

    /// <summary>Neutron's duplicate check: a remote prefix of everything (0.0.0.0/0, ::/0) is the same as none.</summary>
    static bool Same(SecurityGroupRuleRow a, SecurityGroupRuleRow b) =>
        a.Direction == b.Direction && a.Ethertype == b.Ethertype && a.Protocol == b.Protocol && a.PortRangeMin == b.PortRangeMin
        && a.PortRangeMax == b.PortRangeMax && AnyIsNull(a.RemoteIpPrefix) == AnyIsNull(b.RemoteIpPrefix) && a.RemoteGroupId == b.RemoteGroupId
        && a.RemoteAddressGroupId == b.RemoteAddressGroupId;

    static string? AnyIsNull(string? prefix) => prefix is "0.0.0.0/0" or "::/0" ? null : prefix;

    /// <summary>A rule as Neutron's securitygroups_db checks and normalises it.</summary>
    static async Task<SecurityGroupRuleRow> ValidateAsync(NetworkDb db, JsonObject body, SecurityGroupRow group, DateTime now, CancellationToken ct)
    {
        var direction = Standard.Text(body, "direction") ?? throw NeutronErrors.BadRequest("Failed to parse request. Required attribute 'direction' not specified");
        if (direction is not ("ingress" or "egress")) throw NeutronErrors.InvalidAttribute("direction", $"{direction} is not in ['ingress', 'egress']");
        var ethertype = Standard.Text(body, "ethertype") ?? "IPv4";
        ethertype = ethertype.ToLowerInvariant() switch
        {
            "ipv4" => "IPv4",
            "ipv6" => "IPv6",
            _ => throw new OpenStackError(400, "SecurityGroupRuleInvalidEtherType",
                $"Security group rule for ethertype '{ethertype}' not supported. Allowed values are ['IPv4', 'IPv6']."),
        };
        var protocol = body["protocol"] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<int>(out var n) => n.ToString(CultureInfo.InvariantCulture),
            JsonValue v when v.TryGetValue<string>(out var s) => s.ToLowerInvariant(),
            var other => throw NeutronErrors.InvalidAttribute("protocol", $"'{other.ToJsonString()}' is not a valid protocol"),
        };
        int? number = null;
        if (protocol is not null)
        {
            if (Protocols.TryGetValue(protocol, out var known)) number = known;
            else if (int.TryParse(protocol, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 0 and <= 255) number = n;
            else throw new OpenStackError(400, "SecurityGroupRuleInvalidProtocol",
                $"Security group rule protocol {protocol} not supported. Only protocol values [{string.Join(", ", Protocols.Keys.Where(k => k != "icmpv6").Select(k => $"'{k}'"))}] and integer representations [0 to 255] are supported.");
            if (protocol == "any") (protocol, number) = (null, null);
        }
        // IPv6 rules name ICMP as ipv6-icmp (58), as Neutron makes them canonical.
        if (ethertype == "IPv6" && (protocol is "icmp" or "icmpv6" or "1" or "58" || protocol == "ipv6-icmp")) (protocol, number) = ("ipv6-icmp", 58);
        if (ethertype == "IPv4" && number == 58)
            throw new OpenStackError(400, "SecurityGroupEthertypeConflictWithProtocol", $"Invalid ethertype IPv4 for protocol {protocol}.");
        var min = Standard.Int(body, "port_range_min");
        var max = Standard.Int(body, "port_range_max");
        if (min is not null || max is not null)
        {
            if (protocol is null) throw new OpenStackError(400, "SecurityGroupProtocolRequiredWithPorts", "Must also specify protocol if port range is given.");
            if (number is { } p && PortProtocols.Contains(p))
            {
                if (min == 0 || max == 0) throw new OpenStackError(400, "SecurityGroupInvalidPortValue", "Invalid value for port 0");
                foreach (var port in new[] { min, max })
                    if (port is < 1 or > 65535) throw NeutronErrors.InvalidAttribute("port_range", $"{port} is not a valid port number");
                if (min is not null && max is not null && min > max)
                    throw new OpenStackError(400, "SecurityGroupInvalidPortRange", "For TCP/UDP protocols, port_range_min must be <= port_range_max");
                min ??= max;
                max ??= min;
            }
            else if (number is 1 or 58)
            {
                foreach (var (field, attr, value) in new[] { ("type", "port_range_min", min), ("code", "port_range_max", max) })
                    if (value is < 0 or > 255)
                        throw new OpenStackError(400, "SecurityGroupInvalidIcmpValue", $"Invalid value for ICMP {field} ({attr}) {value}. It must be 0 to 255.");
                if (min is null && max is not null)
                    throw new OpenStackError(400, "SecurityGroupMissingIcmpType", $"ICMP code (port-range-max) {max} is provided but ICMP type (port-range-min) is missing.");
            }
            else throw new OpenStackError(400, "SecurityGroupInvalidProtocolForPort",
                $"Ports cannot be specified for protocol {protocol}. Ports are only supported for ['tcp', 'udp', 'dccp', 'sctp', 'udplite', 'icmp', 'ipv6-icmp'].");
        }
        var prefix = Standard.Text(body, "remote_ip_prefix");
        var remoteGroup = Standard.Text(body, "remote_group_id");
        if (prefix is not null && remoteGroup is not null)
            throw new OpenStackError(400, "SecurityGroupRemoteGroupAndRemoteIpPrefix", "Only remote_ip_prefix or remote_group_id may be provided.");
        if (prefix is not null)
        {
            if (!IpNetwork.TryParse(prefix, out var cidr, out var normalized, strict: false))
                throw NeutronErrors.InvalidAttribute("remote_ip_prefix", $"'{prefix}' is not a valid IP subnet");
            if ((cidr.Version == 4 ? "IPv4" : "IPv6") != ethertype)
                throw new OpenStackError(400, "SecurityGroupRuleParameterConflict", $"Conflicting value ethertype {ethertype} for CIDR {prefix}");
            prefix = normalized;
        }
        if (remoteGroup is not null && !await db.SecurityGroups.AnyAsync(g => g.Id == remoteGroup, ct))
            throw new OpenStackError(404, "SecurityGroupNotFound", $"Security group {remoteGroup} does not exist");
        return new SecurityGroupRuleRow
        {
            Id = Guid.NewGuid().ToString(), SecurityGroupId = group.Id, Direction = direction, Ethertype = ethertype, Protocol = protocol,
            PortRangeMin = min, PortRangeMax = max, RemoteIpPrefix = prefix, RemoteGroupId = remoteGroup,
            Description = Standard.Text(body, "description") ?? "", CreatedAt = now, UpdatedAt = now,
        };
    }

    static async Task<IResult> DeleteRuleAsync(string id, HttpContext http, NetworkDb db, TimeProvider time, CancellationToken ct)
    {
        var r = await FindRuleAsync(http, db, id, ct);
        var group = await db.SecurityGroups.FindAsync([r.SecurityGroupId], ct);
        NeutronPolicy.Enforce(http, "delete_security_group_rule", new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["project_id"] = r.ProjectId, ["tenant_id"] = r.ProjectId, ["security_group:tenant_id"] = group?.ProjectId,
        });
        db.SecurityGroupRules.Remove(r);
        if (group is not null) Standard.Touch(group, time.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }
}
