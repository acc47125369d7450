import ArgumentParser
import IPsecConfig
#if canImport(Glibc)
import Glibc
#endif

struct ExportKeys: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-keys",
        abstract: "Write the SAs of SA files, keys included, as Wireshark's esp_sa table, ip xfrm commands or JSON.",
        discussion: """
            This command prints key material, because you asked for it explicitly: nothing else in ipsec-lab does \
            (reports and errors never show keys). Keep the output as secret as the SA files. With --out the file is \
            created with mode 0600.

            --format wireshark writes Wireshark's ESP SA table: put the lines in ~/.config/wireshark/esp_sa, or pass \
            each as tshark -o esp.enable_encryption_decode:TRUE -o 'uat:esp_sa:LINE'. ESP SAs Wireshark cannot \
            decrypt, and AH SAs, are left out with a '# not exported' comment (also printed on stderr). \
            --format ip-xfrm writes 'ip xfrm state add' and 'ip xfrm policy add' commands for a Linux peer; \
            --format json the native SA file with keys (docs/sa-files.md).
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case wireshark
        case ipXfrm = "ip-xfrm"
        case json
    }

    @Option(name: .customLong("sa"), help: "An SA file (JSON, ip xfrm commands or listing, setkey.conf, esp_sa); repeatable.")
    var saFiles: [String]

    @Option(help: "The output format: wireshark, ip-xfrm or json.")
    var format: Format

    @Option(name: .customLong("out"), help: "Write to this file (mode 0600) instead of standard output.")
    var output: String?

    func run() throws {
        try runReportingErrors {
            var merged = SAFile(associations: [], format: .json)
            for path in saFiles {
                let file = try SAFile.load(path: path)
                merged.associations += file.associations
                merged.policies += file.policies
                merged.compressions += file.compressions
            }
            let text: String
            switch format {
            case .wireshark:
                text = try SAFile.wiresharkESPSA(merged.associations)
                for line in text.split(separator: "\n") where line.hasPrefix("# not exported") || line.hasPrefix("# note") {
                    printNote(String(line.dropFirst(2)))
                }
            case .ipXfrm: text = try merged.ipXfrmCommands()
            case .json: text = merged.json(includeKeys: true)
            }
            if let output {
                try writeSecret(text, to: output)
            } else {
                writeAll(1, Array(text.utf8))
            }
        }
    }

    private func printNote(_ message: String) {
        writeAll(2, Array(("ipsec-lab: " + message + "\n").utf8))
    }

    /// Creates (or truncates) `path` readable by its owner only, since it holds keys.
    private func writeSecret(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ExportError(message: "\(path): cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        _ = fchmod(fd, 0o600)
        writeAll(fd, Array(text.utf8))
    }
}

private struct ExportError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
