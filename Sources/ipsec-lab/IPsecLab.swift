import ArgumentParser
import IPsecCapture
import IPsecWire

@main
struct IPsecLab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ipsec-lab",
        abstract: "Analyse the IPsec data plane: dissect, protect, verify, fuzz and measure ESP and AH.",
        version: VersionInfo.text,
        subcommands: [Inspect.self, Encap.self, Decap.self, Modes.self, Overhead.self, ReportCommand.self, Vectors.self, Diff.self, BenchCommand.self, Timing.self, Fuzz.self, FuzzWorkerCommand.self, ExportKeys.self]
    )
}
