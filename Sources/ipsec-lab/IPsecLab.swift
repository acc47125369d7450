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

    /// ArgumentParser's own entry point, except that a usage error (an unknown option, a value that does not parse,
    /// a missing argument) is one line on stderr — its first line, without the usage block — and exit status 64.
    /// Help and `--version` print as usual; errors from a command's run are already one line (`runReportingErrors`).
    static func main() {
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exitOnUsageError(error)
        }
        do {
            try command.run()
        } catch {
            exit(withError: error)
        }
    }

    private static func exitOnUsageError(_ error: Error) -> Never {
        let code = exitCode(for: error)
        guard code != .success else { exit(withError: error) }  // --help, --version
        let message = fullMessage(for: error)
        let first = message.split(whereSeparator: \.isNewline).first.map(String.init) ?? "invalid arguments"
        let line = first.hasPrefix("Error: ") ? String(first.dropFirst("Error: ".count)) : first
        printError(line + " (see --help)")
        exit(withError: ExitCode(code.rawValue))
    }
}
