import Foundation
import Testing

/// `ipsec-lab diff`: the JSON summary's shape, a planted disagreement's repro line run as a command, bad input.
@Suite struct DiffCommandTests {
    static func object(_ text: String) throws -> [String: Any] {
        let line = try #require(text.split(separator: "\n").last.map(String.init))
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func jsonSummaryOfABackendCampaign() throws {
        let r = try Tool.run(["diff", "--oracle", "backend", "--cases", "200", "--seed", "3", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try Self.object(r.stdout)
        #expect(o["cases"] as? Int == 200)
        #expect(o["agreements"] as? Int == 200)
        #expect(o["disagreements"] as? Int == 0)
        #expect(o["oracle_bugs"] as? Int == 0)
        let modes = try #require(o["by_mode"] as? [String: [String: Int]])
        #expect(modes.values.reduce(0) { $0 + ($1["cases"] ?? 0) } == 200)
        for counts in modes.values {
            #expect(Set(counts.keys) == ["cases", "agreements", "disagreements", "oracle_bugs"])
        }
    }

    /// A planted fault makes the command exit 1 and print repro lines; each one, run as printed, reproduces its
    /// disagreement (and the same case without the fault agrees).
    @Test func plantedDisagreementReproducesFromItsRepro() throws {
        let r = try Tool.run(["diff", "--oracle", "backend", "--cases", "100", "--seed", "4", "--json",
                              "--plant-fault", "oracle-byte-64"])
        #expect(r.status == 1)
        let o = try Self.object(r.stdout)
        let list = try #require(o["disagreement_list"] as? [[String: Any]])
        #expect(list.count == o["disagreements"] as? Int)
        let first = try #require(list.first)
        let repro = try #require(first["repro"] as? String)
        var words = repro.split(separator: " ").map(String.init)
        #expect(words.removeFirst() == "ipsec-lab")
        let again = try Tool.run(words + ["--json"])
        #expect(again.status == 1)
        let o2 = try Self.object(again.stdout)
        #expect(o2["cases"] as? Int == 1)
        #expect(o2["disagreements"] as? Int == 1)
        let list2 = try #require(o2["disagreement_list"] as? [[String: Any]])
        #expect(list2.first?["detail"] as? String == first["detail"] as? String)
        let clean = try Tool.run(Array(words.prefix(while: { $0 != "--plant-fault" })))
        #expect(clean.status == 0, "\(clean.stdout)")
        #expect(clean.stdout.contains("1 cases, 1 agreements, 0 disagreements"))
    }

    /// The backend oracle's JSON says how many cases each implementation ran; `--backend ipsec-mb` puts IPsecLab's
    /// side of a packet campaign on libipsec-mb and the summary says so; misuse is one error line.
    @Test func implementationsAndBackendInTheSummary() throws {
        let r = try Tool.run(["diff", "--oracle", "backend", "--cases", "200", "--seed", "3", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let implementations = try #require(try Self.object(r.stdout)["implementations"] as? [String: Int])
        #expect(implementations["openssl"] == 200)
        #expect((implementations["swift-crypto"] ?? 0) > 0)
        #if arch(x86_64)  // scripts/setup.sh installs libipsec-mb-dev; Debian has it for amd64 only
        #expect((implementations["ipsec-mb"] ?? 0) > 150, "\(implementations)")
        let t = try Tool.run(["diff", "--oracle", "tshark", "--cases", "100", "--seed", "3", "--backend", "ipsec-mb", "--json"])
        #expect(t.status == 0, "\(t.stderr)")
        let o = try Self.object(t.stdout)
        #expect(o["backend"] as? String == "ipsec-mb")
        #expect(o["disagreements"] as? Int == 0)
        #expect((o["implementations"] as? [String: Int])?["ipsec-mb"] == 100)
        #endif
        expectOneLineError(try Tool.run(["diff", "--oracle", "backend", "--backend", "ipsec-mb"]), mentioning: "--backend")
        expectOneLineError(try Tool.run(["diff", "--oracle", "tshark", "--backend", "boringssl"]), mentioning: "--backend")
        expectOneLineError(try Tool.run(["diff", "--oracle", "tshark", "--cases", "5", "--plant-fault", "ipsec-mb-byte-64"]),
                           mentioning: "ipsec-mb-byte-64")
    }

    @Test func badOptionsGiveOneErrorLine() throws {
        let r = try Tool.run(["diff", "--oracle", "nonesuch"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("nonesuch"))
        let r2 = try Tool.run(["diff", "--oracle", "backend", "--cases", "0"])
        #expect(r2.status != 0)
        #expect(r2.stderr.contains("--cases"))
        expectOneLineError(try Tool.run(["diff", "--oracle", "backend", "--vectors", Tool.root.appendingPathComponent("vectors").path]),
                           mentioning: "scapy or tshark")
        expectOneLineError(try Tool.run(["diff", "--oracle", "tshark", "--vectors", "/nonexistent/vectors"]),
                           mentioning: "not a directory")
    }

    /// The report's differential section runs the three oracles and writes the data behind its table.
    @Test func reportHasADifferentialSection() throws {
        let dir = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Tool.run(["report", "--quick", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let markdown = try String(contentsOf: dir.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(markdown.contains("## 6. Differential testing") || markdown.contains("Differential testing"))
        #expect(markdown.contains("against 3 oracles, 0 disagreements"))
        let csv = try String(contentsOf: dir.appendingPathComponent("data/differential.csv"), encoding: .utf8)
        let rows = csv.split(separator: "\n").dropFirst()
        #expect(rows.map { $0.split(separator: ",").first.map(String.init) ?? "" } == ["backend", "scapy", "tshark"])
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("data/differential.json").path))

        // The same report's fuzzing section: a supervised campaign of every listed target, none crashing.
        #expect(markdown.contains("## 5. Fuzzing"))
        #expect(!markdown.contains("not yet available"))
        let targets = try Tool.run(["fuzz", "--list"]).stdout.split(separator: "\n")
            .compactMap { $0.split(separator: " ").first.map(String.init) }
        let fuzzCSV = try String(contentsOf: dir.appendingPathComponent("data/fuzzing.csv"), encoding: .utf8)
        let fuzzRows = fuzzCSV.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        #expect(fuzzRows.count >= 20)
        #expect(Set(fuzzRows.compactMap(\.first)).isSubset(of: Set(targets)), "\(fuzzRows) vs \(targets)")
        for row in fuzzRows {
            #expect(row.count == 6, "\(row)")
            #expect((Int(row[1]) ?? 0) >= 300, "executions: \(row)")  // --quick: 300 mutants after the seeds
            #expect(row.last == "0", "crashes: \(row)")
        }
        #expect(markdown.contains("0 crashes"))
    }
}
