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
    static func append(for sa: SecurityAssociation, inner: InnerFields, protocol proto: IPProtocol,
                       identification: UInt16? = nil, into out: inout [UInt8]) throws(CoreError) {
        let config = sa.configuration
        do {
            switch (config.source, config.destination) {
            case let (.v4(source), .v4(destination)):
                var idBytes: [UInt8] = identification.map { [UInt8($0 >> 8), UInt8($0 & 0xff)] } ?? [0, 0]
                if identification == nil {
                    try idBytes.withUnsafeMutableBytes { (b: UnsafeMutableRawBufferPointer) in
                        try sa.identificationSource.fill(b, sequence: sa.outboundSequence)
                    }
                }
                var h = IPv4Header(dscp: inner.dscp, ecn: inner.ecn, totalLength: 0,
                                   identification: UInt16(idBytes[0]) << 8 | UInt16(idBytes[1]),
                                   dontFragment: inner.dontFragment, ttl: hopLimit, protocol: proto,
                                   source: source, destination: destination)
                h.headerChecksum = 0
                out.append(contentsOf: try h.serialized())
            case let (.v6(source), .v6(destination)):
                let h = IPv6Header(trafficClass: inner.dscp << 2 | inner.ecn,
                                   flowLabel: inner.version == .v6 ? inner.flowLabel : 0, payloadLength: 0,
                                   nextHeader: proto, hopLimit: hopLimit, source: source, destination: destination)
                out.append(contentsOf: try h.serialized())
            default:
                throw CoreError(.badConfiguration, "tunnel endpoints of different IP versions")
            }
        } catch let error as CoreError {
            throw error
        } catch let error as CryptoError {
            throw .crypto(error)
        } catch {
            throw CoreError(.badConfiguration, "outer header: \(error)")
        }
    }
}
