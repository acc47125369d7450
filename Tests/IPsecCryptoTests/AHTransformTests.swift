import IPsecCrypto
import Testing

@Suite("AH transform")
struct AHTransformTests {
    static let prefix = pattern(32, seed: 11)
    static let suffix = pattern(100, seed: 12)

    @Test("Compute and verify, every algorithm", arguments: AHAlgorithm.all)
    func roundTrip(_ algorithm: AHAlgorithm) throws {
        let key = pattern(algorithm.keyLength, seed: 4)
        let sender = try AHTransform(algorithm, key: key, ivSource: .seeded(7))
        let receiver = try AHTransform(algorithm, key: key)
        #expect(sender.icvLength == algorithm.icvLength)
        for esn in [false, true] {
            let icv = try computeAH(sender, prefix: Self.prefix, suffix: Self.suffix, sequenceNumber: 0x1_0000_0002,
                                    esn: esn)
            #expect(icv.count == algorithm.icvLength)
            #expect(try verifyAH(receiver, prefix: Self.prefix, suffix: Self.suffix, sequenceNumber: 0x1_0000_0002,
                                 esn: esn, icv: icv))
            // ESN high bits are authenticated only with ESN.
            #expect(try verifyAH(receiver, prefix: Self.prefix, suffix: Self.suffix, sequenceNumber: 0x2_0000_0002,
                                 esn: esn, icv: icv) == !esn)
        }
    }

    @Test("Every single-bit flip is caught", arguments: AHAlgorithm.all)
    func bitFlips(_ algorithm: AHAlgorithm) throws {
        let transform = try AHTransform(algorithm, key: pattern(algorithm.keyLength, seed: 4), ivSource: .counter(start: 5))
        let prefix = pattern(24, seed: 1)
        let suffix = pattern(40, seed: 2)
        let icv = try computeAH(transform, prefix: prefix, suffix: suffix, sequenceNumber: 3, esn: true)
        for bit in 0..<(prefix.count * 8) {
            var mutant = prefix
            mutant[bit / 8] ^= 1 << UInt8(bit % 8)
            #expect(try !verifyAH(transform, prefix: mutant, suffix: suffix, sequenceNumber: 3, esn: true, icv: icv))
        }
        for bit in 0..<(suffix.count * 8) {
            var mutant = suffix
            mutant[bit / 8] ^= 1 << UInt8(bit % 8)
            #expect(try !verifyAH(transform, prefix: prefix, suffix: mutant, sequenceNumber: 3, esn: true, icv: icv))
        }
        for bit in 0..<(icv.count * 8) {
            var mutant = icv
            mutant[bit / 8] ^= 1 << UInt8(bit % 8)
            #expect(try !verifyAH(transform, prefix: prefix, suffix: suffix, sequenceNumber: 3, esn: true, icv: mutant),
                    "\(algorithm) ICV bit \(bit)")
        }
        #expect(try verifyAH(transform, prefix: prefix, suffix: suffix, sequenceNumber: 3, esn: true, icv: icv))
    }

    @Test("GMAC takes its IV from the IV source and puts it first in the ICV field")
    func gmacIV() throws {
        let algorithm = try AHAlgorithm(keyword: "aes128gmac")
        let transform = try AHTransform(algorithm, key: pattern(20), ivSource: .counter(start: 0x0102))
        let first = try computeAH(transform, prefix: Self.prefix, suffix: Self.suffix)
        let second = try computeAH(transform, prefix: Self.prefix, suffix: Self.suffix)
        #expect(Array(first[0..<8]) == hex("0000000000000102"))
        #expect(Array(second[0..<8]) == hex("0000000000000103"))
        #expect(first[8...] != second[8...], "a new IV gives a new tag")
    }

    @Test("Where the ICV field sits matters: it is authenticated as zeros between prefix and suffix")
    func icvPosition() throws {
        let transform = try AHTransform(try AHAlgorithm(keyword: "sha256"), key: pattern(32))
        let whole = pattern(64)
        let a = try computeAH(transform, prefix: Array(whole[..<20]), suffix: Array(whole[20...]))
        let b = try computeAH(transform, prefix: Array(whole[..<24]), suffix: Array(whole[24...]))
        #expect(a != b)
    }

    @Test("Wrong key lengths are rejected", arguments: AHAlgorithm.all)
    func wrongKeys(_ algorithm: AHAlgorithm) {
        for length in [algorithm.keyLength - 1, algorithm.keyLength + 1, 0] {
            do {
                _ = try AHTransform(algorithm, key: pattern(length))
                Issue.record("\(algorithm) accepted a \(length)-byte key")
            } catch {
                #expect(error.code == .badKeyLength)
            }
        }
        #expect(throws: CryptoError.self) {
            let transform = try AHTransform(algorithm, key: pattern(algorithm.keyLength))
            _ = try verifyAH(transform, prefix: [], suffix: [], icv: pattern(algorithm.icvLength + 1))
        }
    }
}

@Suite("Constant-time comparison and IV sources")
struct SupportTests {
    @Test("constantTimeEqual")
    func constantTime() {
        #expect(constantTimeEqual([], []))
        #expect(constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEqual([1, 2, 3], [1, 2]))
        #expect(!constantTimeEqual([0], []))
        #expect(!constantTimeEqual(pattern(32) + [0], pattern(32) + [1]))
        let a = pattern(100)
        for i in 0..<a.count {
            var b = a
            b[i] ^= 0x80
            #expect(!constantTimeEqual(a, b))
        }
    }

    @Test("Counter IVs are big-endian and right-aligned")
    func counter() throws {
        var source = IVSource.counter(start: 0x0102_0304_0506_07ff)
        #expect(try source.next(count: 8) == hex("01020304050607ff"))
        #expect(try source.next(count: 8) == hex("0102030405060800"))
        #expect(try source.next(count: 16) == hex("00000000000000000102030405060801"))
        #expect(try source.next(count: 0) == [])
    }

    @Test("Fixed IVs, with their length checked")
    func fixed() throws {
        var source = IVSource.fixed(hex("0011223344556677"))
        #expect(try source.next(count: 8) == hex("0011223344556677"))
        #expect(try source.next(count: 8) == hex("0011223344556677"))
        #expect(throws: CryptoError.self) { try source.next(count: 16) }
    }

    @Test("Seeded IVs are reproducible and seed-dependent")
    func seeded() throws {
        var a = IVSource.seeded(1)
        var b = IVSource.seeded(1)
        var c = IVSource.seeded(2)
        let first = try a.next(count: 16)
        #expect(try b.next(count: 16) == first)
        #expect(try c.next(count: 16) != first)
        #expect(try a.next(count: 16) != first, "the stream advances")
        // SplitMix64's first output for seed 0 (Vigna's reference implementation): 0xe220a8397b1dcdaf.
        var zero = IVSource.seeded(0)
        #expect(try zero.next(count: 8) == [0xaf, 0xcd, 0x1d, 0x7b, 0x39, 0xa8, 0x20, 0xe2])
    }

    @Test("Random IVs differ")
    func random() throws {
        var source = IVSource.random
        let a = try source.next(count: 16)
        let b = try source.next(count: 16)
        #expect(a != b)
    }

    @Test("Extra bytes hold up to their capacity")
    func extra() throws {
        let full = try ESPAssociatedData.Extra(pattern(ESPAssociatedData.Extra.capacity))
        #expect(full.count == 64 && full.bytes == pattern(64))
        #expect(throws: CryptoError.self) { try ESPAssociatedData.Extra(pattern(65)) }
        var growing = ESPAssociatedData.Extra()
        try growing.append(contentsOf: [1, 2])
        try growing.append(contentsOf: [3])
        #expect(growing.bytes == [1, 2, 3])
        #expect(growing == (try ESPAssociatedData.Extra([1, 2, 3])))
    }
}
