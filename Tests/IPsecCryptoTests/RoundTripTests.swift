import IPsecCrypto
import Testing

/// Key material of the right length for `algorithm`, deterministic per seed.
func keys(for algorithm: ESPAlgorithm, seed: UInt8 = 1) -> (encryption: [UInt8], integrity: [UInt8]) {
    (pattern(algorithm.encryptionKeyLength, seed: seed), pattern(algorithm.integrityKeyLength, seed: seed &+ 100))
}

/// A payload of `size` bytes padded up to the algorithm's block size (the data plane's job, done here by hand).
func padded(_ size: Int, blockSize: Int) -> [UInt8] {
    let total = (size + blockSize - 1) / blockSize * blockSize
    return pattern(size, seed: 3) + (0..<(total - size)).map { UInt8($0 + 1) }
}

@Suite("Seal and open")
struct RoundTripTests {
    static let sizes = [0, 1, 15, 16, 17, 1400]

    @Test("Round trip of every algorithm at every size", arguments: ESPAlgorithm.all)
    func roundTrip(_ algorithm: ESPAlgorithm) throws {
        let (encryptionKey, integrityKey) = keys(for: algorithm)
        let sender = try ESPTransform(algorithm, encryptionKey: encryptionKey, integrityKey: integrityKey)
        let receiver = try ESPTransform(algorithm, encryptionKey: encryptionKey, integrityKey: integrityKey)
        var ivSource = IVSource.seeded(42)
        for esn in [false, true] {
            for size in Self.sizes {
                let plaintext = padded(size, blockSize: algorithm.blockSize)
                let aad = ESPAssociatedData(spi: 0x1234_5678, sequenceNumber: 0x0000_0003_0000_0000 + UInt64(size),
                                            extendedSequenceNumbers: esn)
                let iv = try ivSource.next(count: sender.ivLength)
                let sealed = try seal(sender, aad, iv: iv, payload: plaintext)
                #expect(sealed.icv.count == algorithm.icvLength)
                if algorithm.encryption.providesConfidentiality && plaintext.count >= 16 {
                    #expect(sealed.ciphertext != plaintext, "\(algorithm) encrypts")
                } else if !algorithm.encryption.providesConfidentiality {
                    #expect(sealed.ciphertext == plaintext, "\(algorithm) leaves the payload in clear")
                }
                let opened = try open(receiver, aad, iv: iv, payload: sealed.ciphertext, icv: sealed.icv)
                #expect(opened.ok, "\(algorithm) size \(size) esn \(esn)")
                #expect(opened.payload == plaintext, "\(algorithm) size \(size) esn \(esn)")
            }
        }
    }

    @Test("Extra authenticated bytes round-trip and are authenticated", arguments: ESPAlgorithm.all)
    func extra(_ algorithm: ESPAlgorithm) throws {
        let (encryptionKey, integrityKey) = keys(for: algorithm)
        let transform = try ESPTransform(algorithm, encryptionKey: encryptionKey, integrityKey: integrityKey)
        let plaintext = padded(40, blockSize: algorithm.blockSize)
        let iv = pattern(transform.ivLength, seed: 9)
        var aad = ESPAssociatedData(spi: 7, sequenceNumber: 9, extra: try .init(pattern(ESPAssociatedData.Extra.capacity)))
        let sealed = try seal(transform, aad, iv: iv, payload: plaintext)
        #expect(try open(transform, aad, iv: iv, payload: sealed.ciphertext, icv: sealed.icv).ok)
        aad.extra.removeAll()
        let withoutExtra = try open(transform, aad, iv: iv, payload: sealed.ciphertext, icv: sealed.icv)
        #expect(withoutExtra.ok == algorithm.isConfidentialityOnly, "\(algorithm)")
    }

    @Test("Every single-bit flip is caught", arguments: ESPAlgorithm.all.filter { !$0.isConfidentialityOnly })
    func bitFlips(_ algorithm: ESPAlgorithm) throws {
        let (encryptionKey, integrityKey) = keys(for: algorithm)
        let transform = try ESPTransform(algorithm, encryptionKey: encryptionKey, integrityKey: integrityKey)
        let plaintext = padded(36, blockSize: algorithm.blockSize)
        let iv = pattern(transform.ivLength, seed: 5)
        let aad = ESPAssociatedData(spi: 0xdead_beef, sequenceNumber: 0x0000_0001_0000_0002,
                                    extendedSequenceNumbers: true, extra: try .init([0xc0, 0xa8, 0x00, 0x01]))
        let sealed = try seal(transform, aad, iv: iv, payload: plaintext)

        /// Opens a mutant and checks the verdict and what the payload buffer holds afterwards.
        func expectRejected(_ aad: ESPAssociatedData, iv: [UInt8], payload: [UInt8], icv: [UInt8], _ what: String)
            throws
        {
            let opened = try open(transform, aad, iv: iv, payload: payload, icv: icv)
            #expect(!opened.ok, "\(algorithm): flip in \(what) accepted")
            switch algorithm.encryption {
            case .aesCCM, .aesCCMImplicitIV:
                #expect(opened.payload.allSatisfy { $0 == 0 }, "\(algorithm): CCM wipes the payload on failure")
            default:
                // Composite and GMAC never decrypt before verifying; GCM and ChaCha20 restore the ciphertext.
                #expect(opened.payload == payload, "\(algorithm): \(what) flip left the ciphertext changed")
            }
        }

        for bit in 0..<32 {
            var mutant = aad
            mutant.spi ^= 1 << UInt32(bit)
            try expectRejected(mutant, iv: iv, payload: sealed.ciphertext, icv: sealed.icv, "SPI bit \(bit)")
        }
        for bit in 0..<64 {
            var mutant = aad
            mutant.sequenceNumber ^= 1 << UInt64(bit)
            try expectRejected(mutant, iv: iv, payload: sealed.ciphertext, icv: sealed.icv, "sequence bit \(bit)")
        }
        for bit in 0..<(iv.count * 8) {
            var mutant = iv
            mutant[bit / 8] ^= 1 << UInt8(bit % 8)
            try expectRejected(aad, iv: mutant, payload: sealed.ciphertext, icv: sealed.icv, "IV bit \(bit)")
        }
        for bit in 0..<(sealed.ciphertext.count * 8) {
            var mutant = sealed.ciphertext
            mutant[bit / 8] ^= 1 << UInt8(bit % 8)
            try expectRejected(aad, iv: iv, payload: mutant, icv: sealed.icv, "payload bit \(bit)")
        }
        for bit in 0..<(sealed.icv.count * 8) {
            var mutant = sealed.icv
            mutant[bit / 8] ^= 1 << UInt8(bit % 8)
            try expectRejected(aad, iv: iv, payload: sealed.ciphertext, icv: mutant, "ICV bit \(bit)")
        }
        for bit in 0..<(aad.extra.count * 8) {
            var bytes = aad.extra.bytes
            bytes[bit / 8] ^= 1 << UInt8(bit % 8)
            var mutant = aad
            mutant.extra = try .init(bytes)
            try expectRejected(mutant, iv: iv, payload: sealed.ciphertext, icv: sealed.icv, "extra bit \(bit)")
        }
        // And the untouched packet still opens after all those failures (contexts recover).
        let opened = try open(transform, aad, iv: iv, payload: sealed.ciphertext, icv: sealed.icv)
        #expect(opened.ok && opened.payload == plaintext)
    }

    @Test("ESN: the high bits change the ICV", arguments: ESPAlgorithm.all.filter { !$0.isConfidentialityOnly })
    func esnHighBits(_ algorithm: ESPAlgorithm) throws {
        let (encryptionKey, integrityKey) = keys(for: algorithm)
        let transform = try ESPTransform(algorithm, encryptionKey: encryptionKey, integrityKey: integrityKey)
        let plaintext = padded(20, blockSize: algorithm.blockSize)
        let iv = pattern(transform.ivLength, seed: 2)
        let aad = ESPAssociatedData(spi: 1, sequenceNumber: 0x0000_0005_0000_0009, extendedSequenceNumbers: true)
        let sealed = try seal(transform, aad, iv: iv, payload: plaintext)
        let sameLow = ESPAssociatedData(spi: 1, sequenceNumber: 0x0000_0006_0000_0009, extendedSequenceNumbers: true)
        #expect(try !open(transform, sameLow, iv: iv, payload: sealed.ciphertext, icv: sealed.icv).ok)
        let noESN = ESPAssociatedData(spi: 1, sequenceNumber: 0x0000_0005_0000_0009, extendedSequenceNumbers: false)
        #expect(try !open(transform, noESN, iv: iv, payload: sealed.ciphertext, icv: sealed.icv).ok)
        let other = try seal(transform, sameLow, iv: iv, payload: plaintext)
        #expect(other.icv != sealed.icv)
        // Without ESN the high bits are not part of anything authenticated.
        let plain32 = ESPAssociatedData(spi: 1, sequenceNumber: 0x0000_0005_0000_0009)
        let sealed32 = try seal(transform, plain32, iv: iv, payload: plaintext)
        let ignoredHigh = ESPAssociatedData(spi: 1, sequenceNumber: 0x0000_0007_0000_0009)
        #expect(try open(transform, ignoredHigh, iv: iv, payload: sealed32.ciphertext, icv: sealed32.icv).ok)
    }

    @Test("Implicit IV: the nonce follows the sequence number")
    func implicitIV() throws {
        for keyword in ["aes128gcm16iiv", "aes128ccm8iiv", "chacha20poly1305iiv"] {
            let algorithm = try ESPAlgorithm(keyword: keyword)
            let (encryptionKey, _) = keys(for: algorithm)
            let transform = try ESPTransform(algorithm, encryptionKey: encryptionKey, integrityKey: [])
            #expect(transform.ivLength == 0)
            let plaintext = padded(32, blockSize: 4)
            let first = try seal(transform, ESPAssociatedData(spi: 1, sequenceNumber: 1), iv: [], payload: plaintext)
            let second = try seal(transform, ESPAssociatedData(spi: 1, sequenceNumber: 2), iv: [], payload: plaintext)
            #expect(first.ciphertext != second.ciphertext, "\(keyword): a new sequence number is a new nonce")
        }
    }

    @Test("Wrong key lengths are rejected with the right error", arguments: ESPAlgorithm.all)
    func wrongKeyLengths(_ algorithm: ESPAlgorithm) throws {
        let (encryptionKey, integrityKey) = keys(for: algorithm)
        for delta in [-1, 1] where encryptionKey.count + delta >= 0 {
            let key = pattern(encryptionKey.count + delta)
            do {
                _ = try ESPTransform(algorithm, encryptionKey: key, integrityKey: integrityKey)
                Issue.record("\(algorithm) accepted a \(key.count)-byte encryption key")
            } catch {
                #expect(error.code == .badKeyLength)
                #expect(error.algorithm == algorithm.keyword)
            }
        }
        for delta in [-1, 1] where integrityKey.count + delta >= 0 {
            do {
                _ = try ESPTransform(algorithm, encryptionKey: encryptionKey,
                                     integrityKey: pattern(integrityKey.count + delta))
                Issue.record("\(algorithm) accepted a wrong integrity key")
            } catch {
                #expect(error.code == .badKeyLength)
            }
        }
    }

    @Test("Specific key lengths (AES 16/24/32, 3DES 24, ChaCha20 32)")
    func keyLengthMessages() throws {
        let cases: [(String, Int, String)] = [
            ("aes256-sha256", 16, "aes256-sha256: key is 16 bytes, needs 32"),
            ("3des-sha1", 16, "3des-sha1: key is 16 bytes, needs 24"),
            ("chacha20poly1305", 32, "chacha20poly1305: key is 32 bytes, needs 36 (32 key + 4 salt)"),
            ("aes128ccm16", 16, "aes128ccm16: key is 16 bytes, needs 19 (16 key + 3 salt)"),
            ("aes128ctr-sha1", 16, "aes128ctr-sha1: key is 16 bytes, needs 20 (16 key + 4 nonce)"),
        ]
        for (keyword, length, message) in cases {
            let algorithm = try ESPAlgorithm(keyword: keyword)
            do {
                _ = try ESPTransform(algorithm, encryptionKey: pattern(length),
                                     integrityKey: pattern(algorithm.integrityKeyLength))
                Issue.record("\(keyword) accepted")
            } catch {
                #expect(error.description == message)
            }
        }
        // 3DES with K1 = K2 is single DES in disguise.
        let weak = pattern(8) + pattern(8) + pattern(8, seed: 9)
        #expect(throws: CryptoError.self) {
            try ESPTransform(try ESPAlgorithm(keyword: "3des-sha1"), encryptionKey: weak, integrityKey: pattern(20))
        }
    }

    @Test("Buffer sizes are checked")
    func bufferSizes() throws {
        let algorithm = try ESPAlgorithm(keyword: "aes128-sha1")
        let (encryptionKey, integrityKey) = keys(for: algorithm)
        let transform = try ESPTransform(algorithm, encryptionKey: encryptionKey, integrityKey: integrityKey)
        let aad = ESPAssociatedData(spi: 1, sequenceNumber: 1)
        func expectCode(_ code: CryptoError.Code, _ body: () throws -> Void) {
            do {
                try body()
                Issue.record("accepted")
            } catch let error as CryptoError {
                #expect(error.code == code, "\(error)")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
        expectCode(.badIVLength) { _ = try seal(transform, aad, iv: pattern(8), payload: pattern(16)) }
        expectCode(.bufferSize) { _ = try seal(transform, aad, iv: pattern(16), payload: pattern(15)) }
        expectCode(.bufferSize) {
            _ = try open(transform, aad, iv: pattern(16), payload: pattern(16), icv: pattern(16))
        }
        let gcm = try ESPTransform(try ESPAlgorithm(keyword: "aes128gcm16iiv"), encryptionKey: pattern(20),
                                   integrityKey: [])
        expectCode(.badIVLength) { _ = try seal(gcm, aad, iv: pattern(8), payload: pattern(16)) }
        expectCode(.bufferSize) {
            var extra = try ESPAssociatedData.Extra(pattern(60))
            try extra.append(contentsOf: pattern(5))
        }
    }

    @Test("Many packets through one transform stay correct (context reuse)")
    func contextReuse() throws {
        for keyword in ["aes128-sha256", "aes128-aesxcbc", "aes128-aescmac", "aes128gcm16", "aes128ccm16",
                        "chacha20poly1305", "aes128gmac"] {
            let algorithm = try ESPAlgorithm(keyword: keyword)
            let (encryptionKey, integrityKey) = keys(for: algorithm)
            let long = try ESPTransform(algorithm, encryptionKey: encryptionKey, integrityKey: integrityKey)
            var ivSource = IVSource.counter(start: 1)
            for sequence in 1...50 as ClosedRange<UInt64> {
                let aad = ESPAssociatedData(spi: 9, sequenceNumber: sequence)
                let iv = try ivSource.next(count: long.ivLength)
                let plaintext = padded(Int(sequence) * 7, blockSize: algorithm.blockSize)
                let fresh = try ESPTransform(algorithm, encryptionKey: encryptionKey, integrityKey: integrityKey)
                let a = try seal(long, aad, iv: iv, payload: plaintext)
                let b = try seal(fresh, aad, iv: iv, payload: plaintext)
                #expect(a.ciphertext == b.ciphertext && a.icv == b.icv, "\(keyword) packet \(sequence)")
            }
        }
    }
}
