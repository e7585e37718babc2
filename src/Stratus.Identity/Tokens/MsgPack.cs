using System.Buffers.Binary;
using System.Text;

namespace Stratus.Identity.Tokens;

/// <summary>
/// The part of MessagePack that Keystone's token payloads use: nil, booleans, integers, floats,
/// str, bin and arrays. Decoding is strict: malformed input throws <see cref="FormatException"/>.
/// </summary>
public static class MsgPack
{
    public static byte[] Encode(object? value)
    {
        var buf = new List<byte>(128);
        Write(buf, value);
        return [.. buf];
    }

    static void Write(List<byte> b, object? v)
    {
        switch (v)
        {
            case null: b.Add(0xc0); break;
            case bool x: b.Add(x ? (byte)0xc3 : (byte)0xc2); break;
            case int i: WriteInt(b, i); break;
            case long l: WriteInt(b, l); break;
            case double d:
                b.Add(0xcb);
                Span<byte> f = stackalloc byte[8];
                BinaryPrimitives.WriteDoubleBigEndian(f, d);
                b.AddRange(f.ToArray());
                break;
            case string s:
            {
                var bytes = Encoding.UTF8.GetBytes(s);
                if (bytes.Length < 32) b.Add((byte)(0xa0 | bytes.Length));
                else if (bytes.Length < 256) { b.Add(0xd9); b.Add((byte)bytes.Length); }
                else if (bytes.Length < 65536) { b.Add(0xda); AddBe16(b, bytes.Length); }
                else { b.Add(0xdb); AddBe32(b, bytes.Length); }
                b.AddRange(bytes);
                break;
            }
            case byte[] bytes:
                if (bytes.Length < 256) { b.Add(0xc4); b.Add((byte)bytes.Length); }
                else if (bytes.Length < 65536) { b.Add(0xc5); AddBe16(b, bytes.Length); }
                else { b.Add(0xc6); AddBe32(b, bytes.Length); }
                b.AddRange(bytes);
                break;
            case System.Collections.IList list:
                if (list.Count < 16) b.Add((byte)(0x90 | list.Count));
                else if (list.Count < 65536) { b.Add(0xdc); AddBe16(b, list.Count); }
                else { b.Add(0xdd); AddBe32(b, list.Count); }
                foreach (var item in list) Write(b, item);
                break;
            default:
                throw new ArgumentException($"cannot encode {v.GetType().Name} as msgpack");
        }
    }

    static void WriteInt(List<byte> b, long v)
    {
        if (v >= 0 && v < 128) b.Add((byte)v);
        else if (v < 0 && v >= -32) b.Add((byte)(sbyte)v);
        else if (v >= 0 && v <= byte.MaxValue) { b.Add(0xcc); b.Add((byte)v); }
        else if (v >= 0 && v <= ushort.MaxValue) { b.Add(0xcd); AddBe16(b, (int)v); }
        else if (v >= 0 && v <= uint.MaxValue) { b.Add(0xce); AddBe32(b, (int)(uint)v); }
        else if (v >= 0) { b.Add(0xcf); AddBe64(b, v); }
        else if (v >= sbyte.MinValue) { b.Add(0xd0); b.Add((byte)(sbyte)v); }
        else if (v >= short.MinValue) { b.Add(0xd1); AddBe16(b, (int)v); }
        else if (v >= int.MinValue) { b.Add(0xd2); AddBe32(b, (int)v); }
        else { b.Add(0xd3); AddBe64(b, v); }
    }

    static void AddBe16(List<byte> b, int v) { b.Add((byte)(v >> 8)); b.Add((byte)v); }
    static void AddBe32(List<byte> b, int v) { AddBe16(b, v >> 16); AddBe16(b, v); }
    static void AddBe64(List<byte> b, long v) { AddBe32(b, (int)(v >> 32)); AddBe32(b, (int)v); }

    /// <summary>Decodes one value: long, double, string, byte[], bool, null or object?[].</summary>
    public static object? Decode(ReadOnlySpan<byte> data)
    {
        var pos = 0;
        var v = Read(data, ref pos, 0);
        if (pos != data.Length) throw new FormatException("trailing bytes after msgpack value");
        return v;
    }

    static object? Read(ReadOnlySpan<byte> d, ref int p, int depth)
    {
        if (depth > 16) throw new FormatException("msgpack nesting too deep");
        var t = Take(d, ref p, 1)[0];
        if (t <= 0x7f) return (long)t;
        if (t >= 0xe0) return (long)(sbyte)t;
        if ((t & 0xe0) == 0xa0) return Encoding.UTF8.GetString(Take(d, ref p, t & 0x1f));
        if ((t & 0xf0) == 0x90) return ReadArray(d, ref p, t & 0x0f, depth);
        return t switch
        {
            0xc0 => null,
            0xc2 => false,
            0xc3 => true,
            0xc4 => Take(d, ref p, Take(d, ref p, 1)[0]).ToArray(),
            0xc5 => Take(d, ref p, BinaryPrimitives.ReadUInt16BigEndian(Take(d, ref p, 2))).ToArray(),
            0xc6 => Take(d, ref p, Length(BinaryPrimitives.ReadUInt32BigEndian(Take(d, ref p, 4)))).ToArray(),
            0xca => (double)BinaryPrimitives.ReadSingleBigEndian(Take(d, ref p, 4)),
            0xcb => BinaryPrimitives.ReadDoubleBigEndian(Take(d, ref p, 8)),
            0xcc => (long)Take(d, ref p, 1)[0],
            0xcd => (long)BinaryPrimitives.ReadUInt16BigEndian(Take(d, ref p, 2)),
            0xce => (long)BinaryPrimitives.ReadUInt32BigEndian(Take(d, ref p, 4)),
            0xcf => checked((long)BinaryPrimitives.ReadUInt64BigEndian(Take(d, ref p, 8))),
            0xd0 => (long)(sbyte)Take(d, ref p, 1)[0],
            0xd1 => (long)BinaryPrimitives.ReadInt16BigEndian(Take(d, ref p, 2)),
            0xd2 => (long)BinaryPrimitives.ReadInt32BigEndian(Take(d, ref p, 4)),
            0xd3 => BinaryPrimitives.ReadInt64BigEndian(Take(d, ref p, 8)),
            0xd9 => Encoding.UTF8.GetString(Take(d, ref p, Take(d, ref p, 1)[0])),
            0xda => Encoding.UTF8.GetString(Take(d, ref p, BinaryPrimitives.ReadUInt16BigEndian(Take(d, ref p, 2)))),
            0xdb => Encoding.UTF8.GetString(Take(d, ref p, Length(BinaryPrimitives.ReadUInt32BigEndian(Take(d, ref p, 4))))),
            0xdc => ReadArray(d, ref p, BinaryPrimitives.ReadUInt16BigEndian(Take(d, ref p, 2)), depth),
            0xdd => ReadArray(d, ref p, Length(BinaryPrimitives.ReadUInt32BigEndian(Take(d, ref p, 4))), depth),
            _ => throw new FormatException($"unsupported msgpack type 0x{t:x2}"),
        };
    }

    static int Length(uint n) => n > int.MaxValue ? throw new FormatException("msgpack length too large") : (int)n;

    static object?[] ReadArray(ReadOnlySpan<byte> d, ref int p, int n, int depth)
    {
        if (n > d.Length - p) throw new FormatException("msgpack array longer than its data");
        var a = new object?[n];
        for (var i = 0; i < n; i++) a[i] = Read(d, ref p, depth + 1);
        return a;
    }

    static ReadOnlySpan<byte> Take(ReadOnlySpan<byte> d, ref int p, int n)
    {
        if (n < 0 || p + n > d.Length) throw new FormatException("truncated msgpack data");
        var s = d.Slice(p, n);
        p += n;
        return s;
    }
}
