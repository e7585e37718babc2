namespace Stratus.Network.Ipam;

/// <summary>
/// A set of addresses of one IP version kept as sorted, merged ranges (netaddr's IPSet, as Neutron's
/// subnet pools use it): prefixes added and removed, written back as the fewest CIDRs, and the first
/// free aligned block of a prefix length found for a subnet allocated from a pool.
/// </summary>
public sealed class PrefixSet(int version)
{
    readonly List<(UInt128 Start, UInt128 End)> _ranges = [];

    public int Version => version;
    int Bits => version == 4 ? 32 : 128;

    public void Add(IpNetwork n)
    {
        _ranges.Add((n.First, n.Last));
        _ranges.Sort((a, b) => a.Start.CompareTo(b.Start));
        var merged = new List<(UInt128 Start, UInt128 End)>();
        foreach (var r in _ranges)
        {
            if (merged.Count > 0 && (merged[^1].End == UInt128.MaxValue || r.Start <= merged[^1].End + 1))
                merged[^1] = (merged[^1].Start, r.End > merged[^1].End ? r.End : merged[^1].End);
            else merged.Add(r);
        }
        _ranges.Clear();
        _ranges.AddRange(merged);
    }

    public void Remove(IpNetwork n)
    {
        var result = new List<(UInt128, UInt128)>();
        foreach (var (s, e) in _ranges)
        {
            if (n.Last < s || n.First > e) { result.Add((s, e)); continue; }
            if (n.First > s) result.Add((s, n.First - 1));
            if (n.Last < e) result.Add((n.Last + 1, e));
        }
        _ranges.Clear();
        _ranges.AddRange(result);
    }

    /// <summary>Whether every address of <paramref name="n"/> is in the set.</summary>
    public bool Covers(IpNetwork n) => _ranges.Any(r => r.Start <= n.First && n.Last <= r.End);

    /// <summary>The set as the fewest CIDRs, in order.</summary>
    public List<IpNetwork> Cidrs()
    {
        var result = new List<IpNetwork>();
        foreach (var (start, end) in _ranges)
        {
            var s = start;
            while (true)
            {
                // The largest aligned block at s that does not pass end.
                var len = Bits;
                while (len > 0)
                {
                    var hostBits = Bits - (len - 1);
                    var size = hostBits >= 128 ? UInt128.MaxValue : UInt128.One << hostBits;
                    if (hostBits >= 128 ? s != 0 : s % size != 0) break;
                    var last = hostBits >= 128 ? UInt128.MaxValue : s + size - 1;
                    if (last > end || last < s) break;
                    len--;
                }
                var block = new IpNetwork(s, len, version);
                result.Add(block);
                if (block.Last >= end) break;
                s = block.Last + 1;
            }
        }
        return result;
    }

    /// <summary>The first block of <paramref name="prefixLength"/> wholly in the set, or null.</summary>
    public IpNetwork? FirstFree(int prefixLength)
    {
        var hostBits = Bits - prefixLength;
        var size = hostBits >= 128 ? UInt128.MaxValue : UInt128.One << hostBits;
        foreach (var (start, end) in _ranges)
        {
            var aligned = hostBits >= 128 ? UInt128.Zero : (start + size - 1) / size * size;
            if (aligned < start) continue;
            var last = hostBits >= 128 ? UInt128.MaxValue : aligned + size - 1;
            if (last <= end && last >= aligned) return new IpNetwork(aligned, prefixLength, version);
        }
        return null;
    }
}
