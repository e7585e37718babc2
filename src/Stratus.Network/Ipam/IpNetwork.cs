using System.Net;
using System.Net.Sockets;

namespace Stratus.Network.Ipam;

/// <summary>An IPv4 or IPv6 prefix (10.0.0.0/24, 2001:db8::/64) with address arithmetic as UInt128.</summary>
public readonly record struct IpNetwork(UInt128 Network, int PrefixLength, int Version)
{
    public int Bits => Version == 4 ? 32 : 128;
    public UInt128 Size => PrefixLength == 0 && Version == 6 ? UInt128.MaxValue : UInt128.One << (Bits - PrefixLength);
    public UInt128 First => Network;
    public UInt128 Last => Version == 6 && PrefixLength == 0 ? UInt128.MaxValue : Network + Size - 1;

    /// <summary>Parses a CIDR; <paramref name="strict"/> refuses host bits set ("10.0.0.5/24"), as Neutron does for subnets.</summary>
    public static bool TryParse(string? text, out IpNetwork network, out string? normalized, bool strict = true)
    {
        network = default;
        normalized = null;
        if (text is null) return false;
        var slash = text.IndexOf('/');
        var addrText = slash < 0 ? text : text[..slash];
        if (!IPAddress.TryParse(addrText, out var addr)) return false;
        if (addr.AddressFamily == AddressFamily.InterNetwork && addrText.Count(c => c == '.') != 3) return false;
        var version = addr.AddressFamily == AddressFamily.InterNetwork ? 4 : addr.AddressFamily == AddressFamily.InterNetworkV6 ? 6 : 0;
        if (version == 0) return false;
        var bits = version == 4 ? 32 : 128;
        var prefix = bits;
        if (slash >= 0 && (!int.TryParse(text[(slash + 1)..], out prefix) || prefix < 0 || prefix > bits)) return false;
        var value = ToNumber(addr);
        var hostBits = bits - prefix;
        var hostMask = hostBits == 0 ? UInt128.Zero : hostBits == 128 ? UInt128.MaxValue : (UInt128.One << hostBits) - 1;
        var net = value & ~hostMask;
        network = new IpNetwork(net, prefix, version);
        normalized = network.ToString();
        return !strict || net == value;
    }

    public bool Contains(UInt128 address) => address >= First && address <= Last;

    public bool Contains(string address) => Ip.TryParse(address, out var v, out var ver) && ver == Version && Contains(v);

    public bool Overlaps(IpNetwork other) => Version == other.Version && First <= other.Last && other.First <= Last;

    public override string ToString() => $"{Ip.Format(Network, Version)}/{PrefixLength}";

    static UInt128 ToNumber(IPAddress a) => Ip.ToNumber(a);
}

/// <summary>Single addresses as numbers and back, in their canonical text.</summary>
public static class Ip
{
    public static bool TryParse(string? text, out UInt128 value, out int version)
    {
        value = 0;
        version = 0;
        if (text is null || !IPAddress.TryParse(text, out var a)) return false;
        if (a.AddressFamily == AddressFamily.InterNetwork && text.Count(c => c == '.') != 3) return false;
        version = a.AddressFamily == AddressFamily.InterNetwork ? 4 : 6;
        value = ToNumber(a);
        return true;
    }

    /// <summary>The address in its canonical form (leading zeros and IPv6 case gone), or null when it is none.</summary>
    public static string? Normalize(string? text) => TryParse(text, out var v, out var ver) ? Format(v, ver) : null;

    public static UInt128 ToNumber(IPAddress a)
    {
        var bytes = a.GetAddressBytes();
        UInt128 v = 0;
        foreach (var b in bytes) v = v << 8 | b;
        return v;
    }

    public static string Format(UInt128 value, int version)
    {
        var n = version == 4 ? 4 : 16;
        var bytes = new byte[n];
        for (var i = n - 1; i >= 0; i--)
        {
            bytes[i] = (byte)(value & 0xff);
            value >>= 8;
        }
        return new IPAddress(bytes).ToString();
    }

    /// <summary>The SLAAC address of a MAC in a /64 (modified EUI-64), as a host configures itself.</summary>
    public static UInt128 Eui64(IpNetwork prefix, string mac)
    {
        var b = mac.Split(':').Select(x => Convert.ToByte(x, 16)).ToArray();
        byte[] id = [(byte)(b[0] ^ 0x02), b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]];
        UInt128 v = 0;
        foreach (var x in id) v = v << 8 | x;
        return prefix.Network | v;
    }
}
