namespace Stratus.BlockStorage.Volume;

/// <summary>
/// Cinder's user messages (cinder/message): why an asynchronous operation failed, for the volume's owner to
/// read at <c>GET /v3/{project}/messages</c>. The text is "action:detail" as Cinder's API builds it.
/// </summary>
public static class UserMessages
{
    public static readonly (string Id, string Text) ScheduleAllocateVolume = ("001", "schedule allocate volume"),
        CopyVolumeToImage = ("003", "copy volume to image"), CopyImageToVolume = ("005", "copy image to volume"), ExtendVolume = ("007", "extend volume"),
        CreateVolumeFromBackend = ("008", "create volume from backend storage"), SnapshotCreate = ("009", "create snapshot"),
        SnapshotDelete = ("010", "delete snapshot");

    public static readonly (string Id, string Text) UnknownError = ("001", "An unknown error occurred."),
        NoBackendAvailable = ("003", "Could not find any available weighted backend."),
        FailedToUploadVolume = ("004", "Failed to upload volume to image at backend."),
        NotEnoughSpaceForImage = ("007", "Image used for creating volume exceeds available space."),
        DriverFailedExtend = ("010", "Volume Driver failed to extend volume."),
        DriverFailedCreate = ("012", "Driver failed to create the volume."),
        SnapshotCreateError = ("013", "Snapshot failed to create."),
        SnapshotDeleteError = ("016", "Snapshot failed to delete."),
        // The seed's words (section 6), with the reason: an unreachable or wrong image service is the usual cause.
        ImageUnavailable = ("019", "Invalid image identifier or unable to access requested image.");

    /// <summary>Messages live for Cinder's message_ttl (30 days).</summary>
    static readonly TimeSpan Ttl = TimeSpan.FromDays(30);

    public static void Add(CinderDb db, string projectId, string resourceType, string resourceId, (string Id, string Text) action,
        (string Id, string Text) detail, DateTime now, string? requestId = null, string? reason = null) =>
        db.Messages.Add(New(projectId, resourceType, resourceId, action, detail, now, requestId, reason));

    public static UserMessage New(string projectId, string resourceType, string resourceId, (string Id, string Text) action,
        (string Id, string Text) detail, DateTime now, string? requestId = null, string? reason = null) => new()
        {
            ProjectId = projectId,
            ResourceType = resourceType,
            ResourceUuid = resourceId,
            RequestId = requestId,
            EventId = $"VOLUME_{resourceType}_{action.Id}_{detail.Id}",
            Message = $"{action.Text}:{detail.Text}" + (reason is null ? "" : " Reason: " + reason),
            CreatedAt = now,
            ExpiresAt = now + Ttl,
        };
}
