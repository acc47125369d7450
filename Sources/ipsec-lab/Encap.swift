import ArgumentParser
import IPsecPipeline
import IPsecWire

struct Encap: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Protect the packets of a capture with the given SAs.",
        discussion: """
            With one SA and no selector, every IP packet is protected with it; with several, each packet goes to the \
            first SA whose selector matches, and packets no SA matches are copied unchanged. The output keeps the \
            input's link type and timestamps.
            """
    )

    @Option(name: .customLong("sa"), help: "An SA file (JSON, 'ip xfrm state' commands or listing); repeatable.")
    var saFiles: [String]

    @Option(name: .customLong("in"), help: "The capture to read.")
    var input: String

    @Option(name: .customLong("out"), help: "The capture to write (pcap).")
    var output: String

    @Option(help: "Seed for every random choice (IVs, outer IP identification), for reproducible output.")
    var seed: UInt64?

    @Option(help: "After every N protected packets, add a dummy packet (next header 59) from the first tunnel-mode ESP SA.")
    var dummyEvery: Int = 0

    @Flag(help: "Print a JSON summary.")
    var json = false

    @Option(help: "Threads for the crypto (1 to 64); the output is the same for any number.")
    var jobs: Int = 1

    @Flag(help: "Protect one packet at a time through the node (the reference path) instead of in bursts; same output, slower.")
    var perPacket = false

    @OptionGroup var crypto: BackendOption

    func run() throws {
        try runReportingErrors {
            try crypto.apply()
            guard dummyEvery >= 0 else { throw ValidationError("--dummy-every must not be negative") }
            try checkJobs(jobs, perPacket: perPacket)
            let sas = try SASet(files: saFiles, seed: seed)
            let summary = try CaptureJobs.encap(input: input, output: output, sas: sas, dummyEvery: dummyEvery,
                                                jobs: jobs, perPacket: perPacket)
            let out = StandardOutput()
            defer { out.flush() }
            if json {
                out.write(summary.json(direction: "encap").text)
            } else {
                out.write("packets in: \(summary.packetsIn), protected: \(summary.processed), "
                          + "bypassed: \(summary.passedThrough), dummies: \(summary.dummies), packets out: \(summary.packetsOut)")
                for (reason, count) in summary.unprotectable.sorted(by: { $0.key < $1.key }) {
                    out.write("not protected (\(reason)): \(count)")
                }
            }
        }
    }
}

struct Decap: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Open the IPsec packets of a capture and write the packets that were protected.",
        discussion: """
            Transport mode gives back the original IP header (protocol, length and checksum restored); tunnel mode \
            the inner packet unchanged. Packets that carry no IPsec are left out unless --keep-other is given. One \
            line per drop reason is printed; --json prints a summary object with per-packet verdicts.
            """
    )

    @Option(name: .customLong("sa"), help: "An SA file (JSON, 'ip xfrm state' commands or listing); repeatable.")
    var saFiles: [String]

    @Option(name: .customLong("in"), help: "The capture to read.")
    var input: String

    @Option(name: .customLong("out"), help: "The capture to write (pcap).")
    var output: String

    @Flag(help: "Copy packets that carry no IPsec to the output unchanged.")
    var keepOther = false

    @Flag(help: "Print a JSON summary with per-packet verdicts.")
    var json = false

    @Option(help: "Threads for the ICV checks and decryption (1 to 64); replay checks stay in input order, and the output and verdicts are the same for any number.")
    var jobs: Int = 1

    @Flag(help: "Open one packet at a time through the node (the reference path) instead of in bursts; same output, slower.")
    var perPacket = false

    @OptionGroup var crypto: BackendOption

    func run() throws {
        try runReportingErrors {
            try crypto.apply()
            try checkJobs(jobs, perPacket: perPacket)
            let sas = try SASet(files: saFiles)
            // Per-packet verdicts only for --json, which prints them: without it memory stays flat on any capture.
            let summary = try CaptureJobs.decap(input: input, output: output, sas: sas, keepOther: keepOther,
                                                keepVerdicts: json, jobs: jobs, perPacket: perPacket)
            let out = StandardOutput()
            defer { out.flush() }
            if json {
                out.write(summary.json(direction: "decap").text)
            } else {
                out.write("packets in: \(summary.packetsIn), accepted: \(summary.processed), "
                          + "dropped: \(summary.droppedTotal), not IPsec: \(summary.passedThrough)")
                for line in summary.dropLines { out.write(line) }
                if summary.insecure > 0 {
                    out.write("insecure: \(summary.insecure) accepted packets used confidentiality-only ESP, which has no "
                              + "integrity protection (RFC 4303 §3.2)")
                }
            }
        }
    }
}

/// `--jobs` out of range: one error line before anything is read or written.
private func checkJobs(_ jobs: Int, perPacket: Bool) throws {
    guard !perPacket || jobs == 1 else { throw ValidationError("--per-packet runs on one thread: drop --jobs") }
    guard (1...CaptureJobs.maximumJobs).contains(jobs) else {
        throw ValidationError("--jobs must be between 1 and \(CaptureJobs.maximumJobs)")
    }
}
