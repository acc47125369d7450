import IPsecCore
import IPsecCrypto
import IPsecWire

/// Every byte a mode adds to one inner packet, part by part (docs/overhead.md).
///
/// `payload` is the size of the inner IP packet, the packet that gets protected (its header included). The parts add
/// up to the protected packet:
///
///     total = payload + outerHeader + udp + ipsecHeader + iv + hcResidual − hcElided + padding + trailer + icv
///
/// `hcElided` is the inner header the compressed tunnel removes (20 or 40 bytes when the packet qualifies) and
/// `hcResidual` the block of inner fields it sends instead.
public struct OverheadBreakdown: Hashable, Sendable {
    public var mode: OverheadMode
    public var algorithm: SAAlgorithm
    public var version: IPVersion
    /// The traffic the packet belongs to; it matters (and is set) only for the compressed tunnel.
    public var traffic: TrafficKind?
    public var payload: Int

    /// The tunnel's outer IP header (20 / 40 bytes); 0 in transport mode, whose IP header is part of `payload`.
    public var outerHeader = 0
    /// The UDP header of ESP in UDP (RFC 3948 §2.1): 8 bytes with NAT traversal.
    public var udp = 0
    /// ESP's SPI and sequence number (8, RFC 4303 §2), or AH's fixed part (12, RFC 4302 §2).
    public var ipsecHeader = 0
    /// The per-packet IV: ESP's (RFC 4303 §2.3), or the 8-byte IV at the start of AH-GMAC's ICV field (RFC 4543).
    public var iv = 0
    /// The compressed tunnel's residual block of inner-header fields.
    public var hcResidual = 0
    /// The inner IP header the compressed tunnel removes.
    public var hcElided = 0
    /// ESP padding (RFC 4303 §2.4) or AH's ICV alignment padding (RFC 4302 §2.6).
    public var padding = 0
    /// ESP's Pad Length and Next Header bytes (RFC 4303 §2.5–2.6).
    public var trailer = 0
    /// The integrity check value (AH-GMAC: the tag after the IV).
    public var icv = 0

    public init(mode: OverheadMode, algorithm: SAAlgorithm, version: IPVersion, traffic: TrafficKind?, payload: Int) {
        self.mode = mode
        self.algorithm = algorithm
        self.version = version
        self.traffic = traffic
        self.payload = payload
    }

    public var total: Int {
        payload + outerHeader + udp + ipsecHeader + iv + hcResidual - hcElided + padding + trailer + icv
    }

    public var overhead: Int { total - payload }

    /// The overhead as a percentage of the inner packet.
    public var expansionPercent: Double { payload == 0 ? 0 : Double(overhead) * 100 / Double(payload) }

    /// Whether the compressed tunnel sent this packet in compressed form.
    public var compressed: Bool { hcElided > 0 }
}

/// The analytic overhead model: the byte arithmetic of RFC 4303 (ESP), RFC 4302 (AH), RFC 3948 (ESP in UDP) and the
/// compressed tunnel (docs/header-compression.md), written out from the RFCs rather than taken from the data plane,
/// so that comparing the two (`OverheadMeasurement`) checks both.
///
/// Inner packets are taken to have a plain header: IPv4 without options, IPv6 without extension headers, and the
/// outer header (tunnel modes) is of the same family as the inner one.
public enum OverheadModel {
    /// A plain IP header: 20 bytes for IPv4 (RFC 791), 40 for IPv6 (RFC 8200).
    public static func ipHeaderLength(_ version: IPVersion) -> Int { version == .v4 ? 20 : 40 }

    /// RFC 3948 §2.1: ESP in UDP puts an 8-byte UDP header between the IP header and ESP.
    public static let udpHeaderLength = 8
    /// RFC 4303 §2.1–2.2: SPI and sequence number.
    public static let espHeaderLength = 8
    /// RFC 4303 §2.5–2.6: Pad Length and Next Header.
    public static let espTrailerLength = 2
    /// RFC 4302 §2: Next Header, Payload Len, Reserved, SPI, Sequence Number.
    public static let ahFixedLength = 12

    /// The bytes of `payload` protected with `algorithm` in `mode` over IP `version`. `traffic` matters only to the
    /// compressed tunnel (host-to-host when nil). `payload` must be at least an IP header.
    public static func breakdown(mode: OverheadMode, algorithm: SAAlgorithm, version: IPVersion, payload: Int,
                                 traffic: TrafficKind? = nil) -> OverheadBreakdown {
        let header = ipHeaderLength(version)
        switch (mode.matrix.ipsecProtocol, algorithm) {
        case (.esp, .esp), (.ah, .ah): break
        default: preconditionFailure("\(mode) does not take the \(algorithm) transform")
        }
        precondition(payload >= header, "an \(version) packet is at least \(header) bytes, not \(payload)")
        let kind: TrafficKind? = mode.matrix == .tunnelESPHC ? (traffic ?? .hostToHost) : nil
        var b = OverheadBreakdown(mode: mode, algorithm: algorithm, version: version, traffic: kind, payload: payload)
        if mode.matrix.isTunnel { b.outerHeader = header }
        if mode.natTraversal { b.udp = udpHeaderLength }
        switch algorithm {
        case .ah(let a):
            // RFC 4302 §2.6 and §3.3.3.2.1: the ICV field is padded so that the header is a multiple of 4 bytes
            // (IPv4) or 8 bytes (IPv6). AH-GMAC's ICV field holds its 8-byte IV and then the 16-byte tag (RFC 4543).
            let field = a.icvLength
            let unit = version == .v4 ? 4 : 8
            b.ipsecHeader = ahFixedLength
            b.iv = a.integrity.ivLength
            b.icv = field - b.iv
            b.padding = (unit - (ahFixedLength + field) % unit) % unit
        case .esp(let a):
            // What ESP encrypts: the inner packet in tunnel mode, the transport payload (the packet after its IP
            // header) in transport mode, the residual block and the inner payload when the compressed tunnel
            // compresses.
            var protected = mode.matrix.isTunnel ? payload : payload - header
            if let fields = mode.effectiveHeaderCompression(for: version),
               qualifiesForCompression(fields: fields, traffic: kind ?? .hostToHost) {
                b.hcElided = header
                b.hcResidual = hcResidualLength(fields: fields, version: version)
                protected += b.hcResidual - b.hcElided
            }
            // RFC 4303 §2.4: payload, padding, Pad Length and Next Header fill whole cipher blocks and end on a
            // 4-byte boundary, with no more padding than that needs (the default, which Linux and strongSwan send).
            let unit = max(a.blockSize, 4)
            b.ipsecHeader = espHeaderLength
            b.iv = a.ivLength
            b.trailer = espTrailerLength
            b.padding = (unit - (protected + espTrailerLength) % unit) % unit
            b.icv = a.icvLength
        }
        return b
    }

    /// The residual block of the compressed tunnel (docs/header-compression.md §3): the inner-header fields that are
    /// neither elided (in X) nor derived (version, header length, total / payload length, protocol, checksum).
    ///
    /// IPv4: TOS byte (only its ECN bits when DSCP is elided, still one byte) 1, identification 2, flags and fragment
    /// offset 2, TTL 1, source 4, destination 4. IPv6: traffic class and flow label 4 (3 when DSCP is elided: ECN,
    /// four reserved bits and the 20-bit flow label), hop limit 1, source 16, destination 16.
    ///
    /// Presets: IPv4 minimal 14, addresses 6, host-to-host 2; IPv6 minimal 37, addresses 5, host-to-host 4.
    public static func hcResidualLength(fields: HeaderCompressionFields, version: IPVersion) -> Int {
        func unless(_ field: HeaderCompressionFields, _ bytes: Int) -> Int { fields.contains(field) ? 0 : bytes }
        switch version {
        case .v4:
            return 1 + unless(.identification, 2) + unless(.dontFragment, 2) + 1
                + unless(.source, 4) + unless(.destination, 4)
        case .v6:
            return (fields.contains(.dscp) ? 3 : 4) + 1 + unless(.source, 16) + unless(.destination, 16)
        }
    }

    /// Whether a packet of `traffic` compresses under X = `fields`: every field in X must equal the outer header's.
    /// The encapsulator makes DSCP, identification and DF equal by copying them to the outer header; the addresses
    /// are equal only for host-to-host traffic, so gateway-to-gateway traffic compresses only with X free of them
    /// (`minimal`) and goes as plain tunnel ESP otherwise (docs/header-compression.md §4). IPv4 packets with options,
    /// which never compress, are outside this model, whose inner headers are plain.
    public static func qualifiesForCompression(fields: HeaderCompressionFields, traffic: TrafficKind) -> Bool {
        traffic == .hostToHost || fields.isDisjoint(with: [.source, .destination])
    }

    /// The largest inner packet whose protected form fits in `mtu` bytes, or nil when not even a bare IP header does.
    public static func largestPayload(mode: OverheadMode, algorithm: SAAlgorithm, version: IPVersion, mtu: Int,
                                      traffic: TrafficKind? = nil) -> Int? {
        let smallest = ipHeaderLength(version)
        // The total never decreases as the payload grows, and never falls below the payload, so search down from
        // the MTU (for a sane MTU this is a handful of steps: the overhead is at most a few hundred bytes).
        var p = min(mtu, 65535)
        while p >= smallest {
            let b = breakdown(mode: mode, algorithm: algorithm, version: version, payload: p, traffic: traffic)
            if b.total <= mtu { return p }
            p -= 1
        }
        return nil
    }
}
