import IPsecWire

/// The inner packets the generated vectors protect: UDP over IPv4 (optionally with options) or IPv6 (optionally with
/// extension headers), checksums right, contents deterministic.
enum PacketFactory {
    /// IPv4 options: Router Alert (immutable for AH, RFC 4302 Appendix A.1), Record Route with one empty slot
    /// (mutable: AH zeroes it), End of Options List. 12 bytes, so IHL = 8.
    static let ipv4Options: [UInt8] = [148, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0, 0]
    /// Offset of Record Route's first address slot within the header (20 + 4 + 3).
    static let recordRouteSlot = 27
    /// Offset of Router Alert's value within the header.
    static let routerAlertValue = 22

    /// IPv6 Hop-by-Hop (16 bytes): Router Alert (option type 5: may not change en route), an experimental option of
    /// type 0x3e (bit 0x20 set: may change en route, zeroed by AH), PadN. Then Destination Options (8 bytes, after
    /// the insertion point of transport mode, so protected as payload) with an option of type 0x1e.
    static func ipv6Extensions(upper: UInt8) -> [UInt8] {
        [60, 1, 5, 2, 0, 0, 0x3e, 6, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 1, 0]
            + [upper, 0, 0x1e, 4, 0xb1, 0xb2, 0xb3, 0xb4]
    }
    /// Offset of the mutable Hop-by-Hop option's data (40 + 8).
    static let hopByHopMutableData = 48
    /// Offset of the Router Alert value in the Hop-by-Hop header (40 + 4).
    static let hopByHopRouterAlert = 44

    static func payload(_ n: Int, salt: Int) -> [UInt8] {
        (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ salt &* 13 &+ 5) }
    }

    static func udp(version: IPVersion, source: [UInt8], destination: [UInt8], length n: Int, salt: Int = 0,
                    identification: UInt16 = 0x1c46, tos: UInt8 = 0, dontFragment: Bool = false, ttl: UInt8 = 64,
                    flowLabel: UInt32 = 0x5a5a5, options: Bool = false) -> [UInt8] {
        let data = payload(n, salt: salt)
        var udp: [UInt8] = [0x0f, 0xa0, 0x13, 0x88, UInt8((8 + n) >> 8), UInt8((8 + n) & 0xff), 0, 0] + data
        var c = InternetChecksum()
        c.add(source)
        c.add(destination)
        if version == .v4 {
            c.add(UInt16(17))
            c.add(UInt16(8 + n))
        } else {
            c.add(UInt32(8 + n))
            c.add(UInt32(17))
        }
        c.add(udp)
        let sum = c.value == 0 ? 0xffff : c.value
        udp[6] = UInt8(sum >> 8)
        udp[7] = UInt8(sum & 0xff)
        switch version {
        case .v4:
            let opts = options ? ipv4Options : []
            let ihl = (20 + opts.count) / 4
            let total = 20 + opts.count + udp.count
            var h: [UInt8] = [UInt8(0x40 | ihl), tos, UInt8(total >> 8), UInt8(total & 0xff),
                              UInt8(identification >> 8), UInt8(identification & 0xff), dontFragment ? 0x40 : 0, 0,
                              ttl, 17, 0, 0] + source + destination + opts
            setIPv4Checksum(&h)
            return h + udp
        case .v6:
            let ext = options ? ipv6Extensions(upper: 17) : []
            let plen = ext.count + udp.count
            let h: [UInt8] = [0x60 | tos >> 4, (tos & 0x0f) << 4 | UInt8((flowLabel >> 16) & 0x0f),
                              UInt8((flowLabel >> 8) & 0xff), UInt8(flowLabel & 0xff),
                              UInt8(plen >> 8), UInt8(plen & 0xff), options ? 0 : 17, ttl] + source + destination
            return h + ext + udp
        }
    }

    static func setIPv4Checksum(_ p: inout [UInt8]) {
        let ihl = Int(p[0] & 0x0f) * 4
        p[10] = 0
        p[11] = 0
        let sum = InternetChecksum.compute(p[0..<ihl])
        p[10] = UInt8(sum >> 8)
        p[11] = UInt8(sum & 0xff)
    }

    /// Sets the outer IP length fields (and the IPv4 checksum) to the packet's size.
    static func fixLengths(_ p: inout [UInt8]) {
        if p[0] >> 4 == 4 {
            p[2] = UInt8(p.count >> 8)
            p[3] = UInt8(p.count & 0xff)
            setIPv4Checksum(&p)
        } else {
            p[4] = UInt8((p.count - 40) >> 8)
            p[5] = UInt8((p.count - 40) & 0xff)
        }
    }

    /// Where the first ESP or AH header starts, walking IPv4's IHL or IPv6's extension headers.
    static func ipsecOffset(_ p: [UInt8]) -> Int {
        if p[0] >> 4 == 4 { return Int(p[0] & 0x0f) * 4 }
        var next = p[6]
        var offset = 40
        while next == 0 || next == 43 || next == 60 || next == 44 {
            let length = next == 44 ? 8 : (Int(p[offset + 1]) + 1) * 8
            next = p[offset]
            offset += length
        }
        return offset
    }
}

/// A deterministic byte stream (SplitMix64, as `IVSource.seeded`), for keys, IVs and identifications.
struct ByteStream {
    private var state: UInt64

    init(seed: UInt64, label: String) {
        // FNV-1a of the label, so every file has its own stream and adding a file changes no other.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in label.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        state = seed ^ h
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        while out.count < count {
            var w = next()
            for _ in 0..<8 where out.count < count {
                out.append(UInt8(truncatingIfNeeded: w))
                w >>= 8
            }
        }
        return out
    }
}
