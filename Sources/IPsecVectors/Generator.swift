import IPsecCore
import IPsecCrypto
import IPsecWire

/// Generates the committed vectors: every cell of the mode matrix × every algorithm × IPv4/IPv6, positive and
/// negative, plus the published known answers. Deterministic: the same seed gives the same bytes.
///
/// Expectations come from the RFCs, not from IPsecLab: a valid inbound case must deliver the packet that was
/// protected, and every negative case names the drop reason the RFC-ordered inbound path must give. The generator
/// then runs each case through IPsecLab; any disagreement is returned in `disagreements`, never papered over.
public struct VectorGenerator {
    public let seed: UInt64
    public static let defaultSeed: UInt64 = 1

    public init(seed: UInt64 = VectorGenerator.defaultSeed) { self.seed = seed }

    /// The generated files: relative path → text, sorted by path.
    public struct Output {
        public var files: [(path: String, text: String)]
        /// Cases where IPsecLab did not do what the vector expects (should be empty).
        public var disagreements: [String]
        public var counts: [String: (positive: Int, negative: Int)]
    }

    public func generate() throws -> Output {
        var files: [(String, String)] = []
        var disagreements: [String] = []
        var counts: [String: (positive: Int, negative: Int)] = [:]
        for (cellIndex, cell) in Cell.all.enumerated() {
            for (algIndex, algorithm) in cell.algorithms.enumerated() {
                let path = "\(cell.name)/\(algorithm.description).json"
                var builder = FileBuilder(cell: cell, algorithm: algorithm,
                                          stream: ByteStream(seed: seed, label: path),
                                          spiBase: 0x0100_0000 | UInt32(cellIndex) << 16 | UInt32(algIndex) << 8)
                try builder.build()
                builder.groups += try Published.groups(mode: cell.name, algorithm: algorithm.description)
                let file = builder.file()
                for g in file.groups {
                    for c in g.tests {
                        if let problem = VectorVerifier.check(c, in: g) {
                            disagreements.append("\(path) tcId \(c.tcId) (\(c.comment)): \(problem)")
                        }
                        var n = counts[cell.name] ?? (0, 0)
                        if c.result == .valid { n.positive += 1 } else { n.negative += 1 }
                        counts[cell.name] = n
                    }
                }
                files.append((path, file.text))
            }
        }
        for (path, file) in Published.transformFiles() {
            files.append((path, file.text))
            var n = counts["transform"] ?? (0, 0)
            for g in file.groups {
                for c in g.tests {
                    if let problem = TransformVerifier.check(c, in: g) {
                        disagreements.append("\(path) tcId \(c.tcId) (\(c.comment)): \(problem)")
                    }
                    if c.result == .valid { n.positive += 1 } else { n.negative += 1 }
                }
            }
            counts["transform"] = n
        }
        files.sort { $0.0 < $1.0 }
        return Output(files: files, disagreements: disagreements, counts: counts)
    }

    /// Writes the files under `directory`, creating it as needed; returns the paths written.
    @discardableResult
    public func write(to directory: String) throws -> Output {
        let output = try generate()
        for (path, text) in output.files {
            try FileSystem.writeAll(directory + "/" + path, Array(text.utf8))
        }
        return output
    }
}

/// One cell of the mode matrix (architecture.md's names).
struct Cell {
    var name: String
    var mode: SAMode
    var algorithms: [SAAlgorithm]

    var isAH: Bool { name.hasSuffix("-ah") }

    static var all: [Cell] {
        let esp = ESPAlgorithm.all.filter { $0.encryption.providesConfidentiality }.map { SAAlgorithm.esp($0) }
        let espNull = ESPAlgorithm.all.filter { !$0.encryption.providesConfidentiality }.map { SAAlgorithm.esp($0) }
        let ah = AHAlgorithm.all.map { SAAlgorithm.ah($0) }
        return [
            Cell(name: "transport-ah", mode: .transport, algorithms: ah),
            Cell(name: "transport-esp", mode: .transport, algorithms: esp),
            Cell(name: "transport-esp-null", mode: .transport, algorithms: espNull),
            Cell(name: "tunnel-ah", mode: .tunnel, algorithms: ah),
            Cell(name: "tunnel-esp", mode: .tunnel, algorithms: esp),
            Cell(name: "tunnel-esp-null", mode: .tunnel, algorithms: espNull),
            Cell(name: "tunnel-esp-hc", mode: .tunnelHC, algorithms: esp + espNull),
        ]
    }
}

/// The flags of generated and published cases, with what they mean (written to each file's `notes`).
enum Flag {
    static let all: [String: String] = [
        "Normal": "An ordinary packet.",
        "PaddingBoundary": "The payload size puts ESP padding at 0, at its largest for the block, or at 1 byte.",
        "IPv4Options": "The IP header carries options (Router Alert, Record Route, End of Options List).",
        "IPv6ExtensionHeaders": "Hop-by-Hop (Router Alert and a may-change option) and Destination Options headers.",
        "ESN": "The SA uses 64-bit extended sequence numbers (RFC 4303 §2.2.1, RFC 4302 §2.5.1).",
        "ESNWrap": "The low 32 bits of the sequence number wrapped: the receiver must infer the next high half (RFC 4303 Appendix A2).",
        "ESNHighBitsWrong": "Sealed with a high half other than the one the receiver infers; only the ICV can tell.",
        "InWindow": "Left of the highest sequence number received but inside the window and not yet received: accepted.",
        "Replay": "The sequence number was already received or lies left of the window (RFC 4303 §3.4.3).",
        "SequenceZero": "Sequence number 0, which is never sent (RFC 4303 §3.3.3).",
        "ModifiedICV": "One bit of the ICV flipped.",
        "ModifiedSPI": "One bit of the SPI flipped: no SA has it.",
        "ModifiedSequence": "One bit of the sequence number flipped (still inside the window).",
        "ModifiedCiphertext": "One bit of the ESP payload flipped.",
        "ModifiedPayload": "One bit of the AH-protected payload flipped.",
        "Truncated": "Bytes cut from the end (IP lengths adjusted), or the packet cut inside the IPsec header.",
        "ExtraPadding": "More padding than needed, in the default 1, 2, 3, … form: allowed (up to 255 bytes, RFC 4303 §2.4).",
        "NonDefaultPadding": "Padding bytes other than 1, 2, 3, … under a valid ICV: RFC 4303 §2.4 says the receiver SHOULD check them, so dropping and accepting are both conformant.",
        "PadLengthTooLarge": "The pad length runs past the decrypted payload, under a valid ICV.",
        "DummyPacket": "Next header 59 (RFC 4303 §2.6): a dummy packet, authentic, to be discarded.",
        "BadNextHeader": "A tunnel-mode SA whose payload is not the IP packet the next header announces.",
        "ImmutableFieldChanged": "An IP header field that AH covers was changed.",
        "MutableFieldChanged": "A field that changes in transit (TTL/hop limit, DSCP/ECN, flow label, mutable options) was changed; AH ignores it (RFC 4302 §3.3.3.1).",
        "OuterFieldChanged": "An outer-header field that tunnel mode does not protect (and this SA does not elide) was changed.",
        "Compressed": "Sent in the compressed form (indicator bit set, docs/header-compression.md).",
        "Uncompressed": "The packet does not qualify for compression (or the SA elides nothing it could), so it is sent as plain tunnel ESP with the indicator clear.",
        "ElidedFieldChanged": "An outer-header field that the compressed form elides (and authenticates) was changed.",
        "IndicatorFlipped": "The compression indicator (the SPI's top bit) flipped.",
        "WrongPreset": "Compressed under another field set (preset) with the same keys and SPI.",
        "ConfidentialityOnly": "ESP without any integrity (RFC 4303 allows it; insecure): tampering is not detected, so no tamper cases.",
        "Published": "A published known answer (see provenance).",
        "HostToHost": "Tunnel between two hosts: the inner addresses are the tunnel endpoints'.",
        "GatewayToGateway": "Tunnel between gateways: the inner addresses differ from the outer ones.",
    ]
}

/// Builds one file: the groups for one cell × algorithm.
struct FileBuilder {
    let cell: Cell
    let algorithm: SAAlgorithm
    var stream: ByteStream
    let spiBase: UInt32
    var groups: [VectorGroup] = []

    static let window = 32
    static let highest: UInt64 = 100

    static let v4A: [UInt8] = [192, 0, 2, 1], v4B: [UInt8] = [198, 51, 100, 2]
    static let v4InnerA: [UInt8] = [10, 1, 0, 5], v4InnerB: [UInt8] = [10, 2, 0, 7]
    static let v6A = IPv6Address("2001:db8::1")!.bytes, v6B = IPv6Address("2001:db8::2")!.bytes
    static let v6InnerA = IPv6Address("2001:db8:1::5")!.bytes, v6InnerB = IPv6Address("2001:db8:2::7")!.bytes

    init(cell: Cell, algorithm: SAAlgorithm, stream: ByteStream, spiBase: UInt32) {
        self.cell = cell
        self.algorithm = algorithm
        self.stream = stream
        self.spiBase = spiBase
    }

    func file() -> VectorFile {
        var groups = self.groups
        var id = 1
        var used = Set<String>()
        for g in groups.indices {
            for t in groups[g].tests.indices {
                groups[g].tests[t].tcId = id
                id += 1
                used.formUnion(groups[g].tests[t].flags)
            }
        }
        var notes: [String: String] = [:]
        for f in used { notes[f] = Flag.all[f] ?? f }
        return VectorFile(mode: cell.name, algorithm: algorithm.description, notes: notes, groups: groups)
    }

    var esp: ESPAlgorithm? { if case .esp(let a) = algorithm { a } else { nil } }
    var ivLength: Int {
        switch algorithm {
        case .esp(let a): a.ivLength
        case .ah(let a): a.integrity.ivLength
        }
    }
    var icvLength: Int {
        switch algorithm {
        case .esp(let a): a.icvLength
        case .ah(let a): a.icvLength
        }
    }
    var confidentialityOnly: Bool { esp?.isConfidentialityOnly ?? false }
    /// What the ESP payload is padded to a multiple of.
    var unit: Int { max(esp?.blockSize ?? 4, 4) }

    mutating func makeSA(version: IPVersion, spi: UInt32, esn: Bool, highest: UInt64,
                         headerCompression: HeaderCompressionFields? = nil, keys: ([UInt8], [UInt8])? = nil)
        -> SAConfiguration {
        let (src, dst): (IPAddress, IPAddress) = version == .v4
            ? (.v4(IPv4Address(rawValue: Self.word(Self.v4A))), .v4(IPv4Address(rawValue: Self.word(Self.v4B))))
            : (.v6(IPv6Address(bytes: Self.v6A)!), .v6(IPv6Address(bytes: Self.v6B)!))
        var encryptionKey: [UInt8] = [], integrityKey: [UInt8] = []
        if let keys {
            (encryptionKey, integrityKey) = keys
        } else {
            switch algorithm {
            case .esp(let a):
                encryptionKey = stream.bytes(a.encryptionKeyLength)
                integrityKey = stream.bytes(a.integrityKeyLength)
            case .ah(let a):
                integrityKey = stream.bytes(a.keyLength)
            }
        }
        return SAConfiguration(protocol: cell.isAH ? .ah : .esp, spi: spi, mode: cell.mode, source: src,
                               destination: dst, algorithm: algorithm, encryptionKey: encryptionKey,
                               integrityKey: integrityKey, extendedSequenceNumbers: esn, replayWindow: Self.window,
                               replaySequence: highest, outboundSequence: 0, headerCompression: headerCompression)
    }

    static func word(_ b: [UInt8]) -> UInt32 { b.reduce(0) { $0 << 8 | UInt32($1) } }

    /// Protects `packet` with sequence number `sequence`, a fresh IV and (IPv4 tunnel) a fresh outer identification;
    /// returns the outbound case and the protected packet.
    mutating func outbound(_ packet: [UInt8], sa: SAConfiguration, sequence: UInt64, comment: String,
                           flags: [String]) throws -> (VectorCase, [UInt8]) {
        let iv = stream.bytes(ivLength)
        let id: UInt16? = cell.mode != .transport && sa.destination.version == .v4
            ? UInt16(truncatingIfNeeded: stream.next()) : nil
        var config = sa
        config.outboundSequence = sequence - 1
        let out = try VectorVerifier.protect(packet, config: config, iv: iv, identification: id ?? 0)
        return (VectorCase(comment: comment, flags: flags, direction: .outbound, sequence: sequence, iv: iv,
                           outerIdentification: id, input: packet, output: out, result: .valid), out)
    }

    func accept(_ input: [UInt8], _ output: [UInt8], sequence: UInt64, _ comment: String, _ flags: [String])
        -> VectorCase {
        VectorCase(comment: comment, flags: flags, direction: .inbound, sequence: sequence, input: input,
                   output: output, result: .valid)
    }

    func drop(_ input: [UInt8], _ reason: DropReason, _ comment: String, _ flags: [String],
              result: VectorResult = .invalid, output: [UInt8]? = nil) -> VectorCase {
        VectorCase(comment: comment, flags: flags, direction: .inbound, input: input, output: output,
                   dropReason: reason, result: result)
    }

    // MARK: - Inner packets

    func inner(_ version: IPVersion, gateway: Bool, length: Int, salt: Int, options: Bool = false,
               hc: Bool = false) -> [UInt8] {
        let (s, d): ([UInt8], [UInt8]) = switch (version, gateway) {
        case (.v4, false): (Self.v4A, Self.v4B)
        case (.v4, true): (Self.v4InnerA, Self.v4InnerB)
        case (.v6, false): (Self.v6A, Self.v6B)
        case (.v6, true): (Self.v6InnerA, Self.v6InnerB)
        }
        // The compressed tunnel's groups use a non-zero DSCP (EF) and DF so that eliding them is visible.
        return PacketFactory.udp(version: version, source: s, destination: d, length: length, salt: salt,
                                 tos: hc ? 0xb8 : 0, dontFragment: hc, options: options)
    }

    /// Three UDP payload lengths putting ESP padding at 0, at unit − 1 and at 1 (AH: three ordinary sizes).
    func sizes(_ version: IPVersion, overhead: Int) -> [Int] {
        guard !cell.isAH else { return [1, 9, 16] }
        var n = 1
        while (overhead + 8 + n + 2) % unit != 0 { n += 1 }
        return unit > 1 ? [n, n + 1, n + unit - 1] : [n]
    }

    // MARK: - Groups

    mutating func build() throws {
        if cell.mode == .tunnelHC {
            var index: UInt32 = 0
            for version in IPVersion.allCases {
                for (presetName, fullPreset) in HeaderCompressionFields.presets {
                    // IPv6 headers have no identification or DF: the IPv6 form of a preset leaves them out (an SA
                    // file refuses them for an IPv6 SA).
                    let preset = version == .v4 ? fullPreset : fullPreset.subtracting([.identification, .dontFragment])
                    for gateway in [false, true] {
                        try hcGroup(version, preset: preset, presetName: presetName, gateway: gateway,
                                    spi: spiBase | index)
                        index += 1
                    }
                }
            }
            return
        }
        var index: UInt32 = 0
        for version in IPVersion.allCases {
            try standardGroup(version, spi: spiBase | index)
            index += 1
            try esnGroup(version, spi: spiBase | index)
            index += 1
        }
    }

    var base: [String] { confidentialityOnly ? ["ConfidentialityOnly"] : [] }
    var topologyFlag: [String] { cell.mode == .transport ? [] : ["HostToHost"] }

    mutating func standardGroup(_ version: IPVersion, spi: UInt32) throws {
        let sa = makeSA(version: version, spi: spi, esn: false, highest: Self.highest)
        var tests: [VectorCase] = []
        let v = version == .v4 ? "IPv4" : "IPv6"
        let headerLength = version == .v4 ? 20 : 40
        // Transport mode encrypts the UDP datagram; tunnel mode the whole inner packet.
        let overhead = cell.mode == .transport ? 0 : headerLength
        var protected: [[UInt8]] = []
        var inners: [[UInt8]] = []
        var seq: UInt64 = Self.highest + 1
        for (i, n) in sizes(version, overhead: overhead).enumerated() {
            let packet = inner(version, gateway: false, length: n, salt: i)
            let flags = (cell.isAH ? ["Normal"] : ["PaddingBoundary"]) + base + topologyFlag
            let (c, p) = try outbound(packet, sa: sa, sequence: seq,
                                      comment: "\(v) UDP, \(n) bytes of data", flags: flags)
            tests.append(c)
            tests.append(accept(p, packet, sequence: seq, "\(v) UDP, \(n) bytes of data", flags))
            protected.append(p)
            inners.append(packet)
            seq += 1
        }
        // Options / extension headers.
        let optFlag = version == .v4 ? "IPv4Options" : "IPv6ExtensionHeaders"
        let withOptions = inner(version, gateway: false, length: 4, salt: 7, options: true)
        let (oc, op) = try outbound(withOptions, sa: sa, sequence: seq, comment: "\(v) with \(optFlag)",
                                    flags: [optFlag] + base + topologyFlag)
        tests.append(oc)
        tests.append(accept(op, withOptions, sequence: seq, "\(v) with \(optFlag)", [optFlag] + base + topologyFlag))
        seq += 1

        // Replay window: highest 100 received, window 32.
        let small = inners[0]
        let inWindow = Self.highest - UInt64(Self.window) + 1
        let (_, pw) = try outbound(small, sa: sa, sequence: inWindow, comment: "", flags: [])
        tests.append(accept(pw, small, sequence: inWindow, "sequence \(inWindow): inside the window, not yet received",
                            ["InWindow"] + base))
        let (_, pr) = try outbound(small, sa: sa, sequence: Self.highest, comment: "", flags: [])
        tests.append(drop(pr, .replay, "sequence \(Self.highest): already received", ["Replay"] + base))
        let left = Self.highest - UInt64(Self.window)
        let (_, pl) = try outbound(small, sa: sa, sequence: left, comment: "", flags: [])
        tests.append(drop(pl, .replay, "sequence \(left): left of the window", ["Replay"] + base))

        let p = protected[0]
        let at = PacketFactory.ipsecOffset(p)
        let spiOffset = cell.isAH ? at + 4 : at
        let seqOffset = cell.isAH ? at + 8 : at + 4
        var zero = p
        for k in 0..<4 { zero[seqOffset + k] = 0 }
        tests.append(drop(zero, .replay, "sequence number 0", ["SequenceZero"] + base))

        var badSPI = p
        badSPI[spiOffset + 3] ^= 0x01
        tests.append(drop(badSPI, .noSA, "SPI changed", ["ModifiedSPI"] + base))
        if !confidentialityOnly {
            var badICV = p
            let icvAt = cell.isAH ? at + 12 + icvLength - 1 : p.count - 1
            badICV[icvAt] ^= 0x80
            tests.append(drop(badICV, .integrity, "ICV changed", ["ModifiedICV"]))
            var badSeq = p
            badSeq[seqOffset + 2] ^= 0x01  // +256: still right of the window
            tests.append(drop(badSeq, .integrity, "sequence number changed", ["ModifiedSequence"]))
            var badBody = p
            if cell.isAH {
                badBody[badBody.count - 1] ^= 0x01
                tests.append(drop(badBody, .integrity, "payload changed", ["ModifiedPayload"]))
            } else {
                let body = at + 8 + ivLength
                badBody[body + (p.count - icvLength - body) / 2] ^= 0x01
                tests.append(drop(badBody, .integrity, "ciphertext changed", ["ModifiedCiphertext"]))
            }
        }
        // Truncation.
        var cut = Array(p.dropLast())
        PacketFactory.fixLengths(&cut)
        let cutReason: DropReason
        if cell.isAH {
            cutReason = .integrity
        } else {
            let ciphertext = cut.count - at - 8 - ivLength - icvLength
            cutReason = ciphertext < 2 || ciphertext % (esp?.blockSize ?? 4) != 0 ? .malformed : .integrity
        }
        if !(confidentialityOnly && cutReason == .integrity) {
            tests.append(drop(cut, cutReason, "last byte cut", ["Truncated"] + base))
        }
        var header = Array(p.prefix(at + 6))
        PacketFactory.fixLengths(&header)
        tests.append(drop(header, .malformed, "cut inside the \(cell.isAH ? "AH" : "ESP") header", ["Truncated"] + base))

        if cell.isAH {
            tests += ahFieldCases(p, inner: inners[0], optionsPacket: op, optionsInner: withOptions, version: version)
        } else {
            tests += try handSealed(sa: sa, template: p, inner: inners[0], version: version)
        }
        groups.append(VectorGroup(comment: "\(v), replay window \(Self.window) with \(Self.highest) received",
                                  sa: sa, tests: tests))
    }

    /// AH: immutable fields are covered, mutable ones are not (RFC 4302 §3.3.3.1).
    func ahFieldCases(_ p: [UInt8], inner: [UInt8], optionsPacket op: [UInt8], optionsInner: [UInt8],
                      version: IPVersion) -> [VectorCase] {
        var tests: [VectorCase] = []
        let transport = cell.mode == .transport
        if version == .v4 {
            var src = p
            src[15] ^= 0x01
            PacketFactory.setIPv4Checksum(&src)
            tests.append(drop(src, .integrity, "source address changed", ["ImmutableFieldChanged"]))
            var ident = p
            ident[5] ^= 0x01
            PacketFactory.setIPv4Checksum(&ident)
            tests.append(drop(ident, .integrity, "identification changed", ["ImmutableFieldChanged"]))
            var mutable = p
            mutable[8] = 17  // TTL
            mutable[1] = 0x29  // DSCP 10, ECN CE
            PacketFactory.setIPv4Checksum(&mutable)
            var expected = inner
            if transport {
                expected[8] = 17
                expected[1] = 0x29
                PacketFactory.setIPv4Checksum(&expected)
            }
            tests.append(accept(mutable, expected, sequence: Self.highest + 1, "TTL and DSCP/ECN changed",
                                ["MutableFieldChanged"]))
            if transport {
                var rr = op
                rr[PacketFactory.recordRouteSlot] = 203
                rr[PacketFactory.recordRouteSlot + 3] = 9
                PacketFactory.setIPv4Checksum(&rr)
                var rrExpected = optionsInner
                rrExpected[PacketFactory.recordRouteSlot] = 203
                rrExpected[PacketFactory.recordRouteSlot + 3] = 9
                PacketFactory.setIPv4Checksum(&rrExpected)
                tests.append(accept(rr, rrExpected, sequence: Self.highest + 4, "Record Route option data changed",
                                    ["MutableFieldChanged", "IPv4Options"]))
                var ra = op
                ra[PacketFactory.routerAlertValue + 1] ^= 0x01
                PacketFactory.setIPv4Checksum(&ra)
                tests.append(drop(ra, .integrity, "Router Alert option value changed",
                                  ["ImmutableFieldChanged", "IPv4Options"]))
            }
        } else {
            var src = p
            src[23] ^= 0x01
            tests.append(drop(src, .integrity, "source address changed", ["ImmutableFieldChanged"]))
            var mutable = p
            mutable[7] = 17  // hop limit
            mutable[1] ^= 0x0f  // flow label bits
            mutable[3] ^= 0xff
            var expected = inner
            if transport {
                expected[7] = 17
                expected[1] ^= 0x0f
                expected[3] ^= 0xff
            }
            tests.append(accept(mutable, expected, sequence: Self.highest + 1, "hop limit and flow label changed",
                                ["MutableFieldChanged"]))
            if transport {
                var hbh = op
                hbh[PacketFactory.hopByHopMutableData] ^= 0xff
                var hbhExpected = optionsInner
                hbhExpected[PacketFactory.hopByHopMutableData] ^= 0xff
                tests.append(accept(hbh, hbhExpected, sequence: Self.highest + 4,
                                    "data of a Hop-by-Hop option that may change en route changed",
                                    ["MutableFieldChanged", "IPv6ExtensionHeaders"]))
                var ra = op
                ra[PacketFactory.hopByHopRouterAlert + 1] ^= 0x01
                tests.append(drop(ra, .integrity, "Hop-by-Hop Router Alert value changed",
                                  ["ImmutableFieldChanged", "IPv6ExtensionHeaders"]))
            }
        }
        return tests
    }

    /// ESP built by hand around chosen plaintext, sealed with the SA's keys so the ICV is right: only the padding
    /// check or the mode's decapsulation can refuse it.
    mutating func seal(_ payload: [UInt8], padding: [UInt8], padLength: UInt8, nextHeader: UInt8,
                       sa: SAConfiguration, sequence: UInt64, template: [UInt8]) throws -> [UInt8] {
        guard case .esp(let a) = sa.algorithm else { preconditionFailure("seal is for ESP") }
        let t = try ESPTransform(a, encryptionKey: sa.encryptionKey, integrityKey: sa.integrityKey)
        var plaintext = payload + padding + [padLength, nextHeader]
        let iv = stream.bytes(t.ivLength)
        var icv = [UInt8](repeating: 0, count: t.icvLength)
        let aad = ESPAssociatedData(spi: sa.spi, sequenceNumber: sequence,
                                    extendedSequenceNumbers: sa.extendedSequenceNumbers)
        try iv.withUnsafeBytes { ivp in
            try plaintext.withUnsafeMutableBytes { p in
                try icv.withUnsafeMutableBytes { i in try t.seal(aad, iv: ivp, payload: p, icv: i) }
            }
        }
        let at = PacketFactory.ipsecOffset(template)
        let low = UInt32(truncatingIfNeeded: sequence)
        var packet = Array(template.prefix(at))
        packet += [UInt8(sa.spi >> 24), UInt8((sa.spi >> 16) & 0xff), UInt8((sa.spi >> 8) & 0xff), UInt8(sa.spi & 0xff),
                   UInt8(low >> 24), UInt8((low >> 16) & 0xff), UInt8((low >> 8) & 0xff), UInt8(low & 0xff)]
        packet += iv + plaintext + icv
        PacketFactory.fixLengths(&packet)
        return packet
    }

    mutating func handSealed(sa: SAConfiguration, template: [UInt8], inner: [UInt8], version: IPVersion) throws
        -> [VectorCase] {
        var tests: [VectorCase] = []
        let at = PacketFactory.ipsecOffset(inner)
        // Transport mode protects what follows the IP header; tunnel mode the whole packet.
        let payload = cell.mode == .transport ? Array(inner[at...]) : inner
        let next: UInt8 = cell.mode == .transport ? 17 : (version == .v4 ? 4 : 41)
        let pad = (unit - (payload.count + 2) % unit) % unit
        let seq = Self.highest + 5
        let extra = ESPTrailer.defaultPadding(count: pad + unit)
        let p1 = try seal(payload, padding: extra, padLength: UInt8(extra.count), nextHeader: next, sa: sa,
                          sequence: seq, template: template)
        tests.append(accept(p1, inner, sequence: seq, "\(extra.count) bytes of default padding (\(pad) needed)",
                            ["ExtraPadding"] + base))
        let zeros = [UInt8](repeating: 0, count: pad + unit)
        let p2 = try seal(payload, padding: zeros, padLength: UInt8(zeros.count), nextHeader: next, sa: sa,
                          sequence: seq, template: template)
        tests.append(drop(p2, .padding, "\(zeros.count) padding bytes of 0 under a valid ICV",
                          ["NonDefaultPadding"] + base, result: .acceptable, output: inner))
        let p3 = try seal(payload, padding: extra, padLength: 255, nextHeader: next, sa: sa, sequence: seq,
                          template: template)
        tests.append(drop(p3, .padding, "pad length 255, longer than the payload", ["PadLengthTooLarge"] + base))
        let dummyPad = ESPTrailer.defaultPadding(count: (unit - 2 % unit) % unit)
        let p4 = try seal([], padding: dummyPad, padLength: UInt8(dummyPad.count), nextHeader: 59, sa: sa,
                          sequence: seq, template: template)
        tests.append(drop(p4, .dummy, "next header 59, no payload", ["DummyPacket"] + base))
        if cell.mode != .transport {
            let segment = Array(inner[at...])
            let segPad = ESPTrailer.defaultPadding(count: (unit - (segment.count + 2) % unit) % unit)
            let p5 = try seal(segment, padding: segPad, padLength: UInt8(segPad.count), nextHeader: 17, sa: sa,
                              sequence: seq, template: template)
            tests.append(drop(p5, .nextHeader, "tunnel SA, next header 17 (UDP, not an IP packet)",
                              ["BadNextHeader"] + base))
            let wrong: UInt8 = version == .v4 ? 41 : 4
            let p6 = try seal(payload, padding: ESPTrailer.defaultPadding(count: pad), padLength: UInt8(pad),
                              nextHeader: wrong, sa: sa, sequence: seq, template: template)
            tests.append(drop(p6, .nextHeader, "next header \(wrong) but the inner packet is \(version == .v4 ? "IPv4" : "IPv6")",
                              ["BadNextHeader"] + base))
        }
        return tests
    }

    /// ESN: the receiver has seen 0xfffffff0; the next packets cross into the next 2^32 block.
    mutating func esnGroup(_ version: IPVersion, spi: UInt32) throws {
        let highest: UInt64 = 0xffff_fff0
        let sa = makeSA(version: version, spi: spi, esn: true, highest: highest)
        let v = version == .v4 ? "IPv4" : "IPv6"
        var tests: [VectorCase] = []
        let packet = inner(version, gateway: false, length: 20, salt: 3)
        for (seq, flags, comment) in [(UInt64(0xffff_fff5), ["ESN"], "sequence 0xfffffff5, same block"),
                                      (UInt64(0x1_0000_0002), ["ESN", "ESNWrap"], "sequence 0x100000002, low bits wrapped")] {
            let (c, p) = try outbound(packet, sa: sa, sequence: seq, comment: comment, flags: flags + base)
            tests.append(c)
            tests.append(accept(p, packet, sequence: seq, comment, flags + base))
        }
        if !confidentialityOnly {
            let (_, wrong) = try outbound(packet, sa: sa, sequence: 0x2_0000_0002, comment: "", flags: [])
            tests.append(drop(wrong, .integrity, "sealed as 0x200000002; the receiver infers 0x100000002",
                              ["ESN", "ESNHighBitsWrong"]))
        }
        let (_, replayed) = try outbound(packet, sa: sa, sequence: highest, comment: "", flags: [])
        tests.append(drop(replayed, .replay, "sequence 0xfffffff0: already received", ["ESN", "Replay"] + base))
        groups.append(VectorGroup(comment: "\(v), ESN, replay window \(Self.window) with 0xfffffff0 received",
                                  sa: sa, tests: tests))
    }

    // MARK: - The compressed tunnel

    mutating func hcGroup(_ version: IPVersion, preset: HeaderCompressionFields, presetName: String, gateway: Bool,
                          spi: UInt32) throws {
        let sa = makeSA(version: version, spi: spi, esn: false, highest: Self.highest, headerCompression: preset)
        let v = version == .v4 ? "IPv4" : "IPv6"
        let topology = gateway ? "GatewayToGateway" : "HostToHost"
        var tests: [VectorCase] = []
        let packet = inner(version, gateway: gateway, length: 5, salt: 11, hc: true)
        let seq = Self.highest + 1
        let (c, p) = try outbound(packet, sa: sa, sequence: seq, comment: "\(v) UDP, preset \(presetName)",
                                  flags: [topology] + base)
        let at = PacketFactory.ipsecOffset(p)
        let compressed = p[at] & 0x80 != 0
        let form = compressed ? "Compressed" : "Uncompressed"
        var first = c
        first.flags.append(form)
        tests.append(first)
        tests.append(accept(p, packet, sequence: seq, "\(v) UDP, preset \(presetName)", [topology, form] + base))

        let (_, pr) = try outbound(packet, sa: sa, sequence: Self.highest, comment: "", flags: [])
        tests.append(drop(pr, .replay, "sequence \(Self.highest): already received", ["Replay", form] + base))
        if !confidentialityOnly {
            var icv = p
            icv[icv.count - 1] ^= 0x80
            tests.append(drop(icv, .integrity, "ICV changed", ["ModifiedICV", form]))
            var flipped = p
            flipped[at] ^= 0x80
            tests.append(drop(flipped, .integrity, "indicator bit \(compressed ? "cleared" : "set")",
                              ["IndicatorFlipped", form]))
        }
        // Outer-header fields: elided ones are authenticated, the others are not protected by tunnel mode at all.
        var fields: [(name: String, field: HeaderCompressionFields, change: (inout [UInt8]) -> Void)] = []
        if version == .v4 {
            fields = [
                ("source address", .source, { $0[15] ^= 0x01 }),
                ("destination address", .destination, { $0[19] ^= 0x01 }),
                ("DSCP", .dscp, { $0[1] ^= 0x04 }),
                ("identification", .identification, { $0[5] ^= 0x01 }),
                ("DF", .dontFragment, { $0[6] ^= 0x40 }),
            ]
        } else {
            fields = [
                ("source address", .source, { $0[23] ^= 0x01 }),
                ("destination address", .destination, { $0[39] ^= 0x01 }),
                ("DSCP", .dscp, { $0[0] ^= 0x01 }),
            ]
        }
        if compressed && !confidentialityOnly {
            for f in fields where preset.contains(f.field) {
                var bad = p
                f.change(&bad)
                if version == .v4 { PacketFactory.setIPv4Checksum(&bad) }
                tests.append(drop(bad, .integrity, "elided outer \(f.name) changed", ["ElidedFieldChanged", form]))
            }
        }
        if let f = fields.first(where: { !(compressed && preset.contains($0.field)) && $0.field == .source }) {
            var changed = p
            f.change(&changed)
            if version == .v4 { PacketFactory.setIPv4Checksum(&changed) }
            tests.append(accept(changed, packet, sequence: seq, "outer \(f.name) changed (not elided, not protected)",
                                ["OuterFieldChanged", form] + base))
        }
        // The same packet compressed under another preset, same keys and SPI.
        if !confidentialityOnly {
            let presets = HeaderCompressionFields.presets
            let i = presets.firstIndex(where: { $0.name == presetName })!
            let other = presets[(i + 1) % presets.count]
            var otherSA = sa
            otherSA.headerCompression = version == .v4 ? other.fields
                : other.fields.subtracting([.identification, .dontFragment])
            let (_, po) = try outbound(packet, sa: otherSA, sequence: seq, comment: "", flags: [])
            if po[PacketFactory.ipsecOffset(po)] & 0x80 != 0 {
                tests.append(drop(po, .integrity, "compressed under preset \(other.name)", ["WrongPreset"]))
            }
        }
        groups.append(VectorGroup(comment: "\(v), preset \(presetName), \(gateway ? "gateway-to-gateway" : "host-to-host")",
                                  sa: sa, tests: tests))
    }
}
