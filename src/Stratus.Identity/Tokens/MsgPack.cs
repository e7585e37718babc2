using System.Buffers;
using System.Buffers.Binary;
using System.Collections;
using System.Runtime.CompilerServices;
using System.Text;

namespace Stratus.Identity.Tokens;

/// <summary>
/// The part of MessagePack that Keystone's token payloads use: nil, booleans, integers, floats, str,
/// bin and arrays (no maps, no extension types).
/// </summary>
/// <remarks>
/// Encoding matches Python's msgpack 1.x <c>packb</c> with its defaults (<c>use_bin_type=True</c>,
/// which Keystone relies on): text is str (fixstr/str8/str16/str32), bytes are bin, every integer
/// takes its smallest form (non-negative values always unsigned), a double is float64, tuples and
/// lists are arrays. Decoding yields <see cref="long"/>, <see cref="double"/>, <see cref="string"/>,
/// <c>byte[]</c>, <see cref="bool"/>, null or <c>object?[]</c>; it is strict: truncated or malformed
/// data, invalid UTF-8 in a str, unsupported types, an unsigned 64-bit value beyond
/// <see cref="long.MaxValue"/>, over-deep nesting and trailing bytes all throw
/// <see cref="FormatException"/>, and nothing else is thrown.
/// </remarks>
public static class MsgPack
{
    /// <summary>How deeply arrays may nest when decoding (Keystone payloads use 3 levels).</summary>
    public const int MaxDepth = 32;

    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Encodes one value (see the remarks on <see cref="MsgPack"/> for the supported types).</summary>
    /// <exception cref="ArgumentException">A value of an unsupported type, or nesting deeper than <see cref="MaxDepth"/>.</exception>
    public static byte[] Encode(object? value)
    {
        var writer = new ArrayBufferWriter<byte>(128);
        Encode(writer, value);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Encodes one value into <paramref name="writer"/>.</summary>
    /// <exception cref="ArgumentException">A value of an unsupported type, or nesting deeper than <see cref="MaxDepth"/>.</exception>
    public static void Encode(IBufferWriter<byte> writer, object? value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        Write(writer, value, 0);
    }

    static void Write(IBufferWriter<byte> w, object? v, int depth)
    {
        switch (v)
        {
            case null: WriteByte(w, 0xc0); break;
            case bool b: WriteByte(w, b ? (byte)0xc3 : (byte)0xc2); break;
            case sbyte i: WriteSigned(w, i); break;
            case short i: WriteSigned(w, i); break;
            case int i: WriteSigned(w, i); break;
            case long i: WriteSigned(w, i); break;
            case byte i: WriteUnsigned(w, i); break;
            case ushort i: WriteUnsigned(w, i); break;
            case uint i: WriteUnsigned(w, i); break;
            case ulong i: WriteUnsigned(w, i); break;
            case float f:
                {
                    var s = w.GetSpan(5);
                    s[0] = 0xca;
                    BinaryPrimitives.WriteSingleBigEndian(s[1..], f);
                    w.Advance(5);
                    break;
                }
            case double d:
                {
                    var s = w.GetSpan(9);
                    s[0] = 0xcb;
                    BinaryPrimitives.WriteDoubleBigEndian(s[1..], d);
                    w.Advance(9);
                    break;
                }
            case string str: WriteString(w, str); break;
            case byte[] bytes: WriteBinary(w, bytes); break;
            case ReadOnlyMemory<byte> rom: WriteBinary(w, rom.Span); break;
            case Memory<byte> mem: WriteBinary(w, mem.Span); break;
            case ArraySegment<byte> seg: WriteBinary(w, seg); break;
            case ITuple tuple:
                EnterArray(w, tuple.Length, ref depth);
                for (var i = 0; i < tuple.Length; i++) Write(w, tuple[i], depth);
                break;
            case ICollection collection:
                EnterArray(w, collection.Count, ref depth);
                var written = 0;
                foreach (var item in collection)
                {
                    Write(w, item, depth);
                    written++;
                }
                if (written != collection.Count) throw new ArgumentException("a collection changed while it was being encoded as msgpack");
                break;
            case IEnumerable enumerable:
                var items = new List<object?>();
                foreach (var item in enumerable) items.Add(item);
                Write(w, items, depth);
                break;
            default:
                throw new ArgumentException($"cannot encode a {v.GetType().Name} as msgpack");
        }
    }

    static void EnterArray(IBufferWriter<byte> w, int count, ref int depth)
    {
        if (++depth > MaxDepth) throw new ArgumentException($"msgpack arrays nested deeper than {MaxDepth}");
        if (count < 16) WriteByte(w, (byte)(0x90 | count));
        else WriteHeader(w, (uint)count, NoShortForm, 0xdc, 0xdd);
    }

    static void WriteSigned(IBufferWriter<byte> w, long v)
    {
        if (v >= 0)
        {
            WriteUnsigned(w, (ulong)v);
            return;
        }
        var s = w.GetSpan(9);
        int n;
        if (v >= -32) { s[0] = (byte)(sbyte)v; n = 1; }
        else if (v >= sbyte.MinValue) { s[0] = 0xd0; s[1] = (byte)(sbyte)v; n = 2; }
        else if (v >= short.MinValue) { s[0] = 0xd1; BinaryPrimitives.WriteInt16BigEndian(s[1..], (short)v); n = 3; }
        else if (v >= int.MinValue) { s[0] = 0xd2; BinaryPrimitives.WriteInt32BigEndian(s[1..], (int)v); n = 5; }
        else { s[0] = 0xd3; BinaryPrimitives.WriteInt64BigEndian(s[1..], v); n = 9; }
        w.Advance(n);
    }

    static void WriteUnsigned(IBufferWriter<byte> w, ulong v)
    {
        var s = w.GetSpan(9);
        int n;
        if (v <= 0x7f) { s[0] = (byte)v; n = 1; }
        else if (v <= byte.MaxValue) { s[0] = 0xcc; s[1] = (byte)v; n = 2; }
        else if (v <= ushort.MaxValue) { s[0] = 0xcd; BinaryPrimitives.WriteUInt16BigEndian(s[1..], (ushort)v); n = 3; }
        else if (v <= uint.MaxValue) { s[0] = 0xce; BinaryPrimitives.WriteUInt32BigEndian(s[1..], (uint)v); n = 5; }
        else { s[0] = 0xcf; BinaryPrimitives.WriteUInt64BigEndian(s[1..], v); n = 9; }
        w.Advance(n);
    }

    static void WriteString(IBufferWriter<byte> w, string str)
    {
        int length;
        try
        {
            length = StrictUtf8.GetByteCount(str);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException("a string with unpaired surrogates cannot be encoded as msgpack", e);
        }
        if (length < 32) WriteByte(w, (byte)(0xa0 | length));
        else WriteHeader(w, (uint)length, 0xd9, 0xda, 0xdb);
        if (length == 0) return;
        var written = StrictUtf8.GetBytes(str, w.GetSpan(length));
        w.Advance(written);
    }

    static void WriteBinary(IBufferWriter<byte> w, ReadOnlySpan<byte> bytes)
    {
        WriteHeader(w, (uint)bytes.Length, 0xc4, 0xc5, 0xc6);
        w.Write(bytes);
    }

    const int NoShortForm = 0x100; // arrays have no 8-bit length form

    /// <summary>A length header in its 8-, 16- or 32-bit form (<paramref name="t8"/> <see cref="NoShortForm"/> when there is no 8-bit form).</summary>
    static void WriteHeader(IBufferWriter<byte> w, uint length, int t8, byte t16, byte t32)
    {
        var s = w.GetSpan(5);
        int n;
        if (t8 <= byte.MaxValue && length <= byte.MaxValue) { s[0] = (byte)t8; s[1] = (byte)length; n = 2; }
        else if (length <= ushort.MaxValue) { s[0] = t16; BinaryPrimitives.WriteUInt16BigEndian(s[1..], (ushort)length); n = 3; }
        else { s[0] = t32; BinaryPrimitives.WriteUInt32BigEndian(s[1..], length); n = 5; }
        w.Advance(n);
    }

    static void WriteByte(IBufferWriter<byte> w, byte b)
    {
        w.GetSpan(1)[0] = b;
        w.Advance(1);
    }

    /// <summary>
    /// Decodes exactly one value filling all of <paramref name="data"/>: <see cref="long"/>,
    /// <see cref="double"/>, <see cref="string"/>, <c>byte[]</c>, <see cref="bool"/>, null or <c>object?[]</c>.
    /// </summary>
    /// <exception cref="FormatException">Anything malformed or unsupported (the only exception thrown).</exception>
    public static object? Decode(ReadOnlySpan<byte> data)
    {
        var reader = new Reader(data);
        var value = reader.Read(0);
        if (reader.Position != data.Length) throw new FormatException("trailing bytes after the msgpack value");
        return value;
    }

    ref struct Reader(ReadOnlySpan<byte> data)
    {
        readonly ReadOnlySpan<byte> _data = data;
        public int Position;

        public object? Read(int depth)
        {
            var t = Take(1)[0];
            if (t <= 0x7f) return (long)t;
            if (t >= 0xe0) return (long)(sbyte)t;
            switch (t & 0xf0)
            {
                case 0x80: throw new FormatException("msgpack maps are not supported");
                case 0x90: return ReadArray(t & 0x0f, depth);
                case 0xa0:
                case 0xb0: return ReadString(t & 0x1f);
            }
            return t switch
            {
                0xc0 => null,
                0xc2 => false,
                0xc3 => true,
                0xc4 => Take(Take(1)[0]).ToArray(),
                0xc5 => Take(BinaryPrimitives.ReadUInt16BigEndian(Take(2))).ToArray(),
                0xc6 => Take(Length(BinaryPrimitives.ReadUInt32BigEndian(Take(4)))).ToArray(),
                0xca => (double)BinaryPrimitives.ReadSingleBigEndian(Take(4)),
                0xcb => BinaryPrimitives.ReadDoubleBigEndian(Take(8)),
                0xcc => (long)Take(1)[0],
                0xcd => (long)BinaryPrimitives.ReadUInt16BigEndian(Take(2)),
                0xce => (long)BinaryPrimitives.ReadUInt32BigEndian(Take(4)),
                0xcf => BinaryPrimitives.ReadUInt64BigEndian(Take(8)) is var u && u <= long.MaxValue
                    ? (long)u
                    : throw new FormatException("msgpack uint64 beyond the range of a long"),
                0xd0 => (long)(sbyte)Take(1)[0],
                0xd1 => (long)BinaryPrimitives.ReadInt16BigEndian(Take(2)),
                0xd2 => (long)BinaryPrimitives.ReadInt32BigEndian(Take(4)),
                0xd3 => BinaryPrimitives.ReadInt64BigEndian(Take(8)),
                0xd9 => ReadString(Take(1)[0]),
                0xda => ReadString(BinaryPrimitives.ReadUInt16BigEndian(Take(2))),
                0xdb => ReadString(Length(BinaryPrimitives.ReadUInt32BigEndian(Take(4)))),
                0xdc => ReadArray(BinaryPrimitives.ReadUInt16BigEndian(Take(2)), depth),
                0xdd => ReadArray(Length(BinaryPrimitives.ReadUInt32BigEndian(Take(4))), depth),
                0xde or 0xdf => throw new FormatException("msgpack maps are not supported"),
                >= 0xc7 and <= 0xc9 or >= 0xd4 and <= 0xd8 => throw new FormatException("msgpack extension types are not supported"),
                _ => throw new FormatException($"invalid msgpack type byte 0x{t:x2}"),
            };
        }

        static int Length(uint n) => n <= int.MaxValue ? (int)n : throw new FormatException("msgpack length too large");

        string ReadString(int length)
        {
            var bytes = Take(length);
            try
            {
                return StrictUtf8.GetString(bytes);
            }
            catch (DecoderFallbackException e)
            {
                throw new FormatException("invalid UTF-8 in a msgpack str", e);
            }
        }

        object?[] ReadArray(int count, int depth)
        {
            if (depth >= MaxDepth) throw new FormatException($"msgpack arrays nested deeper than {MaxDepth}");
            // Every element takes at least one byte: a huge declared count cannot make us allocate.
            if (count > _data.Length - Position) throw new FormatException("msgpack array longer than its data");
            if (count == 0) return [];
            var items = new object?[count];
            for (var i = 0; i < items.Length; i++) items[i] = Read(depth + 1);
            return items;
        }

        ReadOnlySpan<byte> Take(int n)
        {
            if ((uint)n > (uint)(_data.Length - Position)) throw new FormatException("truncated msgpack data");
            var s = _data.Slice(Position, n);
            Position += n;
            return s;
        }
    }
}
