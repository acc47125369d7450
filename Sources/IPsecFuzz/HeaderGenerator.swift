import IPsecWire

/// Generates the variable parts of headers — IPv4 options, TCP options, IPv6 options and extension headers — from
/// the specifications' catalogues, mostly well formed and sometimes deliberately not (a length of 0 or 1, a length
/// that runs past the area, an unknown type). Used to seed packets and to replace option areas when mutating.
enum HeaderGenerator {
    /// Protocol numbers a next-header field is worth trying: every one IPsecLab dissects, the IPv6 extension
    /// headers, IP-in-IP, No Next Header, and a few unassigned or experimental values.
    static let protocols: [UInt8] = [0, 1, 4, 6, 17, 41, 43, 44, 50, 51, 58, 59, 60, 108, 135, 139, 140, 253, 255]

    static func word(_ v: UInt32) -> [UInt8] {
        [UInt8(truncatingIfNeeded: v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8),
         UInt8(truncatingIfNeeded: v)]
    }

    static func randomBytes(_ n: Int, _ r: inout FuzzRandom) -> [UInt8] {
        (0..<max(n, 0)).map { _ in r.byte() }
    }

    // MARK: IPv4 options (RFC 791 §3.1, RFC 2113, RFC 1108)

    /// One IPv4 option; `valid` keeps lengths and pointers consistent.
    static func ipv4Option(_ r: inout FuzzRandom, valid: Bool) -> [UInt8] {
        var option: [UInt8]
        switch r.below(10) {
        case 0: return [0]
        case 1: return [1]
        case 2, 3:  // record route / loose / strict source route: type, length 3+4k, pointer
            let type = r.element(of: [7, 131, 137] as [UInt8])
            let k = 1 + r.below(4)
            option = [type, UInt8(3 + 4 * k), UInt8(4 + 4 * r.below(k + 1))] + randomBytes(4 * k, &r)
        case 4:  // timestamp: type 68, length, pointer, overflow/flags
            let flag = r.element(of: [0, 1, 3] as [UInt8])
            let unit = flag == 0 ? 4 : 8
            let k = 1 + r.below(3)
            option = [68, UInt8(4 + unit * k), UInt8(5 + unit * r.below(k + 1)), flag] + randomBytes(unit * k, &r)
        case 5:  // router alert
            option = [148, 4, 0, 0]
        case 6:  // security (RFC 1108)
            option = [130, 11] + randomBytes(9, &r)
        default:  // a type the parsers keep as unknown (or, sometimes, any type), with a plausible length
            let n = 2 + r.below(8)
            let type = valid ? r.element(of: [25, 30, 82, 94, 145, 149, 152, 158, 205, 222] as [UInt8]) : r.byte()
            option = [type, UInt8(n)] + randomBytes(n - 2, &r)
        }
        if !valid {
            switch r.below(4) {
            case 0: option[1] = 0
            case 1: option[1] = 1
            case 2: option[1] = option[1] &+ UInt8(1 + r.below(40))
            default: if option.count > 2 { option[2] = r.byte() }
            }
        }
        return option
    }

    /// An IPv4 option area: options, then End of Option List padding to a multiple of 4, at most 40 bytes.
    static func ipv4Options(_ r: inout FuzzRandom, valid: Bool = true) -> [UInt8] {
        var area: [UInt8] = []
        var types = Set<UInt8>()
        for _ in 0..<(1 + r.below(3)) {
            let option = ipv4Option(&r, valid: valid || !r.chance(1, in: 3))
            if area.count + option.count > 40 { break }
            // RFC 791 and RFC 1122 §3.2.1.8: record route, timestamp and a source route at most once; and End of
            // Option List only last.
            let kind = option[0] == 137 ? 131 : option[0]
            if valid, [7, 68, 131].contains(kind), !types.insert(kind).inserted { continue }
            if valid, option[0] == 0 { continue }
            area += option
        }
        while area.count % 4 != 0 { area.append(valid || r.chance(3, in: 4) ? 0 : 1) }
        return area
    }

    // MARK: TCP options (RFC 9293 §3.2, RFC 7323, RFC 2018)

    static func tcpOption(_ r: inout FuzzRandom, valid: Bool) -> [UInt8] {
        var option: [UInt8]
        switch r.below(9) {
        case 0: return [0]
        case 1: return [1]
        case 2: option = [2, 4, 0x05, 0xb4]
        case 3: option = [3, 3, UInt8(r.below(16))]
        case 4: option = [4, 2]
        case 5:
            let k = 1 + r.below(4)
            option = [5, UInt8(2 + 8 * k)] + randomBytes(8 * k, &r)
        case 6: option = [8, 10] + randomBytes(8, &r)
        default:
            let n = 2 + r.below(10)
            option = [r.element(of: [19, 28, 29, 30, 34, 253, 254, 99] as [UInt8]), UInt8(n)] + randomBytes(n - 2, &r)
        }
        if !valid {
            switch r.below(3) {
            case 0: option[1] = 0
            case 1: option[1] = 1
            default: option[1] = option[1] &+ UInt8(1 + r.below(40))
            }
        }
        return option
    }

    static func tcpOptions(_ r: inout FuzzRandom, valid: Bool = true) -> [UInt8] {
        var area: [UInt8] = []
        for _ in 0..<(1 + r.below(4)) {
            let option = tcpOption(&r, valid: valid || !r.chance(1, in: 3))
            if area.count + option.count > 40 { break }
            if valid, option[0] == 0 { continue }  // End of Option List only last
            area += option
        }
        while area.count % 4 != 0 { area.append(1) }
        return area
    }

    // MARK: IPv6 options and extension headers (RFC 8200 §4)

    /// One option of a Hop-by-Hop or Destination Options header.
    static func ipv6Option(_ r: inout FuzzRandom, valid: Bool) -> [UInt8] {
        var option: [UInt8]
        switch r.below(8) {
        case 0: return [0]
        case 1:
            let n = r.below(6)
            option = [1, UInt8(n)] + [UInt8](repeating: 0, count: n)
        case 2: option = [5, 2, 0, UInt8(r.below(3))]  // router alert (RFC 2711)
        case 3: option = [0xc2, 4] + randomBytes(4, &r)  // jumbo payload (RFC 2675)
        case 4: option = [4, 1, UInt8(r.below(8))]  // tunnel encapsulation limit (RFC 2473)
        case 5: option = [201, 16] + randomBytes(16, &r)  // home address (RFC 6275)
        default:
            // Unknown options with each "action if unrecognised" (top two bits) and the may-change bit (0x20).
            let type = UInt8(r.below(4)) << 6 | (r.chance(1, in: 2) ? 0x20 : 0) | UInt8(2 + r.below(0x1d))
            let n = r.below(8)
            option = [type, UInt8(n)] + randomBytes(n, &r)
        }
        if !valid, option.count >= 2 {
            option[1] = r.chance(1, in: 2) ? option[1] &+ UInt8(1 + r.below(16)) : r.byte()
        }
        return option
    }

    /// The option area of a Hop-by-Hop or Destination Options header, padded so the header is a multiple of 8 bytes.
    static func ipv6Options(_ r: inout FuzzRandom, valid: Bool = true) -> [UInt8] {
        var area: [UInt8] = []
        for _ in 0..<(1 + r.below(3)) {
            let option = ipv6Option(&r, valid: valid || !r.chance(1, in: 3))
            // RFC 4942 §2.1.9.5: no more than 7 bytes of padding in a row, which the padding added below could
            // otherwise exceed.
            if valid, option[0] <= 1 { continue }
            area += option
        }
        let padding = (8 - (area.count + 2) % 8) % 8
        switch padding {
        case 0: break
        case 1: area.append(0)
        default: area += [1, UInt8(padding - 2)] + [UInt8](repeating: 0, count: padding - 2)
        }
        return area
    }

    /// A whole extension header announced as `proto` (0, 43, 44 or 60) whose Next Header is `next`.
    static func extensionHeader(_ proto: UInt8, next: UInt8, _ r: inout FuzzRandom, valid: Bool = true) -> [UInt8] {
        switch proto {
        case 44:
            let offset = r.chance(2, in: 3) ? 0 : UInt16(1 + r.below(0x1fff))
            let more: UInt16 = r.chance(1, in: 2) ? 1 : 0
            let field = offset << 3 | more
            return [next, valid ? 0 : r.byte(), UInt8(field >> 8), UInt8(field & 0xff)] + randomBytes(4, &r)
        case 43:
            return routingHeader(next: next, &r, valid: valid)
        default:
            let area = ipv6Options(&r, valid: valid)
            return [next, UInt8((area.count + 2) / 8 - 1)] + area
        }
    }

    static func address6(_ r: inout FuzzRandom) -> [UInt8] {
        [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 10) + [UInt8(r.below(4)), UInt8(1 + r.below(16))]
    }

    /// A Routing header of type 0 (deprecated, RFC 5095), 2 (Mobile IPv6), 3 (RPL) or 4 (segment routing), or an
    /// unknown type.
    static func routingHeader(next: UInt8, _ r: inout FuzzRandom, valid: Bool) -> [UInt8] {
        var h: [UInt8]
        switch r.below(5) {
        case 0:
            let n = 1 + r.below(3)
            h = [next, UInt8(2 * n), 0, UInt8(r.below(n + 1)), 0, 0, 0, 0]
            for _ in 0..<n { h += address6(&r) }
        case 1:
            h = [next, 2, 2, 1, 0, 0, 0, 0] + address6(&r)
        case 2:
            let n = 1 + r.below(3)
            let cmprI = r.below(16), cmprE = r.below(16)
            let size = (n - 1) * (16 - cmprI) + (16 - cmprE)
            let pad = (8 - (8 + size) % 8) % 8
            h = [next, UInt8((8 + size + pad) / 8 - 1), 3, UInt8(r.below(n + 1)), UInt8(cmprI << 4 | cmprE),
                 UInt8(pad << 4), 0, 0]
            h += randomBytes(size, &r) + [UInt8](repeating: 0, count: pad)
        case 3:
            let n = 1 + r.below(3)
            h = [next, UInt8(2 * n), 4, UInt8(r.below(n + 1)), UInt8(n - 1), 0, 0, 0]
            for _ in 0..<n { h += address6(&r) }
        default:
            h = [next, 0, UInt8(5 + r.below(250)), UInt8(r.below(3)), 0, 0, 0, 0]
        }
        if !valid {
            switch r.below(3) {
            case 0: h[1] = h[1] &+ 1
            case 1: h[3] = r.byte()
            default: if h.count > 4 { h[4] = r.byte() }
            }
        }
        return h
    }
}
