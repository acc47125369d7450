import IPsecWire

/// The oracles `ipsec-lab diff` compares IPsecLab against (docs/differential.md).
public enum DiffOracleKind: String, CaseIterable, Hashable, Sendable {
    /// scapy 2.8.0's IPsec layer, a long-lived Python helper fed JSON lines.
    case scapy
    /// tshark's ESP dissector, one process per batch over a pcap and an esp_sa table.
    case tshark
    /// A second crypto backend (swift-crypto, BoringSSL), compared transform by transform, in process.
    case backend
    /// The Linux kernel's XFRM in a throwaway VM.
    case linux
}

/// Which way a differential case ran.
public enum DiffDirection: String, CaseIterable, Hashable, Sendable {
    /// IPsecLab protects, the oracle opens.
    case weProtect = "we-protect"
    /// The oracle protects, IPsecLab opens.
    case oracleProtects = "oracle-protects"
    /// A mutated protected packet: both sides must agree on accept or reject.
    case mutated
    /// One transform (seal, open or ICV) on both backends with the same key, IV and associated data.
    case transform
}

/// One case on which IPsecLab and the oracle did not agree, after minimisation.
public struct DiffFinding: Hashable, Sendable {
    /// The mode name of the matrix (`tunnel-esp`, `transport-ah`, …), or `transform` for transform-level cases.
    public var mode: String
    /// The algorithm as IPsecLab names it (`aes-gcm-128-icv16`, `aes-cbc-128+hmac-sha1-96`, …).
    public var algorithm: String
    public var direction: DiffDirection
    /// The index of the case in the campaign, with the seed enough to run it again.
    public var caseIndex: Int
    /// What IPsecLab said (`accepted`, `dropped (integrity)`, `bytes 45 00 …`), in a few words.
    public var ours: String
    /// What the oracle said, in the same words.
    public var oracle: String
    /// One line on what differs (after minimisation: the smallest packet or mutation that still disagrees).
    public var detail: String
    /// For a known oracle bug: where it is recorded (an upstream issue, a facts note). Nil for a disagreement.
    public var reference: String?
    /// A one-line command that reproduces the case.
    public var repro: String

    public init(mode: String, algorithm: String, direction: DiffDirection, caseIndex: Int, ours: String,
                oracle: String, detail: String, reference: String? = nil, repro: String) {
        self.mode = mode
        self.algorithm = algorithm
        self.direction = direction
        self.caseIndex = caseIndex
        self.ours = ours
        self.oracle = oracle
        self.detail = detail
        self.reference = reference
        self.repro = repro
    }

    public var json: JSONValue {
        var members = [
            JSONMember("case", .int(caseIndex)),
            JSONMember("mode", .string(mode)),
            JSONMember("algorithm", .string(algorithm)),
            JSONMember("direction", .string(direction.rawValue)),
            JSONMember("ours", .string(ours)),
            JSONMember("oracle", .string(oracle)),
            JSONMember("detail", .string(detail)),
        ]
        if let reference { members.append(JSONMember("reference", .string(reference))) }
        members.append(JSONMember("repro", .string(repro)))
        return .object(members)
    }

    /// One line: `case 17 tunnel-esp aes-gcm-128-icv8 oracle-protects: ours accepted, oracle … — detail`.
    public var line: String {
        var s = "case \(caseIndex) \(mode) \(algorithm) \(direction.rawValue): ours \(ours), oracle \(oracle) — \(detail)"
        if let reference { s += " [\(reference)]" }
        return s
    }
}

/// Counts for one mode of a campaign.
public struct DiffModeCounts: Hashable, Sendable {
    public var cases = 0
    public var agreements = 0
    public var disagreements = 0
    public var oracleBugs = 0
    public init() {}
}

/// The result of one differential campaign against one oracle. Every case is exactly one of: an agreement, a
/// disagreement (unexplained: a bug on one side, to investigate) or a known oracle bug (classified, with a
/// reference, counted apart and listed, never hidden).
public struct DiffSummary: Hashable, Sendable {
    public var oracle: String
    public var seed: UInt64
    public private(set) var cases = 0
    public private(set) var agreements = 0
    public private(set) var disagreements: [DiffFinding] = []
    public private(set) var oracleBugs: [DiffFinding] = []
    public private(set) var byMode: [String: DiffModeCounts] = [:]
    /// Wall-clock seconds the campaign took, when measured (printed, never asserted).
    public var seconds: Double?
    /// Things the reader should know about coverage (algorithms the oracle lacks, cases it could not run).
    public var notes: [String] = []
    /// The crypto implementation IPsecLab's side ran on, as asked with `--backend` (scapy, tshark, linux); nil for
    /// the backend oracle, which runs every implementation.
    public var backend: String?
    /// How many cases each crypto implementation took part in: for the backend oracle OpenSSL, swift-crypto and
    /// libipsec-mb; for the packet oracles the implementation IPsecLab's SA actually got (an algorithm libipsec-mb
    /// lacks runs on OpenSSL), so a reader sees what really ran.
    public private(set) var implementations: [String: Int] = [:]
    /// The backend oracle: how many cases compared each pair of implementations ("openssl/swift-crypto", …).
    public private(set) var implementationPairs: [String: Int] = [:]

    public init(oracle: String, seed: UInt64) {
        self.oracle = oracle
        self.seed = seed
    }

    public mutating func recordAgreement(mode: String) {
        cases += 1
        agreements += 1
        byMode[mode, default: DiffModeCounts()].cases += 1
        byMode[mode, default: DiffModeCounts()].agreements += 1
    }

    public mutating func recordDisagreement(_ finding: DiffFinding) {
        cases += 1
        disagreements.append(finding)
        byMode[finding.mode, default: DiffModeCounts()].cases += 1
        byMode[finding.mode, default: DiffModeCounts()].disagreements += 1
    }

    /// A case the oracle gets wrong for a known reason; `finding.reference` says where it is recorded.
    public mutating func recordOracleBug(_ finding: DiffFinding) {
        cases += 1
        oracleBugs.append(finding)
        byMode[finding.mode, default: DiffModeCounts()].cases += 1
        byMode[finding.mode, default: DiffModeCounts()].oracleBugs += 1
    }

    /// Records which implementations one case ran on (in a fixed order, so pair names are stable).
    public mutating func recordImplementations(_ names: [String]) {
        for name in names { implementations[name, default: 0] += 1 }
        for (i, a) in names.enumerated() {
            for b in names[(i + 1)...] { implementationPairs[a + "/" + b, default: 0] += 1 }
        }
    }

    /// Adds another summary's counts and findings (a campaign run in parts).
    public mutating func merge(_ other: DiffSummary) {
        cases += other.cases
        agreements += other.agreements
        disagreements += other.disagreements
        oracleBugs += other.oracleBugs
        for (mode, c) in other.byMode {
            byMode[mode, default: DiffModeCounts()].cases += c.cases
            byMode[mode, default: DiffModeCounts()].agreements += c.agreements
            byMode[mode, default: DiffModeCounts()].disagreements += c.disagreements
            byMode[mode, default: DiffModeCounts()].oracleBugs += c.oracleBugs
        }
        for note in other.notes where !notes.contains(note) { notes.append(note) }
        for (name, n) in other.implementations { implementations[name, default: 0] += n }
        for (pair, n) in other.implementationPairs { implementationPairs[pair, default: 0] += n }
        backend = backend ?? other.backend
    }

    /// Cases per second, when the campaign was timed.
    public var casesPerSecond: Double? {
        guard let seconds, seconds > 0 else { return nil }
        return Double(cases) / seconds
    }

    /// The `--json` object: `oracle`, `seed`, `cases`, `agreements`, `disagreements` and `oracle_bugs` (counts),
    /// `by_mode`, then the findings (`disagreement_list`, `oracle_bug_list`) and `notes`.
    public var json: JSONValue {
        var members = [
            JSONMember("oracle", .string(oracle)),
            JSONMember("seed", seed <= UInt64(Int.max) ? .int(Int(seed)) : .string(String(seed))),
            JSONMember("cases", .int(cases)),
            JSONMember("agreements", .int(agreements)),
            JSONMember("disagreements", .int(disagreements.count)),
            JSONMember("oracle_bugs", .int(oracleBugs.count)),
            JSONMember("by_mode", .object(byMode.keys.sorted().map { mode in
                let c = byMode[mode]!
                return JSONMember(mode, .object([
                    JSONMember("cases", .int(c.cases)),
                    JSONMember("agreements", .int(c.agreements)),
                    JSONMember("disagreements", .int(c.disagreements)),
                    JSONMember("oracle_bugs", .int(c.oracleBugs)),
                ]))
            })),
        ]
        if let backend { members.append(JSONMember("backend", .string(backend))) }
        if !implementations.isEmpty {
            members.append(JSONMember("implementations", .object(implementations.keys.sorted().map {
                JSONMember($0, .int(implementations[$0]!))
            })))
        }
        if !implementationPairs.isEmpty {
            members.append(JSONMember("implementation_pairs", .object(implementationPairs.keys.sorted().map {
                JSONMember($0, .int(implementationPairs[$0]!))
            })))
        }
        members += [
            JSONMember("disagreement_list", .array(disagreements.map(\.json))),
            JSONMember("oracle_bug_list", .array(oracleBugs.map(\.json))),
            JSONMember("notes", .array(notes.map { .string($0) })),
        ]
        if let seconds { members.append(JSONMember("seconds", .double((seconds * 1000).rounded() / 1000))) }
        return .object(members)
    }

    /// How many cases of each known oracle bug the text rendering lists (the JSON lists them all).
    public static let examplesPerBug = 3

    /// Plain text that reads as Markdown: a headline, a table per mode, then every finding with its repro line.
    public var text: String {
        var lines: [String] = []
        let on = backend.map { " (IPsecLab on \($0))" } ?? ""
        var head = "diff against \(oracle)\(on), seed \(seed): \(cases) cases, \(agreements) agreements, "
            + "\(disagreements.count) disagreements, \(oracleBugs.count) known oracle bugs"
        if let seconds, let rate = casesPerSecond {
            head += " (\((seconds * 10).rounded() / 10) s, \(Int(rate.rounded())) cases/s)"
        }
        lines.append(head)
        lines.append("")
        lines.append("| mode | cases | agreements | disagreements | oracle bugs |")
        lines.append("|---|---:|---:|---:|---:|")
        for mode in byMode.keys.sorted() {
            let c = byMode[mode]!
            lines.append("| \(mode) | \(c.cases) | \(c.agreements) | \(c.disagreements) | \(c.oracleBugs) |")
        }
        if !implementations.isEmpty {
            lines.append("")
            lines.append("cases per implementation: " + implementations.keys.sorted().map { "\($0) \(implementations[$0]!)" }
                .joined(separator: ", "))
        }
        if !implementationPairs.isEmpty {
            lines.append("cases per pair compared: " + implementationPairs.keys.sorted().map {
                "\($0) \(implementationPairs[$0]!)"
            }.joined(separator: ", "))
        }
        if !disagreements.isEmpty {
            lines.append("")
            lines.append("Disagreements:")
            for f in disagreements {
                lines.append("- \(f.line)")
                lines.append("  repro: `\(f.repro)`")
            }
        }
        if !oracleBugs.isEmpty {
            lines.append("")
            lines.append("Known oracle bugs (classified, counted apart; the first \(DiffSummary.examplesPerBug) of each):")
            var shown: [String: Int] = [:]
            for f in oracleBugs {
                let key = f.reference ?? ""
                shown[key, default: 0] += 1
                guard shown[key]! <= DiffSummary.examplesPerBug else { continue }
                lines.append("- \(f.line)")
                lines.append("  repro: `\(f.repro)`")
            }
            for key in shown.keys.sorted() { lines.append("- \(shown[key]!) cases: \(key)") }
        }
        if !notes.isEmpty {
            lines.append("")
            for n in notes { lines.append("note: \(n)") }
        }
        return lines.joined(separator: "\n")
    }
}
