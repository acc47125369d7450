import IPsecCrypto
import IPsecWire

/// The outer header of tunnel mode, built per RFC 4301 §5.1.2: addresses from the SA, DSCP copied from the inner
/// header, ECN copied (RFC 6040 §4.1, normal mode), DF copied from an inner IPv4 header and set for an inner IPv6
/// one, a fresh identification, TTL or hop limit set anew, the IPv6 flow label copied from an inner IPv6 header.
enum TunnelHeader {
    /// Outer TTL / hop limit. RFC 4301 §5.1.2.1 leaves it to the encapsulator; 64 is the common default.
    static let hopLimit: UInt8 = 64

    struct InnerFields {
        var dscp: UInt8
        var ecn: UInt8
        var dontFragment: Bool
        var flowLabel: UInt32
        var version: IPVersion
    }

    static func innerFields(_ inner: ArraySlice<UInt8>) throws -> InnerFields {
        guard let first = inner.first else { throw WireError.truncated("IP", need: 1, have: 0) }
        if first >> 4 == 4 {
            let v = try IPv4Packet(inner)
            return InnerFields(dscp: v.dscp, ecn: v.ecn, dontFragment: v.dontFragment, flowLabel: 0, version: .v4)
        }
        let v = try IPv6Packet(inner)
        return InnerFields(dscp: v.dscp, ecn: v.ecn, dontFragment: true, flowLabel: v.flowLabel, version: .v6)
    }

    /// Appends the outer header (lengths zero: the caller fixes them once the packet is complete).
    /// `identification` overrides the fresh value (the compressed tunnel copies the inner one when it elides it).
    ///
    /// Written byte by byte into `out`, the same bytes `IPv4Header` / `IPv6Header` would serialise, so that the
    /// per-packet path allocates nothing.
    static func append(for sa: SecurityAssociation, inner: InnerFields, protocol proto: IPProtocol,
                       identification: UInt16? = nil, into out: inout [UInt8]) throws(CoreError) {
        let length = headerLength(sa)
        guard length > 0 else { throw CoreError(.badConfiguration, "tunnel endpoints of different IP versions") }
        // Drawn before anything is appended, so that a failed draw leaves `out` as it was.
        var identification = identification
        if identification == nil, length == IPv4Packet.minimumHeaderLength {
            identification = try freshIdentification(sa)
        }
        let start = out.count
        PacketLayout.appendZeros(length, to: &out)
        let failure: CoreError? = out.withUnsafeMutableBytes { b in
            do throws(CoreError) {
                try write(for: sa, inner: inner, protocol: proto, identification: identification, to: b.baseAddress! + start)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    /// The outer header's length for `sa`: 20 (IPv4) or 40 (IPv6); 0 when its endpoints are of different versions.
    @inline(__always)
    static func headerLength(_ sa: SecurityAssociation) -> Int {
        switch (sa.configuration.source, sa.configuration.destination) {
        case (.v4, .v4): IPv4Packet.minimumHeaderLength
        case (.v6, .v6): IPv6Packet.headerLength
        default: 0
        }
    }

    /// Writes the outer header (`headerLength(sa)` bytes) at `p`, lengths and checksum zero.
    static func write(for sa: SecurityAssociation, inner: InnerFields, protocol proto: IPProtocol,
                      identification: UInt16? = nil, to p: UnsafeMutableRawPointer) throws(CoreError) {
        switch (sa.configuration.source, sa.configuration.destination) {
        case let (.v4(source), .v4(destination)):
            let id: UInt16
            if let identification { id = identification } else { id = try freshIdentification(sa) }
            p.storeBytes(of: 0x45, as: UInt8.self)  // version 4, IHL 5: no options
            p.storeBytes(of: inner.dscp << 2 | inner.ecn & 0x03, toByteOffset: 1, as: UInt8.self)
            // total length (2...3) and checksum (10...11) stay zero until the packet is complete
            p.storeBytes(of: 0, toByteOffset: 2, as: UInt16.self)
            p.storeBytes(of: id.bigEndian, toByteOffset: 4, as: UInt16.self)
            p.storeBytes(of: inner.dontFragment ? 0x40 : 0, toByteOffset: 6, as: UInt8.self)
            p.storeBytes(of: 0, toByteOffset: 7, as: UInt8.self)
            p.storeBytes(of: hopLimit, toByteOffset: 8, as: UInt8.self)
            p.storeBytes(of: proto.rawValue, toByteOffset: 9, as: UInt8.self)
            p.storeBytes(of: 0, toByteOffset: 10, as: UInt16.self)
            p.storeBytes(of: source.rawValue.bigEndian, toByteOffset: 12, as: UInt32.self)
            p.storeBytes(of: destination.rawValue.bigEndian, toByteOffset: 16, as: UInt32.self)
        case let (.v6(source), .v6(destination)):
            let trafficClass = UInt32(inner.dscp << 2 | inner.ecn & 0x03)
            let flowLabel = inner.version == .v6 ? inner.flowLabel & 0xfffff : 0
            p.storeBytes(of: (6 << 28 | trafficClass << 20 | flowLabel).bigEndian, toByteOffset: 0, as: UInt32.self)
            // payload length (4...5) stays zero until the packet is complete
            p.storeBytes(of: 0, toByteOffset: 4, as: UInt16.self)
            p.storeBytes(of: proto.rawValue, toByteOffset: 6, as: UInt8.self)
            p.storeBytes(of: hopLimit, toByteOffset: 7, as: UInt8.self)
            p.storeBytes(of: source.high.bigEndian, toByteOffset: 8, as: UInt64.self)
            p.storeBytes(of: source.low.bigEndian, toByteOffset: 16, as: UInt64.self)
            p.storeBytes(of: destination.high.bigEndian, toByteOffset: 24, as: UInt64.self)
            p.storeBytes(of: destination.low.bigEndian, toByteOffset: 32, as: UInt64.self)
        default:
            throw CoreError(.badConfiguration, "tunnel endpoints of different IP versions")
        }
    }

    /// The checksum of the 20 bytes of a header without options, summed as five
    /// 32-bit words (RFC 1071 §2(B)). The burst path's replacement for `InternetChecksum` on its one fixed shape.
    @inline(__always)
    static func plainIPv4Checksum(_ p: UnsafeRawPointer) -> UInt16 {
        var sum: UInt64 = 0
        for k in 0..<5 { sum &+= UInt64(UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self))) }
        while sum >> 16 != 0 { sum = (sum & 0xffff) &+ (sum >> 16) }
        return ~UInt16(truncatingIfNeeded: sum)
    }

    /// A fresh outer IPv4 identification from the SA's source (drawn against its current sequence number).
    static func freshIdentification(_ sa: SecurityAssociation) throws(CoreError) -> UInt16 {
        var raw: UInt16 = 0
        do {
            try withUnsafeMutableBytes(of: &raw) { (b: UnsafeMutableRawBufferPointer) throws(CryptoError) in
                try sa.identificationSource.fill(b, sequence: sa.outboundSequence)
            }
        } catch {
            throw .crypto(error)
        }
        return UInt16(bigEndian: raw)  // the two bytes as drawn, first byte high
    }

    /// The inner fields and length of a plain inner packet read straight from memory, for the burst's hot path:
    /// an IPv4 header without options, or an IPv6 header not followed by an extension header. Nil for anything else
    /// (which the burst hands to `innerFields` and `PacketLayout`, whose checks and errors are the reference); for
    /// what it accepts, it answers as they do.
    @inline(__always)
    static func plainInnerFields(_ p: UnsafeRawPointer, count: Int) -> (InnerFields, length: Int)? {
        guard count >= IPv4Packet.minimumHeaderLength else { return nil }
        let first = p.load(as: UInt8.self)
        if first == 0x45 {
            let total = Int(UInt16(bigEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
            guard total >= IPv4Packet.minimumHeaderLength, total <= count else { return nil }
            let tos = p.load(fromByteOffset: 1, as: UInt8.self)
            let dontFragment = p.load(fromByteOffset: 6, as: UInt8.self) & 0x40 != 0
            return (InnerFields(dscp: tos >> 2, ecn: tos & 0x03, dontFragment: dontFragment, flowLabel: 0,
                                version: .v4), total)
        }
        guard first >> 4 == 6, count >= IPv6Packet.headerLength else { return nil }
        let payloadLength = Int(UInt16(bigEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt16.self)))
        guard payloadLength > 0, payloadLength <= count - IPv6Packet.headerLength,
              !IPProtocol(p.load(fromByteOffset: 6, as: UInt8.self)).isIPv6ExtensionHeader else { return nil }
        let word = UInt32(bigEndian: p.loadUnaligned(as: UInt32.self))
        let trafficClass = UInt8(truncatingIfNeeded: word >> 20)
        return (InnerFields(dscp: trafficClass >> 2, ecn: trafficClass & 0x03, dontFragment: true,
                            flowLabel: word & 0xfffff, version: .v6), IPv6Packet.headerLength + payloadLength)
    }
}
