import IPsecWire

/// Where an IPsec header sits (or goes) in an IP packet, and the bookkeeping around it: which byte announces the
/// protocol that follows, and which length fields change when bytes are inserted or removed.
struct PacketLayout {
    let version: IPVersion
    /// The packet's own length (IPv4 total length, IPv6 40 + payload length); bytes beyond it are link padding.
    let packetLength: Int
    /// The offset at which the IPsec header is (inbound) or goes (outbound). Bytes before it stay in clear.
    let headerEnd: Int
    /// The offset of the byte that holds the protocol number found at `headerEnd`.
    let nextHeaderOffset: Int
    /// The protocol found at `headerEnd`.
    let nextHeader: IPProtocol
    let source: IPAddress
    let destination: IPAddress
    /// Whether the packet is an IP fragment (IPv4 MF or offset, an IPv6 Fragment header before `headerEnd`).
    let isFragment: Bool

    /// The transport-mode insertion point of an outbound packet (RFC 4303 §3.1.1, RFC 4302 §3.1.1): after the IPv4
    /// header and its options; for IPv6, after Hop-by-Hop, Routing and Fragment headers and any Destination Options
    /// header that precedes a Routing header. A Destination Options header after them is protected.
    static func transport(_ packet: ArraySlice<UInt8>) throws -> PacketLayout {
        try locate(packet, stopAtIPsec: false)
    }

    /// The first ESP or AH header of an inbound packet, or the end of the IP header chain when there is none.
    static func inbound(_ packet: ArraySlice<UInt8>) throws -> PacketLayout {
        try locate(packet, stopAtIPsec: true)
    }

    private static func locate(_ packet: ArraySlice<UInt8>, stopAtIPsec: Bool) throws -> PacketLayout {
        guard let first = packet.first else { throw WireError.truncated("IP", need: 1, have: 0) }
        switch first >> 4 {
        case 4:
            let view = try IPv4Packet(packet)
            // Options are checked strictly; a header without options (the common case, and the hot path's) has
            // nothing more for the strict parse to check than the view already did.
            if view.headerLength > IPv4Packet.minimumHeaderLength { _ = try IPv4Header.parse(packet) }
            return PacketLayout(version: .v4, packetLength: Int(view.totalLength), headerEnd: view.headerLength,
                                nextHeaderOffset: 9, nextHeader: view.protocol, source: .v4(view.source),
                                destination: .v4(view.destination),
                                isFragment: view.moreFragments || view.fragmentOffset != 0)
        case 6:
            let view = try IPv6Packet(packet)
            let length = 40 + Int(view.payloadLength)
            let payload = packet.prefix(length).dropFirst(40)
            var headerEnd = 40
            var nextHeaderOffset = 6
            var next = view.nextHeader
            var fragment = false
            if next.isIPv6ExtensionHeader {
                let chain = try IPv6ExtensionChain.walk(firstHeader: next, bytes: payload)
                // Outbound, the boundary is after the last Hop-by-Hop, Routing or Fragment header; inbound, after the
                // whole chain that precedes ESP or AH.
                var offset = 40
                var cut = -1
                for (i, h) in chain.headers.enumerated() {
                    switch h {
                    case .hopByHop, .routing: cut = i
                    case .fragment: cut = i; fragment = true
                    case .destinationOptions: if stopAtIPsec { cut = i }
                    }
                }
                for (i, h) in chain.headers.enumerated() where i <= cut {
                    nextHeaderOffset = offset
                    offset += h.bufferLength
                    next = h.nextHeader
                }
                headerEnd = offset
                if stopAtIPsec && cut == chain.headers.count - 1 { next = chain.upperLayerProtocol }
            }
            return PacketLayout(version: .v6, packetLength: length, headerEnd: headerEnd,
                                nextHeaderOffset: nextHeaderOffset, nextHeader: next, source: .v6(view.source),
                                destination: .v6(view.destination), isFragment: fragment)
        default:
            throw WireError.badValue("IP", "version \(first >> 4) is neither 4 nor 6")
        }
    }

    private static let zeros = [UInt8](repeating: 0, count: 256)

    /// Appends `count` zero bytes: copied from a slice of a zero array, which is one memcpy, where appending
    /// `repeatElement(0, count:)` writes byte by byte.
    @inline(__always)
    static func appendZeros(_ count: Int, to buffer: inout [UInt8]) {
        if count <= zeros.count {
            buffer.append(contentsOf: zeros[0..<count])
        } else {
            buffer.append(contentsOf: repeatElement(0, count: count))
        }
    }

    /// Sets the length fields of the IP packet in `buffer[start...]` to its actual size, and the IPv4 header checksum.
    /// Writes through the array's storage: a write through a slice of the array would copy it.
    static func fixLengths(_ buffer: inout [UInt8], start: Int = 0) {
        let length = buffer.count - start
        buffer.withUnsafeMutableBytes { b in
            let p = UnsafeMutableRawBufferPointer(rebasing: b[start...])
            if p[0] >> 4 == 4 {
                p.storeBytes(of: UInt16(truncatingIfNeeded: length).bigEndian, toByteOffset: 2, as: UInt16.self)
                setIPv4Checksum(p)
            } else {
                p.storeBytes(of: UInt16(truncatingIfNeeded: length - 40).bigEndian, toByteOffset: 4, as: UInt16.self)
            }
        }
    }

    static func setIPv4Checksum(_ buffer: inout [UInt8], start: Int = 0) {
        buffer.withUnsafeMutableBytes { b in setIPv4Checksum(UnsafeMutableRawBufferPointer(rebasing: b[start...])) }
    }

    /// The IPv4 header checksum of the header at the start of `packet`.
    static func setIPv4Checksum(_ packet: UnsafeMutableRawBufferPointer) {
        let ihl = Int(packet[0] & 0x0f) * 4
        packet.storeBytes(of: 0, toByteOffset: 10, as: UInt16.self)
        var sum = InternetChecksum()
        sum.add(contiguous: UnsafeRawBufferPointer(rebasing: packet[0..<ihl]))
        packet.storeBytes(of: sum.value.bigEndian, toByteOffset: 10, as: UInt16.self)
    }
}
