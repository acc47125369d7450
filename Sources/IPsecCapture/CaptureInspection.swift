import IPsecWire

/// One record of a capture, dissected: its link header, then the IP packet layer by layer.
public struct InspectedPacket: Sendable {
    /// 1-based position in the capture, as Wireshark counts.
    public let index: Int
    public let record: CaptureRecord
    public let linkType: LinkType
    /// The link header, when it could be decoded.
    public let link: LinkFrame?
    /// Why the link header could not be decoded.
    public let linkError: WireError?
    /// The IP packet's layers; nil when the frame does not carry IP (an ARP frame, say) or the link header failed.
    public let dissection: Dissection?

    /// Dissects `record`, never throwing: malformations are kept in `linkError` and `dissection.error`.
    public init(index: Int, record: CaptureRecord, linkType: LinkType) {
        self.index = index
        self.record = record
        self.linkType = linkType
        do {
            let frame = try LinkLayer.decapsulate(record.data[...], linkType: linkType)
            link = frame
            linkError = nil
            dissection = frame.ipVersion == nil ? nil : Dissector.dissect(ipPacket: frame.payload)
        } catch {
            link = nil
            linkError = error
            dissection = nil
        }
    }

    /// The first malformation, at whatever layer.
    public var error: WireError? { linkError ?? dissection?.error }

    /// Seconds and nanoseconds since the epoch, as text with nine decimals.
    public var timestamp: String {
        // A capture may carry a fraction of a second that is not below one second (libpcap passes pcapng timestamps
        // through as they are); carry the excess into the seconds rather than print a malformed time.
        let seconds = record.timestampSeconds &+ Int64(record.timestampNanoseconds / 1_000_000_000)
        let ns = String(record.timestampNanoseconds % 1_000_000_000)
        return "\(seconds)." + String(repeating: "0", count: 9 - ns.count) + ns
    }

    /// One line, tcpdump-like: index, time, what the packet is, its length.
    public var summary: String {
        var parts: [String] = []
        if let dissection {
            parts.append(dissection.summary)
        } else if let link {
            parts.append("non-IP frame: \(link.header.summary)")
        } else if let linkError {
            parts.append("[malformed: \(linkError)]")
        }
        var line = "\(index) \(timestamp) " + parts.joined(separator: ", ") + ", length \(record.originalLength)"
        if record.isTruncated { line += " (captured \(record.data.count))" }
        return line
    }

    /// The field tree: the frame, the link header, then every layer.
    public var treeLines: [String] {
        var lines = ["Packet \(index): \(record.originalLength) bytes on wire, \(record.data.count) captured, "
                     + "link type \(linkType.name), time \(timestamp)"]
        if let link {
            lines.append("  \(link.header.name) (\(link.header.length) bytes)")
            appendTree(link.header.fields, indent: 4, to: &lines)
        } else if let linkError {
            lines.append("  malformed: \(linkError)")
        }
        if let dissection {
            lines += dissection.treeLines(indent: 2, baseOffset: link?.header.length ?? 0)
        }
        return lines
    }

    /// One JSON object: frame data, the link header, the layers, and the error (null when the packet is well formed).
    public var json: JSONValue {
        var members = [
            JSONMember("index", .int(index)),
            JSONMember("timestamp", .string(timestamp)),
            JSONMember("captured_length", .int(record.data.count)),
            JSONMember("original_length", .int(record.originalLength)),
            JSONMember("link_type", .string(linkType.name)),
        ]
        if let link {
            members.append(JSONMember("link", .object(
                [JSONMember("header", .string(link.header.key))]
                + link.header.fields.map { JSONMember($0.key, $0.value.json) })))
        }
        members.append(JSONMember("layers", dissection?.json ?? .array([])))
        members.append(JSONMember("error", error.map { .string($0.description) } ?? .null))
        return .object(members)
    }
}

/// Reads a capture and dissects each record in turn, streaming: one record in memory at a time.
public final class CaptureInspector {
    private let reader: CaptureReader
    private var index = 0

    /// Opens `path`; a capture whose link type IPsecLab cannot strip is refused here, once, rather than reported
    /// as a malformed link header on every packet.
    public init(path: String) throws(CaptureError) {
        reader = try CaptureReader(path: path)
        guard reader.linkType.isSupportedByLinkLayer else {
            throw CaptureError(.unsupported, path: path,
                               reason: "link type \(reader.linkType.name) (\(reader.linkType.rawValue)) is not supported "
                                   + "(Ethernet, raw IP, Linux SLL/SLL2 and BSD loopback are)")
        }
    }

    public var linkType: LinkType { reader.linkType }

    /// The next packet, or nil at the end. Throws only for the capture itself (a record cut short, an I/O error);
    /// a malformed packet is returned, dissected as far as it goes.
    public func next() throws(CaptureError) -> InspectedPacket? {
        guard let record = try reader.next() else { return nil }
        index += 1
        return InspectedPacket(index: index, record: record, linkType: reader.linkType)
    }
}

extension LinkHeader {
    public var key: String {
        switch self {
        case .ethernet: "ethernet"
        case .linuxSLL: "linux_sll"
        case .linuxSLL2: "linux_sll2"
        case .null: "null"
        case .loop: "loop"
        case .raw: "raw"
        }
    }

    public var name: String {
        switch self {
        case .ethernet: "Ethernet"
        case .linuxSLL: "Linux cooked capture (SLL)"
        case .linuxSLL2: "Linux cooked capture v2 (SLL2)"
        case .null: "BSD loopback"
        case .loop: "OpenBSD loopback"
        case .raw: "Raw IP"
        }
    }

    public var fields: [Field] {
        switch self {
        case let .ethernet(destination, source, tags, etherType):
            return [
                Field("destination", .string(macString(destination))),
                Field("source", .string(macString(source))),
                Field("vlan_tags", .list(tags.map { .int(Int($0 & 0x0fff)) })),
                Field("ethertype", .hex(Int(etherType), digits: 4)),
            ]
        case let .linuxSLL(packetType, addressType, address, protocolType):
            return [
                Field("packet_type", .int(Int(packetType))),
                Field("address_type", .int(Int(addressType))),
                Field("address", .bytes(address)),
                Field("protocol", .hex(Int(protocolType), digits: 4)),
            ]
        case let .linuxSLL2(protocolType, interfaceIndex, addressType, packetType, address):
            return [
                Field("protocol", .hex(Int(protocolType), digits: 4)),
                Field("interface_index", .int(Int(interfaceIndex))),
                Field("address_type", .int(Int(addressType))),
                Field("packet_type", .int(Int(packetType))),
                Field("address", .bytes(address)),
            ]
        case let .null(family, order):
            return [Field("family", .int(Int(family))),
                    Field("byte_order", .string(order == .littleEndian ? "little-endian" : "big-endian"))]
        case let .loop(family):
            return [Field("family", .int(Int(family)))]
        case .raw:
            return []
        }
    }

    /// A few words for a frame that carries no IP.
    var summary: String {
        switch self {
        case .ethernet(_, _, _, let type): "Ethernet type " + FieldValue.hex(Int(type), digits: 4).text
        case .linuxSLL(_, _, _, let type), .linuxSLL2(let type, _, _, _, _):
            "SLL protocol " + FieldValue.hex(Int(type), digits: 4).text
        case .null(let family, _), .loop(let family): "loopback family \(family)"
        case .raw: "raw frame, not IPv4 or IPv6"
        }
    }
}

private func macString(_ bytes: [UInt8]) -> String {
    bytes.map { hexString([$0]) }.joined(separator: ":")
}
