namespace Stratus.Identity.Assignment;

public sealed class Role
{
    public required string Id { get; set; }
    public required string Name { get; set; }
    /// <summary>Null for a global role; set for a domain-specific role.</summary>
    public string? DomainId { get; set; }
    public string? Description { get; set; }
    public string Extra { get; set; } = "{}";
    public string Options { get; set; } = "{}";
}

public sealed class ImpliedRole
{
    public required string PriorRoleId { get; set; }
    public required string ImpliedRoleId { get; set; }
}

/// <summary>Who holds which role where, as Keystone's assignment and system_assignment tables.</summary>
public sealed class RoleAssignment
{
    public const string System = "system";

    public required string Type { get; set; }
    public required string ActorId { get; set; }
    /// <summary>A project id, a domain id, or "system" for system assignments.</summary>
    public required string TargetId { get; set; }
    public required string RoleId { get; set; }
    public bool Inherited { get; set; }
}

public static class AssignmentType
{
    public const string UserProject = "UserProject";
    public const string GroupProject = "GroupProject";
    public const string UserDomain = "UserDomain";
    public const string GroupDomain = "GroupDomain";
    public const string UserSystem = "UserSystem";
    public const string GroupSystem = "GroupSystem";
}
