using Stratus.Compute.Images;
using Stratus.Compute.Network;
using Stratus.Compute.Rpc;
using Stratus.Compute.Servers;

namespace Stratus.Compute.Api;

/// <summary>
/// rebuild (a new root disk from an image, on the same host) and resize/confirmResize/revertResize
/// (new flavor on the same host, as allow_resize_to_same_host; the old flavor is kept until confirmed).
/// </summary>
static class ResizeActions
{
    public static async Task<IResult> RebuildAsync(HttpContext http, CellDb db, ApiDb apiDb, ComputeApi compute, ImageClient images, NeutronClient neutron, Instance instance,
        JsonObject? args, CancellationToken ct)
    {
        var v = Microversion.Of(http);
        var caller = http.Caller();
        if (args is null) throw NovaBody.Invalid("rebuild", null, "is not of type 'object'");
        var allowed = new List<string> { "imageRef", "name", "adminPass", "metadata", "preserve_ephemeral", "OS-DCF:diskConfig", "accessIPv4", "accessIPv6", "personality" };
        if (v.AtLeast(19)) allowed.Add("description");
        if (v.AtLeast(54)) allowed.Add("key_name");
        if (v.AtLeast(57)) { allowed.Add("user_data"); allowed.Remove("personality"); }
        if (v.AtLeast(63)) allowed.Add("trusted_image_certificates");
        if (v.AtLeast(90)) allowed.Add("hostname");
        args.Only("rebuild", [.. allowed]);
        var injectedFiles = ServerFields.Personality(args);
        ServerFields.CheckInjectedFileQuota(injectedFiles, await Quotas.LimitsAsync(apiDb, instance.ProjectId, ct));
        var imageRef = ServerFields.LastSegment(args.RequiredString("imageRef", 65535));
        var flavor = InstanceFlavor.Parse(instance.FlavorJson);
        instance.CheckState("rebuild", [VmStates.Active, VmStates.Stopped, VmStates.Error]);
        // Nova before 2.93 (reimaging a boot volume): a volume-backed server keeps the image it has, which is none.
        if (instance.ImageRef.Length == 0) throw OpenStackError.BadRequest("Unable to rebuild with a different image for a volume-backed server.");
        try
        {
            await ServerImage.CheckBootableAsync(images, imageRef, flavor, caller.Token, ct);
        }
        catch (OpenStackError e) when (e.Code == 400 && e.Message.EndsWith("could not be found.", StringComparison.Ordinal))
        {
            throw OpenStackError.BadRequest("Cannot find image for rebuild");
        }
        if (args.ContainsKey("name")) instance.DisplayName = ServerFields.ServerName(args);
        if (args.ContainsKey("metadata")) instance.MetadataJson = ServerFields.Metadata(args).ToJsonString();
        if (args.ContainsKey("description")) instance.Description = args.OptionalString("description", 255, allowEmpty: true);
        if (args.ContainsKey("accessIPv4")) instance.AccessIpV4 = ServerFields.AccessIp(args, "accessIPv4", 4);
        if (args.ContainsKey("accessIPv6")) instance.AccessIpV6 = ServerFields.AccessIp(args, "accessIPv6", 6);
        if (args.ContainsKey("OS-DCF:diskConfig")) instance.AutoDiskConfig = ServerFields.DiskConfig(args);
        if (args.ContainsKey("key_name"))
        {
            var keyName = args.OptionalString("key_name");
            instance.KeyData = keyName is null ? null : (await apiDb.KeyPairs.FirstOrDefaultAsync(k => k.UserId == caller.UserId && k.Name == keyName, ct))?.PublicKey
                ?? throw OpenStackError.BadRequest("Invalid key_name provided.");
            instance.KeyName = keyName;
        }
        if (args.ContainsKey("user_data")) instance.UserData = ServerFields.UserData(args);
        if (args.ContainsKey("hostname")) instance.Hostname = args.RequiredString("hostname");
        var password = args.OptionalString("adminPass", 255, allowEmpty: true) ?? ServerFields.NewPassword();
        var stopped = instance.VmState == VmStates.Stopped;
        instance.ImageRef = imageRef;
        instance.TaskState = TaskStates.Rebuilding;
        instance.Touch();
        InstanceActions.Start(db, http, instance.Uuid, "rebuild");
        await db.SaveChangesAsync(ct);
        var volumes = (await ServerView.VolumesOfAsync(db, [instance.Uuid], ct)).GetValueOrDefault(instance.Uuid) ?? [];
        if (instance.Host is not null)
            await compute.CastAsync(instance.Host, new RebuildInstance(instance.Uuid, instance.DisplayName, flavor, imageRef, caller.Token, stopped)
            {
                Disks = [.. volumes.Where(b => b.VolumeId is not null && b.ConnectionInfoJson is not null)
                    .Select(b => Volumes.VolumeConnector.Disk(b.VolumeId!, JsonNode.Parse(b.ConnectionInfoJson!)!.AsObject()))],
                NetworkInfo = ServerNetworks.Vifs(instance.NetworkInfoJson), ConfigDrive = instance.ConfigDrive,
                MetaDataJson = Metadata.MetadataApi.MetaData(instance).ToJsonString(), UserData = instance.UserData, InjectedFiles = injectedFiles,
            }, ct);
        var full = v.AtLeast(75);
        var view = ServerView.Detail(http, instance, null, new ServerView.Parts(Full: full, KeyName: full || v.AtLeast(54), UserData: false,
            ServerGroups: v.AtLeast(71), Groups: await ServerGroupsApi.GroupsOfAsync(apiDb, instance.Uuid, ct),
            SecurityGroups: full ? (await SecurityGroupsApi.OfServersAsync(neutron, [instance], caller.Token, ct)).GetValueOrDefault(instance.Uuid) : null)
        {
            Volumes = volumes,
        });
        view["adminPass"] = password;
        if (v.AtLeast(57)) view["user_data"] = instance.UserData;
        return new JsonResponse(new JsonObject { ["server"] = view }, 202)
            .WithHeader("Location", $"{http.Request.Scheme}://{http.Request.Host}/v2.1/servers/{instance.Uuid}");
    }

    public static async Task<IResult> ResizeAsync(HttpContext http, CellDb db, ApiDb apiDb, ConductorApi conductor, Instance instance, JsonObject? args, CancellationToken ct)
    {
        var caller = http.Caller();
        if (args is null) throw NovaBody.Invalid("resize", null, "is not of type 'object'");
        args.Only("resize", "flavorRef", "OS-DCF:diskConfig");
        var flavorRef = args["flavorRef"] is JsonValue fr && fr.GetValueKind() is System.Text.Json.JsonValueKind.String or System.Text.Json.JsonValueKind.Number
            ? ServerFields.LastSegment(fr.ToString()) : throw NovaBody.Invalid("flavorRef", args["flavorRef"], "is not of type 'string', 'integer'");
        if (flavorRef.Length == 0) throw NovaBody.Invalid("flavorRef", args["flavorRef"], "is too short");
        instance.CheckState("resize", [VmStates.Active, VmStates.Stopped]);
        var current = InstanceFlavor.Parse(instance.FlavorJson);
        var flavor = await apiDb.Flavors.Include(f => f.ExtraSpecs).Include(f => f.Projects).AsSplitQuery().FirstOrDefaultAsync(f => f.FlavorId == flavorRef, ct);
        if (flavor is null || flavor.Disabled || (!flavor.IsPublic && !caller.IsAdmin && !flavor.Projects.Any(p => p.ProjectId == caller.ProjectId)))
            throw OpenStackError.BadRequest($"Flavor {flavorRef} could not be found.");
        if (flavor.FlavorId == current.FlavorId) throw OpenStackError.BadRequest("When resizing, instances must change flavor!");
        if (flavor.RootGb < current.RootGb && flavor.RootGb != 0)
            throw OpenStackError.BadRequest("Resize error: Unable to resize disk down.");
        await Quotas.CheckDeltasAsync(db, apiDb, instance.ProjectId, 0, flavor.Vcpus - current.Vcpus, flavor.MemoryMb - current.MemoryMb, ct);
        if (args.ContainsKey("OS-DCF:diskConfig")) instance.AutoDiskConfig = ServerFields.DiskConfig(args);
        if (instance.Host is null) throw OpenStackError.Conflict($"Cannot 'resize' instance {instance.Uuid}: it has no host.");
        var oldId = await apiDb.Flavors.Where(f => f.FlavorId == current.FlavorId).Select(f => (int?)f.Id).FirstOrDefaultAsync(ct) ?? 0;
        db.Migrations.Add(new Migration
        {
            Uuid = Guid.NewGuid().ToString(), InstanceUuid = instance.Uuid, ProjectId = instance.ProjectId, UserId = caller.UserId,
            SourceCompute = instance.Host, SourceNode = instance.Node, DestCompute = instance.Host, DestNode = instance.Node, DestHost = instance.Host,
            OldFlavorId = oldId, NewFlavorId = flavor.Id, CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow,
        });
        instance.TaskState = TaskStates.ResizePrep;
        instance.Touch();
        InstanceActions.Start(db, http, instance.Uuid, "resize");
        await db.SaveChangesAsync(ct);
        await conductor.CastAsync(new MigrateServer(instance.Uuid, InstanceFlavor.Of(flavor)), ct);
        return Results.StatusCode(202);
    }

    static async Task<Migration> MigrationAsync(CellDb db, Instance instance, CancellationToken ct) =>
        await db.Migrations.Where(m => m.InstanceUuid == instance.Uuid && m.Status == "finished").OrderByDescending(m => m.Id).FirstOrDefaultAsync(ct)
        ?? throw OpenStackError.BadRequest("Instance has not been resized.");

    /// <summary>Same-host resize keeps nothing of the old flavor on the host: confirming only forgets it.</summary>
    public static async Task<IResult> ConfirmAsync(HttpContext http, CellDb db, Instance instance, CancellationToken ct)
    {
        var migration = await MigrationAsync(db, instance, ct);
        instance.CheckState("confirmResize", [VmStates.Resized]);
        migration.Status = "confirmed";
        migration.UpdatedAt = DateTime.UtcNow;
        instance.VmState = instance.PowerState == (int)Virt.PowerState.Running ? VmStates.Active : VmStates.Stopped;
        instance.OldFlavorJson = null;
        instance.Touch();
        InstanceActions.Start(db, http, instance.Uuid, "confirmResize", finished: true);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    public static async Task<IResult> RevertAsync(HttpContext http, CellDb db, ConductorApi conductor, Instance instance, CancellationToken ct)
    {
        var migration = await MigrationAsync(db, instance, ct);
        instance.CheckState("revertResize", [VmStates.Resized]);
        migration.Status = "reverting";
        migration.UpdatedAt = DateTime.UtcNow;
        instance.TaskState = TaskStates.ResizeReverting;
        instance.Touch();
        InstanceActions.Start(db, http, instance.Uuid, "revertResize");
        await db.SaveChangesAsync(ct);
        await conductor.CastAsync(new RevertResize(instance.Uuid), ct);
        return Results.StatusCode(202);
    }
}
