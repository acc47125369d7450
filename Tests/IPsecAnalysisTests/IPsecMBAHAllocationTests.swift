import IPsecAnalysis
import IPsecCrypto
import Testing

// AH on libipsec-mb lays its input out in a per-transform buffer that grows to the largest packet seen
// (docs/ipsec-mb.md, "AH"): once warm, computing and verifying ICVs allocates nothing. Counted by the interposed
// allocator that `ipsec-lab bench` uses, on this thread (as in BurstAllocationTests).

private let allocationAlgorithms: [AHAlgorithm] = AHAlgorithm.all + [try! AHAlgorithm(.hmacSHA256_96)]

@Suite("AH allocations on libipsec-mb")
struct IPsecMBAHAllocationTests {
    @Test("Computing and verifying ICVs allocates nothing once warm", arguments: allocationAlgorithms)
    func noAllocations(_ algorithm: AHAlgorithm) throws {
        #expect(Bench.countsAllocations, "this build cannot count allocations")
        let key = (0..<algorithm.keyLength).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let transform = try AHTransform(algorithm, key: key, ivSource: .counter(start: 1), implementation: .ipsecMB)
        #expect(transform.implementation == (IPsecMB.isAvailable ? .ipsecMB : .openSSL))
        let prefixes = [[UInt8](repeating: 0x45, count: 24), [UInt8](repeating: 0x60, count: 72)]
        let suffixes = [1400, 0, 64, 9000, 512].map { [UInt8](repeating: 0xa5, count: $0) }
        var icv = [UInt8](repeating: 0, count: algorithm.icvLength)
        var allocations: UInt64 = 0
        var verified = 0
        // Only the transform's calls are counted (a debug build's test scaffolding allocates on its own).
        try icv.withUnsafeMutableBytes { icvBytes in
            for round in 0..<20 {
                for (n, suffix) in suffixes.enumerated() {
                    try prefixes[n % 2].withUnsafeBytes { p in
                        try suffix.withUnsafeBytes { s in
                            let sequence = UInt64(round * 8 + n) | 0x3_0000_0000
                            let before = Bench.threadAllocations
                            try transform.computeICV(prefix: p, suffix: s, sequenceNumber: sequence,
                                                     extendedSequenceNumbers: n % 2 == 0, into: icvBytes)
                            let ok = try transform.verifyICV(prefix: p, suffix: s, sequenceNumber: sequence,
                                                             extendedSequenceNumbers: n % 2 == 0,
                                                             icv: UnsafeRawBufferPointer(icvBytes))
                            let after = Bench.threadAllocations
                            // The first round grows the buffer to the 9,000-byte packet: counting starts after it.
                            if round >= 1 { allocations += after - before }
                            if ok { verified += 1 }
                        }
                    }
                }
            }
        }
        #expect(verified == 20 * suffixes.count)
        #expect(allocations == 0, "\(algorithm): \(allocations) allocations in 95 ICVs computed and verified")
    }
}
