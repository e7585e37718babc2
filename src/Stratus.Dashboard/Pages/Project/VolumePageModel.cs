using Stratus.Dashboard.OpenStack;

namespace Stratus.Dashboard.Pages.Project;

/// <summary>A page of the volume panels (volumes, snapshots), over the region's block storage service.</summary>
public abstract class VolumePageModel : RegionServicePageModel
{
    protected override string ServiceType => BlockStorage.Service;

    public bool HasBlockStorage => HasService;
}
