import IPsecWire

/// What a plaintext packet of a case looks like; the minimiser makes it smaller and plainer while a disagreement
/// stays. The bytes themselves (addresses, ports, payload) come from the case's own random stream.
public struct PacketShape: Hashable, Sendable, CustomStringConvertible {
    public enum Transport: String, Hashable, Sendable { case udp, tcp, icmp }

    public var version: IPVersion
    public var transport: Transport
    public var payloadLength: Int
    /// IPv4: Router Alert, Record Route (one empty slot), NOP, EOL. IPv6: Hop-by-Hop (Router Alert and a mutable
    /// option) and Destination Options.
    public var optionsOrExtensions: Bool

    public var description: String {
        "IPv\(version == .v4 ? 4 : 6) \(transport.rawValue) payload \(payloadLength)"
            + (optionsOrExtensions ? (version == .v4 ? " +options" : " +extension headers") : "")
    }
}

/// Builds the plaintext packets of the campaigns: checksums right, fields random but valid.
enum DiffPacket {
    /// Addresses for one family: transport-mode packets use the SA's, tunnel-mode inner packets their own.
    static func build(_ shape: PacketShape, source: [UInt8], destination: [UInt8], random r: inout DiffRandom,
                      avoidPorts: Set<UInt16> = []) -> [UInt8] {
        let data = r.bytes(shape.payloadLength)
        func port() -> UInt16 {
            while true {
                let p = UInt16(1024 + r.below(64000))
                if !avoidPorts.contains(p) { return p }
            }
        }
        var l4: [UInt8]
        let proto: UInt8
        switch shape.transport {
        case .udp:
            proto = 17
            let (s, d) = (port(), port())
            let n = 8 + data.count
            l4 = [UInt8(s >> 8), UInt8(s & 0xff), UInt8(d >> 8), UInt8(d & 0xff), UInt8(n >> 8), UInt8(n & 0xff), 0, 0]
                + data
        case .tcp:
            proto = 6
            let (s, d) = (port(), UInt16(443))
            l4 = [UInt8(s >> 8), UInt8(s & 0xff), UInt8(d >> 8), UInt8(d & 0xff)] + r.bytes(8)
                + [0x50, 0x18, 0xfa, 0xf0, 0, 0, 0, 0] + data
        case .icmp:
            proto = shape.version == .v4 ? 1 : 58
            l4 = [shape.version == .v4 ? 8 : 128, 0, 0, 0] + r.bytes(4) + data
        }
        let ttl = UInt8(2 + r.below(250))
        let tos = r.byte()
        var sum = InternetChecksum()
        if proto != 1 {  // ICMPv4 has no pseudo-header
            sum.add(source)
            sum.add(destination)
            if shape.version == .v4 {
                sum.add(UInt16(proto))
                sum.add(UInt16(l4.count))
            } else {
                sum.add(UInt32(l4.count))
                sum.add(UInt32(proto))
            }
        }
        sum.add(l4)
        var c = sum.value
        if proto == 17 && c == 0 { c = 0xffff }
        let at = proto == 17 ? 6 : (proto == 6 ? 16 : 2)
        l4[at] = UInt8(c >> 8)
        l4[at + 1] = UInt8(c & 0xff)

        switch shape.version {
        case .v4:
            let options: [UInt8] = shape.optionsOrExtensions ? [148, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0] : []
            let total = 20 + options.count + l4.count
            let id = UInt16(truncatingIfNeeded: r.next())
            var h: [UInt8] = [UInt8(0x40 | (20 + options.count) / 4), tos, UInt8(total >> 8), UInt8(total & 0xff),
                              UInt8(id >> 8), UInt8(id & 0xff), r.chance(1, in: 2) ? 0x40 : 0, 0, ttl, proto, 0, 0]
                + source + destination + options
            setIPv4Checksum(&h)
            return h + l4
        case .v6:
            let flow = UInt32(truncatingIfNeeded: r.next()) & 0xfffff
            var ext: [UInt8] = []
            var first = proto
            if shape.optionsOrExtensions {
                // Hop-by-Hop: Router Alert, an option of type 0x3e (may change en route), PadN; Destination Options
                // with an option of type 0x1e.
                ext = [60, 1, 5, 2, 0, 0, 0x3e, 6] + r.bytes(6) + [1, 0] + [proto, 0, 0x1e, 4] + r.bytes(4)
                first = 0
            }
            let plen = ext.count + l4.count
            let h: [UInt8] = [0x60 | tos >> 4, (tos & 0x0f) << 4 | UInt8(flow >> 16), UInt8((flow >> 8) & 0xff),
                              UInt8(flow & 0xff), UInt8(plen >> 8), UInt8(plen & 0xff), first, ttl] + source + destination
            return h + ext + l4
        }
    }

    static func setIPv4Checksum(_ p: inout [UInt8]) {
        let ihl = Int(p[0] & 0x0f) * 4
        p[10] = 0
        p[11] = 0
        let c = InternetChecksum.compute(p[0..<ihl])
        p[10] = UInt8(c >> 8)
        p[11] = UInt8(c & 0xff)
    }

    /// Sets the IP (and, for ESP in UDP, the UDP) length fields to the packet's length after a truncation or an
    /// extension, and the IPv4 header checksum, so that only the IPsec part is wrong. `udpEncapsulation`: the UDP
    /// header in front of ESP (RFC 3948) gets its length (and, over IPv6, its checksum) fixed too.
    static func fixLengths(_ p: inout [UInt8], udpEncapsulation: Bool = false) {
        guard let first = p.first else { return }
        if first >> 4 == 4, p.count >= 20 {
            p[2] = UInt8((p.count >> 8) & 0xff)
            p[3] = UInt8(p.count & 0xff)
            let ihl = Int(p[0] & 0x0f) * 4
            if udpEncapsulation, p[9] == 17, p.count >= ihl + 8 {
                let n = p.count - ihl
                p[ihl + 4] = UInt8((n >> 8) & 0xff)
                p[ihl + 5] = UInt8(n & 0xff)
                p[ihl + 6] = 0
                p[ihl + 7] = 0
            }
            setIPv4Checksum(&p)
        } else if first >> 4 == 6, p.count >= 40 {
            let n = p.count - 40
            p[4] = UInt8((n >> 8) & 0xff)
            p[5] = UInt8(n & 0xff)
            let (off, proto) = ipsecOffset(p)
            if udpEncapsulation, proto == 17, p.count >= off + 8 {
                let m = p.count - off
                p[off + 4] = UInt8((m >> 8) & 0xff)
                p[off + 5] = UInt8(m & 0xff)
                // An IPv6 UDP checksum of zero is allowed for ESP in UDP only by RFC 6936 rules; recompute instead.
                p[off + 6] = 0
                p[off + 7] = 0
                var c = InternetChecksum()
                c.add(p[8..<40])
                c.add(UInt32(m))
                c.add(UInt32(17))
                c.add(p[off...])
                let v = c.value == 0 ? 0xffff : c.value
                p[off + 6] = UInt8(v >> 8)
                p[off + 7] = UInt8(v & 0xff)
            }
        }
    }

    /// The offset of the first header after the IP header and the IPv6 extension headers that precede ESP or AH
    /// (Hop-by-Hop, Routing, Destination Options), and its protocol number.
    static func ipsecOffset(_ p: [UInt8]) -> (Int, UInt8) {
        guard let first = p.first else { return (0, 0) }
        if first >> 4 == 4 { return p.count >= 20 ? (Int(p[0] & 0x0f) * 4, p[9]) : (0, 0) }
        guard p.count >= 40 else { return (0, 0) }
        var nh = p[6], off = 40
        while nh == 0 || nh == 43 || nh == 60, off + 2 <= p.count {
            let next = p[off]
            off += (Int(p[off + 1]) + 1) * 8
            nh = next
        }
        return (min(off, p.count), nh)
    }

    static func hex(_ bytes: some Collection<UInt8>) -> String { hexString(bytes) }

    static func unhex(_ text: String) -> [UInt8]? { bytes(fromHex: text) }
}
