import ArgumentParser
import IPsecCapture
import IPsecPipeline
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

    @Option(name: .customLong("sa"), help: "SA files whose keys open the IPsec packets; repeatable.")
    var saFiles: [String] = []

    func run() throws {
        try runReportingErrors {
            let out = StandardOutput()
            defer { out.flush() }
            if saFiles.isEmpty {
                let inspector = try CaptureInspector(path: capture)
                while let packet = try inspector.next() { emit(packet, nil, out) }
            } else {
                let inspector = try DecryptingInspector(path: capture, sas: try SASet(files: saFiles))
                while let (packet, opened) = try inspector.next() { emit(packet, opened, out) }
            }
        }
    }

    private func emit(_ packet: InspectedPacket, _ opened: OpenedPacket?, _ out: StandardOutput) {
        if json {
            guard let opened, case .object(var members) = packet.json else {
                out.write(packet.json.text)
                return
            }
            members.append(JSONMember("decrypted", opened.json))
            out.write(JSONValue.object(members).text)
        } else if verbose {
            for line in packet.treeLines { out.write(line) }
            for line in opened?.treeLines ?? [] { out.write(line) }
            out.write("")
        } else {
            out.write(packet.summary + (opened.map { " | " + $0.summary } ?? ""))
        }
    }
}
