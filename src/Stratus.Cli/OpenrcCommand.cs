namespace Stratus.Cli;

/// <summary>
/// <c>openrc</c>: the seed's admin credentials file (section 4.2) for a region, from a node's directory or from the
/// cloud <c>up</c> made: the node's <c>admin-openrc</c> with <c>OS_REGION_NAME</c> set to the region asked for.
/// </summary>
static class OpenrcCommand
{
    public static int Run(string nodeDir, string? region)
    {
        var layout = new NodeLayout(nodeDir);
        NodeLayout.ReadOpenrc(layout);
        Console.Write(WithRegion(File.ReadAllText(layout.AdminOpenrc), region));
        return 0;
    }

    /// <summary>The credentials with another region for the services (the identity stays the one they name).</summary>
    public static string WithRegion(string openrc, string? region) => region is null ? openrc
        : string.Join('\n', openrc.Split('\n').Select(l => l.StartsWith("export OS_REGION_NAME=", StringComparison.Ordinal) ? "export OS_REGION_NAME=" + region : l));
}
