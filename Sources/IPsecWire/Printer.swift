// Text and JSON renderings of a dissection: one line per packet (tcpdump-like), a field tree, and JSON.

extension Layer {
    /// A few words for the one-line summary.
    public var summary: String {
        switch self {
        case let .ipv4(h, _):
            var s = "IP \(h.source) > \(h.destination)"
            if h.fragmentOffset != 0 || h.moreFragments {
                s += " frag(off=\(Int(h.fragmentOffset) * 8)\(h.moreFragments ? ",MF" : ""),id=\(hex(h.identification, 4)))"
            }
            return s
        case let .ipv6(h):
            return "IP6 \(h.source) > \(h.destination)"
        case let .ipv6Extension(e):
            switch e {
            case .hopByHop: return "HBH"
            case .destinationOptions: return "DSTOPT"
            case .routing(let r): return "RT\(r.routingType)(segleft=\(r.segmentsLeft))"
            case .fragment(let f):
                return "FRAG(off=\(Int(f.fragmentOffset) * 8)\(f.moreFragments ? ",M" : ""),id=\(hex(f.identification, 8)))"
            }
        case let .udp(h, valid):
            return "UDP \(h.sourcePort) > \(h.destinationPort)" + (valid == false ? " [bad udp cksum]" : "")
        case let .tcp(h, valid):
            return "TCP \(h.sourcePort) > \(h.destinationPort) [\(h.flags)] seq \(h.sequenceNumber)"
                + (valid == false ? " [bad tcp cksum]" : "")
        case let .icmpv4(h, valid):
            return "ICMP \(h.name)" + (valid == false ? " [bad icmp cksum]" : "")
        case let .icmpv6(h, valid):
            return "ICMP6 \(h.name)" + (valid == false ? " [bad icmp6 cksum]" : "")
        case let .esp(h, length):
            return "ESP(spi=\(hex(h.spi, 8)),seq=\(h.sequenceNumber)) \(length) bytes protected"
        case let .ah(h):
            return "AH(spi=\(hex(h.spi, 8)),seq=\(h.sequenceNumber))"
        case let .ipcomp(h, length):
            return "IPComp(cpi=\(h.name)) \(length) bytes compressed"
        case .natKeepalive:
            return "NAT-keepalive"
        case let .nonESPMarker(length):
            return "non-ESP marker, IKE \(length) bytes"
        case let .payload(proto, length):
            return proto.map { "\($0.name) payload \(length) bytes" } ?? "payload \(length) bytes"
        }
    }

    public var json: JSONValue {
        .object([JSONMember("layer", .string(key))] + fields.map { JSONMember($0.key, $0.value.json) })
    }
}

private func hex<T: BinaryInteger>(_ v: T, _ digits: Int) -> String {
    FieldValue.hex(Int(v), digits: digits).text
}

extension Dissection {
    /// The one-line description of the packet.
    public var summary: String {
        var parts = layers.map(\.layer.summary)
        if let error { parts.append("[malformed: \(error)]") }
        return parts.joined(separator: ", ")
    }

    /// The field tree, indented by `indent` spaces.
    /// `baseOffset` is added to every layer's offset, so a caller can count from the start of the frame.
    public func treeLines(indent: Int = 0, baseOffset: Int = 0) -> [String] {
        var lines: [String] = []
        let pad = String(repeating: " ", count: indent)
        for l in layers {
            lines.append("\(pad)\(l.layer.name) (offset \(baseOffset + l.offset), \(l.length) bytes)")
            appendTree(l.layer.fields, indent: indent + 2, to: &lines)
        }
        if let error { lines.append("\(pad)malformed: \(error)") }
        return lines
    }

    public var json: JSONValue {
        .array(layers.map(\.layer.json))
    }
}

/// Appends `fields` as tree lines: scalars as `key: value`, groups and lists of groups as indented children.
public func appendTree(_ fields: [Field], indent: Int, to lines: inout [String]) {
    let pad = String(repeating: " ", count: indent)
    for f in fields {
        switch f.value {
        case .group(let children):
            lines.append("\(pad)\(f.key):")
            appendTree(children, indent: indent + 2, to: &lines)
        case .list(let items) where items.contains(where: { if case .group = $0 { true } else { false } }):
            lines.append("\(pad)\(f.key):\(items.isEmpty ? " (none)" : "")")
            for item in items {
                if case .group(let children) = item {
                    var sub: [String] = []
                    appendTree(children, indent: indent + 4, to: &sub)
                    if let first = sub.first {
                        sub[0] = pad + "  - " + first.drop(while: { $0 == " " })
                    }
                    lines += sub
                } else {
                    lines.append("\(pad)  - \(item.text)")
                }
            }
        case .list(let items) where items.isEmpty:
            lines.append("\(pad)\(f.key): (none)")
        default:
            lines.append("\(pad)\(f.key): \(f.value.text)")
        }
    }
}
