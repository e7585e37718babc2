namespace Stratus.Identity.Resource;

public sealed class Domain
{
    public const string DefaultId = "default";

    public required string Id { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; } = "";
    public bool Enabled { get; set; } = true;
    public string Extra { get; set; } = "{}";
    public string Options { get; set; } = "{}";
    /// <summary>The domain's tags as a JSON array (Keystone keeps them as the tags of the project acting as the domain).</summary>
    public string Tags { get; set; } = "[]";
}

public sealed class Project
{
    public required string Id { get; set; }
    public required string Name { get; set; }
    public required string DomainId { get; set; }
    /// <summary>Null for a top-level project (the API then shows its domain as parent_id).</summary>
    public string? ParentId { get; set; }
    public string? Description { get; set; } = "";
    public bool Enabled { get; set; } = true;
    public string Extra { get; set; } = "{}";
    public string Options { get; set; } = "{}";
    public List<ProjectTag> Tags { get; set; } = [];
}

public sealed class ProjectTag
{
    public required string ProjectId { get; set; }
    public required string Name { get; set; }
}

/// <summary>Domain-specific identity configuration (<c>/v3/domains/{id}/config</c>).</summary>
public sealed class DomainConfig
{
    public required string DomainId { get; set; }
    public required string Group { get; set; }
    public required string Option { get; set; }
    /// <summary>The option's value as JSON.</summary>
    public required string Value { get; set; }
    public bool Sensitive { get; set; }
}
