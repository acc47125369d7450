import IPsecCrypto

/// The `backend` oracle: IPsecCrypto's transforms (OpenSSL) against BackendTransforms (swift-crypto, BoringSSL),
/// transform by transform, with the same keys, IVs, sequence numbers and associated data.
struct BackendCampaign {
    let seed: UInt64
    let fault: DiffPlantedFault?

    /// Every ESP suite and AH algorithm both backends offer.
    static let espAlgorithms: [ESPAlgorithm] = {
        var encryptions: [EncryptionAlgorithm] = [.null, .chacha20Poly1305, .chacha20Poly1305ImplicitIV]
        for bits in [128, 192, 256] {
            encryptions += [.aesCBC(keyBits: bits), .aesCTR(keyBits: bits), .nullAuthAESGMAC(keyBits: bits)]
            for icv in [8, 12, 16] {
                encryptions += [.aesGCM(keyBits: bits, icvLength: icv), .aesGCMImplicitIV(keyBits: bits, icvLength: icv)]
            }
        }
        let integrities: [IntegrityAlgorithm] = [.none, .hmacMD5_96, .hmacSHA1_96, .hmacSHA256_128, .hmacSHA384_192,
                                                 .hmacSHA512_256, .hmacSHA256_96, .aesCMAC96]
        var out: [ESPAlgorithm] = []
        for e in encryptions {
            for i in integrities {
                if let a = try? ESPAlgorithm(encryption: e, integrity: i), BackendTransforms.supports(a) { out.append(a) }
            }
        }
        return out
    }()

    static let ahAlgorithms: [AHAlgorithm] = AHAlgorithm.all.filter { BackendTransforms.supports($0.integrity) }
        + [try? AHAlgorithm(.hmacSHA256_96)].compactMap { $0 }

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
        let kind: Kind = useAH ? .ah(r.pick(Self.ahAlgorithms)) : .esp(r.pick(Self.espAlgorithms))
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

    func evaluate(_ c: Case) -> CaseOutcome {
        do {
            switch c.kind {
            case .esp(let a): return try evaluateESP(c, a)
            case .ah(let a): return try evaluateAH(c, a)
            }
        } catch {
            return .disagree(ours: "?", oracle: "?", detail: "a backend refused the inputs: \(error)")
        }
    }

    func evaluateESP(_ c: Case, _ a: ESPAlgorithm) throws -> CaseOutcome {
        var content = DiffRandom(seed: c.contentSeed)
        let payload = content.bytes(max(1, c.length) * a.blockSize)
        let ours = try ESPTransform(a, encryptionKey: c.encryptionKey, integrityKey: c.integrityKey)
        let aad = ESPAssociatedData(spi: c.spi, sequenceNumber: c.sequence, extendedSequenceNumbers: c.esn)
        let wireIV = a.encryption.usesImplicitIV ? [] : c.iv

        func sealOurs() throws -> ([UInt8], [UInt8]) {
            var buffer = payload
            var icv = [UInt8](repeating: 0, count: ours.icvLength)
            try wireIV.withUnsafeBytes { iv in
                try buffer.withUnsafeMutableBytes { p in
                    try icv.withUnsafeMutableBytes { t in try ours.seal(aad, iv: iv, payload: p, icv: t) }
                }
            }
            return (buffer, icv)
        }
        func openOurs(_ aad: ESPAssociatedData, iv: [UInt8], _ ct: [UInt8], _ icv: [UInt8]) throws -> [UInt8]? {
            guard icv.count == ours.icvLength, iv.count == ours.ivLength, ct.count % a.blockSize == 0 else { return nil }
            var buffer = ct
            let ok = try iv.withUnsafeBytes { ivp in
                try buffer.withUnsafeMutableBytes { p in
                    try icv.withUnsafeBytes { t in try ours.open(aad, iv: ivp, payload: p, icv: t) }
                }
            }
            return ok ? buffer : nil
        }
        func sealTheirs() throws -> ([UInt8], [UInt8]) {
            var (ct, icv) = try BackendTransforms.seal(a, encryptionKey: c.encryptionKey, integrityKey: c.integrityKey,
                                                       spi: c.spi, sequence: c.sequence, esn: c.esn, iv: wireIV,
                                                       payload: payload)
            fault?.apply(&ct)
            return (ct, icv)
        }
        func openTheirs(spi: UInt32, sequence: UInt64, iv: [UInt8], _ ct: [UInt8], _ icv: [UInt8]) throws -> [UInt8]? {
            guard iv.count == ours.ivLength else { return nil }
            var plain = try BackendTransforms.open(a, encryptionKey: c.encryptionKey, integrityKey: c.integrityKey,
                                                   spi: spi, sequence: sequence, esn: c.esn, iv: iv,
                                                   ciphertext: ct, icv: icv)
            if plain != nil { fault?.apply(&plain!) }
            return plain
        }

        switch c.direction {
        case .weProtect, .transform:
            let (ct, icv) = try sealOurs()
            let (theirCT, theirICV) = try sealTheirs()
            if ct != theirCT || icv != theirICV {
                return .disagree(ours: "sealed \(ct.count)+\(icv.count) bytes", oracle: "sealed \(theirCT.count)+\(theirICV.count) bytes",
                                 detail: ct != theirCT ? "ciphertexts differ" : "ICVs differ")
            }
            guard let plain = try openTheirs(spi: c.spi, sequence: c.sequence, iv: wireIV, ct, icv), plain == payload else {
                return .disagree(ours: "sealed", oracle: "does not open it to the payload", detail: "swift-crypto rejects IPsecLab's seal")
            }
            return .agree
        case .oracleProtects:
            let (ct, icv) = try sealTheirs()
            guard let plain = try openOurs(aad, iv: wireIV, ct, icv) else {
                return .disagree(ours: "rejected", oracle: "sealed", detail: "IPsecLab rejects swift-crypto's seal")
            }
            return plain == payload ? .agree
                : .disagree(ours: "opened to different bytes", oracle: "sealed", detail: "plaintexts differ")
        case .mutated:
            var (ct, icv) = try sealTheirs()
            var iv = wireIV, spi = c.spi, sequence = c.sequence
            let m = c.mutation!
            func flip(_ bytes: inout [UInt8]) { if !bytes.isEmpty { bytes[m.offset % bytes.count] ^= UInt8(1 << m.bit) } }
            switch m.target {
            case 0 where !iv.isEmpty: flip(&iv)
            case 0, 1: flip(&ct)
            case 2 where !icv.isEmpty: flip(&icv)
            case 2, 3: spi ^= 1 << UInt32(m.offset % 32)
            case 4: sequence ^= 1 << UInt64(m.offset % 32)
            default: sequence ^= 1 << UInt64(32 + m.offset % 32)
            }
            var ourAAD = aad
            ourAAD.spi = spi
            ourAAD.sequenceNumber = sequence
            let mine = try openOurs(ourAAD, iv: iv, ct, icv)
            let theirs = try openTheirs(spi: spi, sequence: sequence, iv: iv, ct, icv)
            if (mine == nil) != (theirs == nil) {
                return .disagree(ours: mine == nil ? "rejected" : "accepted", oracle: theirs == nil ? "rejected" : "accepted",
                                 detail: "accept/reject differs")
            }
            if let mine, let theirs, mine != theirs {
                return .disagree(ours: "accepted", oracle: "accepted", detail: "plaintexts differ")
            }
            return .agree
        }
    }

    func evaluateAH(_ c: Case, _ a: AHAlgorithm) throws -> CaseOutcome {
        var content = DiffRandom(seed: c.contentSeed)
        var prefix = content.bytes(c.prefixLength)
        var suffix = content.bytes(c.length)
        let ours = try AHTransform(a, key: c.integrityKey, ivSource: .fixed(c.iv))
        var sequence = c.sequence
        func icvOurs() throws -> [UInt8] {
            var icv = [UInt8](repeating: 0, count: ours.icvLength)
            try prefix.withUnsafeBytes { p in
                try suffix.withUnsafeBytes { s in
                    try icv.withUnsafeMutableBytes { t in
                        try ours.computeICV(prefix: p, suffix: s, sequenceNumber: sequence,
                                            extendedSequenceNumbers: c.esn, into: t)
                    }
                }
            }
            return icv
        }
        func verifyOurs(_ icv: [UInt8]) throws -> Bool {
            guard icv.count == ours.icvLength else { return false }
            return try prefix.withUnsafeBytes { p in
                try suffix.withUnsafeBytes { s in
                    try icv.withUnsafeBytes { t in
                        try ours.verifyICV(prefix: p, suffix: s, sequenceNumber: sequence, extendedSequenceNumbers: c.esn,
                                           icv: t)
                    }
                }
            }
        }
        func icvTheirs(gmacIV: [UInt8]) throws -> [UInt8] {
            var icv = try BackendTransforms.ahICV(a, key: c.integrityKey, prefix: prefix, suffix: suffix,
                                                  sequence: sequence, esn: c.esn, gmacIV: gmacIV)
            fault?.apply(&icv)
            return icv
        }
        switch c.direction {
        case .weProtect, .transform:
            let mine = try icvOurs()
            let theirs = try icvTheirs(gmacIV: c.iv)
            return mine == theirs ? .agree : .disagree(ours: "ICV \(DiffPacket.hex(mine.prefix(8)))…",
                                                       oracle: "ICV \(DiffPacket.hex(theirs.prefix(8)))…",
                                                       detail: "AH ICVs differ")
        case .oracleProtects:
            let theirs = try icvTheirs(gmacIV: c.iv)
            return try verifyOurs(theirs) ? .agree
                : .disagree(ours: "rejected", oracle: "computed", detail: "IPsecLab rejects swift-crypto's AH ICV")
        case .mutated:
            var icv = try icvTheirs(gmacIV: c.iv)
            let m = c.mutation!
            func flip(_ bytes: inout [UInt8]) { if !bytes.isEmpty { bytes[m.offset % bytes.count] ^= UInt8(1 << m.bit) } }
            switch m.target {
            case 0, 2: flip(&icv)
            case 1 where !suffix.isEmpty: flip(&suffix)
            case 1, 3: flip(&prefix)
            case 4: sequence ^= 1 << UInt64(m.offset % 32)  // the low bits are in the prefix; only ESN's high bits are not
            default: sequence ^= 1 << UInt64(32 + m.offset % 32)
            }
            let mine = try verifyOurs(icv)
            let gmacIV = icv.count >= 8 && a.integrity.saltLength > 0 ? Array(icv.prefix(8)) : c.iv
            let theirs = try icvTheirs(gmacIV: gmacIV) == icv
            return mine == theirs ? .agree
                : .disagree(ours: mine ? "accepted" : "rejected", oracle: theirs ? "accepted" : "rejected",
                            detail: "accept/reject differs")
        }
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
