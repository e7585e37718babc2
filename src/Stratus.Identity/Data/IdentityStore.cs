using System.Collections.Concurrent;
using System.Data.Common;
using Stratus.Core.Data;
using Stratus.Identity.Assignment;
using Stratus.Identity.Catalog;
using Stratus.Identity.Identity;
using Stratus.Identity.OAuth1;
using Stratus.Identity.Resource;
using Stratus.Identity.Tokens;
using Stratus.Identity.Trusts;

namespace Stratus.Identity.Data;

/// <summary>
/// The few reads of the identity's hot paths (token issue and validation, the catalog, the region
/// list, revocation events) in plain ADO.NET over the same tables EF Core maps in
/// <see cref="IdentityDb"/>. EF Core ships as IL only: its model, query pipeline and compiled query
/// delegates cost tens of MiB of JIT'd code and heap, and these paths are all a node serving tokens
/// uses; every other API still goes through EF Core. The SQL is written with ANSI quotes, turned
/// into backticks for MySQL.
/// </summary>
public sealed class IdentityStore(DatabaseUrl url, IdentityGeneration? generation = null)
{
    readonly ConcurrentDictionary<string, string> _sql = new(StringComparer.Ordinal);

    public DatabaseUrl Url => url;

    string Sql(string ansi) =>
        url.Kind == DatabaseKind.MySql ? _sql.GetOrAdd(ansi, static s => s.Replace('"', '`')) : ansi;

    async Task<List<T>> QueryAsync<T>(string sql, Func<DbDataReader, T> map, CancellationToken ct, params (string Name, object? Value)[] args)
    {
        await using var conn = url.CreateConnection();
        await conn.OpenAsync(ct);
        await using var cmd = Command(conn, sql, args);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var list = new List<T>();
        while (await reader.ReadAsync(ct)) list.Add(map(reader));
        return list;
    }

    async Task<T?> FirstAsync<T>(string sql, Func<DbDataReader, T> map, CancellationToken ct, params (string, object?)[] args) where T : class =>
        (await QueryAsync(sql, map, ct, args)) is [var first, ..] ? first : null;

    async Task<int> ExecuteAsync(string sql, CancellationToken ct, params (string Name, object? Value)[] args)
    {
        await using var conn = url.CreateConnection();
        await conn.OpenAsync(ct);
        await using var cmd = Command(conn, sql, args);
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    DbCommand Command(DbConnection conn, string sql, (string Name, object? Value)[] args)
    {
        var cmd = conn.CreateCommand();
        cmd.CommandText = Sql(sql);
        foreach (var (name, value) in args)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = name;
            p.Value = value ?? DBNull.Value;
            cmd.Parameters.Add(p);
        }
        return cmd;
    }

    /// <summary><c>"column" IN (@p0, @p1, ...)</c> with the values added to <paramref name="args"/>; false when empty.</summary>
    static string In(string column, IEnumerable<string> values, List<(string, object?)> args, string prefix)
    {
        var names = new List<string>();
        foreach (var v in values)
        {
            var name = "@" + prefix + names.Count;
            names.Add(name);
            args.Add((name, v));
        }
        return names.Count == 0 ? "1 = 0" : $"\"{column}\" IN ({string.Join(", ", names)})";
    }

    static string? Str(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
    static int? Int(DbDataReader r, int i) => r.IsDBNull(i) ? null : Convert.ToInt32(r.GetValue(i), System.Globalization.CultureInfo.InvariantCulture);
    static bool Bool(DbDataReader r, int i) => Convert.ToBoolean(r.GetValue(i), System.Globalization.CultureInfo.InvariantCulture);
    static DateTime? Time(DbDataReader r, int i) => r.IsDBNull(i) ? null : DateTime.SpecifyKind(r.GetDateTime(i), DateTimeKind.Utc);

    // ---- users and domains ----

    const string UserColumns = "SELECT \"Id\", \"Name\", \"DomainId\", \"Enabled\", \"DefaultProjectId\", \"PasswordHash\", \"PasswordExpiresAt\", \"LastActiveAt\" FROM \"user\" ";

    static User ReadUser(DbDataReader r) => new()
    {
        Id = r.GetString(0),
        Name = r.GetString(1),
        DomainId = r.GetString(2),
        Enabled = Bool(r, 3),
        DefaultProjectId = Str(r, 4),
        PasswordHash = Str(r, 5),
        PasswordExpiresAt = Time(r, 6),
        LastActiveAt = Time(r, 7),
    };

    /// <summary>A user with the columns token issue and validation use (not its extra fields).</summary>
    public Task<User?> UserAsync(string id, CancellationToken ct) =>
        FirstAsync(UserColumns + "WHERE \"Id\" = @id", ReadUser, ct, ("@id", id));

    public Task<User?> UserByNameAsync(string name, string domainId, CancellationToken ct) =>
        FirstAsync(UserColumns + "WHERE \"Name\" = @name AND \"DomainId\" = @domain", ReadUser, ct, ("@name", name), ("@domain", domainId));

    /// <summary>Records the day of the user's last password login (Keystone's last_active_at) when it changed.</summary>
    public async Task TouchLastActiveAsync(User user, DateTime day, CancellationToken ct)
    {
        if (user.LastActiveAt == day) return;
        if (await ExecuteAsync("UPDATE \"user\" SET \"LastActiveAt\" = @day WHERE \"Id\" = @id", ct, ("@day", day), ("@id", user.Id)) > 0)
            generation?.Bump();
    }

    static Domain ReadDomain(DbDataReader r) => new() { Id = r.GetString(0), Name = r.GetString(1), Enabled = Bool(r, 2) };

    public Task<Domain?> DomainAsync(string id, CancellationToken ct) =>
        FirstAsync("SELECT \"Id\", \"Name\", \"Enabled\" FROM \"domain\" WHERE \"Id\" = @id", ReadDomain, ct, ("@id", id));

    public async Task<string?> DomainIdByNameAsync(string name, CancellationToken ct) =>
        (await FirstAsync("SELECT \"Id\", \"Name\", \"Enabled\" FROM \"domain\" WHERE \"Name\" = @name", ReadDomain, ct, ("@name", name)))?.Id;

    // ---- projects ----

    const string ProjectColumns = "SELECT \"Id\", \"Name\", \"DomainId\", \"ParentId\", \"Enabled\" FROM \"project\" ";

    static Project ReadProject(DbDataReader r) => new()
    {
        Id = r.GetString(0),
        Name = r.GetString(1),
        DomainId = r.GetString(2),
        ParentId = Str(r, 3),
        Enabled = Bool(r, 4),
    };

    public Task<Project?> ProjectAsync(string id, CancellationToken ct) =>
        FirstAsync(ProjectColumns + "WHERE \"Id\" = @id", ReadProject, ct, ("@id", id));

    public Task<Project?> ProjectByNameAsync(string name, string? domainId, CancellationToken ct) =>
        domainId is null
            ? Task.FromResult<Project?>(null)
            : FirstAsync(ProjectColumns + "WHERE \"Name\" = @name AND \"DomainId\" = @domain", ReadProject, ct, ("@name", name), ("@domain", domainId));

    // ---- credentials ----

    /// <summary>A credential (an EC2 one, found by the hash of its access key, when a signature comes to be checked).</summary>
    public Task<Credential?> CredentialAsync(string id, CancellationToken ct) =>
        FirstAsync("SELECT \"Id\", \"UserId\", \"ProjectId\", \"Type\", \"Blob\" FROM \"credential\" WHERE \"Id\" = @id",
            r => new Credential { Id = r.GetString(0), UserId = r.GetString(1), ProjectId = Str(r, 2), Type = r.GetString(3), Blob = r.GetString(4) }, ct, ("@id", id));

    // ---- OAuth1 ----

    public Task<AccessToken?> AccessTokenAsync(string id, CancellationToken ct) =>
        FirstAsync("SELECT \"Id\", \"Secret\", \"ConsumerId\", \"AuthorizingUserId\", \"ProjectId\", \"RoleIds\", \"ExpiresAt\" FROM \"access_token\" WHERE \"Id\" = @id",
            r => new AccessToken
            {
                Id = r.GetString(0),
                Secret = r.GetString(1),
                ConsumerId = r.GetString(2),
                AuthorizingUserId = r.GetString(3),
                ProjectId = r.GetString(4),
                RoleIds = r.GetString(5),
                ExpiresAt = Time(r, 6),
            }, ct, ("@id", id));

    public Task<OAuthConsumer?> ConsumerAsync(string id, CancellationToken ct) =>
        FirstAsync("SELECT \"Id\", \"Secret\" FROM \"consumer\" WHERE \"Id\" = @id", r => new OAuthConsumer { Id = r.GetString(0), Secret = r.GetString(1) }, ct, ("@id", id));

    // ---- application credentials ----

    const string AppCredColumns = "SELECT \"Id\", \"Name\", \"UserId\", \"ProjectId\", \"System\", \"SecretHash\", \"ExpiresAt\", \"Unrestricted\", \"RoleIds\" FROM \"application_credential\" ";

    static ApplicationCredential ReadAppCred(DbDataReader r) => new()
    {
        Id = r.GetString(0),
        Name = r.GetString(1),
        UserId = r.GetString(2),
        ProjectId = Str(r, 3),
        System = Str(r, 4),
        SecretHash = r.GetString(5),
        ExpiresAt = Time(r, 6),
        Unrestricted = Bool(r, 7),
        RoleIds = r.GetString(8),
    };

    public Task<ApplicationCredential?> ApplicationCredentialAsync(string id, CancellationToken ct) =>
        FirstAsync(AppCredColumns + "WHERE \"Id\" = @id", ReadAppCred, ct, ("@id", id));

    public Task<ApplicationCredential?> ApplicationCredentialByNameAsync(string userId, string name, CancellationToken ct) =>
        FirstAsync(AppCredColumns + "WHERE \"UserId\" = @user AND \"Name\" = @name", ReadAppCred, ct, ("@user", userId), ("@name", name));

    // ---- effective roles (RoleResolver's rules over rows read here) ----

    public async Task<List<Role>> RolesForProjectAsync(string userId, string projectId, CancellationToken ct)
    {
        var actors = await ActorsAsync(userId, ct);
        var project = await ProjectAsync(projectId, ct);
        if (project is null) return [];
        var ancestors = await AncestorIdsAsync(project.ParentId, ct);
        return await EffectiveRolesAsync(actors, a => RoleResolver.CountsForProject(a, project, ancestors), ct);
    }

    public async Task<List<Role>> RolesForDomainAsync(string userId, string domainId, CancellationToken ct)
    {
        var actors = await ActorsAsync(userId, ct);
        return await EffectiveRolesAsync(actors, a => RoleResolver.CountsForDomain(a, domainId), ct);
    }

    public async Task<List<Role>> RolesForSystemAsync(string userId, CancellationToken ct)
    {
        var actors = await ActorsAsync(userId, ct);
        return await EffectiveRolesAsync(actors, RoleResolver.CountsForSystem, ct);
    }

    /// <summary>
    /// The ids of the user's effective roles on the project, domain-specific roles included (Keystone's
    /// get_roles_for_trustor_and_project): what a trust may delegate.
    /// </summary>
    public async Task<HashSet<string>> RoleIdsForProjectAsync(string userId, string projectId, CancellationToken ct)
    {
        var actors = await ActorsAsync(userId, ct);
        var project = await ProjectAsync(projectId, ct);
        if (project is null) return [];
        var ancestors = await AncestorIdsAsync(project.ParentId, ct);
        return await ClosureAsync((await AssignmentsAsync(actors, ct)).Where(a => RoleResolver.CountsForProject(a, project, ancestors)).Select(a => a.RoleId), ct);
    }

    /// <summary>The roles of the actors' assignments that count (<see cref="RoleResolver"/>'s rules), with those they imply.</summary>
    async Task<List<Role>> EffectiveRolesAsync(List<string> actors, Func<RoleAssignment, bool> counts, CancellationToken ct) =>
        await ExpandRolesAsync((await AssignmentsAsync(actors, ct)).Where(counts).Select(a => a.RoleId).Distinct().ToList(), ct);

    /// <summary>The user and every group it belongs to.</summary>
    async Task<List<string>> ActorsAsync(string userId, CancellationToken ct)
    {
        var actors = await QueryAsync("SELECT \"GroupId\" FROM \"user_group_membership\" WHERE \"UserId\" = @user", r => r.GetString(0), ct, ("@user", userId));
        actors.Add(userId);
        return actors;
    }

    async Task<List<string>> AncestorIdsAsync(string? parentId, CancellationToken ct)
    {
        var result = new List<string>();
        while (parentId is not null && result.Count < 64 && !result.Contains(parentId))
        {
            result.Add(parentId);
            parentId = (await ProjectAsync(parentId, ct))?.ParentId;
        }
        return result;
    }

    async Task<List<RoleAssignment>> AssignmentsAsync(List<string> actors, CancellationToken ct)
    {
        var args = new List<(string, object?)>();
        var where = In("ActorId", actors, args, "a");
        return await QueryAsync($"SELECT \"Type\", \"ActorId\", \"TargetId\", \"RoleId\", \"Inherited\" FROM \"assignment\" WHERE {where}",
            r => new RoleAssignment { Type = r.GetString(0), ActorId = r.GetString(1), TargetId = r.GetString(2), RoleId = r.GetString(3), Inherited = Bool(r, 4) },
            ct, [.. args]);
    }

    /// <summary>The given roles and every role they imply, global roles only, by name.</summary>
    public async Task<List<Role>> ExpandRolesAsync(IReadOnlyCollection<string> roleIds, CancellationToken ct) =>
        roleIds.Count == 0 ? [] : await GlobalRolesAsync(await ClosureAsync(roleIds, ct), ct);

    /// <summary>The given roles and every role they imply, transitively.</summary>
    public async Task<HashSet<string>> ClosureAsync(IEnumerable<string> roleIds, CancellationToken ct)
    {
        var implications = await QueryAsync("SELECT \"PriorRoleId\", \"ImpliedRoleId\" FROM \"implied_role\"",
            r => new ImpliedRole { PriorRoleId = r.GetString(0), ImpliedRoleId = r.GetString(1) }, ct);
        return roleIds.SelectMany(id => RoleResolver.Closure(implications, id)).ToHashSet();
    }

    /// <summary>Those of the roles that are global (not domain-specific), by name.</summary>
    public async Task<List<Role>> GlobalRolesAsync(IEnumerable<string> ids, CancellationToken ct)
    {
        var args = new List<(string, object?)>();
        var where = In("Id", ids, args, "r");
        return await QueryAsync($"SELECT \"Id\", \"Name\" FROM \"role\" WHERE {where} AND \"DomainId\" IS NULL ORDER BY \"Name\"",
            r => new Role { Id = r.GetString(0), Name = r.GetString(1) }, ct, [.. args]);
    }

    // ---- trusts ----

    /// <summary>A trust with its delegated role ids, expired or used up or not (the caller decides).</summary>
    public async Task<Trust?> TrustAsync(string id, CancellationToken ct)
    {
        Trust? trust = null;
        await QueryAsync("SELECT t.\"Id\", t.\"TrustorUserId\", t.\"TrusteeUserId\", t.\"ProjectId\", t.\"Impersonation\", t.\"ExpiresAt\", " +
                         "t.\"RemainingUses\", t.\"RedelegatedTrustId\", t.\"RedelegationCount\", r.\"RoleId\" " +
                         "FROM \"trust\" t LEFT JOIN \"trust_role\" r ON r.\"TrustId\" = t.\"Id\" WHERE t.\"Id\" = @id",
            r =>
            {
                trust ??= new Trust
                {
                    Id = r.GetString(0),
                    TrustorUserId = r.GetString(1),
                    TrusteeUserId = r.GetString(2),
                    ProjectId = Str(r, 3),
                    Impersonation = Bool(r, 4),
                    ExpiresAt = Time(r, 5),
                    RemainingUses = Int(r, 6),
                    RedelegatedTrustId = Str(r, 7),
                    RedelegationCount = Int(r, 8),
                };
                if (Str(r, 9) is { } role) trust.Roles.Add(new TrustRole { TrustId = trust.Id, RoleId = role });
                return 0;
            }, ct, ("@id", id));
        return trust;
    }

    /// <summary>
    /// Takes one use of a limited trust that had <paramref name="remaining"/> left: false when another
    /// token took it first (Keystone's optimistic consume_use).
    /// </summary>
    public async Task<bool> ConsumeTrustUseAsync(string id, int remaining, CancellationToken ct)
    {
        var n = await ExecuteAsync("UPDATE \"trust\" SET \"RemainingUses\" = @next WHERE \"Id\" = @id AND \"RemainingUses\" = @remaining", ct,
            ("@next", remaining - 1), ("@id", id), ("@remaining", remaining));
        if (n > 0) generation?.Bump();
        return n > 0;
    }

    // ---- catalog ----

    public Task<List<Region>> RegionsAsync(CancellationToken ct) =>
        QueryAsync("SELECT \"Id\", \"Description\", \"ParentRegionId\", \"Extra\" FROM \"region\"",
            r => new Region { Id = r.GetString(0), Description = r.GetString(1), ParentRegionId = Str(r, 2), Extra = r.GetString(3) }, ct);

    public Task<List<Service>> ServicesAsync(CancellationToken ct) =>
        QueryAsync("SELECT \"Id\", \"Type\", \"Name\", \"Enabled\" FROM \"service\" ORDER BY \"Type\"",
            r => new Service { Id = r.GetString(0), Type = r.GetString(1), Name = Str(r, 2), Enabled = Bool(r, 3) }, ct);

    public Task<List<Endpoint>> EndpointsAsync(CancellationToken ct) =>
        QueryAsync("SELECT \"Id\", \"ServiceId\", \"Interface\", \"Url\", \"RegionId\", \"Enabled\" FROM \"endpoint\"",
            r => new Endpoint { Id = r.GetString(0), ServiceId = r.GetString(1), Interface = r.GetString(2), Url = r.GetString(3), RegionId = Str(r, 4), Enabled = Bool(r, 5) }, ct);

    public Task<List<ProjectEndpoint>> ProjectEndpointsAsync(CancellationToken ct) =>
        QueryAsync("SELECT \"ProjectId\", \"EndpointId\" FROM \"project_endpoint\"",
            r => new ProjectEndpoint { ProjectId = r.GetString(0), EndpointId = r.GetString(1) }, ct);

    public Task<List<EndpointGroup>> EndpointGroupsAsync(CancellationToken ct) =>
        QueryAsync("SELECT \"Id\", \"Name\", \"Filters\" FROM \"endpoint_group\"",
            r => new EndpointGroup { Id = r.GetString(0), Name = r.GetString(1), Filters = r.GetString(2) }, ct);

    public Task<List<ProjectEndpointGroup>> ProjectEndpointGroupsAsync(CancellationToken ct) =>
        QueryAsync("SELECT \"ProjectId\", \"EndpointGroupId\" FROM \"project_endpoint_group\"",
            r => new ProjectEndpointGroup { ProjectId = r.GetString(0), EndpointGroupId = r.GetString(1) }, ct);

    // ---- revocations ----

    public Task<List<RevocationEvent>> RevocationEventsAfterAsync(long id, CancellationToken ct) =>
        QueryAsync("SELECT \"Id\", \"DomainId\", \"ProjectId\", \"UserId\", \"RoleId\", \"AuditId\", \"AuditChainId\", \"IssuedBefore\", \"ExpiresAt\", \"RevokedAt\" " +
                   "FROM \"revocation_event\" WHERE \"Id\" > @id ORDER BY \"Id\"",
            r => new RevocationEvent
            {
                Id = Convert.ToInt64(r.GetValue(0), System.Globalization.CultureInfo.InvariantCulture),
                DomainId = Str(r, 1),
                ProjectId = Str(r, 2),
                UserId = Str(r, 3),
                RoleId = Str(r, 4),
                AuditId = Str(r, 5),
                AuditChainId = Str(r, 6),
                IssuedBefore = Time(r, 7)!.Value,
                ExpiresAt = Time(r, 8),
                RevokedAt = Time(r, 9)!.Value,
            }, ct, ("@id", id));
}
