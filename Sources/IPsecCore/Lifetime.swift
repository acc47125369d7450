import IPsecWire

/// SA lifetimes (RFC 4301 §4.4.2.1): soft limits warn that the SA should be replaced, hard limits end it. Counted in
/// packets and in bytes of IP packets protected or accepted. Time-based limits are not modelled: a capture replays
/// time, it does not live through it.
public struct SALifetime: Hashable, Sendable, CustomStringConvertible {
    public var softPackets: UInt64?
    public var hardPackets: UInt64?
    public var softBytes: UInt64?
    public var hardBytes: UInt64?

    public init(softPackets: UInt64? = nil, hardPackets: UInt64? = nil, softBytes: UInt64? = nil,
                hardBytes: UInt64? = nil) {
        self.softPackets = softPackets
        self.hardPackets = hardPackets
        self.softBytes = softBytes
        self.hardBytes = hardBytes
    }

    public static let unlimited = SALifetime()

    /// Whether another packet may be processed after `packets`/`usedBytes` already were. As Linux's
    /// `xfrm_state_check_expire`, the counters are compared before the packet: the packet that crosses a byte limit
    /// is still processed, the next one is not.
    func allows(packets: UInt64, usedBytes: UInt64) -> Bool {
        if let hardPackets, packets >= hardPackets { return false }
        if let hardBytes, usedBytes >= hardBytes { return false }
        return true
    }

    func softReached(packets: UInt64, usedBytes: UInt64) -> Bool {
        if let softPackets, packets >= softPackets { return true }
        if let softBytes, usedBytes >= softBytes { return true }
        return false
    }

    public var description: String {
        var parts: [String] = []
        if let softPackets { parts.append("packet-soft \(softPackets)") }
        if let hardPackets { parts.append("packet-hard \(hardPackets)") }
        if let softBytes { parts.append("byte-soft \(softBytes)") }
        if let hardBytes { parts.append("byte-hard \(hardBytes)") }
        return parts.isEmpty ? "unlimited" : parts.joined(separator: " ")
    }
}

/// An IPComp SA (RFC 3173): compression with DEFLATE (RFC 2394) under a CPI, applied before ESP or AH.
public struct IPCompAssociation: Hashable, Sendable, CustomStringConvertible {
    /// Compression parameter index: 256–61439 are negotiated ones; 1–63 name algorithms (RFC 3173 §3.3).
    public var cpi: UInt16
    public var mode: SAMode
    public var source: IPAddress
    public var destination: IPAddress
    public var reqid: UInt32

    public init(cpi: UInt16, mode: SAMode = .transport, source: IPAddress, destination: IPAddress, reqid: UInt32 = 0) {
        self.cpi = cpi
        self.mode = mode
        self.source = source
        self.destination = destination
        self.reqid = reqid
    }

    public var description: String { "ipcomp cpi 0x\(String(cpi, radix: 16)) \(mode) \(source) -> \(destination) deflate" }
}
