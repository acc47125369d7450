import CZlib
import IPsecWire

/// IP payload compression (RFC 3173) with DEFLATE (RFC 2394) through zlib: raw DEFLATE blocks (no zlib header), each
/// packet compressed on its own (stateless, RFC 3173 §2.2). Transport placement, like ESP: the IPComp header goes after
/// the IP header (IPv6: after the extension headers that must precede it).
enum IPCompCodec {
    /// DEFLATE's largest window; Linux compresses with 2^11 but every window up to 2^15 must be accepted.
    static let windowBits: Int32 = 15
    /// A decompressed payload can never exceed an IP packet.
    static let maximumDecompressed = 65535

    /// Compresses `packet`'s payload under `cpi`. Returns false, leaving `out` empty, when compression would not make
    /// the packet smaller: RFC 3173 §2.2 then sends it uncompressed (the non-expansion rule).
    static func compress(_ packet: ArraySlice<UInt8>, cpi: UInt16, into out: inout [UInt8]) throws(CoreError) -> Bool {
        out.removeAll(keepingCapacity: true)
        let layout: PacketLayout
        do { layout = try PacketLayout.transport(packet) } catch { throw CoreError.badPacket(error) }
        guard !layout.isFragment else { throw CoreError(.unsupported, "IPComp cannot compress an IP fragment") }
        let base = packet.startIndex
        let payload = Array(packet[(base + layout.headerEnd)..<(base + layout.packetLength)])
        guard let compressed = deflate(payload), compressed.count + IPCompPacket.headerLength < payload.count else {
            return false
        }
        out.append(contentsOf: packet[base..<(base + layout.headerEnd)])
        out[layout.nextHeaderOffset] = IPProtocol.ipcomp.rawValue
        out += [layout.nextHeader.rawValue, 0, UInt8(cpi >> 8), UInt8(cpi & 0xff)]
        out += compressed
        PacketLayout.fixLengths(&out)
        return true
    }

    /// Decompresses the IPComp packet `packet` (IPComp header at the transport position): the IP header gets the
    /// original protocol back and the payload is inflated. Nil when the header or the DEFLATE data is malformed.
    static func decompress(_ packet: ArraySlice<UInt8>, layout: PacketLayout, into out: inout [UInt8]) -> IPCompHeader? {
        out.removeAll(keepingCapacity: true)
        let base = packet.startIndex
        guard let view = try? IPCompPacket(packet[(base + layout.headerEnd)..<(base + layout.packetLength)]),
              let inflated = inflate(Array(view.payload), limit: maximumDecompressed - layout.headerEnd) else {
            return nil
        }
        out.append(contentsOf: packet[base..<(base + layout.headerEnd)])
        out[layout.nextHeaderOffset] = view.nextHeader.rawValue
        out += inflated
        guard out.count <= (layout.version == .v4 ? 65535 : 65535 + 40) else { return nil }
        PacketLayout.fixLengths(&out)
        return IPCompHeader(view)
    }

    static func deflate(_ input: [UInt8]) -> [UInt8]? {
        var stream = z_stream()
        guard deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -windowBits, 8, Z_DEFAULT_STRATEGY,
                            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 16)
        var input = input
        let result: Int32 = input.withUnsafeMutableBufferPointer { inp in
            output.withUnsafeMutableBufferPointer { outp in
                stream.next_in = inp.baseAddress
                stream.avail_in = uInt(inp.count)
                stream.next_out = outp.baseAddress
                stream.avail_out = uInt(outp.count)
                return CZlib.deflate(&stream, Z_FINISH)
            }
        }
        guard result == Z_STREAM_END else { return nil }
        return Array(output.prefix(Int(stream.total_out)))
    }

    /// Inflates raw DEFLATE data, refusing output beyond `limit` bytes (a decompression bomb) and trailing garbage.
    static func inflate(_ input: [UInt8], limit: Int) -> [UInt8]? {
        guard limit > 0 else { return nil }
        var stream = z_stream()
        guard inflateInit2_(&stream, -windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            return nil
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: limit + 1)
        var input = input
        let result: Int32 = input.withUnsafeMutableBufferPointer { inp in
            output.withUnsafeMutableBufferPointer { outp in
                stream.next_in = inp.baseAddress
                stream.avail_in = uInt(inp.count)
                stream.next_out = outp.baseAddress
                stream.avail_out = uInt(outp.count)
                return CZlib.inflate(&stream, Z_FINISH)
            }
        }
        // The whole input must be one complete stream that fits the limit.
        guard result == Z_STREAM_END, stream.avail_in == 0, Int(stream.total_out) <= limit else { return nil }
        return Array(output.prefix(Int(stream.total_out)))
    }
}
