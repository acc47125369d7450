import ArgumentParser
import IPsecCapture
import IPsecWire

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Dissect every packet of a capture (pcap or pcapng).",
        discussion: """
            One line per packet by default; --verbose prints every field as a tree; --json prints one JSON object \
            per packet (JSON Lines). A malformed packet is reported for that packet and the rest are processed.
            """
    )

    @Argument(help: "The capture to read (pcap or pcapng).")
    var capture: String

    @Flag(name: .long, help: "Print one JSON object per packet (JSON Lines).")
    var json = false

    @Flag(name: [.short, .long], help: "Print every field of every layer as a tree.")
    var verbose = false

    func run() throws {
        try runReportingErrors {
            let inspector = try CaptureInspector(path: capture)
            let out = StandardOutput()
            defer { out.flush() }
            while let packet = try inspector.next() {
                if json {
                    out.write(packet.json.text)
                } else if verbose {
                    for line in packet.treeLines { out.write(line) }
                    out.write("")
                } else {
                    out.write(packet.summary)
                }
            }
        }
    }
}
