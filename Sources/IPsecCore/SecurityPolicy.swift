import IPsecWire

/// The direction a policy applies to (RFC 4301 §4.4.1; Linux's `dir in|out|fwd`).
public enum PolicyDirection: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case inbound = "in"
    case outbound = "out"
    case forward = "fwd"

    public var description: String { rawValue }
}

/// An address condition of a selector: a prefix or an inclusive range (RFC 4301 §4.4.1.1 allows both).
public enum AddressMatch: Hashable, Sendable, CustomStringConvertible {
    case prefix(IPPrefix)
    case range(IPAddress, IPAddress)

    public func contains(_ address: IPAddress) -> Bool {
        switch self {
        case .prefix(let p): return p.contains(address)
        case let .range(low, high): return low.version == address.version && low <= address && address <= high
        }
    }

    public var version: IPVersion {
        switch self {
        case .prefix(let p): p.address.version
        case .range(let low, _): low.version
        }
    }

    public var description: String {
        switch self {
        case .prefix(let p): p.description
        case let .range(low, high): "\(low)-\(high)"
        }
    }
}

/// What a policy matches (RFC 4301 §4.4.1.1): addresses, next-layer protocol, ports or ICMP type and code. An absent
/// condition matches anything.
public struct PolicySelector: Hashable, Sendable, CustomStringConvertible {
    public var source: AddressMatch?
    public var destination: AddressMatch?
    public var `protocol`: IPProtocol?
    public var sourcePorts: ClosedRange<UInt16>?
    public var destinationPorts: ClosedRange<UInt16>?
    /// ICMP / ICMPv6 type and code (RFC 4301 §4.4.1.1 carries them in the port fields).
    public var icmpType: UInt8?
    public var icmpCode: UInt8?

    public init(source: AddressMatch? = nil, destination: AddressMatch? = nil, protocol: IPProtocol? = nil,
                sourcePorts: ClosedRange<UInt16>? = nil, destinationPorts: ClosedRange<UInt16>? = nil,
                icmpType: UInt8? = nil, icmpCode: UInt8? = nil) {
        self.source = source
        self.destination = destination
        self.protocol = `protocol`
        self.sourcePorts = sourcePorts
        self.destinationPorts = destinationPorts
        self.icmpType = icmpType
        self.icmpCode = icmpCode
    }

    public func matches(_ fields: PacketSelectorFields) -> Bool {
        if let source, !source.contains(fields.source) { return false }
        if let destination, !destination.contains(fields.destination) { return false }
        if let p = self.protocol, p != fields.protocol { return false }
        if let sourcePorts { guard let port = fields.sourcePort, sourcePorts.contains(port) else { return false } }
        if let destinationPorts {
            guard let port = fields.destinationPort, destinationPorts.contains(port) else { return false }
        }
        if let icmpType, icmpType != fields.icmpType { return false }
        if let icmpCode, icmpCode != fields.icmpCode { return false }
        return true
    }

    public var description: String {
        var parts: [String] = []
        if let source { parts.append("src \(source)") }
        if let destination { parts.append("dst \(destination)") }
        if let p = self.protocol { parts.append("proto \(p.name)") }
        if let r = sourcePorts { parts.append(r.count == 1 ? "sport \(r.lowerBound)" : "sport \(r.lowerBound)-\(r.upperBound)") }
        if let r = destinationPorts {
            parts.append(r.count == 1 ? "dport \(r.lowerBound)" : "dport \(r.lowerBound)-\(r.upperBound)")
        }
        if let icmpType { parts.append("type \(icmpType)") }
        if let icmpCode { parts.append("code \(icmpCode)") }
        return parts.isEmpty ? "any" : parts.joined(separator: " ")
    }
}

/// The selector fields of one packet: the outermost IP header's addresses and the next layer after its extension
/// headers.
public struct PacketSelectorFields: Hashable, Sendable {
    public var source: IPAddress
    public var destination: IPAddress
    public var `protocol`: IPProtocol
    public var sourcePort: UInt16?
    public var destinationPort: UInt16?
    public var icmpType: UInt8?
    public var icmpCode: UInt8?

    /// Reads them from an IP packet; nil for a packet too malformed to have any.
    public init?(_ packet: ArraySlice<UInt8>) {
        let d = Dissector.dissect(ipPacket: packet)
        var src: IPAddress?, dst: IPAddress?, proto: IPProtocol?
        for layer in d.layers {
            switch layer.layer {
            case let .ipv4(h, _) where src == nil:
                src = .v4(h.source); dst = .v4(h.destination); proto = h.protocol
            case let .ipv6(h) where src == nil:
                src = .v6(h.source); dst = .v6(h.destination); proto = h.nextHeader
            case .ipv6Extension(let e):
                proto = e.nextHeader
            case let .udp(h, _):
                sourcePort = h.sourcePort; destinationPort = h.destinationPort
            case let .tcp(h, _):
                sourcePort = h.sourcePort; destinationPort = h.destinationPort
            case let .icmpv4(h, _):
                icmpType = h.type; icmpCode = h.code
            case let .icmpv6(h, _):
                icmpType = h.type; icmpCode = h.code
            default:
                break
            }
            if case .esp = layer.layer { break }
        }
        guard let src, let dst, let proto else { return nil }
        source = src
        destination = dst
        self.protocol = proto
    }
}

/// How a policy's protection is to be applied: which protocol, in which mode, between which endpoints (Linux's
/// `tmpl`, setkey's `esp/tunnel/A-B/require`). A policy with several templates describes a bundle, innermost first.
public struct SATemplate: Hashable, Sendable, CustomStringConvertible {
    /// The protocol a template asks for: ESP, AH, or IPComp (RFC 3173), which policies bundle like the others.
    public enum TemplateProtocol: String, Hashable, Sendable, CaseIterable {
        case esp, ah, ipcomp
    }

    public var `protocol`: TemplateProtocol
    public var mode: SAMode
    /// The tunnel endpoints; nil in transport mode (the packet's own addresses).
    public var source: IPAddress?
    public var destination: IPAddress?
    /// Ties the template to an SA with the same reqid (0: any).
    public var reqid: UInt32
    /// An explicit SPI, when the configuration names one.
    public var spi: UInt32?
    /// `use` in setkey / `level use` in Linux: apply if an SA exists, pass in clear otherwise.
    public var optional: Bool

    public init(protocol: TemplateProtocol, mode: SAMode, source: IPAddress? = nil, destination: IPAddress? = nil,
                reqid: UInt32 = 0, spi: UInt32? = nil, optional: Bool = false) {
        self.protocol = `protocol`
        self.mode = mode
        self.source = source
        self.destination = destination
        self.reqid = reqid
        self.spi = spi
        self.optional = optional
    }

    /// Whether `sa` can serve this template.
    public func accepts(_ sa: SAConfiguration, packetDestination: IPAddress? = nil) -> Bool {
        guard sa.protocol.rawValue == self.protocol.rawValue else { return false }
        guard sa.mode == mode || (mode == .tunnel && sa.mode == .tunnelHC) else { return false }
        if reqid != 0, sa.reqid != reqid { return false }
        if let spi, sa.spi != spi { return false }
        if let destination, sa.destination != destination { return false }
        if let source, sa.source != source { return false }
        if mode == .transport, let packetDestination, sa.destination != packetDestination { return false }
        return true
    }

    public var description: String {
        var s = "\(self.protocol)/\(mode)"
        if let source, let destination { s += "/\(source)-\(destination)" }
        if reqid != 0 { s += " reqid \(reqid)" }
        return s
    }
}

/// What a policy does with the packets it matches (RFC 4301 §4.4.1: BYPASS, DISCARD, PROTECT).
public enum PolicyAction: Hashable, Sendable, CustomStringConvertible {
    case bypass
    case discard
    /// Protect with these templates, innermost first (e.g. ESP then AH for `transport-ah+esp`).
    case protect([SATemplate])

    public var description: String {
        switch self {
        case .bypass: "bypass"
        case .discard: "discard"
        case .protect(let t): "protect " + t.map(\.description).joined(separator: ", ")
        }
    }
}

/// One entry of the security policy database.
public struct SecurityPolicy: Hashable, Sendable, CustomStringConvertible {
    public var direction: PolicyDirection
    public var selector: PolicySelector
    public var action: PolicyAction
    /// Lower values are consulted first (Linux's `priority`); entries of equal priority keep file order.
    public var priority: Int

    public init(direction: PolicyDirection, selector: PolicySelector, action: PolicyAction, priority: Int = 0) {
        self.direction = direction
        self.selector = selector
        self.action = action
        self.priority = priority
    }

    public var description: String { "\(direction) \(selector) \(action)" }
}

/// The ordered security policy database (RFC 4301 §4.4.1): the first matching entry decides.
public struct SecurityPolicyDatabase: Hashable, Sendable {
    public private(set) var entries: [SecurityPolicy] = []

    public init(_ policies: [SecurityPolicy] = []) {
        for p in policies { add(p) }
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// Adds `policy` after every entry of lower or equal priority.
    public mutating func add(_ policy: SecurityPolicy) {
        let index = entries.firstIndex { $0.priority > policy.priority } ?? entries.count
        entries.insert(policy, at: index)
    }

    /// The first policy of `direction` whose selector matches.
    public func lookup(_ fields: PacketSelectorFields, direction: PolicyDirection) -> SecurityPolicy? {
        entries.first { $0.direction == direction && $0.selector.matches(fields) }
    }
}
