import IPsecCapture
import IPsecCore
import IPsecWire

/// What `decap` did with one packet.
public struct PacketVerdict: Sendable {
    public var index: Int
    public var verdict: InboundVerdict
    public var spi: UInt32?
    public var sequence: UInt64?
    public var mode: String?
    /// Opened with confidentiality-only ESP, which nothing protects from forgery.
    public var insecure = false

    public var json: JSONValue {
        var m = [JSONMember("index", .int(index))]
        switch verdict {
        case .accepted: m.append(JSONMember("verdict", .string("accepted")))
        case .dropped(let r):
            m.append(JSONMember("verdict", .string("dropped")))
            m.append(JSONMember("reason", .string(r.rawValue)))
        }
        if let spi { m.append(JSONMember("spi", .int(Int(spi)))) }
        if let sequence { m.append(JSONMember("sequence_number", .int(Int(truncatingIfNeeded: sequence)))) }
        if let mode { m.append(JSONMember("mode", .string(mode))) }
        if insecure { m.append(JSONMember("insecure", .string("confidentiality-only ESP: no integrity protection"))) }
        return .object(m)
    }
}

/// The outcome of a capture job: counts, drops by reason, and (for decap) a verdict per packet.
public struct JobSummary: Sendable {
    public var packetsIn = 0
    public var packetsOut = 0
    /// Packets that were protected (encap) or opened (decap).
    public var processed = 0
    /// Frames that carried no IP, or IP packets no SA applied to, copied unchanged (encap) or left out (decap).
    public var passedThrough = 0
    public var dropped: [DropReason: Int] = [:]
    /// Packets encap could not protect, by reason (a fragment in transport mode, a sequence overflow, a discard
    /// policy, a missing SA, …).
    public var unprotectable: [String: Int] = [:]
    public var verdicts: [PacketVerdict] = []
    /// Dummy packets encap added.
    public var dummies = 0
    /// Packets decap opened with confidentiality-only ESP.
    public var insecure = 0

    /// Counts what encap does with a packet the node did not protect, for both encap paths (one job and
    /// `--jobs N`): true when the packet goes out unchanged (a bypass policy), false when it is left out (a discard
    /// policy, no SA).
    mutating func countUnprotected(_ verdict: IPsecNode.OutboundVerdict) -> Bool {
        switch verdict {
        case .protected: preconditionFailure("a protected packet is not counted here")
        case .bypassed:
            passedThrough += 1
            packetsOut += 1
            return true
        case .discarded:
            unprotectable["discard-policy", default: 0] += 1
            return false
        case .noSA:
            unprotectable["no-sa", default: 0] += 1
            return false
        }
    }

    public var droppedTotal: Int { dropped.values.reduce(0, +) }

    /// One line per drop reason, ordered by reason.
    public var dropLines: [String] {
        DropReason.allCases.compactMap { r in dropped[r].map { "dropped \(r.rawValue): \($0)" } }
    }

    public func json(direction: String) -> JSONValue {
        var m = [JSONMember("packets_in", .int(packetsIn)), JSONMember("packets_out", .int(packetsOut))]
        if direction == "decap" {
            m.append(JSONMember("accepted", .int(processed)))
            m.append(JSONMember("dropped", .object(DropReason.allCases.compactMap { r in
                dropped[r].map { JSONMember(r.rawValue, .int($0)) }
            })))
            m.append(JSONMember("not_ipsec", .int(passedThrough)))
            m.append(JSONMember("insecure", .int(insecure)))
            m.append(JSONMember("packets", .array(verdicts.map(\.json))))
        } else {
            m.append(JSONMember("protected", .int(processed)))
            m.append(JSONMember("dummies", .int(dummies)))
            m.append(JSONMember("bypassed", .int(passedThrough)))
            m.append(JSONMember("unprotectable", .object(unprotectable.keys.sorted().map {
                JSONMember($0, .int(unprotectable[$0]!))
            })))
        }
        return .object(m)
    }
}

/// Capture-level jobs: read a capture, run every packet through the data plane, write a capture with the input's link
/// type. Streaming: one packet in memory at a time.
public enum CaptureJobs {
    /// The most workers `jobs` may name.
    public static let maximumJobs = StagedJobs.maximumJobs

    /// Protects every IP packet an SA applies to; other frames are copied unchanged. With `dummyEvery` N > 0, a dummy
    /// packet (RFC 4303 §2.6, next header 59) from the first tunnel-mode ESP SA follows every N protected packets.
    /// Packets go through the data plane in bursts (StagedJobs.swift); with `jobs` N > 1 the crypto runs on N
    /// threads. `perPacket` runs every packet through the node one at a time instead: the reference path, which
    /// gives the same bytes.
    public static func encap(input: String, output: String, sas: SASet, dummyEvery: Int = 0,
                             jobs: Int = 1, perPacket: Bool = false) throws -> JobSummary {
        try checkJobs(jobs, perPacket: perPacket)
        let dummySA = dummyEvery > 0
            ? sas.all.first { $0.configuration.protocol == .esp && $0.configuration.mode != .transport } : nil
        if dummyEvery > 0, dummySA == nil {
            throw CoreError(.unsupported, "dummy packets need a tunnel-mode ESP SA")
        }
        let reader = try CaptureReader(path: input)
        try checkLinkType(reader)
        let writer = try CaptureWriter(path: output, linkType: reader.linkType, snapshotLength: 262_144)
        if !perPacket {
            return try StagedJobs.encap(reader: reader, writer: writer, sas: sas, dummySA: dummySA,
                                        dummyEvery: dummyEvery, jobs: jobs)
        }
        var summary = JobSummary()
        var out: [UInt8] = []
        var frame: [UInt8] = []
        do {
            while var record = try reader.next() {
                summary.packetsIn += 1
                guard let link = try? LinkLayer.decapsulate(record.data[...], linkType: reader.linkType),
                      link.ipVersion != nil else {
                    summary.passedThrough += 1
                    try writer.write(record)
                    summary.packetsOut += 1
                    continue
                }
                do {
                    let verdict = try sas.node.outbound(link.payload, into: &out)
                    guard case .protected = verdict else {
                        if summary.countUnprotected(verdict) { try writer.write(record) }
                        continue
                    }
                } catch let error as CoreError {
                    summary.unprotectable[error.code.rawValue, default: 0] += 1
                    continue
                }
                try reframe(out, like: link, linkType: reader.linkType, into: &frame)
                record.data = frame
                record.originalLength = frame.count
                try writer.write(record)
                summary.processed += 1
                summary.packetsOut += 1
                if let dummySA, summary.processed % dummyEvery == 0 {
                    // As long as the packet before it, so that sizes do not tell the dummy apart (RFC 4303 §2.6).
                    try Outbound.dummy(length: link.payload.count, with: dummySA, into: &out)
                    try reframe(out, like: link, linkType: reader.linkType, into: &frame)
                    record.data = frame
                    record.originalLength = frame.count
                    try writer.write(record)
                    summary.dummies += 1
                    summary.packetsOut += 1
                }
            }
            try writer.close()
        } catch {
            writer.discard()
            throw error
        }
        return summary
    }

    /// Opens every IPsec packet with the SA it names and writes the packet that was protected. Packets that carry no
    /// IPsec are left out unless `keepOther` is set. With `keepVerdicts` off, no per-packet verdict is kept, so that
    /// memory stays flat whatever the capture's size (the counts are kept either way). With `jobs` N > 1 the ICV
    /// checks and decryption run on N threads, the anti-replay check and update stay in input order (StagedJobs.swift);
    /// the output and verdicts are the same. Packets go through in bursts unless `perPacket` asks for the reference
    /// path, one packet at a time through the node.
    public static func decap(input: String, output: String, sas: SASet, keepOther: Bool = false,
                             keepVerdicts: Bool = true, jobs: Int = 1, perPacket: Bool = false) throws -> JobSummary {
        try checkJobs(jobs, perPacket: perPacket)
        let reader = try CaptureReader(path: input)
        try checkLinkType(reader)
        let writer = try CaptureWriter(path: output, linkType: reader.linkType, snapshotLength: 262_144)
        if !perPacket {
            return try StagedJobs.decap(reader: reader, writer: writer, sas: sas, keepOther: keepOther,
                                        keepVerdicts: keepVerdicts, jobs: jobs)
        }
        var summary = JobSummary()
        var out: [UInt8] = [], scratch: [UInt8] = [], frame: [UInt8] = []
        do {
            while var record = try reader.next() {
                summary.packetsIn += 1
                let index = summary.packetsIn
                guard let link = try? LinkLayer.decapsulate(record.data[...], linkType: reader.linkType),
                      link.ipVersion != nil else {
                    summary.passedThrough += 1
                    if keepVerdicts { summary.verdicts.append(PacketVerdict(index: index, verdict: .dropped(.notIPsec))) }
                    if keepOther { try writer.write(record); summary.packetsOut += 1 }
                    continue
                }
                let outcome = sas.node.inbound(link.payload, into: &out, scratch: &scratch)
                let first = outcome.layers.first
                if keepVerdicts {
                    summary.verdicts.append(PacketVerdict(index: index, verdict: outcome.verdict, spi: first?.spi,
                                                          sequence: first?.sequence, mode: outcome.modeName,
                                                          insecure: outcome.layers.contains { $0.insecure }))
                }
                if outcome.layers.contains(where: { $0.insecure }) { summary.insecure += 1 }
                switch outcome.verdict {
                case .accepted:
                    try reframe(out, like: link, linkType: reader.linkType, into: &frame)
                    record.data = frame
                    record.originalLength = frame.count
                    try writer.write(record)
                    summary.processed += 1
                    summary.packetsOut += 1
                case .dropped(.notIPsec):
                    summary.passedThrough += 1
                    if keepOther { try writer.write(record); summary.packetsOut += 1 }
                case .dropped(let reason):
                    summary.dropped[reason, default: 0] += 1
                }
            }
            try writer.close()
        } catch {
            writer.discard()
            throw error
        }
        return summary
    }

    static func checkJobs(_ jobs: Int, perPacket: Bool = false) throws {
        guard !perPacket || jobs == 1 else {
            throw CoreError(.badConfiguration, "the per-packet path runs on one thread: jobs must be 1, not \(jobs)")
        }
        guard (1...maximumJobs).contains(jobs) else {
            throw CoreError(.badConfiguration, "jobs must be between 1 and \(maximumJobs), not \(jobs)")
        }
    }

    static func checkLinkType(_ reader: CaptureReader) throws {
        guard reader.linkType.isSupportedByLinkLayer else {
            throw CaptureError(.unsupported, path: reader.path,
                               reason: "link type \(reader.linkType.name) (\(reader.linkType.rawValue)) is not supported")
        }
    }

    /// The IP packet `packet` in a frame with the same link header as `like`, its EtherType or family adjusted if the
    /// IP version changed (an IPv4 packet in an IPv6 tunnel, say).
    static func reframe(_ packet: [UInt8], like: LinkFrame, linkType: LinkType, into frame: inout [UInt8]) throws {
        try reframe(packet, header: like.header, linkType: linkType, into: &frame)
    }

    static func reframe(_ packet: some Collection<UInt8>, header like: LinkHeader, linkType: LinkType,
                        into frame: inout [UInt8]) throws {
        frame.removeAll(keepingCapacity: true)
        let version: IPVersion = packet.first.map { $0 >> 4 == 6 ? .v6 : .v4 } ?? .v4
        var header = like.withIPVersion(version)
        if linkType == .ipv4 || linkType == .ipv6, version != (linkType == .ipv4 ? .v4 : .v6) {
            throw CaptureError(.unsupported, path: "", reason: "a \(linkType.name) capture cannot hold \(version) packets")
        }
        if case .raw = header { header = .raw }
        LinkLayer.encapsulate(packet, header: header, into: &frame)
    }
}
