import IPsecCrypto

/// One of the crypto implementations the `backend` oracle compares.
enum BackendImplementation: String, CaseIterable, Comparable, Sendable {
    /// IPsecCrypto on OpenSSL: the reference.
    case openSSL = "openssl"
    /// BackendTransforms on swift-crypto (BoringSSL), written from the RFCs apart from IPsecCrypto.
    case swiftCrypto = "swift-crypto"
    /// IPsecCrypto on Intel's IPsec Multi-Buffer library (`ESPBurstTransform` with `implementation: .ipsecMB`).
    case ipsecMB = "ipsec-mb"

    var name: String {
        switch self {
        case .openSSL: "OpenSSL"
        case .swiftCrypto: "swift-crypto"
        case .ipsecMB: "libipsec-mb"
        }
    }

    static func < (a: Self, b: Self) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
}

/// The `backend` oracle: the same transform, with the same keys, IVs, sequence numbers and associated data, on every
/// implementation that has it — IPsecCrypto on OpenSSL (the reference), BackendTransforms on swift-crypto, and
/// IPsecCrypto on libipsec-mb when the library is available. Their verdicts and bytes must all agree; a disagreement
/// names the implementation that differs from the others. An algorithm only two of them have (AES-CCM, 3DES and
/// AES-XCBC: OpenSSL and libipsec-mb) is compared between those two; one only OpenSSL has is not drawn.
struct BackendCampaign {
    let seed: UInt64
    let fault: DiffPlantedFault?
    /// Whether libipsec-mb takes part (false where the library is not available).
    let withIPsecMB: Bool
    /// The ESP suites and AH algorithms drawn: those at least two implementations have.
    let espAlgorithms: [ESPAlgorithm]
    let ahAlgorithms: [AHAlgorithm]

    init(seed: UInt64, fault: DiffPlantedFault?, withIPsecMB: Bool = IPsecMB.isAvailable) {
        self.seed = seed
        self.fault = fault
        self.withIPsecMB = withIPsecMB
        espAlgorithms = withIPsecMB ? Self.espWithIPsecMB : Self.espWithoutIPsecMB
        ahAlgorithms = withIPsecMB ? Self.ahWithIPsecMB : Self.ahWithoutIPsecMB
    }

    /// Every ESP suite any of the implementations might have.
    static let espCandidates: [ESPAlgorithm] = {
        var encryptions: [EncryptionAlgorithm] = [.null, .chacha20Poly1305, .chacha20Poly1305ImplicitIV, .tripleDESCBC]
        for bits in [128, 192, 256] {
            encryptions += [.aesCBC(keyBits: bits), .aesCTR(keyBits: bits), .nullAuthAESGMAC(keyBits: bits)]
            for icv in [8, 12, 16] {
                encryptions += [.aesGCM(keyBits: bits, icvLength: icv), .aesGCMImplicitIV(keyBits: bits, icvLength: icv),
                                .aesCCM(keyBits: bits, icvLength: icv), .aesCCMImplicitIV(keyBits: bits, icvLength: icv)]
            }
        }
        let integrities: [IntegrityAlgorithm] = [.none, .hmacMD5_96, .hmacSHA1_96, .hmacSHA256_128, .hmacSHA384_192,
                                                 .hmacSHA512_256, .hmacSHA256_96, .aesXCBC96, .aesCMAC96]
        return encryptions.flatMap { e in integrities.compactMap { try? ESPAlgorithm(encryption: e, integrity: $0) } }
    }()

    static let ahCandidates: [AHAlgorithm] = AHAlgorithm.all + [try? AHAlgorithm(.hmacSHA256_96)].compactMap { $0 }

    /// The implementations that have an ESP suite, the reference first.
    static func implementations(_ algorithm: ESPAlgorithm, withIPsecMB: Bool) -> [BackendImplementation] {
        var out: [BackendImplementation] = [.openSSL]
        if BackendTransforms.supports(algorithm) { out.append(.swiftCrypto) }
        if withIPsecMB && IPsecMB.supports(algorithm) { out.append(.ipsecMB) }
        return out
    }

    static func implementations(_ algorithm: AHAlgorithm, withIPsecMB: Bool) -> [BackendImplementation] {
        var out: [BackendImplementation] = [.openSSL]
        if BackendTransforms.supports(algorithm.integrity) { out.append(.swiftCrypto) }
        if withIPsecMB, (try? ahOnIPsecMB(algorithm, key: [UInt8](repeating: 1, count: algorithm.keyLength),
                                          iv: [UInt8](repeating: 0, count: 8))) != nil {
            out.append(.ipsecMB)
        }
        return out
    }

    static let espWithIPsecMB = espCandidates.filter { implementations($0, withIPsecMB: true).count >= 2 }
    static let espWithoutIPsecMB = espCandidates.filter { implementations($0, withIPsecMB: false).count >= 2 }
    static let ahWithIPsecMB = ahCandidates.filter { implementations($0, withIPsecMB: true).count >= 2 }
    static let ahWithoutIPsecMB = ahCandidates.filter { implementations($0, withIPsecMB: false).count >= 2 }

    /// AH on libipsec-mb, or nil where the library does not take the algorithm (AHTransform then runs on OpenSSL, and
    /// comparing that with the reference would compare OpenSSL with itself).
    static func ahOnIPsecMB(_ algorithm: AHAlgorithm, key: [UInt8], iv: [UInt8]) throws -> AHTransform? {
        let t = try AHTransform(algorithm, key: key, ivSource: .fixed(iv), implementation: .ipsecMB)
        return t.implementation == .ipsecMB ? t : nil
    }

    enum Kind { case esp(ESPAlgorithm), ah(AHAlgorithm) }

    struct Case {
        var index: Int
        var direction: DiffDirection
        var kind: Kind
        var encryptionKey: [UInt8]
        var integrityKey: [UInt8]
        var spi: UInt32
        var sequence: UInt64
        var esn: Bool
        var iv: [UInt8]
        /// ESP: payload blocks; AH: suffix bytes.
        var length: Int
        var prefixLength: Int
        var contentSeed: UInt64
        /// Which input is flipped in a mutated case: 0 IV, 1 ciphertext or suffix, 2 ICV, 3 SPI or prefix,
        /// 4 sequence number (low), 5 sequence number (high).
        var mutation: (target: Int, offset: Int, bit: Int)?

        var mode: String { if case .ah = kind { "transform-ah" } else { "transform-esp" } }
        var algorithm: String {
            switch kind {
            case .esp(let a): a.keyword
            case .ah(let a): "ah-" + a.keyword
            }
        }
        var summary: String {
            var s: String
            switch kind {
            case .esp(let a): s = "ESP \(a.keyword), payload \(length * a.blockSize) bytes"
            case .ah(let a): s = "AH \(a.keyword), \(prefixLength) + ICV + \(length) bytes"
            }
            s += ", seq 0x\(String(sequence, radix: 16))" + (esn ? " (ESN)" : "")
            if let m = mutation {
                let names = ["IV", "ciphertext/suffix", "ICV", "SPI/prefix", "sequence (low)", "sequence (high)"]
                s += ", bit \(m.bit) of \(names[m.target]) byte \(m.offset) flipped"
            }
            return s
        }
    }

    func makeCase(_ index: Int) -> Case {
        var r = DiffRandom(seed: seed, caseIndex: index, stream: 0xbac)
        let useAH = r.chance(1, in: 4)
        let kind: Kind = useAH ? .ah(r.pick(ahAlgorithms)) : .esp(r.pick(espAlgorithms))
        var direction: DiffDirection = r.pick([.weProtect, .oracleProtects, .mutated])
        var encKey: [UInt8] = [], intKey: [UInt8] = [], iv: [UInt8] = []
        switch kind {
        case .esp(let a):
            encKey = r.bytes(a.encryptionKeyLength)
            intKey = r.bytes(a.integrityKeyLength)
            iv = r.bytes(a.ivLength)
            if a.isConfidentialityOnly && direction == .mutated { direction = .weProtect }
        case .ah(let a):
            intKey = r.bytes(a.keyLength)
            iv = r.bytes(8)  // GMAC's IV; unused by the others
        }
        let esn = r.chance(1, in: 2)
        let sequence = esn ? r.next() | 1 : UInt64(1 + r.below(0xffff_fffe))
        let length = r.chance(1, in: 5) ? r.below(90) : r.below(12) + (useAH ? 0 : 1)
        var mutation: (Int, Int, Int)?
        if direction == .mutated {
            mutation = (r.below(6), r.below(4096), r.below(8))
        }
        return Case(index: index, direction: direction, kind: kind, encryptionKey: encKey, integrityKey: intKey,
                    spi: UInt32(truncatingIfNeeded: r.next()), sequence: sequence, esn: esn, iv: iv, length: length,
                    prefixLength: 8 + 4 * r.below(12), contentSeed: r.next(), mutation: mutation)
    }

    func evaluate(_ c: Case) -> CaseOutcome { run(c).outcome }

    /// The implementations that have the case's algorithm (whether or not libipsec-mb then hands a packet over).
    func implementations(_ c: Case) -> [BackendImplementation] {
        switch c.kind {
        case .esp(let a): Self.implementations(a, withIPsecMB: withIPsecMB)
        case .ah(let a): Self.implementations(a, withIPsecMB: withIPsecMB)
        }
    }

    /// Runs a case: its outcome and the implementations that really ran it (libipsec-mb only when the library took
    /// the algorithm and handed no packet to OpenSSL).
    func run(_ c: Case) -> (outcome: CaseOutcome, ran: [BackendImplementation]) {
        do {
            switch c.kind {
            case .esp(let a): return try evaluateESP(c, a)
            case .ah(let a): return try evaluateAH(c, a)
            }
        } catch {
            return (.disagree(ours: "?", oracle: "?", detail: "an implementation refused the inputs: \(error)"), [])
        }
    }

    // MARK: Judging

    /// One check of a cross-check: `opener` opened (or verified) what `sealer` sealed.
    struct Check {
        var sealer: BackendImplementation
        var opener: BackendImplementation
        var failure: Failure?

        enum Failure { case rejects, differentBytes }

        var line: String {
            switch failure {
            case nil: "\(opener.name) opens \(sealer.name)'s output"
            case .rejects: "\(opener.name) rejects \(sealer.name)'s output"
            case .differentBytes: "\(opener.name) opens \(sealer.name)'s output to different bytes"
            }
        }
    }

    /// Names the implementation whose result differs from the others', nil when all agree. Of three, the odd one
    /// out; of two, the one that is not the reference.
    static func odd<T: Equatable>(_ results: [(BackendImplementation, T)]) -> String? {
        guard let first = results.first, results.contains(where: { $0.1 != first.1 }) else { return nil }
        if results.count == 2 { return "\(results[1].0.name) differs from \(results[0].0.name)" }
        for (k, r) in results.enumerated() {
            let others = results.indices.filter { $0 != k }.map { results[$0] }
            if others.allSatisfy({ $0.1 == others[0].1 }) && r.1 != others[0].1 {
                return "\(r.0.name) differs from " + others.map(\.0.name).joined(separator: " and ")
            }
        }
        return "all of " + results.map(\.0.name).joined(separator: ", ") + " differ"
    }

    /// Names the implementation that every failed check involves while a check without it passed; of two, the one
    /// that is not the reference. Nil when every check passed.
    static func blame(_ checks: [Check], among parties: [BackendImplementation]) -> String? {
        let failed = checks.filter { $0.failure != nil }
        guard !failed.isEmpty else { return nil }
        let what = failed.map(\.line).joined(separator: "; ")
        let suspects = parties.filter { x in
            failed.allSatisfy { $0.sealer == x || $0.opener == x }
                && checks.contains { $0.failure == nil && $0.sealer != x && $0.opener != x }
        }
        if suspects.count == 1 {
            let others = parties.filter { $0 != suspects[0] }.map(\.name).joined(separator: " and ")
            return "\(suspects[0].name) differs from \(others): \(what)"
        }
        if parties.count == 2 { return "\(parties[1].name) differs from \(parties[0].name): \(what)" }
        return what
    }

    func flip(_ bytes: inout [UInt8], _ m: (target: Int, offset: Int, bit: Int)) {
        if !bytes.isEmpty { bytes[m.offset % bytes.count] ^= UInt8(1 << m.bit) }
    }

    /// The non-reference implementation whose output a mutated case damages (one or the other, by the case's seed).
    func sealer(_ c: Case, _ parties: [BackendImplementation]) -> BackendImplementation {
        let peers = parties.filter { $0 != .openSSL }
        return peers[Int(c.contentSeed % UInt64(peers.count))]
    }

    // MARK: ESP

    /// ESP on one implementation: seal the case's payload; open (verify, then decrypt) given inputs.
    struct ESPParty {
        let implementation: BackendImplementation
        let seal: () throws -> [UInt8]  // ciphertext ‖ ICV
        let open: (_ spi: UInt32, _ sequence: UInt64, _ iv: [UInt8], _ sealed: [UInt8]) throws -> [UInt8]?
        let fellBack: () -> Bool
    }

    func espParties(_ c: Case, _ a: ESPAlgorithm, payload: [UInt8]) throws -> [ESPParty] {
        let wireIV = a.encryption.usesImplicitIV ? [] : c.iv
        let ours = try ESPTransform(a, encryptionKey: c.encryptionKey, integrityKey: c.integrityKey)
        let icvLength = ours.icvLength
        func aad(_ spi: UInt32, _ sequence: UInt64) -> ESPAssociatedData {
            ESPAssociatedData(spi: spi, sequenceNumber: sequence, extendedSequenceNumbers: c.esn)
        }
        func split(_ sealed: [UInt8]) -> ([UInt8], [UInt8])? {
            guard sealed.count >= icvLength, (sealed.count - icvLength) % a.blockSize == 0 else { return nil }
            return (Array(sealed.dropLast(icvLength)), Array(sealed.suffix(icvLength)))
        }
        var parties = [ESPParty(
            implementation: .openSSL,
            seal: {
                var buffer = payload
                var icv = [UInt8](repeating: 0, count: icvLength)
                try wireIV.withUnsafeBytes { iv in
                    try buffer.withUnsafeMutableBytes { p in
                        try icv.withUnsafeMutableBytes { t in
                            try ours.seal(aad(c.spi, c.sequence), iv: iv, payload: p, icv: t)
                        }
                    }
                }
                return buffer + icv
            },
            open: { spi, sequence, iv, sealed in
                guard iv.count == ours.ivLength, let (ciphertext, icv) = split(sealed) else { return nil }
                var buffer = ciphertext
                let ok = try iv.withUnsafeBytes { ivp in
                    try buffer.withUnsafeMutableBytes { p in
                        try icv.withUnsafeBytes { t in try ours.open(aad(spi, sequence), iv: ivp, payload: p, icv: t) }
                    }
                }
                return ok ? buffer : nil
            },
            fellBack: { false })]
        if BackendTransforms.supports(a) {
            parties.append(ESPParty(
                implementation: .swiftCrypto,
                seal: {
                    var (ct, icv) = try BackendTransforms.seal(a, encryptionKey: c.encryptionKey,
                                                               integrityKey: c.integrityKey, spi: c.spi,
                                                               sequence: c.sequence, esn: c.esn, iv: wireIV,
                                                               payload: payload)
                    fault?.apply(&ct)
                    return ct + icv
                },
                open: { spi, sequence, iv, sealed in
                    guard iv.count == ours.ivLength, let (ct, icv) = split(sealed) else { return nil }
                    var plain = try BackendTransforms.open(a, encryptionKey: c.encryptionKey,
                                                           integrityKey: c.integrityKey, spi: spi, sequence: sequence,
                                                           esn: c.esn, iv: iv, ciphertext: ct, icv: icv)
                    if plain != nil { fault?.apply(&plain!) }
                    return plain
                },
                fellBack: { false }))
        }
        if withIPsecMB {
            let mb = try ESPBurstTransform(a, encryptionKey: c.encryptionKey, integrityKey: c.integrityKey,
                                           implementation: .ipsecMB)
            if mb.implementation == .ipsecMB {
                // The burst's layout: SPI ‖ Seq(low) ‖ IV ‖ payload ‖ ICV, in place.
                func burst(_ spi: UInt32, _ sequence: UInt64, _ iv: [UInt8], _ body: [UInt8], sealing: Bool)
                    throws -> [UInt8]?
                {
                    var packet = BackendTransforms.be32(spi) + BackendTransforms.be32(UInt32(truncatingIfNeeded: sequence))
                        + iv + body
                    let verified = try packet.withUnsafeMutableBytes { p in
                        var item = ESPBurstPacket(packet: p, associatedData: aad(spi, sequence))
                        if sealing {
                            try mb.seal(&item)
                            return true
                        }
                        return try mb.open(&item)
                    }
                    return verified ? Array(packet[(8 + iv.count)...]) : nil
                }
                parties.append(ESPParty(
                    implementation: .ipsecMB,
                    seal: {
                        let sealed = try burst(c.spi, c.sequence, wireIV,
                                               payload + [UInt8](repeating: 0, count: icvLength), sealing: true)!
                        var ciphertext = Array(sealed.dropLast(icvLength))
                        fault?.applyToIPsecMB(&ciphertext)
                        return ciphertext + sealed.suffix(icvLength)
                    },
                    open: { spi, sequence, iv, sealed in
                        guard iv.count == ours.ivLength, split(sealed) != nil,
                              var opened = try burst(spi, sequence, iv, sealed, sealing: false) else { return nil }
                        opened.removeLast(icvLength)
                        fault?.applyToIPsecMB(&opened)
                        return opened
                    },
                    fellBack: { mb.fallbacks > 0 }))
            }
        }
        return parties
    }

    func evaluateESP(_ c: Case, _ a: ESPAlgorithm) throws -> (outcome: CaseOutcome, ran: [BackendImplementation]) {
        var content = DiffRandom(seed: c.contentSeed)
        let payload = content.bytes(max(1, c.length) * a.blockSize)
        let parties = try espParties(c, a, payload: payload)
        let names = parties.map(\.implementation)
        let wireIV = a.encryption.usesImplicitIV ? [] : c.iv
        func party(_ i: BackendImplementation) -> ESPParty { parties.first { $0.implementation == i }! }
        func opens(_ opener: ESPParty, _ sealer: BackendImplementation, _ sealed: [UInt8]) throws -> Check {
            let plain = try opener.open(c.spi, c.sequence, wireIV, sealed)
            return Check(sealer: sealer, opener: opener.implementation,
                         failure: plain == nil ? .rejects : plain != payload ? .differentBytes : nil)
        }
        let outcome: CaseOutcome
        switch c.direction {
        case .weProtect, .transform:
            // Every implementation seals: identical bytes; every other one opens the reference's seal.
            let seals = try parties.map { ($0.implementation, try $0.seal()) }
            if let who = Self.odd(seals) {
                let icvLength = a.icvLength
                let cts = Set(seals.map { Array($0.1.dropLast(icvLength)) })
                outcome = .disagree(ours: "sealed \(seals[0].1.count - icvLength)+\(icvLength) bytes",
                                    oracle: seals.dropFirst().map { "\($0.0.name) sealed \($0.1.count - icvLength)+\(icvLength) bytes" }
                                        .joined(separator: "; "),
                                    detail: who + (cts.count > 1 ? ": ciphertexts differ" : ": ICVs differ"))
                break
            }
            let checks = try parties.dropFirst().map { try opens($0, .openSSL, seals[0].1) }
            if let who = Self.blame(checks, among: names) {
                outcome = .disagree(ours: "sealed", oracle: "does not open it to the payload", detail: who)
            } else {
                outcome = .agree
            }
        case .oracleProtects:
            // Every implementation but the reference seals; every other one opens that seal.
            var checks: [Check] = []
            for sealer in parties.dropFirst() {
                let sealed = try sealer.seal()
                for opener in parties where opener.implementation != sealer.implementation {
                    checks.append(try opens(opener, sealer.implementation, sealed))
                }
            }
            if let who = Self.blame(checks, among: names) {
                let mine = checks.first { $0.opener == .openSSL && $0.failure != nil }
                outcome = .disagree(ours: mine.map { $0.failure == .rejects ? "rejected" : "opened to different bytes" }
                                        ?? "opened every seal",
                                    oracle: "sealed", detail: who)
            } else {
                outcome = .agree
            }
        case .mutated:
            // One implementation's seal, one bit of it (or of what is authenticated with it) flipped; all open it.
            var sealed = try party(sealer(c, names)).seal()
            var iv = wireIV, spi = c.spi, sequence = c.sequence
            let m = c.mutation!
            switch m.target {
            case 0 where !iv.isEmpty: flip(&iv, m)
            case 0, 1: flip(&sealed, m)  // anywhere in ciphertext ‖ ICV
            case 2 where a.icvLength > 0: sealed[sealed.count - a.icvLength + m.offset % a.icvLength] ^= UInt8(1 << m.bit)
            case 2, 3: spi ^= 1 << UInt32(m.offset % 32)
            case 4: sequence ^= 1 << UInt64(m.offset % 32)
            default: sequence ^= 1 << UInt64(32 + m.offset % 32)
            }
            let results = try parties.map { ($0.implementation, try $0.open(spi, sequence, iv, sealed)) }
            if let who = Self.odd(results) {
                let accepted = Set(results.map { $0.1 != nil })
                outcome = .disagree(ours: results[0].1 == nil ? "rejected" : "accepted",
                                    oracle: results.dropFirst().map { "\($0.0.name) \($0.1 == nil ? "rejected" : "accepted")" }
                                        .joined(separator: "; "),
                                    detail: who + (accepted.count > 1 ? ": accept/reject differs" : ": plaintexts differ"))
            } else {
                outcome = .agree
            }
        }
        return (outcome, parties.filter { !$0.fellBack() }.map(\.implementation))
    }

    // MARK: AH

    /// AH on one implementation: the ICV field over prefix ‖ zeros ‖ suffix (‖ ESN high), and its verification.
    struct AHParty {
        let implementation: BackendImplementation
        let icv: (_ prefix: [UInt8], _ suffix: [UInt8], _ sequence: UInt64) throws -> [UInt8]
        let verify: (_ prefix: [UInt8], _ suffix: [UInt8], _ sequence: UInt64, _ icv: [UInt8]) throws -> Bool
    }

    /// An AHTransform (OpenSSL's or libipsec-mb's) as a party.
    func ahParty(_ implementation: BackendImplementation, _ t: AHTransform, esn: Bool) -> AHParty {
        AHParty(
            implementation: implementation,
            icv: { prefix, suffix, sequence in
                var icv = try t.icv(prefix: prefix, suffix: suffix, sequenceNumber: sequence, extendedSequenceNumbers: esn)
                if implementation == .ipsecMB { fault?.applyToIPsecMB(&icv) }
                return icv
            },
            verify: { prefix, suffix, sequence, icv in
                guard icv.count == t.icvLength else { return false }
                return try prefix.withUnsafeBytes { p in
                    try suffix.withUnsafeBytes { s in
                        try icv.withUnsafeBytes { i in
                            try t.verifyICV(prefix: p, suffix: s, sequenceNumber: sequence, extendedSequenceNumbers: esn,
                                            icv: i)
                        }
                    }
                }
            })
    }

    func ahParties(_ c: Case, _ a: AHAlgorithm) throws -> [AHParty] {
        var parties = [ahParty(.openSSL, try AHTransform(a, key: c.integrityKey, ivSource: .fixed(c.iv),
                                                         implementation: .openSSL), esn: c.esn)]
        if BackendTransforms.supports(a.integrity) {
            func icv(_ prefix: [UInt8], _ suffix: [UInt8], _ sequence: UInt64, gmacIV: [UInt8]) throws -> [UInt8] {
                var icv = try BackendTransforms.ahICV(a, key: c.integrityKey, prefix: prefix, suffix: suffix,
                                                      sequence: sequence, esn: c.esn, gmacIV: gmacIV)
                fault?.apply(&icv)
                return icv
            }
            parties.append(AHParty(
                implementation: .swiftCrypto,
                icv: { prefix, suffix, sequence in try icv(prefix, suffix, sequence, gmacIV: c.iv) },
                verify: { prefix, suffix, sequence, received in
                    // GMAC's IV is sent in the ICV field (RFC 4543 §4): recompute with the one received.
                    let gmacIV = received.count >= 8 && a.integrity.saltLength > 0 ? Array(received.prefix(8)) : c.iv
                    return try icv(prefix, suffix, sequence, gmacIV: gmacIV) == received
                }))
        }
        if withIPsecMB, let t = try Self.ahOnIPsecMB(a, key: c.integrityKey, iv: c.iv) {
            parties.append(ahParty(.ipsecMB, t, esn: c.esn))
        }
        return parties
    }

    func evaluateAH(_ c: Case, _ a: AHAlgorithm) throws -> (outcome: CaseOutcome, ran: [BackendImplementation]) {
        var content = DiffRandom(seed: c.contentSeed)
        var prefix = content.bytes(c.prefixLength)
        var suffix = content.bytes(c.length)
        var sequence = c.sequence
        let parties = try ahParties(c, a)
        let names = parties.map(\.implementation)
        let outcome: CaseOutcome
        switch c.direction {
        case .weProtect, .transform:
            let icvs = try parties.map { ($0.implementation, try $0.icv(prefix, suffix, sequence)) }
            if let who = Self.odd(icvs) {
                outcome = .disagree(ours: "ICV \(DiffPacket.hex(icvs[0].1.prefix(8)))…",
                                    oracle: icvs.dropFirst().map { "\($0.0.name) ICV \(DiffPacket.hex($0.1.prefix(8)))…" }
                                        .joined(separator: "; "),
                                    detail: who + ": AH ICVs differ")
            } else {
                outcome = .agree
            }
        case .oracleProtects:
            var checks: [Check] = []
            for sealer in parties.dropFirst() {
                let icv = try sealer.icv(prefix, suffix, sequence)
                for opener in parties where opener.implementation != sealer.implementation {
                    let ok = try opener.verify(prefix, suffix, sequence, icv)
                    checks.append(Check(sealer: sealer.implementation, opener: opener.implementation,
                                        failure: ok ? nil : .rejects))
                }
            }
            if let who = Self.blame(checks, among: names) {
                let mine = checks.contains { $0.opener == .openSSL && $0.failure != nil }
                outcome = .disagree(ours: mine ? "rejected" : "verified", oracle: "computed", detail: who)
            } else {
                outcome = .agree
            }
        case .mutated:
            var icv = try parties.first { $0.implementation == sealer(c, names) }!.icv(prefix, suffix, sequence)
            let m = c.mutation!
            switch m.target {
            case 0, 2: flip(&icv, m)
            case 1 where !suffix.isEmpty: flip(&suffix, m)
            case 1, 3: flip(&prefix, m)
            case 4: sequence ^= 1 << UInt64(m.offset % 32)  // the low bits are in the prefix; only ESN's high bits are not
            default: sequence ^= 1 << UInt64(32 + m.offset % 32)
            }
            let verdicts = try parties.map { ($0.implementation, try $0.verify(prefix, suffix, sequence, icv)) }
            if let who = Self.odd(verdicts) {
                outcome = .disagree(ours: verdicts[0].1 ? "accepted" : "rejected",
                                    oracle: verdicts.dropFirst().map { "\($0.0.name) \($0.1 ? "accepted" : "rejected")" }
                                        .joined(separator: "; "),
                                    detail: who + ": accept/reject differs")
            } else {
                outcome = .agree
            }
        }
        return (outcome, names)
    }

    /// Shrinks a disagreeing case (shorter payload or suffix, shorter prefix) while it still disagrees.
    func minimise(_ c: Case, budget: Int = 60) -> Case {
        var best = c
        var spent = 0
        var improved = true
        while improved && spent < budget {
            improved = false
            var candidates: [Case] = []
            let floor = best.kind.isESP ? 1 : 0
            for l in [floor, best.length / 2, best.length - 1] where l >= floor && l < best.length {
                var d = best
                d.length = l
                candidates.append(d)
            }
            for l in [8, best.prefixLength / 2, best.prefixLength - 4] where l >= 8 && l < best.prefixLength && l % 4 == 0 {
                var d = best
                d.prefixLength = l
                candidates.append(d)
            }
            for d in candidates where spent < budget {
                spent += 1
                if evaluate(d).disagrees {
                    best = d
                    improved = true
                    break
                }
            }
        }
        return best
    }
}

extension BackendCampaign.Kind {
    var isESP: Bool { if case .esp = self { true } else { false } }
}
