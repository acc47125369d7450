import IPsecCore
import IPsecWire

/// One security policy as a file states it, with its line. Every format fills one; `validated()` applies the rules
/// that hold whatever the format (the policy counterpart of `SADraft`).
struct PolicyDraft {
    let origin: String
    /// Where the policy starts; messages point here.
    var line: Int?
    /// How the format names the policy in messages (`policies[0]`, or empty for line-based formats).
    var label: String = ""
    var direction: PolicyDirection
    var selector = PolicySelector()
    var action: PolicyAction = .bypass
    var priority: Int = 0

    init(origin: String, line: Int?, direction: PolicyDirection) {
        self.origin = origin
        self.line = line
        self.direction = direction
    }

    func fail(_ code: ConfigError.Code, _ reason: String) -> ConfigError {
        Problem(code, reason).at(origin, line: line, label: label)
    }

    /// The checks of RFC 4301 §4.4.1.1 that a file can get wrong: one address family per selector, ports only with a
    /// protocol that has them, ICMP type and code only with ICMP, ranges in order; and templates whose tunnel
    /// endpoints are given and of one family.
    func validated() throws(ConfigError) -> SecurityPolicy {
        let s = selector
        if let a = s.source, let b = s.destination, a.version != b.version {
            throw fail(.inconsistent, "selector source \(a) and destination \(b) are of different families")
        }
        for match in [s.source, s.destination].compactMap({ $0 }) {
            if case let .range(low, high) = match {
                guard low.version == high.version else {
                    throw fail(.inconsistent, "address range \(match) mixes IPv4 and IPv6")
                }
                guard low <= high else { throw fail(.invalidValue, "address range \(match) ends before it starts") }
            }
        }
        for ports in [s.sourcePorts, s.destinationPorts].compactMap({ $0 }) where ports.lowerBound == 0 {
            throw fail(.invalidValue, "port range \(ports.lowerBound)-\(ports.upperBound) includes port 0")
        }
        if s.sourcePorts != nil || s.destinationPorts != nil {
            guard let p = s.protocol, TextValues.hasPorts(p) else {
                throw fail(.inconsistent, "ports need the protocol tcp, udp, sctp, dccp or udplite")
            }
        }
        if s.icmpType != nil || s.icmpCode != nil {
            guard let p = s.protocol, p.rawValue == 1 || p.rawValue == 58 else {
                throw fail(.inconsistent, "ICMP type and code need the protocol icmp or ipv6-icmp")
            }
            guard s.icmpType != nil else { throw fail(.inconsistent, "an ICMP code needs an ICMP type") }
        }
        if case .protect(let templates) = action {
            guard !templates.isEmpty else { throw fail(.missing, "a protect policy needs at least one template") }
            for (i, t) in templates.enumerated() {
                let which = templates.count == 1 ? "the template" : "template \(i + 1)"
                if t.mode != .transport {
                    guard let a = t.source, let b = t.destination else {
                        throw fail(.missing, "\(which) is in \(t.mode) mode and needs its tunnel endpoints")
                    }
                    guard a.version == b.version else {
                        throw fail(.inconsistent, "\(which)'s endpoints \(a) and \(b) are of different families")
                    }
                } else if (t.source == nil) != (t.destination == nil) {
                    throw fail(.inconsistent, "\(which) names one endpoint but not the other")
                }
                if t.protocol != .esp, t.mode == .tunnelHC {
                    throw fail(.inconsistent, "\(which): the header-compressed tunnel is an ESP mode")
                }
                if t.spi == 0 { throw fail(.invalidValue, "\(which): SPI 0 is reserved (RFC 4303 §2.1)") }
            }
        }
        guard (0...Int(UInt32.max)).contains(priority) else {
            throw fail(.invalidValue, "priority is 0 to \(UInt32.max)")
        }
        return SecurityPolicy(direction: direction, selector: s, action: action, priority: priority)
    }
}

/// One IPComp SA (RFC 3173) as a file states it.
struct CompressionDraft {
    let origin: String
    var line: Int?
    var label: String = ""
    var cpi: UInt64
    var mode: SAMode
    var source: IPAddress
    var destination: IPAddress
    var reqid: UInt32 = 0

    func validated() throws(ConfigError) -> IPCompAssociation {
        func fail(_ code: ConfigError.Code, _ reason: String) -> ConfigError {
            Problem(code, reason).at(origin, line: line, label: label)
        }
        // The CPI is 16 bits on the wire (RFC 3173 §2.2); Linux keeps it in the low bits of the 32-bit SPI.
        guard (1...UInt64(UInt16.max)).contains(cpi) else {
            throw fail(.invalidValue, "an IPComp CPI is 1 to 65535 (16 bits, RFC 3173 §2.2); 0 is reserved")
        }
        guard source.version == destination.version else {
            throw fail(.inconsistent, "source \(source) and destination \(destination) are of different families")
        }
        guard mode != .tunnelHC else {
            throw fail(.unsupported, "IPComp SAs are transport or tunnel; tunnel-hc is an ESP mode")
        }
        return IPCompAssociation(cpi: UInt16(cpi), mode: mode, source: source, destination: destination, reqid: reqid)
    }
}

/// Everything a file states, collected in order: SAs, IPComp SAs and policies, with the flushes of the formats that
/// have them. Two entries with one identity are refused, unless the format says to replace (`update`).
struct ConfigCollection {
    private(set) var sas = SACollection()
    private(set) var compressions: [IPCompAssociation] = []
    private var compressionLines: [Int?] = []
    private(set) var policies: [SecurityPolicy] = []
    private var policyLines: [Int?] = []

    var isEmpty: Bool { sas.associations.isEmpty && compressions.isEmpty && policies.isEmpty }

    mutating func add(_ draft: SADraft, replacing: Bool = false) throws(ConfigError) {
        try sas.add(draft, replacing: replacing)
    }

    /// IPComp SAs are found by CPI and destination (RFC 3173 §3.3), like ESP and AH SAs by SPI.
    mutating func add(_ draft: CompressionDraft, replacing: Bool = false) throws(ConfigError) {
        let c = try draft.validated()
        if let i = compressions.firstIndex(where: { $0.cpi == c.cpi && $0.destination == c.destination }) {
            if replacing {
                compressions[i] = c
                compressionLines[i] = draft.line
                return
            }
            let earlier = compressionLines[i].map { " at line \($0)" } ?? ""
            throw Problem(.duplicate, "a second IPComp SA with CPI 0x\(String(c.cpi, radix: 16)) to \(c.destination); "
                + "the first is\(earlier)").at(draft.origin, line: draft.line, label: draft.label)
        }
        compressions.append(c)
        compressionLines.append(draft.line)
    }

    /// Policies are identified by direction, selector and priority, as Linux identifies them (`File exists` on a
    /// second `ip xfrm policy add`).
    mutating func add(_ draft: PolicyDraft, replacing: Bool = false) throws(ConfigError) {
        let p = try draft.validated()
        if let i = policies.firstIndex(where: { $0.direction == p.direction && $0.selector == p.selector }) {
            if replacing {
                policies[i] = p
                policyLines[i] = draft.line
                return
            }
            let earlier = policyLines[i].map { " at line \($0)" } ?? ""
            throw draft.fail(.duplicate, "a second '\(p.direction)' policy for \(p.selector); the first is\(earlier)")
        }
        policies.append(p)
        policyLines.append(draft.line)
    }

    /// `ip xfrm state flush [proto P]`, setkey's `flush [protocol]`: nil drops every SA.
    mutating func flushStates(esp: Bool, ah: Bool, comp: Bool) {
        if esp { sas.flush(.esp) }
        if ah { sas.flush(.ah) }
        if comp {
            compressions = []
            compressionLines = []
        }
    }

    mutating func flushPolicies() {
        policies = []
        policyLines = []
    }

    func file(_ format: SAFileFormat, origin: String, emptyReason: String) throws(ConfigError) -> SAFile {
        guard !isEmpty else { throw ConfigError(.missing, origin: origin, line: nil, reason: emptyReason) }
        return SAFile(associations: sas.associations, policies: policies, compressions: compressions, format: format)
    }
}
