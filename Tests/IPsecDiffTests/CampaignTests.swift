import Foundation
@testable import IPsecDiff
import Testing

/// Short campaigns against each oracle (the long ones are in docs/differential.md): every case must end as an
/// agreement or as a known oracle bug, and the campaign must have covered what it claims.
@Suite(.serialized) struct CampaignTests {
    @Test func backendCampaignAgreesOnEveryTransform() throws {
        let summary = try DiffCampaign(oracle: .backend, seed: 11, cases: 3000).run()
        for f in summary.disagreements.prefix(10) { Issue.record(Comment(rawValue: f.line + " — " + f.repro)) }
        #expect(summary.cases == 3000)
        #expect(summary.disagreements.isEmpty)
        #expect(summary.agreements == 3000)
        #expect((summary.byMode["transform-esp"]?.cases ?? 0) > 1500)
        #expect((summary.byMode["transform-ah"]?.cases ?? 0) > 300)
    }

    /// Both directions and mutated packets, ESP and AH, transport and tunnel, IPv4 and IPv6, ESN and NAT-T.
    @Test func scapyCampaignHasNoUnexplainedDisagreement() throws {
        let summary = try DiffCampaign(oracle: .scapy, seed: 5, cases: 600).run()
        for f in summary.disagreements.prefix(10) { Issue.record(Comment(rawValue: f.line + " — " + f.repro)) }
        #expect(summary.cases == 600)
        #expect(summary.disagreements.isEmpty)
        #expect(summary.agreements + summary.oracleBugs.count == 600)
        for mode in ["transport-esp", "tunnel-esp", "transport-esp-null", "tunnel-esp-null", "transport-ah", "tunnel-ah"] {
            #expect((summary.byMode[mode]?.agreements ?? 0) > 0, "\(mode)")
        }
        // Both known scapy bugs are met, counted apart, and every such case names its reference and a repro line:
        // scapy#4903 only on AES-GCM with an 8- or 12-byte ICV, the NAT-T one only on IPv6 transport-mode NAT-T with
        // extension headers.
        var kinds: Set<String> = []
        for bug in summary.oracleBugs {
            let reference = try #require(bug.reference)
            if reference.hasPrefix("scapy#4903") {
                kinds.insert("scapy#4903")
                #expect(bug.algorithm.contains("gcm8") || bug.algorithm.contains("gcm12"), "\(bug.line)")
            } else if reference.hasPrefix("scapy-natt-ipv6-exthdr") {
                kinds.insert("scapy-natt-ipv6-exthdr")
                #expect(bug.mode.hasPrefix("transport-esp") && bug.detail.contains("outer IPv6")
                        && bug.detail.contains("+extension headers") && bug.detail.contains("NAT-T"), "\(bug.line)")
            } else {
                Issue.record("unknown oracle bug: \(bug.line)")
            }
            #expect(bug.repro == "ipsec-lab diff --oracle scapy --seed 5 --case \(bug.caseIndex)")
        }
        #expect(kinds == ["scapy#4903", "scapy-natt-ipv6-exthdr"])
    }

    @Test func tsharkCampaignHasNoUnexplainedDisagreement() throws {
        let summary = try DiffCampaign(oracle: .tshark, seed: 5, cases: 600).run()
        for f in summary.disagreements.prefix(10) { Issue.record(Comment(rawValue: f.line + " — " + f.repro)) }
        #expect(summary.cases == 600)
        #expect(summary.disagreements.isEmpty)
        #expect(summary.agreements == 600)
        for mode in ["transport-esp", "tunnel-esp", "transport-esp-null", "tunnel-esp-null"] {
            #expect((summary.byMode[mode]?.agreements ?? 0) > 0, "\(mode)")
        }
    }

    /// A deliberately wrong backend (byte 64 of every answer flipped) is caught; each disagreement is minimised to
    /// the smallest input that still has a byte 64, and its repro line reproduces it.
    @Test func plantedBackendFaultIsFoundMinimisedAndReproduced() throws {
        let campaign = DiffCampaign(oracle: .backend, seed: 2, cases: 300, fault: .oracleByte64)
        let summary = try campaign.run()
        #expect(summary.disagreements.count > 10)
        for f in summary.disagreements {
            #expect(f.mode == "transform-esp")  // AH ICVs are never longer than 64 bytes
            // The minimised payload is the smallest whole number of blocks longer than 64 bytes.
            let payload = f.detail.split(separator: ",").first { $0.contains("payload") }
                .flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") }
            #expect(payload.map { $0 > 64 && $0 <= 80 } == true, "\(f.detail)")
            #expect(f.repro == "ipsec-lab diff --oracle backend --seed 2 --case \(f.caseIndex) --plant-fault oracle-byte-64")
        }
        let first = try #require(summary.disagreements.first)
        let again = try DiffCampaign(oracle: .backend, seed: 2, cases: 1, only: first.caseIndex, fault: .oracleByte64).run()
        #expect(again.disagreements.count == 1)
        #expect(again.disagreements.first?.detail == first.detail)
        // Without the planted fault the same case agrees.
        let clean = try DiffCampaign(oracle: .backend, seed: 2, cases: 1, only: first.caseIndex).run()
        #expect(clean.agreements == 1)
    }

    /// The same planted fault on the scapy oracle's answers: found, minimised, reproduced by its repro line.
    @Test func plantedScapyFaultIsFoundAndMinimised() throws {
        let summary = try DiffCampaign(oracle: .scapy, seed: 8, cases: 60, fault: .oracleByte64).run()
        #expect(summary.disagreements.count > 5)
        for f in summary.disagreements {
            #expect(f.detail.contains("minimised:"))
            #expect(f.repro.hasSuffix("--case \(f.caseIndex) --plant-fault oracle-byte-64"))
        }
        let first = try #require(summary.disagreements.first)
        let again = try DiffCampaign(oracle: .scapy, seed: 8, cases: 1, only: first.caseIndex, fault: .oracleByte64).run()
        #expect(again.disagreements.first?.detail == first.detail)
    }

    @Test func casesDependOnlyOnSeedAndIndex() {
        let a = CaseProfile.scapy.makeCase(seed: 9, index: 123)
        let b = CaseProfile.scapy.makeCase(seed: 9, index: 123)
        let c = CaseProfile.scapy.makeCase(seed: 10, index: 123)
        #expect(a.plaintext == b.plaintext && a.config == b.config && a.mutation == b.mutation)
        #expect(a.plaintext != c.plaintext || a.config != c.config)
    }
}
