import IPsecWire

/// A lenient map of the fields and regions of an IP packet, for structure-aware mutation.
///
/// Unlike the parsers in IPsecWire, which refuse anything malformed, the map goes as far as the bytes allow and
/// records where each field is (a length, a next header, a checksum, an SPI, …) and which byte ranges are option
/// areas, extension headers or payload. It never traps, whatever the bytes. `fixUp` uses the map to make lengths and
/// checksums agree with the bytes again after a mutation, so a mutant gets past the first sanity checks and reaches
/// the code behind them.
struct PacketMap {
    enum FieldKind: Equatable {
        /// The first byte of an IP header: version (and for IPv4 the header length).
        case ipVersion
        /// A length field (of the field's width) whose consistent value is `covering`.
        case length(covering: Int)
        /// A one-byte length in `unit`s, consistent when `value * unit - bias == covering` (IPv6 extension headers:
        /// unit 8, bias -8; AH: unit 4, bias -8).
        case length8(covering: Int, unit: Int, bias: Int)
        /// TCP's data offset nibble, consistent when it is `covering / 4`.
        case dataOffset(covering: Int)
        case nextHeader
        case checksum
        case spi
        case sequence
        case port
        case flags
        case hopLimit
        /// A 4- or 16-byte address; mutated by copying another address of the packet or a known endpoint.
        case address
        /// Any other byte worth a random or boundary value (types, codes, routing type, segments left, pad length).
        case other
    }

    struct Field: Equatable {
        var offset: Int
        var width: Int
        var kind: FieldKind
        /// Capture files store their fields in the writer's byte order; packets are big-endian.
        var littleEndian = false
    }

    enum RegionKind: Equatable {
        case ipv4Options
        case tcpOptions
        /// The option area of a Hop-by-Hop or Destination Options header.
        case ipv6Options
        /// A whole IPv6 extension header; `link` is the offset of the byte that announces it.
        case extensionHeader(link: Int)
        case payload
        case icv
    }

    struct Region: Equatable {
        var range: Range<Int>
        var kind: RegionKind
        /// The offset of the header the region belongs to.
        var header: Int
    }

    /// Headers whose lengths and checksums `fixUp` maintains.
    enum Layer: Equatable {
        case ipv4(at: Int)
        /// `link` is the offset of the byte announcing what follows the fixed header (6), for inserting headers.
        case ipv6(at: Int)
        case udp(at: Int, ip: Int)
        case tcp(at: Int, ip: Int)
        case icmpv4(at: Int)
        case icmpv6(at: Int, ip: Int)
        case ah(at: Int)
        case extensionHeader(at: Int)
    }

    private(set) var fields: [Field] = []
    private(set) var regions: [Region] = []
    private(set) var layers: [Layer] = []
    let count: Int

    /// How deep tunnels inside tunnels are followed.
    static let maximumDepth = 4

    init(_ bytes: [UInt8], start: Int = 0) {
        count = bytes.count
        var walker = Walker(bytes: bytes)
        walker.ip(at: start, depth: 0)
        fields = walker.fields
        regions = walker.regions
        layers = walker.layers
    }

    private struct Walker {
        let bytes: [UInt8]
        var fields: [Field] = []
        var regions: [Region] = []
        var layers: [Layer] = []

        var n: Int { bytes.count }

        mutating func field(_ offset: Int, _ width: Int, _ kind: FieldKind) {
            guard offset >= 0, offset + width <= n else { return }
            fields.append(Field(offset: offset, width: width, kind: kind))
        }

        mutating func ip(at o: Int, depth: Int) {
            guard depth <= PacketMap.maximumDepth, o < n else { return }
            switch bytes[o] >> 4 {
            case 4: ipv4(at: o, depth: depth)
            case 6: ipv6(at: o, depth: depth)
            default: regions.append(Region(range: o..<n, kind: .payload, header: o))
            }
        }

        mutating func ipv4(at o: Int, depth: Int) {
            guard o + 20 <= n else { return }
            field(o, 1, .ipVersion)
            field(o + 1, 1, .other)
            field(o + 2, 2, .length(covering: n - o))
            field(o + 6, 2, .flags)
            field(o + 8, 1, .hopLimit)
            field(o + 9, 1, .nextHeader)
            field(o + 10, 2, .checksum)
            field(o + 12, 4, .address)
            field(o + 16, 4, .address)
            layers.append(.ipv4(at: o))
            let ihl = Int(bytes[o] & 0x0f) * 4
            guard ihl >= 20 else { return }
            let end = min(o + ihl, n)
            regions.append(Region(range: (o + 20)..<max(o + 20, end), kind: .ipv4Options, header: o))
            guard o + ihl <= n else { return }
            upper(bytes[o + 9], at: o + ihl, ip: o, depth: depth)
        }

        mutating func ipv6(at o: Int, depth: Int) {
            guard o + 40 <= n else { return }
            field(o, 1, .ipVersion)
            field(o + 1, 1, .other)
            field(o + 4, 2, .length(covering: n - o - 40))
            field(o + 6, 1, .nextHeader)
            field(o + 7, 1, .hopLimit)
            field(o + 8, 16, .address)
            field(o + 24, 16, .address)
            layers.append(.ipv6(at: o))
            chain(bytes[o + 6], link: o + 6, at: o + 40, ip: o, depth: depth)
        }

        /// Walks IPv6 extension headers from `p`, whose protocol is announced by the byte at `link`.
        mutating func chain(_ first: UInt8, link: Int, at start: Int, ip: Int, depth: Int) {
            var next = first, link = link, p = start
            var walked = 0
            while [0, 43, 44, 60].contains(next), walked < 24 {
                guard p + 8 <= n else {
                    regions.append(Region(range: p..<n, kind: .payload, header: p))
                    return
                }
                let length = next == 44 ? 8 : (Int(bytes[p + 1]) + 1) * 8
                field(p, 1, .nextHeader)
                if next != 44 { field(p + 1, 1, .length8(covering: min(length, n - p), unit: 8, bias: -8)) }
                switch next {
                case 43:
                    field(p + 2, 1, .other)
                    field(p + 3, 1, .other)
                case 44:
                    field(p + 2, 2, .flags)
                    field(p + 4, 4, .other)
                default:
                    if p + 2 < min(p + length, n) {
                        regions.append(Region(range: (p + 2)..<min(p + length, n), kind: .ipv6Options, header: p))
                    }
                }
                regions.append(Region(range: p..<min(p + length, n), kind: .extensionHeader(link: link), header: p))
                layers.append(.extensionHeader(at: p))
                guard p + length <= n else { return }
                next = bytes[p]
                link = p
                p += length
                walked += 1
            }
            upper(next, at: p, ip: ip, depth: depth)
        }

        mutating func upper(_ proto: UInt8, at p: Int, ip: Int, depth: Int) {
            guard p <= n else { return }
            switch proto {
            case 6 where p + 20 <= n:
                field(p, 2, .port)
                field(p + 2, 2, .port)
                field(p + 4, 4, .sequence)
                field(p + 8, 4, .sequence)
                field(p + 12, 1, .dataOffset(covering: min(n - p, 60)))
                field(p + 13, 1, .flags)
                field(p + 16, 2, .checksum)
                field(p + 18, 2, .length(covering: n - p))
                layers.append(.tcp(at: p, ip: ip))
                let offset = Int(bytes[p + 12] >> 4) * 4
                if offset >= 20 {
                    regions.append(Region(range: (p + 20)..<min(p + offset, n), kind: .tcpOptions, header: p))
                    if p + offset < n { regions.append(Region(range: (p + offset)..<n, kind: .payload, header: p)) }
                }
            case 17 where p + 8 <= n:
                field(p, 2, .port)
                field(p + 2, 2, .port)
                field(p + 4, 2, .length(covering: n - p))
                field(p + 6, 2, .checksum)
                layers.append(.udp(at: p, ip: ip))
                let ports = [UInt16(bytes[p]) << 8 | UInt16(bytes[p + 1]), UInt16(bytes[p + 2]) << 8 | UInt16(bytes[p + 3])]
                if ports.contains(4500), p + 16 <= n, bytes[(p + 8)..<(p + 12)] != [0, 0, 0, 0] {
                    field(p + 8, 4, .spi)
                    field(p + 12, 4, .sequence)
                    regions.append(Region(range: (p + 16)..<n, kind: .payload, header: p + 8))
                } else if p + 8 < n {
                    regions.append(Region(range: (p + 8)..<n, kind: .payload, header: p))
                }
            case 1 where p + 8 <= n, 58 where p + 8 <= n:
                field(p, 1, .other)
                field(p + 1, 1, .other)
                field(p + 2, 2, .checksum)
                layers.append(proto == 1 ? .icmpv4(at: p) : .icmpv6(at: p, ip: ip))
                if p + 8 < n { regions.append(Region(range: (p + 8)..<n, kind: .payload, header: p)) }
            case 50 where p + 8 <= n:
                field(p, 4, .spi)
                field(p + 4, 4, .sequence)
                if p + 8 < n { regions.append(Region(range: (p + 8)..<n, kind: .payload, header: p)) }
            case 51 where p + 12 <= n:
                let length = (Int(bytes[p + 1]) + 2) * 4
                field(p, 1, .nextHeader)
                field(p + 1, 1, .length8(covering: min(length, n - p), unit: 4, bias: -8))
                field(p + 2, 2, .other)
                field(p + 4, 4, .spi)
                field(p + 8, 4, .sequence)
                layers.append(.ah(at: p))
                if p + 12 < min(p + length, n) {
                    regions.append(Region(range: (p + 12)..<min(p + length, n), kind: .icv, header: p))
                }
                guard p + length <= n else { return }
                if bytes[ip] >> 4 == 6 {
                    chain(bytes[p], link: p, at: p + length, ip: ip, depth: depth)
                } else {
                    upper(bytes[p], at: p + length, ip: ip, depth: depth)
                }
            case 108 where p + 4 <= n:
                field(p, 1, .nextHeader)
                field(p + 1, 1, .flags)
                field(p + 2, 2, .other)
                if p + 4 < n { regions.append(Region(range: (p + 4)..<n, kind: .payload, header: p)) }
            case 4, 41:
                self.ip(at: p, depth: depth + 1)
            default:
                if p < n { regions.append(Region(range: p..<n, kind: .payload, header: p)) }
            }
        }
    }

    // MARK: - Fix-ups

    /// Makes every length and checksum the map knows agree with the bytes: IPv4 total length and header checksum,
    /// IPv6 payload length, UDP length, and the UDP, TCP and ICMP checksums. Each packet is taken to run to the end
    /// of the buffer (tunnelled packets are always the tail of their carrier). The bytes in `preserving` are left as
    /// they are, so a deliberately wrong field survives the repair of the others.
    static func fixUp(_ bytes: inout [UInt8], start: Int = 0, preserving: Range<Int>? = nil) {
        let map = PacketMap(bytes, start: start)
        let n = bytes.count
        func writable(_ offset: Int, _ width: Int) -> Bool {
            guard offset >= 0, offset + width <= n else { return false }
            guard let p = preserving else { return true }
            return !p.overlaps(offset..<(offset + width))
        }
        func set16(_ offset: Int, _ value: Int) {
            guard writable(offset, 2) else { return }
            bytes[offset] = UInt8(truncatingIfNeeded: value >> 8)
            bytes[offset + 1] = UInt8(truncatingIfNeeded: value)
        }
        // Lengths first: the checksums cover them.
        for layer in map.layers {
            switch layer {
            case .ipv4(let o): set16(o + 2, min(n - o, 65535))
            case .ipv6(let o): set16(o + 4, min(n - o - 40, 65535))
            case .udp(let p, _): set16(p + 4, min(n - p, 65535))
            default: break
            }
        }
        // Then checksums, innermost first, since an outer checksum may cover an inner one.
        for layer in map.layers.reversed() {
            switch layer {
            case .ipv4(let o):
                let ihl = Int(bytes[o] & 0x0f) * 4
                guard ihl >= 20, o + ihl <= n, writable(o + 10, 2) else { continue }
                set16(o + 10, 0)
                set16(o + 10, Int(InternetChecksum.compute(bytes[o..<(o + ihl)])))
            case .udp(let p, let ip):
                guard writable(p + 6, 2), let pseudo = pseudoHeader(bytes, ip: ip, proto: 17, length: n - p) else {
                    continue
                }
                set16(p + 6, 0)
                var c = pseudo.checksum(over: bytes[p...])
                if c == 0 { c = 0xffff }  // RFC 768: a computed zero is sent as all ones
                set16(p + 6, Int(c))
            case .tcp(let p, let ip):
                guard writable(p + 16, 2), let pseudo = pseudoHeader(bytes, ip: ip, proto: 6, length: n - p) else {
                    continue
                }
                set16(p + 16, 0)
                set16(p + 16, Int(pseudo.checksum(over: bytes[p...])))
            case .icmpv4(let p):
                guard writable(p + 2, 2) else { continue }
                set16(p + 2, 0)
                set16(p + 2, Int(InternetChecksum.compute(bytes[p...])))
            case .icmpv6(let p, let ip):
                guard writable(p + 2, 2), let pseudo = pseudoHeader(bytes, ip: ip, proto: 58, length: n - p) else {
                    continue
                }
                set16(p + 2, 0)
                set16(p + 2, Int(pseudo.checksum(over: bytes[p...])))
            default:
                break
            }
        }
    }

    static func pseudoHeader(_ bytes: [UInt8], ip o: Int, proto: UInt8, length: Int) -> PseudoHeader? {
        guard o < bytes.count else { return nil }
        if bytes[o] >> 4 == 4, o + 20 <= bytes.count {
            let s = IPv4Address(rawValue: word32(bytes, o + 12)), d = IPv4Address(rawValue: word32(bytes, o + 16))
            return .ipv4(source: s, destination: d, protocol: IPProtocol(proto),
                         length: UInt16(truncatingIfNeeded: length))
        }
        if bytes[o] >> 4 == 6, o + 40 <= bytes.count,
           let s = IPv6Address(bytes: bytes[(o + 8)..<(o + 24)]), var d = IPv6Address(bytes: bytes[(o + 24)..<(o + 40)]) {
            // RFC 8200 §8.1: with a Routing header not yet exhausted, the pseudo-header has the final destination.
            if let chain = try? IPv6ExtensionChain.walk(firstHeader: IPProtocol(bytes[o + 6]), bytes: bytes[(o + 40)...]) {
                for case .routing(let r) in chain.headers where r.segmentsLeft > 0 {
                    if let final = r.finalDestination() { d = final }
                }
            }
            return .ipv6(source: s, destination: d, nextHeader: IPProtocol(proto),
                         length: UInt32(truncatingIfNeeded: length))
        }
        return nil
    }

    static func word32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }
}
