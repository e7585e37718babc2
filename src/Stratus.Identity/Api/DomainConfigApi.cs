using Stratus.Identity.Resource;

namespace Stratus.Identity.Api;

/// <summary>
/// Domain-specific identity configuration, <c>/v3/domains/{id}/config</c> (keystone/api/domains.py):
/// only the options Keystone allows per domain, in the [identity] and [ldap] groups, with their defaults.
/// </summary>
public static class DomainConfigApi
{
    // Keystone's whitelisted per-domain options and their defaults (null where Keystone has none).
    static readonly Dictionary<string, Dictionary<string, JsonNode?>> Defaults = new()
    {
        ["identity"] = new() { ["driver"] = "sql", ["list_limit"] = null },
        ["ldap"] = new()
        {
            ["url"] = "ldap://localhost",
            ["user"] = null,
            ["suffix"] = "cn=example,cn=com",
            ["query_scope"] = "one",
            ["user_tree_dn"] = null,
            ["user_filter"] = null,
            ["user_objectclass"] = "inetOrgPerson",
            ["user_id_attribute"] = "cn",
            ["user_name_attribute"] = "sn",
            ["user_description_attribute"] = "description",
            ["user_mail_attribute"] = "mail",
            ["user_pass_attribute"] = "userPassword",
            ["user_enabled_attribute"] = "enabled",
            ["group_tree_dn"] = null,
            ["group_filter"] = null,
            ["group_objectclass"] = "groupOfNames",
            ["group_id_attribute"] = "cn",
            ["group_name_attribute"] = "ou",
            ["group_member_attribute"] = "member",
            ["group_desc_attribute"] = "description",
            ["use_tls"] = false,
            ["page_size"] = 0,
        },
    };

    public static RouteGroupBuilder MapDomainConfig(this RouteGroupBuilder domains)
    {
        domains.MapGet("/config/default", (HttpContext http) =>
            new JsonResponse(new JsonObject { ["config"] = DefaultGroups(null) })).RequirePolicy("identity:get_domain_config_default");
        domains.MapGet("/config/{group}/default", (string group) =>
            new JsonResponse(new JsonObject { ["config"] = DefaultGroups(KnownGroup(group)) })).RequirePolicy("identity:get_domain_config_default");
        domains.MapGet("/config/{group}/{option}/default", (string group, string option) =>
            new JsonResponse(new JsonObject { ["config"] = new JsonObject { [option] = Defaults[KnownGroup(group)][KnownOption(group, option)]?.DeepClone() } }))
            .RequirePolicy("identity:get_domain_config_default");

        domains.MapPut("/{domainId}/config", Create).RequirePolicy("identity:create_domain_config");
        domains.MapGet("/{domainId}/config", (IdentityDb db, string domainId, CancellationToken ct) => Show(db, domainId, null, null, ct))
            .RequirePolicy("identity:get_domain_config");
        domains.MapGet("/{domainId}/config/{group}", (IdentityDb db, string domainId, string group, CancellationToken ct) => Show(db, domainId, group, null, ct))
            .RequirePolicy("identity:get_domain_config");
        domains.MapGet("/{domainId}/config/{group}/{option}", (IdentityDb db, string domainId, string group, string option, CancellationToken ct) =>
            Show(db, domainId, group, option, ct)).RequirePolicy("identity:get_domain_config");
        domains.MapPatch("/{domainId}/config", (HttpContext http, IdentityDb db, string domainId, CancellationToken ct) => Update(http, db, domainId, null, null, ct))
            .RequirePolicy("identity:update_domain_config");
        domains.MapPatch("/{domainId}/config/{group}", (HttpContext http, IdentityDb db, string domainId, string group, CancellationToken ct) =>
            Update(http, db, domainId, group, null, ct)).RequirePolicy("identity:update_domain_config");
        domains.MapPatch("/{domainId}/config/{group}/{option}", (HttpContext http, IdentityDb db, string domainId, string group, string option, CancellationToken ct) =>
            Update(http, db, domainId, group, option, ct)).RequirePolicy("identity:update_domain_config");
        domains.MapDelete("/{domainId}/config", (IdentityDb db, string domainId, CancellationToken ct) => Delete(db, domainId, null, null, ct))
            .RequirePolicy("identity:delete_domain_config");
        domains.MapDelete("/{domainId}/config/{group}", (IdentityDb db, string domainId, string group, CancellationToken ct) => Delete(db, domainId, group, null, ct))
            .RequirePolicy("identity:delete_domain_config");
        domains.MapDelete("/{domainId}/config/{group}/{option}", (IdentityDb db, string domainId, string group, string option, CancellationToken ct) =>
            Delete(db, domainId, group, option, ct)).RequirePolicy("identity:delete_domain_config");
        return domains;
    }

    static string KnownGroup(string group) =>
        Defaults.ContainsKey(group) ? group : throw OpenStackError.NotFound($"Could not find group {group} in the domain configuration.");

    static string KnownOption(string group, string option) =>
        Defaults[KnownGroup(group)].ContainsKey(option) ? option
            : throw OpenStackError.NotFound($"Could not find option {option} in group {group} in the domain configuration.");

    static JsonObject DefaultGroups(string? only)
    {
        var config = new JsonObject();
        foreach (var (group, options) in Defaults)
        {
            if (only is not null && group != only) continue;
            var o = new JsonObject();
            foreach (var (k, v) in options) o[k] = v?.DeepClone();
            config[group] = o;
        }
        return config;
    }

    /// <summary>Validates a {"group": {"option": value}} document against the allowed options.</summary>
    static List<DomainConfig> Parse(string domainId, JsonObject config)
    {
        var rows = new List<DomainConfig>();
        foreach (var (group, options) in config)
        {
            if (!Defaults.ContainsKey(group))
                throw OpenStackError.Forbidden($"Group {group} is not supported for domain specific configurations.");
            if (options is not JsonObject o)
                throw OpenStackError.BadRequest($"Invalid input for field 'config/{group}': expected an object.");
            foreach (var (option, value) in o)
            {
                if (!Defaults[group].ContainsKey(option))
                    throw OpenStackError.Forbidden($"Option {option} in group {group} is not supported for domain specific configurations.");
                rows.Add(new DomainConfig { DomainId = domainId, Group = group, Option = option, Value = value?.ToJsonString() ?? "null" });
            }
        }
        return rows;
    }

    static JsonObject Render(IEnumerable<DomainConfig> rows)
    {
        var config = new JsonObject();
        foreach (var row in rows.OrderBy(r => r.Group).ThenBy(r => r.Option))
        {
            if (config[row.Group] is not JsonObject g) config[row.Group] = g = new JsonObject();
            g[row.Option] = JsonNode.Parse(row.Value);
        }
        return config;
    }

    static async Task<IResult> Create(HttpContext http, IdentityDb db, string domainId, CancellationToken ct)
    {
        await Lookup.DomainAsync(db, domainId, ct);
        var rows = Parse(domainId, (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("config"));
        if (rows.Count == 0) throw OpenStackError.BadRequest("The domain configuration is empty.");
        var existed = await db.DomainConfigs.AnyAsync(c => c.DomainId == domainId, ct);
        await db.DomainConfigs.Where(c => c.DomainId == domainId).ExecuteDeleteAsync(ct);
        db.DomainConfigs.AddRange(rows);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["config"] = Render(rows) }, existed ? 200 : 201);
    }

    static async Task<IResult> Show(IdentityDb db, string domainId, string? group, string? option, CancellationToken ct)
    {
        await Lookup.DomainAsync(db, domainId, ct);
        var rows = await db.DomainConfigs.AsNoTracking()
            .Where(c => c.DomainId == domainId && (group == null || c.Group == group) && (option == null || c.Option == option)).ToListAsync(ct);
        if (rows.Count == 0)
            throw OpenStackError.NotFound(group is null ? $"Could not find domain config: {domainId}."
                : option is null ? $"Could not find group {group} in the configuration of domain {domainId}."
                : $"Could not find option {option} in group {group} in the configuration of domain {domainId}.");
        var config = Render(rows);
        return new JsonResponse(new JsonObject { ["config"] = option is null ? config : config[group!]!.DeepClone() });
    }

    static async Task<IResult> Update(HttpContext http, IdentityDb db, string domainId, string? group, string? option, CancellationToken ct)
    {
        await Lookup.DomainAsync(db, domainId, ct);
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("config");
        // A group or option in the URL scopes the body to it, as Keystone's update does.
        var doc = option is not null ? new JsonObject { [group!] = body.DeepClone() } : body;
        var rows = Parse(domainId, doc);
        if (group is not null && rows.Any(r => r.Group != group || (option is not null && r.Option != option)))
            throw OpenStackError.BadRequest("The request body names a group or option other than the one in the URL.");
        var current = await db.DomainConfigs.Where(c => c.DomainId == domainId).ToListAsync(ct);
        if (current.Count == 0) throw OpenStackError.NotFound($"Could not find domain config: {domainId}.");
        foreach (var row in rows)
        {
            var existing = current.FirstOrDefault(c => c.Group == row.Group && c.Option == row.Option);
            if (existing is null) { db.DomainConfigs.Add(row); current.Add(row); }
            else existing.Value = row.Value;
        }
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["config"] = Render(current) });
    }

    static async Task<IResult> Delete(IdentityDb db, string domainId, string? group, string? option, CancellationToken ct)
    {
        await Lookup.DomainAsync(db, domainId, ct);
        var n = await db.DomainConfigs
            .Where(c => c.DomainId == domainId && (group == null || c.Group == group) && (option == null || c.Option == option))
            .ExecuteDeleteAsync(ct);
        if (n == 0) throw OpenStackError.NotFound($"Could not find domain config: {domainId}.");
        return Results.NoContent();
    }
}
