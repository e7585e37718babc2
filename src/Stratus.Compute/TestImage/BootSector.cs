namespace Stratus.Compute.TestImage;

/// <summary>
/// Writes a disk's master boot record: SYSLINUX's boot code and one active FAT16 partition, the same
/// table sfdisk would write, without needing it.
/// </summary>
static class BootSector
{
    public const int SectorSize = 512;

    public static void Write(string disk, byte[] bootCode, long firstSector, long sectors)
    {
        var mbr = new byte[SectorSize];
        bootCode.AsSpan(0, Math.Min(bootCode.Length, 440)).CopyTo(mbr);
        var entry = mbr.AsSpan(446, 16);
        entry[0] = 0x80;                                         // active: the BIOS boots it
        entry[1] = 0xFE; entry[2] = 0xFF; entry[3] = 0xFF;       // CHS start unused: LBA only
        entry[4] = 0x0E;                                         // FAT16 addressed by LBA
        entry[5] = 0xFE; entry[6] = 0xFF; entry[7] = 0xFF;
        BitConverter.TryWriteBytes(entry[8..12], (uint)firstSector);
        BitConverter.TryWriteBytes(entry[12..16], (uint)sectors);
        mbr[510] = 0x55;
        mbr[511] = 0xAA;
        using var file = new FileStream(disk, FileMode.Open, FileAccess.Write);
        file.Write(mbr);
    }
}
