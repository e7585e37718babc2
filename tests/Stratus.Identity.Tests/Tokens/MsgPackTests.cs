using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using MessagePack;

namespace Stratus.Identity.Tests.Tokens;

/// <summary>
/// The MessagePack library's writer and reader, as the token formatter calls them, give and take the
/// bytes of Python's msgpack 1.x (Keystone's packb/unpackb defaults) for every form a payload uses.
/// </summary>
public class MsgPackTests
{
    /// <summary>A C# value from make-vectors.py's JSON spec, and what reading its encoding gives back.</summary>
    static (object? Value, object? Decoded) Build(JsonObject spec)
    {
        var (kind, v) = spec.Single();
        switch (kind)
        {
            case "nil": return (null, null);
            case "bool": return ((bool)v!, (bool)v!);
            case "int":
                {
                    var s = (string)v!;
                    if (long.TryParse(s, CultureInfo.InvariantCulture, out var l)) return (l, l);
                    return (ulong.Parse(s, CultureInfo.InvariantCulture), "overflow");
                }
            case "float": return ((double)v!, (double)v!);
            case "float32": return ((float)(double)v!, (double)(float)(double)v!);
            case "str": return ((string)v!, (string)v!);
            case "bin": var b = Convert.FromHexString((string)v!); return (b, b);
            case "str_repeat":
                {
                    var s = string.Concat(Enumerable.Repeat((string)v![0]!, (int)v[1]!));
                    return (s, s);
                }
            case "bin_repeat":
                {
                    var unit = Convert.FromHexString((string)v![0]!);
                    var bytes = Enumerable.Repeat(unit, (int)v[1]!).SelectMany(x => x).ToArray();
                    return (bytes, bytes);
                }
            case "array":
                {
                    var items = v!.AsArray().Select(x => Build(x!.AsObject())).ToArray();
                    return (items.Select(i => i.Value).ToArray(), items.Select(i => i.Decoded).ToArray());
                }
            case "array_repeat":
                {
                    var item = Build(v![0]!.AsObject());
                    var n = (int)v[1]!;
                    return (Enumerable.Repeat(item.Value, n).ToList(), Enumerable.Repeat(item.Decoded, n).ToArray());
                }
            default: throw new InvalidOperationException(kind);
        }
    }

    /// <summary>Writes a value of <see cref="Build"/> with the writer calls the formatter makes for its type.</summary>
    static void Write(ref MessagePackWriter w, object? value)
    {
        switch (value)
        {
            case null: w.WriteNil(); break;
            case bool b: w.Write(b); break;
            case int i: w.Write(i); break;
            case long l: w.Write(l); break;
            case ulong u: w.Write(u); break;
            case double d: w.Write(d); break;
            case float f: w.Write(f); break;
            case string s: w.Write(s); break;
            case byte[] b: w.Write(b); break;
            case System.Collections.IList items:
                w.WriteArrayHeader(items.Count);
                foreach (var item in items) Write(ref w, item);
                break;
            default: throw new ArgumentException(value.GetType().Name);
        }
    }

    static byte[] Encode(object? value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        Write(ref w, value);
        w.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads one value with the reader calls the formatter makes for its type.</summary>
    static object? Read(ref MessagePackReader r)
    {
        switch (r.NextMessagePackType)
        {
            case MessagePackType.Nil: r.ReadNil(); return null;
            case MessagePackType.Boolean: return r.ReadBoolean();
            case MessagePackType.Integer: return r.ReadInt64();
            case MessagePackType.Float: return r.ReadDouble();
            case MessagePackType.String: return r.ReadString();
            case MessagePackType.Binary: return r.ReadBytes()!.Value.ToArray();
            case MessagePackType.Array:
                var items = new object?[r.ReadArrayHeader()];
                for (var i = 0; i < items.Length; i++) items[i] = Read(ref r);
                return items;
            default: throw new InvalidOperationException(r.NextMessagePackType.ToString());
        }
    }

    static object? Decode(byte[] data)
    {
        var r = new MessagePackReader(data);
        var value = Read(ref r);
        Assert.True(r.End);
        return value;
    }

    static void AssertDecodedEqual(object? expected, object? actual)
    {
        switch (expected)
        {
            case object?[] e:
                var a = Assert.IsType<object?[]>(actual);
                Assert.Equal(e.Length, a.Length);
                for (var i = 0; i < e.Length; i++) AssertDecodedEqual(e[i], a[i]);
                break;
            case byte[] e: Assert.Equal(e, Assert.IsType<byte[]>(actual)); break;
            default:
                Assert.Equal(expected, actual);
                if (expected is not null) Assert.IsType(expected.GetType(), actual);
                break;
        }
    }

    public static TheoryData<int> VectorIndexes() => [.. Enumerable.Range(0, KeystoneVectors.Root["msgpack_vectors"]!.AsArray().Count)];

    [Theory]
    [MemberData(nameof(VectorIndexes))]
    public void Writes_and_reads_like_python_msgpack(int index)
    {
        var vector = KeystoneVectors.Root["msgpack_vectors"]![index]!.AsObject();
        var (value, decoded) = Build(vector["value"]!.AsObject());

        var encoded = Encode(value);
        Assert.Equal((int)vector["length"]!, encoded.Length);
        Assert.Equal((string)vector["sha256"]!, Convert.ToHexStringLower(SHA256.HashData(encoded)));
        if (vector["hex"] is { } hex) Assert.Equal((string)hex!, Convert.ToHexStringLower(encoded));

        if (decoded is "overflow")
        {
            Assert.Throws<OverflowException>(() => Decode(encoded)); // a uint64 beyond long: the formatter gives null
            return;
        }
        AssertDecodedEqual(decoded, Decode(encoded));
    }

    [Fact]
    public void Python_bytes_are_bin_and_text_is_str()
    {
        // What Keystone's packb((0, (True, b'ab'), 'x')) gives with msgpack 1.x (use_bin_type=True).
        var expected = Convert.FromHexString("9300" + "92c3c4026162" + "a178");
        Assert.Equal(expected, Encode(new object?[] { 0L, new object?[] { true, new byte[] { 0x61, 0x62 } }, "x" }));
        var decoded = Assert.IsType<object?[]>(Decode(expected));
        Assert.Equal(0L, decoded[0]);
        Assert.Equal(new byte[] { 0x61, 0x62 }, Assert.IsType<object?[]>(decoded[1])[1]);
        Assert.Equal("x", decoded[2]);
    }

    [Fact]
    public void Writes_every_integer_width_in_its_smallest_form()
    {
        Assert.Equal("cc80", Convert.ToHexStringLower(Encode(128)));
        Assert.Equal("7f", Convert.ToHexStringLower(Encode(127)));
        Assert.Equal("d0df", Convert.ToHexStringLower(Encode(-33)));
        Assert.Equal("cd1000", Convert.ToHexStringLower(Encode(4096L)));
        Assert.Equal("ce00010000", Convert.ToHexStringLower(Encode(65536L)));
        Assert.Equal("cfffffffffffffffff", Convert.ToHexStringLower(Encode(ulong.MaxValue)));
        Assert.Equal("d38000000000000000", Convert.ToHexStringLower(Encode(long.MinValue)));
        Assert.Equal("ca3fc00000", Convert.ToHexStringLower(Encode(1.5f)));
        Assert.Equal("cb3ff8000000000000", Convert.ToHexStringLower(Encode(1.5)));
    }
}
