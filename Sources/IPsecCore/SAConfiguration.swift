import IPsecCrypto
import IPsecWire

/// The IPsec protocol an SA applies.
public enum IPsecProtocol: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case esp
    case ah

    public var ipProtocol: IPProtocol { self == .esp ? .esp : .ah }
    public var description: String { rawValue }
}

/// How an SA places its header (RFC 4301 §4.1), plus the header-compressed tunnel of Ferguson and Schneier.
public enum SAMode: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case transport
    case tunnel
    /// Tunnel mode with the inner header's agreed fields elided (docs/header-compression.md).
    case tunnelHC = "tunnel-hc"

    public var description: String { rawValue }
}

/// The algorithms of an SA: ESP takes an encryption/integrity suite, AH an integrity algorithm.
public enum SAAlgorithm: Hashable, Sendable, CustomStringConvertible {
    case esp(ESPAlgorithm)
    case ah(AHAlgorithm)

    public var description: String {
        switch self {
        case .esp(let a): a.keyword
        case .ah(let a): a.keyword
        }
    }
}

/// The traffic an SA carries (the `sel` of `ip xfrm state`): prefixes, protocol and ports. An absent field matches
/// anything.
public struct TrafficSelector: Hashable, Sendable, CustomStringConvertible {
    public var source: IPPrefix?
    public var destination: IPPrefix?
    public var `protocol`: IPProtocol?
    public var sourcePort: UInt16?
    public var destinationPort: UInt16?

    public init(source: IPPrefix? = nil, destination: IPPrefix? = nil, protocol: IPProtocol? = nil,
                sourcePort: UInt16? = nil, destinationPort: UInt16? = nil) {
        self.source = source
        self.destination = destination
        self.protocol = `protocol`
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
    }

    public var description: String {
        var parts: [String] = []
        if let source { parts.append("src \(source)") }
        if let destination { parts.append("dst \(destination)") }
        if let p = self.protocol { parts.append("proto \(p.name)") }
        if let sourcePort { parts.append("sport \(sourcePort)") }
        if let destinationPort { parts.append("dport \(destinationPort)") }
        return parts.isEmpty ? "any" : parts.joined(separator: " ")
    }
}

/// UDP encapsulation of ESP (RFC 3948), as `ip xfrm state … encap espinudp SPORT DPORT OA` configures it.
public struct UDPEncapsulationConfig: Hashable, Sendable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16

    public init(sourcePort: UInt16 = UDPEncapsulation.port, destinationPort: UInt16 = UDPEncapsulation.port) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
    }
}

/// Everything that defines one SA, as an SA file states it: identity (SPI, protocol, destination), mode, endpoints,
/// algorithms, keys and the initial sequence state. The data plane turns it into a running `SecurityAssociation`.
///
/// Keys never appear in `description` (or in any error or report); ask for them explicitly.
public struct SAConfiguration: Hashable, Sendable, CustomStringConvertible {
    public var `protocol`: IPsecProtocol
    public var spi: UInt32
    public var mode: SAMode
    /// The SA's source and destination: the tunnel endpoints in tunnel mode, the hosts in transport mode.
    public var source: IPAddress
    public var destination: IPAddress
    public var algorithm: SAAlgorithm
    /// Encryption key material, salt or nonce included at the end (as `ip xfrm` takes it). Empty for AH.
    public var encryptionKey: [UInt8]
    /// Integrity key material (AH's key, or ESP's separate integrity key). Empty for combined-mode ESP.
    public var integrityKey: [UInt8]
    public var reqid: UInt32
    /// RFC 4303 §2.2.1: 64-bit sequence numbers, the high 32 bits authenticated but not sent.
    public var extendedSequenceNumbers: Bool
    /// The anti-replay window in packets; 0 turns replay checking off (RFC 4303 §3.4.3 lets a receiver do so).
    public var replayWindow: Int
    /// The highest sequence number received so far (inbound state, `replay-seq`/`replay-seq-hi`).
    public var replaySequence: UInt64
    /// The last sequence number sent (outbound state, `replay-oseq`/`replay-oseq-hi`); the next packet sends one more.
    public var outboundSequence: UInt64
    public var selector: TrafficSelector?
    /// NAT traversal: ESP in UDP (RFC 3948).
    public var encapsulation: UDPEncapsulationConfig?
    /// The elided field set X of a `tunnel-hc` SA (nil for every other mode).
    public var headerCompression: HeaderCompressionFields?
    /// Soft and hard limits in packets and bytes.
    public var lifetime: SALifetime = .unlimited
    /// TFC padding (RFC 4303 §2.4): pad every ESP payload up to this many bytes (0: none). Only tunnel mode can
    /// carry it, since the receiver finds the inner packet's end from the inner header.
    public var tfcPadding: Int = 0

    public init(protocol: IPsecProtocol, spi: UInt32, mode: SAMode, source: IPAddress, destination: IPAddress,
                algorithm: SAAlgorithm, encryptionKey: [UInt8] = [], integrityKey: [UInt8] = [], reqid: UInt32 = 0,
                extendedSequenceNumbers: Bool = false, replayWindow: Int = 64, replaySequence: UInt64 = 0,
                outboundSequence: UInt64 = 0, selector: TrafficSelector? = nil,
                encapsulation: UDPEncapsulationConfig? = nil, headerCompression: HeaderCompressionFields? = nil) {
        self.protocol = `protocol`
        self.spi = spi
        self.mode = mode
        self.source = source
        self.destination = destination
        self.algorithm = algorithm
        self.encryptionKey = encryptionKey
        self.integrityKey = integrityKey
        self.reqid = reqid
        self.extendedSequenceNumbers = extendedSequenceNumbers
        self.replayWindow = replayWindow
        self.replaySequence = replaySequence
        self.outboundSequence = outboundSequence
        self.selector = selector
        self.encapsulation = encapsulation
        self.headerCompression = headerCompression
    }

    /// The mode-matrix name of this SA (`transport-esp`, `tunnel-esp-null`, `tunnel-ah`, …; architecture.md).
    public var modeName: String {
        // Whole literals: the inbound path names every packet's cell, and a concatenated name longer than 15 bytes
        // would cost a heap allocation per packet.
        switch (mode, algorithm) {
        case (.transport, .ah): return "transport-ah"
        case (_, .ah): return "tunnel-ah"
        case (.tunnelHC, .esp): return "tunnel-esp-hc"
        case (.transport, .esp(let a)): return a.encryption.providesConfidentiality ? "transport-esp" : "transport-esp-null"
        case (_, .esp(let a)): return a.encryption.providesConfidentiality ? "tunnel-esp" : "tunnel-esp-null"
        }
    }

    public var description: String {
        var s = "\(self.protocol) spi 0x\(String(spi, radix: 16)) \(mode) \(source) -> \(destination) \(algorithm)"
        if extendedSequenceNumbers { s += " esn" }
        if encapsulation != nil { s += " udp-encap" }
        if let headerCompression { s += " hc-fields \(headerCompression)" }
        if lifetime != .unlimited { s += " lifetime \(lifetime)" }
        if tfcPadding > 0 { s += " tfcpad \(tfcPadding)" }
        return s
    }
}
