namespace Stratus.Identity.Catalog;

public sealed class Region
{
    public required string Id { get; set; }
    public string Description { get; set; } = "";
    public string? ParentRegionId { get; set; }
    public string Extra { get; set; } = "{}";
}

public sealed class Service
{
    public required string Id { get; set; }
    public required string Type { get; set; }
    public string? Name { get; set; }
    public string? Description { get; set; }
    public bool Enabled { get; set; } = true;
    public string Extra { get; set; } = "{}";
}

public sealed class Endpoint
{
    public required string Id { get; set; }
    public required string ServiceId { get; set; }
    public required string Interface { get; set; }
    /// <summary>Kept verbatim, including <c>%(project_id)s</c> templates: clients substitute them.</summary>
    public required string Url { get; set; }
    public string? RegionId { get; set; }
    public bool Enabled { get; set; } = true;
    public string Extra { get; set; } = "{}";
}

/// <summary>OS-EP-FILTER endpoint groups: a filter over endpoints, associable with projects.</summary>
public sealed class EndpointGroup
{
    public required string Id { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    public string Filters { get; set; } = "{}";
}

public sealed class ProjectEndpoint
{
    public required string ProjectId { get; set; }
    public required string EndpointId { get; set; }
}

public sealed class ProjectEndpointGroup
{
    public required string ProjectId { get; set; }
    public required string EndpointGroupId { get; set; }
}
