import IPsecWire

/// Generates well-formed IP packets of every shape the parsers and the data plane care about — IPv4 with options,
/// IPv6 with extension headers, TCP with options, UDP (NAT-T included), ICMP and ICMPv6, IP-in-IP — with lengths and
/// checksums right. Seeds the corpora and feeds the encapsulation round trip.
enum PacketFactory {
    static let v4Hosts: [[UInt8]] = [[192, 0, 2, 1], [198, 51, 100, 2], [10, 0, 0, 1], [10, 0, 0, 2], [203, 0, 113, 9]]
    static let v6Hosts: [[UInt8]] = [
        [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
        [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42],
    ]

    struct Shape {
        var version: IPVersion
        var source: [UInt8]
        var destination: [UInt8]
        /// IPv4 options or IPv6 extension headers.
        var extras = false
        /// What the IP header carries: 1, 6, 17, 58, 4, 41 or anything else (then raw bytes).
        var upper: UInt8 = 17
        var payloadLength = 16
        var natT = false
        var fragment = false
    }

    /// A random shape between the given endpoints (nil: any of the documentation hosts).
    static func randomShape(_ r: inout FuzzRandom, version: IPVersion? = nil, source: [UInt8]? = nil,
                            destination: [UInt8]? = nil) -> Shape {
        let v = version ?? (r.chance(1, in: 2) ? .v4 : .v6)
        let hosts = v == .v4 ? v4Hosts : v6Hosts
        var s = Shape(version: v, source: source ?? r.element(of: hosts), destination: destination ?? r.element(of: hosts))
        s.extras = r.chance(1, in: 3)
        s.upper = r.element(of: [17, 17, 6, 6, v == .v4 ? 1 : 58, 4, 41, 253, 59])
        s.payloadLength = [0, 1, 4, 16, 33, 100, 200][r.below(7)]
        s.natT = s.upper == 17 && r.chance(1, in: 4)
        s.fragment = r.chance(1, in: 12)
        return s
    }

    static func packet(_ shape: Shape, _ r: inout FuzzRandom, depth: Int = 0) -> [UInt8] {
        var body = upper(shape, &r, depth: depth)
        var proto = shape.upper
        if proto == 59 { body = [] }
        var out: [UInt8]
        switch shape.version {
        case .v4:
            let options = shape.extras ? HeaderGenerator.ipv4Options(&r) : []
            let flags: UInt16 = shape.fragment ? 0x2000 : (r.chance(1, in: 2) ? 0x4000 : 0)
            out = [0x40 | UInt8((20 + options.count) / 4), UInt8(r.below(4)) << 2 | UInt8(r.below(4)), 0, 0,
                   r.byte(), r.byte(), UInt8(flags >> 8), UInt8(flags & 0xff), 64, proto, 0, 0]
            out += shape.source + shape.destination + options
        case .v6:
            var chain: [UInt8] = []
            if shape.extras || shape.fragment {
                var kinds: [UInt8] = shape.extras ? r.element(of: [[0], [60], [0, 60], [43], [0, 43, 60], [60, 43]]) : []
                if shape.fragment { kinds.append(44) }
                for (i, kind) in kinds.enumerated().reversed() {
                    let next = i == kinds.count - 1 ? proto : kinds[i + 1]
                    chain = HeaderGenerator.extensionHeader(kind, next: next, &r) + chain
                }
                if shape.fragment {
                    // A first fragment: offset 0, more fragments.
                    let f = chain.count - 8
                    chain[f + 2] = 0
                    chain[f + 3] = 1
                }
                proto = kinds[0]
            }
            let flow = UInt32(r.below(1 << 20))
            out = [0x60 | UInt8(r.below(4)), UInt8(truncatingIfNeeded: flow >> 16) & 0x0f,
                   UInt8(truncatingIfNeeded: flow >> 8), UInt8(truncatingIfNeeded: flow), 0, 0, proto, 64]
            out += shape.source + shape.destination + chain
        }
        out += body
        PacketMap.fixUp(&out)
        return out
    }

    static func upper(_ shape: Shape, _ r: inout FuzzRandom, depth: Int) -> [UInt8] {
        let payload = (0..<shape.payloadLength).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        switch shape.upper {
        case 17:
            let port: [UInt8] = shape.natT ? [0x11, 0x94] : [0x13, 0x89]
            var udp: [UInt8] = port + [0x00, 0x35, 0, 0, 0, 0]
            if shape.natT {
                switch r.below(3) {
                case 0: udp += [0xff]
                case 1: udp += [0, 0, 0, 0] + payload + [0x2e]
                default: udp += [0, 0, 0x50, 0x01, 0, 0, 0, 1] + payload
                }
            } else {
                udp += payload
            }
            return udp
        case 6:
            let options = r.chance(1, in: 2) ? HeaderGenerator.tcpOptions(&r) : []
            return [0x9c, 0x40, 0x01, 0xbb] + HeaderGenerator.word(r.next32()) + HeaderGenerator.word(0)
                + [UInt8((20 + options.count) / 4) << 4, 0x02, 0xff, 0xff, 0, 0, 0, 0] + options + payload
        case 1:
            return [8, 0, 0, 0, 0x12, 0x34, 0, 1] + payload
        case 58:
            return [128, 0, 0, 0, 0x12, 0x34, 0, 1] + payload
        case 4 where depth < 2, 41 where depth < 2:
            var inner = randomShape(&r, version: shape.upper == 4 ? .v4 : .v6)
            inner.upper = r.element(of: [17, 6, inner.version == .v4 ? 1 : 58])
            return packet(inner, &r, depth: depth + 1)
        default:
            return payload
        }
    }

    /// A handful of packets of every shape, deterministic: the base of the parser targets' seeds.
    static func sampler(count: Int, seed: UInt64) -> [[UInt8]] {
        var r = FuzzRandom(seed: seed)
        return (0..<count).map { _ in packet(randomShape(&r), &r) }
    }
}

extension FuzzRandom {
    mutating func next32() -> UInt32 { UInt32(truncatingIfNeeded: next()) }
}
