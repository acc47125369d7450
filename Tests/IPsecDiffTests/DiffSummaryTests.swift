import Foundation
@testable import IPsecDiff
import IPsecWire
import Testing

@Suite struct DiffSummaryTests {
    static func finding(_ mode: String, _ index: Int, reference: String? = nil) -> DiffFinding {
        DiffFinding(mode: mode, algorithm: "aes-gcm-128-icv8", direction: .oracleProtects, caseIndex: index,
                    ours: "accepted", oracle: "dropped", detail: "ICV \"length\"\n", reference: reference,
                    repro: "ipsec-lab diff --oracle scapy --seed 7 --cases 10 --case \(index)")
    }

    @Test func countsAddUpPerModeAndOverall() {
        var s = DiffSummary(oracle: "scapy", seed: 7)
        s.recordAgreement(mode: "tunnel-esp")
        s.recordAgreement(mode: "tunnel-esp")
        s.recordAgreement(mode: "transport-ah")
        s.recordDisagreement(Self.finding("tunnel-esp", 3))
        s.recordOracleBug(Self.finding("transport-esp", 4, reference: "scapy#4903"))
        #expect(s.cases == 5)
        #expect(s.agreements == 3)
        #expect(s.disagreements.count == 1)
        #expect(s.oracleBugs.count == 1)
        #expect(s.byMode["tunnel-esp"] == { var c = DiffModeCounts(); c.cases = 3; c.agreements = 2; c.disagreements = 1; return c }())
        #expect(s.byMode["transport-esp"]?.oracleBugs == 1)
        #expect(s.byMode.values.reduce(0) { $0 + $1.cases } == s.cases)

        var t = DiffSummary(oracle: "scapy", seed: 7)
        t.recordAgreement(mode: "transport-ah")
        t.merge(s)
        #expect(t.cases == 6)
        #expect(t.byMode["transport-ah"]?.agreements == 2)
    }

    /// The `--json` shape the issue names: `cases`, `agreements`, `disagreements` and `oracle_bugs` as counts,
    /// `by_mode` with the same four per mode, and every finding listed with its repro line.
    @Test func jsonHasTheDocumentedShape() {
        var s = DiffSummary(oracle: "tshark", seed: 42)
        s.recordAgreement(mode: "tunnel-esp")
        s.recordDisagreement(Self.finding("tunnel-esp", 1))
        s.recordOracleBug(Self.finding("tunnel-esp", 2, reference: "scapy#4903"))
        guard case .object(let members) = s.json else { Issue.record("not an object"); return }
        let keys = members.map(\.key)
        #expect(Array(keys.prefix(7)) == ["oracle", "seed", "cases", "agreements", "disagreements", "oracle_bugs", "by_mode"])
        func value(_ k: String) -> JSONValue? { members.first { $0.key == k }?.value }
        #expect(value("cases") == .int(3))
        #expect(value("agreements") == .int(1))
        #expect(value("disagreements") == .int(1))
        #expect(value("oracle_bugs") == .int(1))
        #expect(value("seed") == .int(42))
        guard case .object(let modes)? = value("by_mode"), let tunnel = modes.first(where: { $0.key == "tunnel-esp" })
        else { Issue.record("no by_mode"); return }
        #expect(tunnel.value == .object([JSONMember("cases", .int(3)), JSONMember("agreements", .int(1)),
                                         JSONMember("disagreements", .int(1)), JSONMember("oracle_bugs", .int(1))]))
        guard case .array(let bugs)? = value("oracle_bug_list"), case .object(let bug)? = bugs.first else {
            Issue.record("no oracle_bug_list"); return
        }
        #expect(bug.first { $0.key == "reference" }?.value == .string("scapy#4903"))
        #expect(bug.first { $0.key == "repro" }?.value == .string("ipsec-lab diff --oracle scapy --seed 7 --cases 10 --case 2"))
        // One line of JSON: the detail's newline and quotes are escaped.
        #expect(!s.json.text.contains("\n"))
        #expect(s.json.text.contains(#"ICV \"length\"\n"#))
    }

    /// Which implementation ran what: absent unless recorded; per implementation and per pair; merged by adding.
    @Test func implementationCountsAndBackend() {
        var s = DiffSummary(oracle: "backend", seed: 3)
        s.recordAgreement(mode: "transform-esp")
        #expect(!s.json.text.contains("implementations") && !s.json.text.contains("\"backend\":"))
        s.recordImplementations(["openssl", "swift-crypto", "ipsec-mb"])
        s.recordImplementations(["openssl", "ipsec-mb"])
        #expect(s.implementations == ["openssl": 2, "swift-crypto": 1, "ipsec-mb": 2])
        #expect(s.implementationPairs == ["openssl/swift-crypto": 1, "openssl/ipsec-mb": 2, "swift-crypto/ipsec-mb": 1])
        guard case .object(let members) = s.json else { Issue.record("not an object"); return }
        #expect(members.first { $0.key == "implementations" }?.value
            == .object([JSONMember("ipsec-mb", .int(2)), JSONMember("openssl", .int(2)), JSONMember("swift-crypto", .int(1))]))
        #expect(s.text.contains("cases per implementation: ipsec-mb 2, openssl 2, swift-crypto 1"))

        var t = DiffSummary(oracle: "scapy", seed: 3)
        t.backend = "ipsec-mb"
        t.recordImplementations(["ipsec-mb"])
        #expect(t.implementationPairs.isEmpty)
        #expect(t.json.text.contains(#""backend":"ipsec-mb","implementations":{"ipsec-mb":1}"#))
        #expect(t.text.hasPrefix("diff against scapy (IPsecLab on ipsec-mb), seed 3"))
        t.merge(s)
        #expect(t.implementations["ipsec-mb"] == 3 && t.implementationPairs["openssl/ipsec-mb"] == 2)
    }

    @Test func textListsEveryDisagreementWithItsRepro() {
        var s = DiffSummary(oracle: "backend", seed: 1)
        s.recordDisagreement(Self.finding("transform", 9))
        for i in 0..<10 { s.recordOracleBug(Self.finding("tunnel-esp", 100 + i, reference: "scapy#4903")) }
        let text = s.text
        #expect(text.contains("1 disagreements"))
        #expect(text.contains("--case 9`"))
        #expect(text.contains("10 cases: scapy#4903"))
        #expect(text.components(separatedBy: "repro:").count - 1 == 1 + DiffSummary.examplesPerBug)
    }
}
