import IPsecCore
import IPsecCrypto
import IPsecWire

/// One SA as a file states it, with where each field was written. Every format fills one after checking that the
/// required fields are there (each in its own words); `validated()` then applies the rules that hold whatever the
/// format, so the three formats accept and reject the same SAs with the same messages.
struct SADraft {
    enum Field: Hashable {
        case spi, mode, source, destination, algorithm, encryptionKey, integrityKey, replayWindow, replaySequence,
             outboundSequence, selector, encapsulation, headerCompression, lifetime, tfcPadding
    }

    /// Where a field was written: its line and how the format names it (`associations[0].spi`, `auth hmac(sha1)`).
    struct Place {
        var line: Int?
        var label: String
    }

    /// The largest anti-replay window accepted, in packets: Linux's limit (`XFRMA_REPLAY_ESN_MAX`, a 4096-bit
    /// bitmap), which iproute2 enforces too. A bound is needed anyway, since the window's bitmap is allocated per SA.
    static let maximumReplayWindow = 4096

    let origin: String
    /// Where the SA starts; messages about the SA as a whole, and about fields without a place, point here.
    var entry: Place
    var places: [Field: Place] = [:]

    var `protocol`: IPsecProtocol
    var spi: UInt32
    var mode: SAMode
    var source: IPAddress
    var destination: IPAddress
    var algorithm: SAAlgorithm
    var encryptionKey: [UInt8] = []
    var integrityKey: [UInt8] = []
    var reqid: UInt32 = 0
    var esn = false
    var replayWindow: Int
    var replaySequence: UInt64 = 0
    var outboundSequence: UInt64 = 0
    var selector: TrafficSelector?
    var encapsulation: UDPEncapsulationConfig?
    var headerCompression: HeaderCompressionFields?
    var lifetime = SALifetime.unlimited
    var tfcPadding = 0

    /// The largest TFC padding target accepted, in bytes: no IP packet is longer.
    static let maximumTFCPadding = 65535

    init(origin: String, entry: Place, protocol: IPsecProtocol, spi: UInt32, mode: SAMode, source: IPAddress,
         destination: IPAddress, algorithm: SAAlgorithm, replayWindow: Int) {
        self.origin = origin
        self.entry = entry
        self.protocol = `protocol`
        self.spi = spi
        self.mode = mode
        self.source = source
        self.destination = destination
        self.algorithm = algorithm
        self.replayWindow = replayWindow
    }

    func fail(_ field: Field, _ code: ConfigError.Code, _ reason: String) -> ConfigError {
        let place = places[field] ?? entry
        return Problem(code, reason).at(origin, line: place.line, label: place.label)
    }

    func validated() throws(ConfigError) -> SAConfiguration {
        guard spi != 0 else {
            throw fail(.spi, .invalidValue, "SPI 0 is reserved and never sent (RFC 4303 §2.1, RFC 4302 §2.4)")
        }
        guard source.version == destination.version else {
            throw fail(.destination, .inconsistent,
                       "source \(source) and destination \(destination) are of different families; "
                           + "an SA's endpoints are both IPv4 or both IPv6 (inner packets may differ in tunnel mode)")
        }
        try checkAlgorithmAndKeys()
        guard (0...Self.maximumReplayWindow).contains(replayWindow) else {
            throw fail(.replayWindow, .invalidValue,
                       "\(replayWindow) packets; the window is 0 (off) to \(Self.maximumReplayWindow)")
        }
        if !esn {
            guard replaySequence <= UInt64(UInt32.max) else {
                throw fail(.replaySequence, .inconsistent,
                           "\(replaySequence) does not fit 32 bits; only an SA with ESN has 64-bit sequence numbers")
            }
            guard outboundSequence <= UInt64(UInt32.max) else {
                throw fail(.outboundSequence, .inconsistent,
                           "\(outboundSequence) does not fit 32 bits; only an SA with ESN has 64-bit sequence numbers")
            }
        }
        let checkedSelector = try checkedSelector()
        if let encapsulation {
            guard `protocol` == .esp else {
                throw fail(.encapsulation, .inconsistent, "UDP encapsulation (RFC 3948) carries ESP, not AH")
            }
            guard encapsulation.sourcePort != 0, encapsulation.destinationPort != 0 else {
                throw fail(.encapsulation, .invalidValue, "UDP port 0 cannot be sent")
            }
        }
        var fields: HeaderCompressionFields?
        if mode == .tunnelHC {
            // A compressed-tunnel SA owns its SPI and the SPI with the indicator bit (docs/header-compression.md §2).
            guard spi & HeaderCompression.indicator == 0 else {
                throw fail(.spi, .invalidValue, "a tunnel-hc SA's SPI must have its top bit clear: the SA also owns "
                           + "the SPI with that bit set, for compressed packets")
            }
            let set = headerCompression ?? .hostToHost
            guard set.isValid(for: source.version) else {
                throw fail(.headerCompression, .inconsistent,
                           "identification and dont-fragment are IPv4 fields; this SA is \(source.version)")
            }
            fields = set
        } else if headerCompression != nil {
            throw fail(.headerCompression, .inconsistent, "compressed fields need mode tunnel-hc")
        }
        try checkLifetimeAndPadding()
        var sa = SAConfiguration(
            protocol: `protocol`, spi: spi, mode: mode, source: source, destination: destination, algorithm: algorithm,
            encryptionKey: encryptionKey, integrityKey: integrityKey, reqid: reqid, extendedSequenceNumbers: esn,
            replayWindow: replayWindow, replaySequence: replaySequence, outboundSequence: outboundSequence,
            selector: checkedSelector, encapsulation: encapsulation, headerCompression: fields)
        sa.lifetime = lifetime
        sa.tfcPadding = tfcPadding
        return sa
    }

    /// A soft limit beyond its hard limit would never warn; TFC padding (RFC 4303 §2.4) is ESP's, and only a tunnel
    /// lets the receiver find where the padded inner packet ends.
    private func checkLifetimeAndPadding() throws(ConfigError) {
        let pairs: [(UInt64?, UInt64?, String)] = [
            (lifetime.softPackets, lifetime.hardPackets, "packets"), (lifetime.softBytes, lifetime.hardBytes, "bytes"),
        ]
        for case let (soft?, hard?, unit) in pairs where soft > hard {
            throw fail(.lifetime, .inconsistent, "the soft limit in \(unit) is above the hard one; it would never warn")
        }
        guard tfcPadding != 0 else { return }
        guard (0...Self.maximumTFCPadding).contains(tfcPadding) else {
            throw fail(.tfcPadding, .invalidValue, "TFC padding is 0 to \(Self.maximumTFCPadding) bytes")
        }
        guard `protocol` == .esp else {
            throw fail(.tfcPadding, .inconsistent, "TFC padding (RFC 4303 §2.4) is ESP's; AH carries no padding")
        }
        guard mode != .transport else {
            throw fail(.tfcPadding, .inconsistent, "TFC padding needs tunnel mode: in transport mode the receiver "
                + "could not tell the padding from the payload (RFC 4303 §2.4)")
        }
    }

    private func checkAlgorithmAndKeys() throws(ConfigError) {
        switch algorithm {
        case .esp(let a):
            guard `protocol` == .esp else {
                throw fail(.algorithm, .inconsistent, "\(a.keyword) is an ESP algorithm, but the SA is AH")
            }
            let encryption = a.encryption
            if encryptionKey.count != a.encryptionKeyLength {
                let saltName: String
                if case .aesCTR = encryption { saltName = "nonce" } else { saltName = "salt" }
                throw fail(.encryptionKey, .badKeyLength,
                           "\(encryptionKey.count) bytes, \(a.keyword) needs \(a.encryptionKeyLength)"
                               + Self.layout(key: encryption.keyLength, salt: encryption.saltLength, saltName: saltName))
            }
            if integrityKey.count != a.integrityKeyLength {
                if a.integrityKeyLength == 0 {
                    throw fail(.integrityKey, .badKeyLength,
                               "\(integrityKey.count) bytes, but \(a.keyword) has no separate integrity key")
                }
                throw fail(.integrityKey, .badKeyLength,
                           "\(integrityKey.count) bytes, \(a.keyword) needs \(a.integrityKeyLength)")
            }
        case .ah(let a):
            guard `protocol` == .ah else {
                throw fail(.algorithm, .inconsistent, "\(a.keyword) is an AH algorithm, but the SA is ESP")
            }
            guard encryptionKey.isEmpty else {
                throw fail(.encryptionKey, .inconsistent, "AH encrypts nothing and takes no encryption key")
            }
            if integrityKey.count != a.keyLength {
                throw fail(.integrityKey, .badKeyLength,
                           "\(integrityKey.count) bytes, \(a.keyword) needs \(a.keyLength)"
                               + Self.layout(key: a.integrity.keyLength, salt: a.integrity.saltLength, saltName: "salt"))
            }
            guard mode != .tunnelHC else {
                throw fail(.mode, .inconsistent, "the header-compressed tunnel is an ESP mode (tunnel-esp-hc), not AH")
            }
        }
    }

    static func layout(key: Int, salt: Int, saltName: String) -> String {
        salt == 0 ? "" : " (\(key) key + \(salt) \(saltName))"
    }

    /// Checks a selector and normalises a selector that matches everything (`sel src 0.0.0.0/0 dst 0.0.0.0/0`, as
    /// Linux lists tunnel SAs) to none, so that every format states "any traffic" the same way.
    private func checkedSelector() throws(ConfigError) -> TrafficSelector? {
        guard let s = selector else { return nil }
        if let a = s.source, let b = s.destination, a.address.version != b.address.version {
            throw fail(.selector, .inconsistent, "selector source \(a) and destination \(b) are of different families")
        }
        if mode == .transport, let family = (s.source ?? s.destination)?.address.version, family != source.version {
            throw fail(.selector, .inconsistent,
                       "a transport-mode selector covers the SA's own \(source.version) traffic, not \(family)")
        }
        if s.sourcePort != nil || s.destinationPort != nil {
            guard let p = s.protocol, TextValues.hasPorts(p) else {
                throw fail(.selector, .inconsistent, "ports need the protocol tcp, udp, sctp, dccp or udplite")
            }
        }
        let wildcard = (s.source?.length ?? 0) == 0 && (s.destination?.length ?? 0) == 0 && s.protocol == nil
            && s.sourcePort == nil && s.destinationPort == nil
        return wildcard ? nil : s
    }
}

/// Collects validated SAs and refuses a second SA with the identity of an earlier one: inbound processing finds an SA
/// by SPI, destination and protocol (RFC 4301 §4.1), so two of them would be ambiguous.
struct SACollection {
    private(set) var associations: [SAConfiguration] = []
    private var lines: [Int?] = []

    mutating func add(_ draft: SADraft, replacing: Bool = false) throws(ConfigError) {
        let sa = try draft.validated()
        if let i = associations.firstIndex(where: { Self.sameIdentity($0, sa) }) {
            if replacing {
                associations[i] = sa
                lines[i] = draft.entry.line
                return
            }
            let earlier = lines[i].map { " at line \($0)" } ?? ""
            throw ConfigError(.duplicate, origin: draft.origin, line: draft.entry.line,
                              reason: "a second SA for \(sa.protocol) SPI 0x\(String(sa.spi, radix: 16)) to "
                                  + "\(sa.destination); the first is\(earlier)")
        }
        associations.append(sa)
        lines.append(draft.entry.line)
    }

    /// Drops the SAs of `protocol` (all of them for nil), as `ip xfrm state flush [proto P]` does.
    mutating func flush(_ protocol: IPsecProtocol?) {
        let keep = associations.indices.filter { `protocol` != nil && associations[$0].protocol != `protocol` }
        associations = keep.map { associations[$0] }
        lines = keep.map { lines[$0] }
    }

    static func sameIdentity(_ a: SAConfiguration, _ b: SAConfiguration) -> Bool {
        a.spi == b.spi && a.destination == b.destination && a.protocol == b.protocol
    }
}
