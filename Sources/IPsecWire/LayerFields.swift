// What the printers show of each layer. Keys are the JSON names (snake_case) and stay stable: scripts and the scapy
// differential test read them.

extension Layer {
    /// The layer's JSON name.
    public var key: String {
        switch self {
        case .ipv4: "ipv4"
        case .ipv6: "ipv6"
        case .ipv6Extension(let h):
            switch h {
            case .hopByHop: "ipv6_hop_by_hop"
            case .routing: "ipv6_routing"
            case .fragment: "ipv6_fragment"
            case .destinationOptions: "ipv6_destination_options"
            }
        case .udp: "udp"
        case .tcp: "tcp"
        case .icmpv4: "icmpv4"
        case .icmpv6: "icmpv6"
        case .esp: "esp"
        case .ah: "ah"
        case .ipcomp: "ipcomp"
        case .natKeepalive: "nat_keepalive"
        case .nonESPMarker: "non_esp_marker"
        case .payload: "payload"
        }
    }

    /// The layer's display name.
    public var name: String {
        switch self {
        case .ipv4: "IPv4"
        case .ipv6: "IPv6"
        case .ipv6Extension(let h):
            switch h {
            case .hopByHop: "IPv6 Hop-by-Hop Options"
            case .routing: "IPv6 Routing"
            case .fragment: "IPv6 Fragment"
            case .destinationOptions: "IPv6 Destination Options"
            }
        case .udp: "UDP"
        case .tcp: "TCP"
        case .icmpv4: "ICMPv4"
        case .icmpv6: "ICMPv6"
        case .esp: "ESP"
        case .ah: "AH"
        case .ipcomp: "IPComp"
        case .natKeepalive: "NAT-keepalive"
        case .nonESPMarker: "Non-ESP marker"
        case .payload: "Payload"
        }
    }

    public var fields: [Field] {
        switch self {
        case let .ipv4(h, valid):
            return [
                Field("version", .int(4)),
                Field("header_length", .int(h.bufferLength)),
                Field("dscp", .int(Int(h.dscp))),
                Field("ecn", .int(Int(h.ecn))),
                Field("total_length", .int(Int(h.totalLength))),
                Field("identification", .hex(Int(h.identification), digits: 4)),
                Field("reserved_flag", .bool(h.reservedFlag)),
                Field("dont_fragment", .bool(h.dontFragment)),
                Field("more_fragments", .bool(h.moreFragments)),
                Field("fragment_offset", .int(Int(h.fragmentOffset))),
                Field("ttl", .int(Int(h.ttl))),
                Field("protocol", .int(Int(h.protocol.rawValue))),
                Field("protocol_name", .string(h.protocol.name)),
                Field("checksum", .hex(Int(h.headerChecksum), digits: 4)),
                Field("checksum_valid", .bool(valid)),
                Field("source", .string(h.source.description)),
                Field("destination", .string(h.destination.description)),
                Field("options", .list(h.options.map { .group(Self.fields(of: $0)) })),
            ]
        case let .ipv6(h):
            return [
                Field("version", .int(6)),
                Field("traffic_class", .hex(Int(h.trafficClass), digits: 2)),
                Field("flow_label", .hex(Int(h.flowLabel), digits: 5)),
                Field("payload_length", .int(Int(h.payloadLength))),
                Field("next_header", .int(Int(h.nextHeader.rawValue))),
                Field("next_header_name", .string(h.nextHeader.name)),
                Field("hop_limit", .int(Int(h.hopLimit))),
                Field("source", .string(h.source.description)),
                Field("destination", .string(h.destination.description)),
            ]
        case let .ipv6Extension(e):
            var f = [
                Field("next_header", .int(Int(e.nextHeader.rawValue))),
                Field("header_length", .int(e.bufferLength)),
            ]
            switch e {
            case .hopByHop(let h), .destinationOptions(let h):
                f.append(Field("options", .list(h.options.map { .group(Self.fields(of: $0)) })))
            case .routing(let r):
                f.append(Field("routing_type", .int(Int(r.routingType))))
                f.append(Field("segments_left", .int(Int(r.segmentsLeft))))
                if let sr = r.segmentRouting {
                    f.append(Field("last_entry", .int(Int(sr.lastEntry))))
                    f.append(Field("flags", .hex(Int(sr.flags), digits: 2)))
                    f.append(Field("tag", .hex(Int(sr.tag), digits: 4)))
                }
                if let rpl = r.rpl {
                    f.append(Field("cmpr_i", .int(Int(rpl.cmprI))))
                    f.append(Field("cmpr_e", .int(Int(rpl.cmprE))))
                    f.append(Field("pad", .int(Int(rpl.pad))))
                }
                if let addresses = r.addresses {
                    f.append(Field("addresses", .list(addresses.map { .string($0.description) })))
                } else {
                    f.append(Field("data", .bytes(r.data)))
                }
            case .fragment(let h):
                f.append(Field("fragment_offset", .int(Int(h.fragmentOffset))))
                f.append(Field("more_fragments", .bool(h.moreFragments)))
                f.append(Field("identification", .hex(Int(h.identification), digits: 8)))
            }
            return f
        case let .udp(h, valid):
            return [
                Field("source_port", .int(Int(h.sourcePort))),
                Field("destination_port", .int(Int(h.destinationPort))),
                Field("length", .int(Int(h.length))),
                Field("checksum", .hex(Int(h.checksum), digits: 4)),
                Field("checksum_valid", Self.checksumVerdict(valid)),
            ]
        case let .tcp(h, valid):
            return [
                Field("source_port", .int(Int(h.sourcePort))),
                Field("destination_port", .int(Int(h.destinationPort))),
                Field("sequence_number", .int(Int(h.sequenceNumber))),
                Field("acknowledgment_number", .int(Int(h.acknowledgmentNumber))),
                Field("data_offset", .int(Int(h.dataOffset))),
                Field("flags", .hex(Int(h.flags.rawValue), digits: 2)),
                Field("flag_names", .string(h.flags.description)),
                Field("window", .int(Int(h.window))),
                Field("checksum", .hex(Int(h.checksum), digits: 4)),
                Field("checksum_valid", Self.checksumVerdict(valid)),
                Field("urgent_pointer", .int(Int(h.urgentPointer))),
                Field("options", .list(h.options.map { .group(Self.fields(of: $0)) })),
            ]
        case let .icmpv4(h, valid):
            return [
                Field("type", .int(Int(h.type))),
                Field("type_name", .string(h.name)),
                Field("code", .int(Int(h.code))),
                Field("checksum", .hex(Int(h.checksum), digits: 4)),
                Field("checksum_valid", Self.checksumVerdict(valid)),
                Field("rest_of_header", .hex(Int(h.restOfHeader), digits: 8)),
            ]
        case let .icmpv6(h, valid):
            return [
                Field("type", .int(Int(h.type))),
                Field("type_name", .string(h.name)),
                Field("code", .int(Int(h.code))),
                Field("checksum", .hex(Int(h.checksum), digits: 4)),
                Field("checksum_valid", Self.checksumVerdict(valid)),
                Field("rest_of_header", .hex(Int(h.restOfHeader), digits: 8)),
            ]
        case let .esp(h, protectedLength):
            return [
                Field("spi", .hex(Int(h.spi), digits: 8)),
                Field("sequence_number", .int(Int(h.sequenceNumber))),
                Field("protected_length", .int(protectedLength)),
            ]
        case let .ah(h):
            return [
                Field("next_header", .int(Int(h.nextHeader.rawValue))),
                Field("next_header_name", .string(h.nextHeader.name)),
                Field("payload_length", .int(Int(h.payloadLength))),
                Field("header_length", .int(h.bufferLength)),
                Field("spi", .hex(Int(h.spi), digits: 8)),
                Field("sequence_number", .int(Int(h.sequenceNumber))),
                Field("icv", .bytes(h.icv)),
            ]
        case let .ipcomp(h, compressedLength):
            return [
                Field("next_header", .int(Int(h.nextHeader.rawValue))),
                Field("next_header_name", .string(h.nextHeader.name)),
                Field("flags", .int(Int(h.flags))),
                Field("cpi", .int(Int(h.cpi))),
                Field("cpi_name", .string(h.name)),
                Field("compressed_length", .int(compressedLength)),
            ]
        case .natKeepalive:
            return []
        case let .nonESPMarker(ikeLength):
            return [Field("ike_length", .int(ikeLength))]
        case let .payload(proto, length):
            var f = [Field("length", .int(length))]
            if let proto {
                f.insert(Field("protocol", .int(Int(proto.rawValue))), at: 0)
                f.insert(Field("protocol_name", .string(proto.name)), at: 1)
            }
            return f
        }
    }

    /// true or false; "unchecked" when it cannot be checked (a zero UDP checksum over IPv4, a fragment).
    static func checksumVerdict(_ valid: Bool?) -> FieldValue {
        valid.map { FieldValue.bool($0) } ?? .string("unchecked")
    }

    static func fields(of option: IPv4Option) -> [Field] {
        var f = [Field("type", .int(Int(option.type)))]
        switch option {
        case .endOfOptionList(let padding):
            f.append(Field("name", .string("EOL")))
            if !padding.isEmpty { f.append(Field("padding", .bytes(padding))) }
        case .noOperation:
            f.append(Field("name", .string("NOP")))
        case let .recordRoute(pointer, route), let .looseSourceRoute(pointer, route),
             let .strictSourceRoute(pointer, route):
            let name = if case .recordRoute = option { "RR" } else if case .looseSourceRoute = option { "LSRR" } else { "SSRR" }
            f.append(Field("name", .string(name)))
            f.append(Field("pointer", .int(Int(pointer))))
            f.append(Field("route", .list(route.map { .string($0.description) })))
        case let .timestamp(pointer, overflow, flag, data):
            f.append(Field("name", .string("TS")))
            f.append(Field("pointer", .int(Int(pointer))))
            f.append(Field("overflow", .int(Int(overflow))))
            f.append(Field("flag", .int(Int(flag))))
            f.append(Field("data", .bytes(data)))
        case .routerAlert(let value):
            f.append(Field("name", .string("RTRALT")))
            f.append(Field("value", .int(Int(value))))
        case .unknown(_, let data):
            f.append(Field("data", .bytes(data)))
        }
        return f
    }

    static func fields(of option: IPv6Option) -> [Field] {
        var f = [Field("type", .int(Int(option.type)))]
        switch option {
        case .pad1:
            f.append(Field("name", .string("Pad1")))
        case .padN(let total):
            f.append(Field("name", .string("PadN")))
            f.append(Field("length", .int(total)))
        case .routerAlert(let value):
            f.append(Field("name", .string("RouterAlert")))
            f.append(Field("value", .int(Int(value))))
        case .unknown(_, let data):
            f.append(Field("data", .bytes(data)))
            f.append(Field("mutable_in_transit", .bool(option.isMutableInTransit)))
        }
        return f
    }

    static func fields(of option: TCPOption) -> [Field] {
        var f = [Field("kind", .int(Int(option.kind)))]
        switch option {
        case .endOfOptionList(let padding):
            f.append(Field("name", .string("EOL")))
            if !padding.isEmpty { f.append(Field("padding", .bytes(padding))) }
        case .noOperation:
            f.append(Field("name", .string("NOP")))
        case .maximumSegmentSize(let mss):
            f.append(Field("name", .string("MSS")))
            f.append(Field("value", .int(Int(mss))))
        case .windowScale(let shift):
            f.append(Field("name", .string("WS")))
            f.append(Field("shift", .int(Int(shift))))
        case .sackPermitted:
            f.append(Field("name", .string("SACK_PERM")))
        case .sack(let blocks):
            f.append(Field("name", .string("SACK")))
            f.append(Field("blocks", .list(blocks.map {
                .group([Field("left", .int(Int($0.leftEdge))), Field("right", .int(Int($0.rightEdge)))])
            })))
        case let .timestamps(value, echo):
            f.append(Field("name", .string("TS")))
            f.append(Field("value", .int(Int(value))))
            f.append(Field("echo_reply", .int(Int(echo))))
        case .unknown(_, let data):
            f.append(Field("data", .bytes(data)))
        }
        return f
    }
}
