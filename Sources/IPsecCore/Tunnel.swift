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
        let config = sa.configuration
        let start = out.count
        switch (config.source, config.destination) {
        case let (.v4(source), .v4(destination)):
            var id: UInt16
            if let identification {
                id = identification
            } else {
                var raw: UInt16 = 0
                do {
                    try withUnsafeMutableBytes(of: &raw) { (b: UnsafeMutableRawBufferPointer) throws(CryptoError) in
                        try sa.identificationSource.fill(b, sequence: sa.outboundSequence)
                    }
                } catch {
                    throw .crypto(error)
                }
                id = UInt16(bigEndian: raw)  // the two bytes as drawn, first byte high
            }
            PacketLayout.appendZeros(IPv4Packet.minimumHeaderLength, to: &out)
            out.withUnsafeMutableBytes { b in
                let p = UnsafeMutableRawBufferPointer(rebasing: b[start...])
                p[0] = 0x45  // version 4, IHL 5: no options
                p[1] = inner.dscp << 2 | inner.ecn & 0x03
                // total length (2...3) and checksum (10...11) stay zero until the packet is complete
                p.storeBytes(of: id.bigEndian, toByteOffset: 4, as: UInt16.self)
                p[6] = inner.dontFragment ? 0x40 : 0
                p[7] = 0
                p[8] = hopLimit
                p[9] = proto.rawValue
                p.storeBytes(of: source.rawValue.bigEndian, toByteOffset: 12, as: UInt32.self)
                p.storeBytes(of: destination.rawValue.bigEndian, toByteOffset: 16, as: UInt32.self)
            }
        case let (.v6(source), .v6(destination)):
            let trafficClass = UInt32(inner.dscp << 2 | inner.ecn & 0x03)
            let flowLabel = inner.version == .v6 ? inner.flowLabel & 0xfffff : 0
            PacketLayout.appendZeros(IPv6Packet.headerLength, to: &out)
            out.withUnsafeMutableBytes { b in
                let p = UnsafeMutableRawBufferPointer(rebasing: b[start...])
                p.storeBytes(of: (6 << 28 | trafficClass << 20 | flowLabel).bigEndian, toByteOffset: 0, as: UInt32.self)
                // payload length (4...5) stays zero until the packet is complete
                p[6] = proto.rawValue
                p[7] = hopLimit
                p.storeBytes(of: source.high.bigEndian, toByteOffset: 8, as: UInt64.self)
                p.storeBytes(of: source.low.bigEndian, toByteOffset: 16, as: UInt64.self)
                p.storeBytes(of: destination.high.bigEndian, toByteOffset: 24, as: UInt64.self)
                p.storeBytes(of: destination.low.bigEndian, toByteOffset: 32, as: UInt64.self)
            }
        default:
            throw CoreError(.badConfiguration, "tunnel endpoints of different IP versions")
        }
    }
}
