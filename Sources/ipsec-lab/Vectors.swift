import ArgumentParser
import IPsecVectors
import IPsecWire

struct Vectors: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate, verify and export the conformance vectors (docs/vectors.md).",
        subcommands: [Generate.self, Verify.self, Export.self]
    )

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write every vector file under DIR (the committed vectors/ with the default seed)."
        )

        @Option(help: "Directory to write (created if needed).")
        var out: String

        @Option(help: "Seed of keys, IVs and identifications (the committed files use 1).")
        var seed: UInt64 = VectorGenerator.defaultSeed

        func run() throws {
            try runReportingErrors {
                let output = try VectorGenerator(seed: seed).write(to: out)
                let stdout = StandardOutput()
                defer { stdout.flush() }
                let total = output.counts.values.reduce(0) { $0 + $1.positive + $1.negative }
                stdout.write("wrote \(output.files.count) files, \(total) tests, to \(out)")
                for problem in output.disagreements {
                    stdout.write("disagreement: \(problem)")
                }
                if !output.disagreements.isEmpty { throw ExitCode.failure }
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run every case of the vector files (or directories) through IPsecLab; exit 1 if any fails."
        )

        @Argument(help: "Vector files, or directories searched for *.json.")
        var paths: [String]

        @Flag(help: "Print a JSON summary.")
        var json = false

        @OptionGroup var crypto: BackendOption

        func run() throws {
            var report: VerificationReport!
            try runReportingErrors {
                try crypto.apply()
                report = try VerificationReport.verify(paths: paths)
            }
            let out = StandardOutput()
            defer { out.flush() }
            let modes = report.byMode.keys.sorted()
            if json {
                out.write(JSONValue.object([
                    JSONMember("files", .int(report.files)),
                    JSONMember("total", .int(report.total)),
                    JSONMember("passed", .int(report.passed)),
                    JSONMember("failed", .int(report.failed)),
                    JSONMember("modes", .object(modes.map { m in
                        JSONMember(m, .object([JSONMember("total", .int(report.byMode[m]!.total)),
                                               JSONMember("passed", .int(report.byMode[m]!.passed)),
                                               JSONMember("failed", .int(report.byMode[m]!.total - report.byMode[m]!.passed))]))
                    })),
                    JSONMember("failures", .array(report.failures.map { f in
                        .object([JSONMember("file", .string(f.file)), JSONMember("tcId", .int(f.tcId)),
                                 JSONMember("comment", .string(f.comment)), JSONMember("reason", .string(f.reason))])
                    })),
                ]).text)
            } else {
                for f in report.failures {
                    out.write("FAIL \(f.file) tcId \(f.tcId) (\(f.comment)): \(f.reason)")
                }
                for m in modes {
                    let c = report.byMode[m]!
                    out.write("\(m): \(c.passed)/\(c.total) passed")
                }
                out.write("\(report.files) files, \(report.total) tests: \(report.passed) passed, \(report.failed) failed")
            }
            out.flush()
            if report.failed > 0 { throw ExitCode.failure }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write each group of the vectors as a pcap of its inbound inputs, with ip xfrm and Wireshark esp_sa key files."
        )

        @Option(help: "Directory to write (created if needed).")
        var out: String

        @Argument(help: "Vector files or directories to export (default: the generated vectors).")
        var paths: [String] = []

        func run() throws {
            try runReportingErrors {
                let summary = try VectorExporter.export(paths: paths, to: out)
                let stdout = StandardOutput()
                defer { stdout.flush() }
                for note in summary.notes { stdout.write("note: \(note)") }
                stdout.write("wrote \(summary.captures) captures (\(summary.packets) packets), "
                             + "\(summary.xfrmStates) ip xfrm states and \(summary.wiresharkEntries) esp_sa entries to \(out)")
            }
        }
    }
}
