using Stratus.Dashboard.OpenStack;

namespace Stratus.Dashboard.Pages.Project;

/// <summary>A page of the network panels (networks, routers, security groups, floating IPs), over the region's network service.</summary>
public abstract class NetworkPageModel : RegionServicePageModel
{
    protected override string ServiceType => Networking.Service;

    public bool HasNetwork => HasService;
}
