import IPsecCore
import IPsecCrypto
import IPsecWire
import Testing

// AH SAs on libipsec-mb (docs/ipsec-mb.md, "AH"): an SA passes its implementation to its AH transform and reports it;
// whole packets protected on either implementation are the same bytes and open on the other.

private let saAlgorithms: [AHAlgorithm] = AHAlgorithm.all + [try! AHAlgorithm(.hmacSHA256_96)]

@Suite("AH SAs on libipsec-mb")
struct IPsecMBAHSATests {
    @Test("Same packets on both implementations, each opens the other's, a flipped bit is dropped",
          arguments: saAlgorithms)
    func samePackets(_ algorithm: AHAlgorithm) throws {
        for (mode, version, esn) in [(SAMode.transport, IPVersion.v4, false), (.tunnel, .v6, true)] {
            let config = ahConfig(algorithm, mode: mode, version: version, esn: esn)
            let reference = try SecurityAssociation(config, ivSource: .seeded(4), identificationSource: .seeded(5),
                                                    implementation: .openSSL)
            let fast = try SecurityAssociation(config, ivSource: .seeded(4), identificationSource: .seeded(5),
                                               implementation: .ipsecMB)
            #expect(reference.cryptoImplementation == .openSSL)
            #expect(fast.cryptoImplementation == (IPsecMB.isAvailable ? .ipsecMB : .openSSL), "\(algorithm)")
            let receivers = try [CryptoImplementation.openSSL, .ipsecMB].map { implementation in
                let sad = SADatabase()
                try sad.add(try SecurityAssociation(config, implementation: implementation))
                return sad
            }
            var out: [UInt8] = [], opened: [UInt8] = [], scratch: [UInt8] = []
            for size in [0, 1, 63, 500, 1400] {
                let packet = udpPacket(version, payloadLength: size)
                var expected: [UInt8] = []
                try Outbound.protect(packet[...], with: reference, into: &expected)
                try Outbound.protect(packet[...], with: fast, into: &out)
                #expect(out == expected, "\(algorithm) \(mode): \(size)-byte payload")
                var tampered = out
                tampered[tampered.count - 1 - size / 2] ^= 0x10
                for sad in receivers {
                    // The receiver of the other implementation opens it; the tampered copy (same sequence number,
                    // so sent first) is dropped for its ICV.
                    let bad = Inbound.unprotect(tampered[...], sad: sad, into: &opened, scratch: &scratch)
                    #expect(bad.verdict == .dropped(.integrity), "\(algorithm) \(mode): \(size)-byte payload")
                    let good = Inbound.unprotect(out[...], sad: sad, into: &opened, scratch: &scratch)
                    #expect(good.verdict == .accepted, "\(algorithm) \(mode): \(size)-byte payload")
                    #expect(opened == packet, "\(algorithm) \(mode): \(size)-byte payload")
                }
            }
        }
    }
}
