import IPsecCrypto
import Testing

// AH on libipsec-mb against the OpenSSL reference (docs/ipsec-mb.md, "AH"): which implementation each algorithm gets,
// the AH known answers on both, and random cases per algorithm with identical ICVs and tampering rejected by both.
// Where the library is missing, `IPsecMBTests.available` fails (on amd64) and the transforms below report OpenSSL.

/// Every AH algorithm, and Linux's 96-bit HMAC-SHA-256.
private let ahAlgorithms: [AHAlgorithm] = AHAlgorithm.all + [try! AHAlgorithm(.hmacSHA256_96)]

/// The implementation an `.ipsecMB` transform must get here.
private var expectedFast: CryptoImplementation { IPsecMB.isAvailable ? .ipsecMB : .openSSL }

private func ahTransforms(_ algorithm: AHAlgorithm, key: [UInt8], ivSource: IVSource) throws
    -> (openSSL: AHTransform, ipsecMB: AHTransform)
{
    (try AHTransform(algorithm, key: key, ivSource: ivSource, implementation: .openSSL),
     try AHTransform(algorithm, key: key, ivSource: ivSource, implementation: .ipsecMB))
}

@Suite("AH on libipsec-mb")
struct IPsecMBAHTests {
    @Test("Every AH algorithm runs on libipsec-mb when asked, and says so", arguments: ahAlgorithms)
    func chosen(_ algorithm: AHAlgorithm) throws {
        let key = pattern(algorithm.keyLength, seed: 5)
        let (reference, fast) = try ahTransforms(algorithm, key: key, ivSource: .seeded(1))
        #expect(reference.implementation == .openSSL)
        #expect(fast.implementation == expectedFast, "\(algorithm)")
        #expect(IPsecMB.supports(algorithm) == IPsecMB.isAvailable, "\(algorithm)")
        #if arch(x86_64)
        #expect(fast.implementation == .ipsecMB, "\(algorithm): \(IPsecMB.status)")
        #endif
        // The default follows `CryptoImplementation.preferred` (which `--backend` sets).
        let preferred = CryptoImplementation.preferred == .ipsecMB ? expectedFast : .openSSL
        #expect(try AHTransform(algorithm, key: key).implementation == preferred)
        // Key lengths are checked before any library is asked.
        #expect(throws: CryptoError.self) {
            try AHTransform(algorithm, key: pattern(algorithm.keyLength + 1), implementation: .ipsecMB)
        }
    }

    @Test("Cross-checked AH known answers (pyca/cryptography), both implementations", arguments: crossCheckedAHVectors)
    func crossChecked(_ vector: AHVector) throws {
        let algorithm = try AHAlgorithm(keyword: vector.keyword)
        // The script's GMAC IV is 0000000000000001: the first value of a counter source started at 1.
        let (reference, fast) = try ahTransforms(algorithm, key: vector.key, ivSource: .counter(start: 1))
        #expect(fast.implementation == expectedFast)
        for transform in [reference, fast] {
            let icv = try computeAH(transform, prefix: AHVector.prefix, suffix: AHVector.suffix,
                                    sequenceNumber: vector.sequenceNumber, esn: vector.esn)
            #expect(hexString(icv) == hexString(vector.icv), "\(transform.implementation)")
            #expect(try verifyAH(transform, prefix: AHVector.prefix, suffix: AHVector.suffix,
                                 sequenceNumber: vector.sequenceNumber, esn: vector.esn, icv: vector.icv),
                    "\(transform.implementation)")
            var wrong = vector.icv
            wrong[wrong.count - 1] ^= 0x01
            #expect(try !verifyAH(transform, prefix: AHVector.prefix, suffix: AHVector.suffix,
                                  sequenceNumber: vector.sequenceNumber, esn: vector.esn, icv: wrong),
                    "\(transform.implementation)")
        }
    }

    @Test("RFC 3566 case 7 (1,000 zero bytes) is an AH input at every split: its published MAC, both implementations")
    func xcbcPublished() throws {
        // prefix ‖ 12 zero bytes (the ICV field) ‖ suffix is the published message whatever the split.
        let key = hex("000102030405060708090a0b0c0d0e0f")
        let (reference, fast) = try ahTransforms(try AHAlgorithm(keyword: "aesxcbc"), key: key, ivSource: .random)
        #expect(fast.implementation == expectedFast)
        for transform in [reference, fast] {
            for split in [0, 1, 20, 40, 500, 988] {
                let icv = try computeAH(transform, prefix: bytes(0, split), suffix: bytes(0, 988 - split))
                #expect(hexString(icv) == "f0dafee895db30253761103b", "\(transform.implementation), split \(split)")
            }
        }
    }

    @Test("Published HMAC keys and messages (RFC 2202, 4231, 4868) as AH inputs: the MAC of the laid-out bytes",
          arguments: hmacVectors)
    func publishedInputs(_ vector: HMACVector) throws {
        // The published MACs are checked through `Primitives` in IntegrityVectorTests; here the AH layout (the ICV
        // field as zeros between prefix and suffix, ESN high bits appended) is checked against a one-shot MAC of the
        // same bytes, on both implementations.
        let integrity: IntegrityAlgorithm = switch vector.digest {
        case .md5: .hmacMD5_96
        case .sha1: .hmacSHA1_96
        case .sha256: .hmacSHA256_128
        case .sha384: .hmacSHA384_192
        case .sha512: .hmacSHA512_256
        }
        let algorithm = try AHAlgorithm(integrity)
        guard vector.key.count == algorithm.keyLength else { return }  // IPsec fixes the key length
        let (reference, fast) = try ahTransforms(algorithm, key: vector.key, ivSource: .random)
        let split = vector.data.count / 2
        let prefix = Array(vector.data[..<split])
        let suffix = Array(vector.data[split...])
        let laidOut = prefix + bytes(0, algorithm.icvLength) + suffix + [0x00, 0x00, 0x00, 0x07]
        let expected = Array(try Primitives.hmac(vector.digest, key: vector.key, data: laidOut)
            .prefix(algorithm.icvLength))
        for transform in [reference, fast] {
            #expect(try computeAH(transform, prefix: prefix, suffix: suffix, sequenceNumber: 0x7_0000_0001, esn: true)
                == expected, "\(transform.implementation)")
        }
    }

    @Test("RFC 4494 messages as AH inputs, both implementations")
    func cmacInputs() throws {
        let key = hex("2b7e151628aed2a6abf7158809cf4f3c")
        let (reference, fast) = try ahTransforms(try AHAlgorithm(keyword: "aescmac"), key: key, ivSource: .random)
        for length in [0, 16, 40, 64] {
            let message = Array(IntegrityVectorTests.cmacMessage.prefix(length))
            let prefix = Array(message.prefix(length / 3))
            let suffix = Array(message.dropFirst(length / 3))
            let expected = Array(try Primitives.aesCMAC(key: key, data: prefix + bytes(0, 12) + suffix).prefix(12))
            for transform in [reference, fast] {
                #expect(try computeAH(transform, prefix: prefix, suffix: suffix) == expected,
                        "\(transform.implementation), \(length) bytes")
            }
        }
    }

    @Test("Random cases: identical ICVs, each verifies the other's, a flipped bit is rejected by both",
          arguments: ahAlgorithms)
    func differential(_ algorithm: AHAlgorithm) throws {
        var rng = SplitMix(seed: UInt64(algorithm.keyword.utf8.reduce(0) { $0 &* 31 &+ Int($1) } & 0xffff) &+ 7)
        var cases = 0
        for round in 0..<8 {
            let key = rng.bytes(algorithm.keyLength)
            // GMAC draws its IV from the source: the same seed gives both transforms the same IVs.
            let seed = rng.next()
            let (reference, fast) = try ahTransforms(algorithm, key: key, ivSource: .seeded(seed))
            #expect(fast.implementation == expectedFast)
            for i in 0..<25 {
                let prefix = rng.bytes(20 + Int(rng.next() % 81))  // IPv4 / IPv6 headers and AH's fixed fields
                // Up to 1,500 bytes, and now and then a jumbo one (the library's buffer grows, then is reused).
                let suffixLength = round == 3 && i == 0 ? 9000 : (i == 0 ? 0 : Int(rng.next() % 1501))
                let suffix = rng.bytes(suffixLength)
                let esn = rng.next() % 2 == 0
                // Sequence numbers near 2^32: the low half about to wrap or just wrapped.
                let low = UInt64(UInt32.max) &- 8 &+ (rng.next() % 16)
                let sequence = esn ? (rng.next() % 4) << 32 &+ low : low & 0xffff_ffff
                let icv = try computeAH(reference, prefix: prefix, suffix: suffix, sequenceNumber: sequence, esn: esn)
                let fastICV = try computeAH(fast, prefix: prefix, suffix: suffix, sequenceNumber: sequence, esn: esn)
                #expect(hexString(fastICV) == hexString(icv),
                        "\(algorithm): prefix \(prefix.count), suffix \(suffix.count), ESN \(esn)")
                #expect(try verifyAH(fast, prefix: prefix, suffix: suffix, sequenceNumber: sequence, esn: esn,
                                     icv: icv), "\(algorithm): libipsec-mb verifies OpenSSL's")
                #expect(try verifyAH(reference, prefix: prefix, suffix: suffix, sequenceNumber: sequence, esn: esn,
                                     icv: fastICV), "\(algorithm): OpenSSL verifies libipsec-mb's")
                // One bit flipped in each part the ICV covers (GMAC's IV included); the ESN high half only counts
                // with ESN (without it, it is not an input: both must still accept).
                var badPrefix = prefix
                badPrefix[Int(rng.next() % UInt64(prefix.count))] ^= UInt8(1 << (rng.next() % 8))
                var badICV = icv
                badICV[Int(rng.next() % UInt64(icv.count))] ^= UInt8(1 << (rng.next() % 8))
                let highFlipped = sequence ^ (1 << (32 + rng.next() % 32))
                for transform in [reference, fast] {
                    let name = "\(algorithm) on \(transform.implementation)"
                    #expect(try !verifyAH(transform, prefix: badPrefix, suffix: suffix, sequenceNumber: sequence,
                                          esn: esn, icv: icv), "\(name): prefix bit")
                    #expect(try !verifyAH(transform, prefix: prefix, suffix: suffix, sequenceNumber: sequence,
                                          esn: esn, icv: badICV), "\(name): ICV bit")
                    if !suffix.isEmpty {
                        var badSuffix = suffix
                        badSuffix[Int(rng.next() % UInt64(suffix.count))] ^= UInt8(1 << (rng.next() % 8))
                        #expect(try !verifyAH(transform, prefix: prefix, suffix: badSuffix, sequenceNumber: sequence,
                                              esn: esn, icv: icv), "\(name): suffix bit")
                    }
                    #expect(try verifyAH(transform, prefix: prefix, suffix: suffix, sequenceNumber: highFlipped,
                                         esn: esn, icv: icv) == !esn, "\(name): ESN high bit")
                }
                cases += 1
            }
        }
        #expect(cases == 200)
    }

    @Test("Splitting the same bytes elsewhere gives another ICV on libipsec-mb too (the zeroed field moves)")
    func icvPosition() throws {
        let algorithm = try AHAlgorithm(keyword: "sha256")
        let transform = try AHTransform(algorithm, key: pattern(32), implementation: .ipsecMB)
        let whole = pattern(64)
        let a = try computeAH(transform, prefix: Array(whole[..<20]), suffix: Array(whole[20...]))
        let b = try computeAH(transform, prefix: Array(whole[..<24]), suffix: Array(whole[24...]))
        #expect(a != b)
    }

    @Test("A wrong ICV buffer length is an error on libipsec-mb too", arguments: ahAlgorithms)
    func wrongICVLength(_ algorithm: AHAlgorithm) throws {
        let transform = try AHTransform(algorithm, key: pattern(algorithm.keyLength), implementation: .ipsecMB)
        #expect(throws: CryptoError.self) {
            _ = try verifyAH(transform, prefix: [], suffix: [], icv: pattern(algorithm.icvLength + 1))
        }
        var short = [UInt8](repeating: 0, count: algorithm.icvLength - 1)
        #expect(throws: CryptoError.self) {
            try short.withUnsafeMutableBytes { icv in
                try transform.computeICV(prefix: UnsafeRawBufferPointer(start: nil, count: 0),
                                         suffix: UnsafeRawBufferPointer(start: nil, count: 0), sequenceNumber: 1,
                                         extendedSequenceNumbers: false, into: icv)
            }
        }
    }
}
