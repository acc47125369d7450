import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import IPsecCrypto
import IPsecDiff
import IPsecKernelOracle
import IPsecWire

extension DiffOracleKind: ExpressibleByArgument {}
extension DiffPlantedFault: ExpressibleByArgument {}

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Differential testing: random SAs and packets through IPsecLab and an independent implementation.",
        discussion: """
            Both directions (IPsecLab protects and the oracle opens; the oracle protects and IPsecLab opens) and \
            mutated packets, on which both must agree to accept or reject. Every disagreement is minimised and \
            printed with a command that reproduces it; known oracle bugs are counted apart with a reference. \
            Exit status 1 when any disagreement is left unexplained (docs/differential.md).
            """
    )

    @Option(help: "The independent implementation (docs/differential.md, docs/linux-oracle.md).")
    var oracle: DiffOracleKind

    @Option(help: "Number of cases.")
    var cases: Int = 500

    @Option(help: "Seed of every random choice (SAs, keys, packets, mutations).")
    var seed: UInt64 = 1

    @Option(name: .customLong("case"), help: "Run only case K of the campaign with this seed (as a repro line does).")
    var onlyCase: Int?

    @Option(help: .hidden)
    var plantFault: DiffPlantedFault?

    @Option(help: "Instead of a campaign, confirm the conformance vectors in this directory with the oracle (scapy or tshark).")
    var vectors: String?

    @Flag(help: "Print a JSON summary.")
    var json = false

    /// IPsecLab's side against scapy, tshark and linux; the backend oracle runs every implementation itself.
    @OptionGroup var crypto: BackendOption

    func validate() throws {
        guard cases > 0 else { throw ValidationError("--cases must be positive") }
        if let onlyCase, onlyCase < 0 { throw ValidationError("--case must not be negative") }
    }

    func run() throws {
        if let vectors { return try confirmVectors(vectors) }
        var summary: DiffSummary!
        try runReportingErrors {
            if oracle == .backend && crypto.backend != CryptoImplementation.openSSL.rawValue {
                throw ValidationFailure("--backend is for the scapy, tshark and linux oracles; the backend oracle "
                                        + "compares OpenSSL, swift-crypto and libipsec-mb itself")
            }
            try crypto.apply()
            let implementation = CryptoImplementation.preferred
            switch oracle {
            case .linux:
                summary = try LinuxCampaign(seed: seed, cases: cases, only: onlyCase, vm: try LinuxVM(),
                                            implementation: implementation).run()
            case .scapy, .tshark, .backend:
                let campaign = DiffCampaign(oracle: oracle, seed: seed, cases: cases, only: onlyCase, fault: plantFault,
                                            implementation: implementation)
                // Progress on a terminal only (architecture.md: long runs stay quiet when not on one).
                let onTerminal = isatty(2) == 1
                summary = try campaign.run(progress: onTerminal ? { done, all in
                    writeAll(2, Array("\rdiff \(oracle.rawValue): \(done)/\(all) cases\(done == all ? "\n" : "")".utf8))
                } : nil)
            }
        }
        let out = StandardOutput()
        out.write(json ? summary.json.text : summary.text)
        out.flush()
        if !summary.disagreements.isEmpty { throw ExitCode.failure }
    }

    func confirmVectors(_ directory: String) throws {
        var report: VectorConfirmation!
        try runReportingErrors {
            try crypto.apply()  // the vectors' SAs run on the chosen implementation
            report = try VectorConfirmation.run(oracle: oracle, directory: directory)
        }
        let out = StandardOutput()
        if json {
            out.write(JSONValue.object([
                JSONMember("oracle", .string(oracle.rawValue)),
                JSONMember("considered", .int(report.considered)),
                JSONMember("checked", .int(report.checked)),
                JSONMember("confirmed", .int(report.confirmed)),
                JSONMember("failed", .int(report.failures.count)),
                JSONMember("oracle_bugs", .object(report.oracleBugs.keys.sorted().map { JSONMember($0, .int(report.oracleBugs[$0]!)) })),
                JSONMember("skipped", .object(report.skipped.keys.sorted().map { JSONMember($0, .int(report.skipped[$0]!)) })),
                JSONMember("failures", .array(report.failures.map { .string($0) })),
            ]).text)
        } else {
            for f in report.failures { out.write("FAIL \(f)") }
            for (reason, n) in report.skipped.sorted(by: { $0.key < $1.key }) { out.write("skipped \(n): \(reason)") }
            for (bug, n) in report.oracleBugs.sorted(by: { $0.key < $1.key }) {
                out.write("confirmed after working around \(bug): \(n)")
            }
            out.write("\(oracle.rawValue): \(report.checked) of \(report.considered) vector cases checked, "
                      + "\(report.confirmed) confirmed, \(report.failures.count) not confirmed")
        }
        out.flush()
        if !report.failures.isEmpty { throw ExitCode.failure }
    }
}
