import IPsecCapture
import IPsecCore
import IPsecWire

/// `inspect --sa`: each packet dissected as captured and, where an SA opens it, as it was before protection.
public final class DecryptingInspector {
    private let inspector: CaptureInspector
    private let sas: SASet
    private var out: [UInt8] = []
    private var scratch: [UInt8] = []

    public init(path: String, sas: SASet) throws {
        inspector = try CaptureInspector(path: path)
        self.sas = sas
    }

    public func next() throws -> (packet: InspectedPacket, opened: OpenedPacket?)? {
        guard let packet = try inspector.next() else { return nil }
        guard let link = packet.link, link.ipVersion != nil else { return (packet, nil) }
        let outcome = sas.node.inbound(link.payload, into: &out, scratch: &scratch)
        if case .dropped(.notIPsec) = outcome.verdict { return (packet, nil) }
        let dissection = outcome.verdict == .accepted ? Dissector.dissect(ipPacket: out) : nil
        return (packet, OpenedPacket(outcome: outcome, dissection: dissection))
    }
}

/// What an SA made of an IPsec packet: the verdict and, when accepted, the packet that was protected.
public struct OpenedPacket: Sendable {
    public let outcome: IPsecNode.InboundOutcome
    public let dissection: Dissection?

    public var summary: String {
        switch outcome.verdict {
        case .accepted:
            "decrypted" + (outcome.layers.contains { $0.insecure } ? " (insecure: confidentiality-only ESP)" : "")
                + ": " + (dissection?.summary ?? "")
        case .dropped(let reason): "not opened: \(reason)"
        }
    }

    public var json: JSONValue {
        var m: [JSONMember] = []
        switch outcome.verdict {
        case .accepted: m.append(JSONMember("verdict", .string("accepted")))
        case .dropped(let r):
            m.append(JSONMember("verdict", .string("dropped")))
            m.append(JSONMember("reason", .string(r.rawValue)))
        }
        if let mode = outcome.modeName { m.append(JSONMember("mode", .string(mode))) }
        if let s = outcome.layers.first?.sequence {
            m.append(JSONMember("sequence_number", .int(Int(truncatingIfNeeded: s))))
        }
        if outcome.decompressed > 0 { m.append(JSONMember("ipcomp", .int(outcome.decompressed))) }
        m.append(JSONMember("layers", dissection?.json ?? .array([])))
        return .object(m)
    }

    public var treeLines: [String] {
        var lines = ["  " + (outcome.verdict == .accepted ? "Decrypted packet" : summary)]
        if let dissection { lines += dissection.treeLines(indent: 4) }
        return lines
    }
}
