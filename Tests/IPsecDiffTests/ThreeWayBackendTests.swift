import IPsecCrypto
@testable import IPsecDiff
import Testing

// The backend oracle on three implementations (IPsecCrypto on OpenSSL, swift-crypto, IPsecCrypto on libipsec-mb) and
// the packet oracles with IPsecLab's side on libipsec-mb. `make test` installs libipsec-mb-dev (scripts/setup.sh); on
// x86_64 a machine without it fails `libIPsecMBIsHere` instead of quietly comparing two implementations, as
// IPsecCryptoTests/IPsecMBTests does.

/// Whether libipsec-mb must take part here: Debian ships it for amd64 only.
private var ipsecMBExpected: Bool {
    #if arch(x86_64)
    true
    #else
    false
    #endif
}

@Suite(.serialized) struct ThreeWayBackendTests {
    @Test func libIPsecMBIsHere() {
        #expect(IPsecMB.isAvailable == ipsecMBExpected, "\(IPsecMB.status) — run scripts/setup.sh")
    }

    /// A short three-way campaign: every case agrees on all the implementations that have its algorithm, and
    /// libipsec-mb really ran a large share of them, over many algorithms, including those swift-crypto lacks.
    @Test func threeWayCampaignAgreesAndLibIPsecMBRuns() throws {
        let summary = try DiffCampaign(oracle: .backend, seed: 21, cases: 2000).run()
        for f in summary.disagreements.prefix(10) { Issue.record(Comment(rawValue: f.line + " — " + f.repro)) }
        #expect(summary.cases == 2000)
        #expect(summary.disagreements.isEmpty)
        #expect(summary.implementations["openssl"] == 2000)  // the reference runs every case
        let viaSwiftCrypto = summary.implementations["swift-crypto"] ?? 0
        #expect(viaSwiftCrypto > 1000 && viaSwiftCrypto < 2000)  // not CCM, 3DES or XCBC
        #expect(summary.implementationPairs["openssl/swift-crypto"] == viaSwiftCrypto)
        guard ipsecMBExpected else {
            #expect(summary.implementations["ipsec-mb"] == nil)
            #expect(summary.notes.contains { $0.contains("libipsec-mb was not available") })
            return
        }
        let viaIPsecMB = summary.implementations["ipsec-mb"] ?? 0
        #expect(viaIPsecMB > 1500, "libipsec-mb ran \(viaIPsecMB) of 2000 cases")
        #expect(summary.implementationPairs["openssl/ipsec-mb"] == viaIPsecMB)
        let allThree = summary.implementationPairs["swift-crypto/ipsec-mb"] ?? 0
        #expect(allThree > 1000 && allThree <= min(viaIPsecMB, viaSwiftCrypto))

        // Which algorithms libipsec-mb ran (the same cases, case by case): many, on both protocols, and the ones
        // only it and OpenSSL have.
        let campaign = BackendCampaign(seed: 21, fault: nil)
        var onIPsecMB: Set<String> = []
        var onlyTwo: Set<String> = []
        for index in 0..<2000 {
            let c = campaign.makeCase(index)
            let (outcome, ran) = campaign.run(c)
            #expect(!outcome.disagrees)
            guard ran.contains(.ipsecMB) else { continue }
            onIPsecMB.insert(c.algorithm)
            if !ran.contains(.swiftCrypto) { onlyTwo.insert(c.algorithm) }
        }
        #expect(onIPsecMB.count > 80, "\(onIPsecMB.count) algorithms on libipsec-mb")
        #expect(onIPsecMB.contains { $0.hasPrefix("ah-") })
        for family in ["ccm", "3des", "aesxcbc"] {
            #expect(onlyTwo.contains { $0.contains(family) }, "\(family): OpenSSL against libipsec-mb")
        }
        #expect(!onIPsecMB.contains { $0.hasPrefix("aes192ccm") })  // not in the library: never drawn
    }

    /// Where libipsec-mb is missing the campaign compares the other two and says so.
    @Test func withoutLibIPsecMBTwoImplementationsAreCompared() {
        let campaign = BackendCampaign(seed: 4, fault: nil, withIPsecMB: false)
        #expect(campaign.espAlgorithms.allSatisfy { BackendTransforms.supports($0) })
        for index in 0..<300 {
            let (outcome, ran) = campaign.run(campaign.makeCase(index))
            #expect(!outcome.disagrees)
            #expect(ran == [.openSSL, .swiftCrypto])
        }
        #expect(DiffCampaign.backendNote(campaign).contains("libipsec-mb was not available"))
    }

    /// A fault planted in libipsec-mb's outputs (byte 64 of every ciphertext it seals and plaintext it opens) is
    /// found, named as libipsec-mb's and never as another implementation's, minimised, and reproduced.
    @Test func plantedIPsecMBFaultIsFoundAndAttributed() throws {
        try #require(IPsecMB.isAvailable == ipsecMBExpected)
        guard ipsecMBExpected else {
            #expect(throws: DiffError.self) {
                try DiffCampaign(oracle: .backend, seed: 2, cases: 10, fault: .ipsecMBByte64).run()
            }
            return
        }
        let summary = try DiffCampaign(oracle: .backend, seed: 2, cases: 300, fault: .ipsecMBByte64).run()
        #expect(summary.disagreements.count > 10)
        var twoWay = 0
        for f in summary.disagreements {
            #expect(f.mode == "transform-esp")
            #expect(f.detail.hasPrefix("libipsec-mb differs from OpenSSL"), "\(f.line)")
            #expect(!f.detail.contains("swift-crypto differs") && !f.detail.contains("OpenSSL differs"), "\(f.line)")
            if !f.detail.hasPrefix("libipsec-mb differs from OpenSSL and swift-crypto") { twoWay += 1 }
            let payload = f.detail.split(separator: ",").first { $0.contains("payload") }
                .flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") }
            #expect(payload.map { $0 > 64 && $0 <= 80 } == true, "\(f.detail)")
            #expect(f.repro == "ipsec-lab diff --oracle backend --seed 2 --case \(f.caseIndex) --plant-fault ipsec-mb-byte-64")
        }
        #expect(twoWay > 0 && twoWay < summary.disagreements.count)  // both three-way and OpenSSL-only algorithms
        let first = try #require(summary.disagreements.first)
        let again = try DiffCampaign(oracle: .backend, seed: 2, cases: 1, only: first.caseIndex, fault: .ipsecMBByte64).run()
        #expect(again.disagreements.first?.detail == first.detail)
        let clean = try DiffCampaign(oracle: .backend, seed: 2, cases: 1, only: first.caseIndex).run()
        #expect(clean.agreements == 1)
    }

    /// The swift-crypto fault of CampaignTests, now named as swift-crypto's by the other two.
    @Test func plantedSwiftCryptoFaultIsAttributedToSwiftCrypto() throws {
        let summary = try DiffCampaign(oracle: .backend, seed: 2, cases: 300, fault: .oracleByte64).run()
        #expect(summary.disagreements.count > 10)
        for f in summary.disagreements {
            let expected = ipsecMBExpected ? "swift-crypto differs from OpenSSL and libipsec-mb" : "swift-crypto differs from OpenSSL"
            #expect(f.detail.hasPrefix(expected), "\(f.line)")
        }
    }

    /// The judge names the odd one out of three, the non-reference one of two, and nobody when all agree.
    @Test func oddOneOutIsNamed() {
        typealias B = BackendImplementation
        #expect(BackendCampaign.odd([(B.openSSL, 1), (B.swiftCrypto, 1), (B.ipsecMB, 1)]) == nil)
        #expect(BackendCampaign.odd([(B.openSSL, 1), (B.swiftCrypto, 1), (B.ipsecMB, 2)])
            == "libipsec-mb differs from OpenSSL and swift-crypto")
        #expect(BackendCampaign.odd([(B.openSSL, 3), (B.swiftCrypto, 1), (B.ipsecMB, 1)])
            == "OpenSSL differs from swift-crypto and libipsec-mb")
        #expect(BackendCampaign.odd([(B.openSSL, 1), (B.swiftCrypto, 2), (B.ipsecMB, 3)])
            == "all of OpenSSL, swift-crypto, libipsec-mb differ")
        #expect(BackendCampaign.odd([(B.openSSL, 1), (B.ipsecMB, 2)]) == "libipsec-mb differs from OpenSSL")
        let checks = [BackendCampaign.Check(sealer: .swiftCrypto, opener: .openSSL, failure: nil),
                      BackendCampaign.Check(sealer: .swiftCrypto, opener: .ipsecMB, failure: .differentBytes),
                      BackendCampaign.Check(sealer: .ipsecMB, opener: .openSSL, failure: .rejects)]
        #expect(BackendCampaign.blame(checks, among: [.openSSL, .swiftCrypto, .ipsecMB])?
            .hasPrefix("libipsec-mb differs from OpenSSL and swift-crypto: ") == true)
        #expect(BackendCampaign.blame(Array(checks.prefix(1)), among: [.openSSL, .swiftCrypto, .ipsecMB]) == nil)
    }

    /// scapy and tshark with IPsecLab's SAs on libipsec-mb: nothing unexplained, and the summary says what ran.
    @Test(arguments: [DiffOracleKind.scapy, .tshark])
    func packetCampaignOnLibIPsecMB(_ oracle: DiffOracleKind) throws {
        try #require(IPsecMB.isAvailable == ipsecMBExpected)
        guard ipsecMBExpected else { return }
        let summary = try DiffCampaign(oracle: oracle, seed: 6, cases: 400, implementation: .ipsecMB).run()
        for f in summary.disagreements.prefix(10) { Issue.record(Comment(rawValue: f.line + " — " + f.repro)) }
        #expect(summary.cases == 400)
        #expect(summary.disagreements.isEmpty)
        #expect(summary.backend == "ipsec-mb")
        #expect(summary.json.text.contains(#""backend":"ipsec-mb""#))
        #expect(summary.text.hasPrefix("diff against \(oracle.rawValue) (IPsecLab on ipsec-mb)"))
        // Every case is counted once, on the implementation its SA got; libipsec-mb took nearly all of them
        // (AES-192-CCM, which scapy has, stays on OpenSSL).
        #expect(summary.implementations.values.reduce(0, +) == 400)
        #expect((summary.implementations["ipsec-mb"] ?? 0) > 350, "\(summary.implementations)")
        let modes = oracle == .scapy
            ? ["transport-esp", "tunnel-esp", "transport-esp-null", "tunnel-esp-null", "transport-ah", "tunnel-ah"]
            : ["transport-esp", "tunnel-esp", "transport-esp-null", "tunnel-esp-null"]
        for mode in modes { #expect((summary.byMode[mode]?.agreements ?? 0) > 0, "\(mode)") }
        // The default stays OpenSSL, and says so.
        let reference = try DiffCampaign(oracle: oracle, seed: 6, cases: 20).run()
        #expect(reference.backend == "openssl" && reference.implementations == ["openssl": 20])
    }
}
