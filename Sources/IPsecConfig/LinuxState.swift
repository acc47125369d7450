import IPsecCore
import IPsecCrypto
import IPsecWire

/// One SA as iproute2 states it, in an `ip xfrm state add` command or an `ip xfrm state` listing: the parts, each with
/// the line it came from. `draft()` turns the Linux algorithm names into IPsecCrypto's and applies Linux's defaults.
struct LinuxState {
    struct Algorithm {
        /// `enc`, `auth`, `auth-trunc` or `aead`.
        var keyword: String
        var name: String
        var key: [UInt8]
        /// The ICV (`aead`) or truncation (`auth-trunc`) length; nil for `enc` and `auth`.
        var bits: UInt64?
        var line: Int
    }

    let origin: String
    /// The line where the SA starts.
    let line: Int
    var source: IPAddress?
    var destination: (IPAddress, line: Int)?
    var proto: (IPsecProtocol, line: Int)?
    var spi: (UInt32, line: Int)?
    var mode: (SAMode, line: Int)?
    var reqid: UInt32 = 0
    var window: (Int, line: Int)?
    var esn = false
    var sequence: (low: UInt64, high: UInt64, line: Int?) = (0, 0, nil)
    var outboundSequence: (low: UInt64, high: UInt64, line: Int?) = (0, 0, nil)
    var enc, auth, aead: Algorithm?
    /// How messages name the sequence numbers: `replay-seq`/`replay-oseq` in commands, `seq`/`oseq` in listings.
    var sequenceLabels = (inbound: "replay-seq", outbound: "replay-oseq")
    var selector: (TrafficSelector, line: Int)?
    var encapsulation: (UDPEncapsulationConfig, line: Int)?
    /// IPsecLab's extension for the compressed tunnel: `hc-fields PRESET|FIELD,FIELD,…`.
    var headerCompression: (HeaderCompressionFields, line: Int)?
    /// `limit packet-soft N …`: the packet and byte limits (time limits only matter to a kernel's clock).
    var lifetime = SALifetime.unlimited
    var lifetimeLine: Int?
    /// `tfcpad N`.
    var tfcPadding: (Int, line: Int)?
    /// `proto comp`: an IPComp state, whose `spi` is the CPI; `comp NAME` names its algorithm.
    var compressionProtocolLine: Int?
    var compression: (name: String, line: Int)?

    init(origin: String, line: Int) {
        self.origin = origin
        self.line = line
    }

    private func fail(_ line: Int, _ code: ConfigError.Code, _ reason: String) -> ConfigError {
        ConfigError(code, origin: origin, line: line, reason: reason)
    }

    private func place<T>(_ line: Int, _ body: () throws(Problem) -> T) throws(ConfigError) -> T {
        do { return try body() } catch { throw error.at(origin, line: line) }
    }

    func draft() throws(ConfigError) -> SADraft {
        guard let source else { throw fail(line, .missing, "missing 'src ADDRESS'") }
        guard let (destination, destinationLine) = destination else { throw fail(line, .missing, "missing 'dst ADDRESS'") }
        guard let (ipsec, protoLine) = proto else {
            throw fail(line, .missing, "missing 'proto esp', 'proto ah' or 'proto comp'")
        }
        if let compression { throw fail(compression.line, .inconsistent, "'comp' belongs to an IPComp state (proto comp)") }
        guard let (spiValue, spiLine) = spi else { throw fail(line, .missing, "missing 'spi SPI'") }

        let algorithm: SAAlgorithm
        var encryptionKey: [UInt8] = []
        var integrityKey: [UInt8] = []
        var algorithmLine = protoLine
        switch ipsec {
        case .esp:
            if let aead, let other = enc ?? auth {
                throw fail(other.line, .inconsistent,
                           "'\(other.keyword)' cannot be combined with 'aead' (line \(aead.line)), which has its own ICV")
            }
            guard let cipher = aead ?? enc else {
                throw fail(protoLine, .missing, "ESP needs 'enc ALGO KEY' or 'aead ALGO KEY ICV-BITS'")
            }
            algorithmLine = cipher.line
            let encryption = try place(cipher.line) { () throws(Problem) in
                if let bits = cipher.bits {
                    try LinuxAlgorithms.aead(cipher.name, keyLength: cipher.key.count, icvBits: bits)
                } else {
                    try LinuxAlgorithms.encryption(cipher.name, keyLength: cipher.key.count)
                }
            }
            var integrity = IntegrityAlgorithm.none
            if let auth {
                integrity = try place(auth.line) { () throws(Problem) in
                    try LinuxAlgorithms.integrity(auth.name, truncationBits: auth.bits)
                }
                integrityKey = auth.key
            }
            do throws(CryptoError) {
                algorithm = .esp(try ESPAlgorithm(encryption: encryption, integrity: integrity))
            } catch {
                throw fail(cipher.line, .unknownAlgorithm, error.reason)
            }
            encryptionKey = cipher.key
        case .ah:
            if let other = enc ?? aead {
                throw fail(other.line, .inconsistent, "AH authenticates only; '\(other.keyword)' belongs to ESP")
            }
            guard let auth else {
                throw fail(protoLine, .missing, "AH needs 'auth ALGO KEY' or 'auth-trunc ALGO KEY BITS'")
            }
            algorithmLine = auth.line
            let integrity = try place(auth.line) { () throws(Problem) in
                try LinuxAlgorithms.integrity(auth.name, truncationBits: auth.bits)
            }
            do throws(CryptoError) {
                algorithm = .ah(try AHAlgorithm(integrity))
            } catch {
                throw fail(auth.line, .unknownAlgorithm, error.reason)
            }
            integrityKey = auth.key
        }

        // Linux's defaults: transport mode, no replay window.
        var draft = SADraft(origin: origin, entry: SADraft.Place(line: line, label: ""), protocol: ipsec,
                            spi: spiValue, mode: mode?.0 ?? .transport, source: source, destination: destination,
                            algorithm: algorithm, replayWindow: window?.0 ?? 0)
        func at(_ line: Int?, _ label: String) -> SADraft.Place? { line.map { SADraft.Place(line: $0, label: label) } }
        draft.places[.spi] = at(spiLine, "spi")
        draft.places[.destination] = at(destinationLine, "dst")
        draft.places[.mode] = at(mode?.line, "mode")
        draft.places[.algorithm] = at(algorithmLine, "")
        if let cipher = aead ?? enc {
            draft.places[.encryptionKey] = at(cipher.line, "\(cipher.keyword) \(ConfigError.shown(cipher.name)) key")
        }
        if let auth {
            draft.places[.integrityKey] = at(auth.line, "\(auth.keyword) \(ConfigError.shown(auth.name)) key")
        }
        draft.places[.replayWindow] = at(window?.line, "replay-window")
        draft.places[.replaySequence] = at(sequence.line, sequenceLabels.inbound)
        draft.places[.outboundSequence] = at(outboundSequence.line, sequenceLabels.outbound)
        draft.places[.selector] = at(selector?.line, "sel")
        draft.places[.headerCompression] = at(headerCompression?.line, "hc-fields")
        draft.places[.encapsulation] = at(encapsulation?.line, "encap")
        draft.encryptionKey = encryptionKey
        draft.integrityKey = integrityKey
        draft.reqid = reqid
        draft.esn = esn
        draft.replaySequence = sequence.high << 32 | sequence.low
        draft.outboundSequence = outboundSequence.high << 32 | outboundSequence.low
        draft.selector = selector?.0
        draft.encapsulation = encapsulation?.0
        draft.headerCompression = headerCompression?.0
        draft.lifetime = lifetime
        draft.places[.lifetime] = at(lifetimeLine, "limit")
        if let (padding, paddingLine) = tfcPadding {
            draft.tfcPadding = padding
            draft.places[.tfcPadding] = at(paddingLine, "tfcpad")
        }
        return draft
    }

    /// Whether this is an IPComp state (`proto comp`), to be read with `compressionDraft()`.
    var isCompression: Bool { compressionProtocolLine != nil }

    /// An IPComp state: `proto comp spi CPI … comp deflate`. Only DEFLATE (RFC 2394) is implemented.
    func compressionDraft() throws(ConfigError) -> CompressionDraft {
        guard let source else { throw fail(line, .missing, "missing 'src ADDRESS'") }
        guard let (destination, _) = destination else { throw fail(line, .missing, "missing 'dst ADDRESS'") }
        guard let (cpi, spiLine) = spi else { throw fail(line, .missing, "missing 'spi CPI'") }
        let protoLine = compressionProtocolLine ?? line
        guard let compression else {
            throw fail(protoLine, .missing, "an IPComp state needs 'comp deflate'")
        }
        try Self.checkCompression(compression.name, line: compression.line, origin: origin)
        if let other = enc ?? auth ?? aead {
            throw fail(other.line, .inconsistent, "an IPComp state compresses only; '\(other.keyword)' belongs to ESP or AH")
        }
        for (present, what, at) in [(encapsulation?.line, "encap", encapsulation?.line),
                                    (headerCompression?.line, "hc-fields", headerCompression?.line),
                                    (tfcPadding?.line, "tfcpad", tfcPadding?.line)] where present != nil {
            throw fail(at ?? line, .inconsistent, "an IPComp state has no '\(what)'")
        }
        return CompressionDraft(origin: origin, line: spiLine, cpi: UInt64(cpi), mode: mode?.0 ?? .transport,
                                source: source, destination: destination, reqid: reqid)
    }

    /// Linux's compression algorithms (net/xfrm/xfrm_algo.c `calg_list`): deflate, lzs, lzjh.
    static func checkCompression(_ name: String, line: Int, origin: String) throws(ConfigError) {
        switch name.lowercased() {
        case "deflate": return
        case "lzs", "lzjh":
            throw ConfigError(.unsupported, origin: origin, line: line,
                              reason: "IPComp with \(name.lowercased()) is not supported (only deflate, RFC 2394)")
        default:
            throw ConfigError(.unknownAlgorithm, origin: origin, line: line,
                              reason: "unknown compression algorithm \(ConfigError.shown(name)) (deflate, lzs, lzjh)")
        }
    }

    /// A mode word, for commands and listings alike.
    static func mode(_ text: String) throws(Problem) -> SAMode {
        switch text {
        case "transport": return .transport
        case "tunnel": return .tunnel
        case "tunnel-hc": return .tunnelHC
        case "beet", "ro", "in_trigger", "iptfs":
            throw Problem(.unsupported, "mode \(text) is not supported (transport, tunnel or tunnel-hc)")
        default:
            throw Problem(.invalidValue, "mode \(ConfigError.shown(text)) is not transport, tunnel or tunnel-hc")
        }
    }

    /// An SA protocol word (`proto` of the SA, not of a selector).
    static func ipsecProtocol(_ text: String) throws(Problem) -> IPsecProtocol {
        switch text {
        case "esp": return .esp
        case "ah": return .ah
        case "comp": throw Problem(.invalidValue, "proto comp is an IPComp state, not an ESP or AH SA")
        case "route2", "hao": throw Problem(.unsupported, "Mobile IPv6 states (proto \(text)) are not IPsec SAs")
        default: throw Problem(.invalidValue, "proto \(ConfigError.shown(text)) is not esp or ah")
        }
    }
}
