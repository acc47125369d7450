import IPsecCrypto
import Testing

// The libipsec-mb backend against the OpenSSL reference: every known answer through the burst interface on both
// implementations, and thousands of random differential cases per run. `make test` installs libipsec-mb-dev
// (scripts/setup.sh); a machine without it fails the availability test rather than skipping everything silently.

/// One ESP packet laid out for a burst: SPI ‖ Seq ‖ IV ‖ payload ‖ ICV slot.
private func packetBytes(_ aad: ESPAssociatedData, iv: [UInt8], payload: [UInt8], icvLength: Int,
                         icv: [UInt8]? = nil) -> [UInt8] {
    let low = UInt32(truncatingIfNeeded: aad.sequenceNumber)
    let header = (0..<4).map { UInt8(truncatingIfNeeded: aad.spi >> (24 - 8 * $0)) }
        + (0..<4).map { UInt8(truncatingIfNeeded: low >> (24 - 8 * $0)) }
    return header + iv + payload + (icv ?? [UInt8](repeating: 0, count: icvLength))
}

/// Seals (or opens) `packets` as one burst through `transform`; returns the packets and the verdicts.
private func runBurst(_ transform: ESPBurstTransform, sealing: Bool, _ packets: [[UInt8]],
                      _ aads: [ESPAssociatedData]) throws -> (packets: [[UInt8]], verified: [Bool]) {
    var storage = packets
    let offsets = storage.reduce(into: [0]) { $0.append($0.last! + $1.count) }
    var flat = storage.flatMap { $0 }
    if flat.isEmpty { flat = [0] }
    var verified = [Bool]()
    try flat.withUnsafeMutableBytes { buffer in
        var burst = (0..<packets.count).map { i in
            ESPBurstPacket(packet: UnsafeMutableRawBufferPointer(rebasing: buffer[offsets[i]..<offsets[i + 1]]),
                           associatedData: aads[i])
        }
        try burst.withUnsafeMutableBufferPointer { items in
            if sealing { try transform.seal(items) } else { try transform.open(items) }
        }
        verified = burst.map(\.verified)
    }
    for i in storage.indices { storage[i] = Array(flat[offsets[i]..<offsets[i + 1]]) }
    return (storage, verified)
}

private func burstTransforms(_ algorithm: ESPAlgorithm, _ encryptionKey: [UInt8], _ integrityKey: [UInt8]) throws
    -> (openSSL: ESPBurstTransform, ipsecMB: ESPBurstTransform)
{
    (try ESPBurstTransform(algorithm, encryptionKey: encryptionKey, integrityKey: integrityKey,
                           implementation: .openSSL),
     try ESPBurstTransform(algorithm, encryptionKey: encryptionKey, integrityKey: integrityKey,
                           implementation: .ipsecMB))
}

/// Algorithms beyond `ESPAlgorithm.all` that take other paths in libipsec-mb.
private let extraAlgorithms = ["aes192gcm8", "aes256gcm12", "aes256ccm8", "aes192ccm16", "aes128-sha256_96",
                               "null-md5", "null-sha384", "null-sha512", "aes192ctr-aescmac", "3des-sha256",
                               "chacha20poly1305iiv", "aes256gcm16iiv"]
private let differentialAlgorithms: [ESPAlgorithm] = ESPAlgorithm.all
    + extraAlgorithms.map { try! ESPAlgorithm(keyword: $0) }

@Suite("libipsec-mb backend")
struct IPsecMBTests {
    @Test("libipsec-mb is built in and loads (scripts/setup.sh installs libipsec-mb-dev on amd64)")
    func available() {
        #if arch(x86_64)
        #expect(IPsecMB.isCompiled, "\(IPsecMB.status)")
        #expect(IPsecMB.isAvailable, "\(IPsecMB.status)")
        #expect(IPsecMB.status.hasPrefix("libipsec-mb 1."), "\(IPsecMB.status)")
        #else
        // Debian has no libipsec-mb here: everything must run on OpenSSL, and say so.
        #expect(!IPsecMB.isAvailable)
        #expect(IPsecMB.status.hasPrefix("libipsec-mb: not"), "\(IPsecMB.status)")
        #endif
    }

    @Test("It runs every algorithm but AES-192-CCM, and says which implementation an SA got")
    func coverage() throws {
        for algorithm in differentialAlgorithms {
            let (reference, fast) = try burstTransforms(algorithm, pattern(algorithm.encryptionKeyLength, seed: 3),
                                                         pattern(algorithm.integrityKeyLength, seed: 9))
            #expect(reference.implementation == .openSSL)
            var expected: CryptoImplementation
            switch algorithm.encryption {
            case .aesCCM(192, _), .aesCCMImplicitIV(192, _): expected = .openSSL
            default: expected = .ipsecMB
            }
            if !IPsecMB.isAvailable { expected = .openSSL }  // the `available` test fails where it must not happen
            #expect(fast.implementation == expected, "\(algorithm)")
            #expect(IPsecMB.supports(algorithm) == (expected == .ipsecMB), "\(algorithm)")
        }
    }

    @Test("Known answers through the burst, both implementations",
          arguments: publishedCipherVectors + publishedESPVectors + crossCheckedESPVectors)
    func knownAnswer(_ vector: ESPVector) throws {
        let algorithm = try ESPAlgorithm(keyword: vector.keyword)
        let (reference, fast) = try burstTransforms(algorithm, vector.encryptionKey, vector.integrityKey)
        let aad = try vector.associatedData()
        for transform in [reference, fast] {
            let sealed = try runBurst(transform, sealing: true,
                                      [packetBytes(aad, iv: vector.iv, payload: vector.plaintext,
                                                   icvLength: transform.icvLength)], [aad])
            let body = Array(sealed.packets[0][(8 + vector.iv.count)...])
            #expect(hexString(Array(body.prefix(vector.ciphertext.count))) == hexString(vector.ciphertext),
                    "\(transform.implementation): ciphertext")
            #expect(hexString(Array(body.suffix(vector.icv.count))) == hexString(vector.icv),
                    "\(transform.implementation): ICV")
            let opened = try runBurst(transform, sealing: false,
                                      [packetBytes(aad, iv: vector.iv, payload: vector.ciphertext,
                                                   icvLength: transform.icvLength, icv: vector.icv)], [aad])
            #expect(opened.verified == [true], "\(transform.implementation)")
            #expect(hexString(Array(opened.packets[0][(8 + vector.iv.count)...].prefix(vector.plaintext.count)))
                == hexString(vector.plaintext), "\(transform.implementation): plaintext")
        }
        if fast.implementation == .ipsecMB && vector.extra.isEmpty { #expect(fast.fallbacks == 0) }
    }

    @Test("HMAC known answers (RFC 2202, 4231, 4868) through NULL-encryption ESP on libipsec-mb",
          arguments: hmacVectors)
    func hmac(_ vector: HMACVector) throws {
        let algorithm = try ESPAlgorithm(keyword: vector.espKeyword)
        guard vector.key.count == algorithm.integrityKeyLength, vector.data.count >= 8,
              vector.mac.count >= algorithm.icvLength
        else { return }  // IPsec fixes the key length; other keys are checked through Primitives.
        let fast = try ESPBurstTransform(algorithm, encryptionKey: [], integrityKey: vector.key,
                                         implementation: .ipsecMB)
        #expect(fast.implementation == .ipsecMB)
        // The message's first 8 bytes are read as SPI ‖ Seq, the rest as the payload.
        let spi = vector.data[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let seq = vector.data[4..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let payload = Array(vector.data[8...])
        guard payload.count % algorithm.blockSize == 0 else { return }
        let aad = ESPAssociatedData(spi: spi, sequenceNumber: seq)
        let sealed = try runBurst(fast, sealing: true, [packetBytes(aad, iv: [], payload: payload,
                                                                    icvLength: fast.icvLength)], [aad])
        #expect(hexString(Array(sealed.packets[0].suffix(fast.icvLength)))
            == hexString(Array(vector.mac.prefix(algorithm.icvLength))))
        #expect(fast.fallbacks == 0)
    }

    @Test("Random differential cases: identical bytes, tampering rejected by both", arguments: differentialAlgorithms)
    func differential(_ algorithm: ESPAlgorithm) throws {
        var rng = SplitMix(seed: UInt64(truncatingIfNeeded: algorithm.keyword.hashValue & 0xffff) &+ 11)
        var cases = 0
        for round in 0..<12 {
            let (reference, fast) = try burstTransforms(algorithm, rng.bytes(algorithm.encryptionKeyLength),
                                                         rng.bytes(algorithm.integrityKeyLength))
            // Bursts of 1 to 70 packets: past the 64-job chunk now and then.
            let count = round == 0 ? 70 : Int(rng.next() % 24) + 1
            var packets = [[UInt8]]()
            var aads = [ESPAssociatedData]()
            for i in 0..<count {
                let blocks = Int(rng.next() % 100)
                let length: Int
                switch algorithm.encryption {
                case .aesCBC: length = i == 0 ? 0 : 16 * (blocks % 90)
                case .tripleDESCBC: length = 8 * (blocks % 180)
                default: length = i == 0 ? 0 : (i == 1 ? 1 : Int(rng.next() % 1500))
                }
                let esn = rng.next() % 2 == 0
                var extra = ESPAssociatedData.Extra()
                if rng.next() % 5 == 0 { try extra.append(contentsOf: rng.bytes(Int(rng.next() % 41))) }
                let aad = ESPAssociatedData(spi: UInt32(truncatingIfNeeded: rng.next()) | 1,
                                            sequenceNumber: esn ? rng.next() : rng.next() & 0xffff_ffff,
                                            extendedSequenceNumbers: esn, extra: extra)
                aads.append(aad)
                packets.append(packetBytes(aad, iv: rng.bytes(algorithm.ivLength), payload: rng.bytes(length),
                                           icvLength: algorithm.icvLength))
            }
            // Which packets libipsec-mb must hand to OpenSSL (docs/ipsec-mb.md): everything else runs on it.
            let expectedFallbacks = zip(packets, aads).filter { packet, aad in
                guard fast.implementation == .ipsecMB else { return false }
                let appended = (aad.extendedSequenceNumbers ? 4 : 0) + aad.extra.count
                switch algorithm.encryption {
                case .null, .aesCBC, .aesCTR, .tripleDESCBC:
                    // Without integrity nothing is appended: there is no MAC input.
                    return algorithm.integrity != .none && appended > algorithm.icvLength
                case .aesCCM, .aesCCMImplicitIV:
                    return 8 + appended > 46 || packet.count == 8 + algorithm.ivLength + algorithm.icvLength
                default: return false
                }
            }.count
            let fallbacksBefore = fast.fallbacks
            let sealedByOpenSSL = try runBurst(reference, sealing: true, packets, aads)
            let sealedByMB = try runBurst(fast, sealing: true, packets, aads)
            for i in 0..<count {
                let same = sealedByMB.packets[i] == sealedByOpenSSL.packets[i]
                #expect(same, "\(algorithm) seal, packet \(i) of \(packets[i].count) bytes")
            }
            // Each opens the other's packets.
            let openedByMB = try runBurst(fast, sealing: false, sealedByOpenSSL.packets, aads)
            let openedByOpenSSL = try runBurst(reference, sealing: false, sealedByMB.packets, aads)
            #expect(fast.fallbacks - fallbacksBefore == 2 * expectedFallbacks, "\(algorithm)")
            #expect(openedByMB.verified == [Bool](repeating: true, count: count), "\(algorithm)")
            #expect(openedByOpenSSL.verified == [Bool](repeating: true, count: count), "\(algorithm)")
            for i in 0..<count {
                let plaintext = openedByMB.packets[i].dropLast(algorithm.icvLength) == packets[i].dropLast(algorithm.icvLength)
                #expect(plaintext, "\(algorithm) open, packet \(i)")
            }
            // Tampering: one bit of the IV, payload or ICV, or of the associated data.
            guard algorithm.icvLength > 0 else { cases += count; continue }
            var tampered = sealedByOpenSSL.packets
            var tamperedAADs = aads
            for i in 0..<count {
                if rng.next() % 4 == 0 {
                    tamperedAADs[i].sequenceNumber ^= 1 << (rng.next() % 32)
                } else {
                    // The header is not an input of the transform (the associated data is): IV, payload or ICV.
                    let position = 8 + Int(rng.next() % UInt64(tampered[i].count - 8))
                    tampered[i][position] ^= UInt8(1 << (rng.next() % 8))
                }
            }
            let rejectedByMB = try runBurst(fast, sealing: false, tampered, tamperedAADs)
            let rejectedByOpenSSL = try runBurst(reference, sealing: false, tampered, tamperedAADs)
            #expect(rejectedByMB.verified == [Bool](repeating: false, count: count), "\(algorithm) tampered")
            #expect(rejectedByOpenSSL.verified == [Bool](repeating: false, count: count), "\(algorithm) tampered")
            for i in 0..<count {
                let same = rejectedByMB.packets[i] == rejectedByOpenSSL.packets[i]
                #expect(same, "\(algorithm): a rejected packet is left the same by both, packet \(i)")
            }
            cases += count
        }
        #expect(cases >= 12)
    }
}

/// SplitMix64, for reproducible random cases.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }
}
