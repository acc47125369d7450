/// An IPv4 address.
public struct IPv4Address: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        rawValue = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Parses dotted-quad notation, strictly: four decimal octets, no leading zeros, nothing else.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var v: UInt32 = 0
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy({ $0.isASCII && $0.isNumber }),
                  !(p.count > 1 && p.first == "0"), let octet = UInt8(p) else { return nil }
            v = v << 8 | UInt32(octet)
        }
        rawValue = v
    }

    public var bytes: [UInt8] {
        [UInt8(truncatingIfNeeded: rawValue >> 24), UInt8(truncatingIfNeeded: rawValue >> 16),
         UInt8(truncatingIfNeeded: rawValue >> 8), UInt8(truncatingIfNeeded: rawValue)]
    }

    public var description: String {
        "\(rawValue >> 24).\(rawValue >> 16 & 0xff).\(rawValue >> 8 & 0xff).\(rawValue & 0xff)"
    }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// An IPv6 address, as two big-endian 64-bit halves.
public struct IPv6Address: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// From exactly 16 bytes; `nil` for any other count.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == 16 else { return nil }
        var h: UInt64 = 0, l: UInt64 = 0
        for (i, b) in bytes.enumerated() {
            if i < 8 { h = h << 8 | UInt64(b) } else { l = l << 8 | UInt64(b) }
        }
        high = h
        low = l
    }

    /// Parses RFC 4291 §2.2 text (with `::` compression and an embedded dotted quad), rejecting anything else.
    public init?(_ text: some StringProtocol) {
        let s = String(text)
        guard !s.isEmpty, s.count <= 45 else { return nil }
        var groups: [UInt16] = []
        var tailGroups: [UInt16] = []
        // Split on "::" (at most once) without Foundation.
        let chars = Array(s)
        var halves: [String] = []
        var current = ""
        var i = 0
        while i < chars.count {
            if chars[i] == ":", i + 1 < chars.count, chars[i + 1] == ":" {
                halves.append(current)
                current = ""
                i += 2
            } else {
                current.append(chars[i])
                i += 1
            }
        }
        halves.append(current)
        guard halves.count <= 2 else { return nil }
        func parseGroups(_ part: String, allowDottedTail: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            var out: [UInt16] = []
            for (i, f) in fields.enumerated() {
                if allowDottedTail, i == fields.count - 1, f.contains(".") {
                    guard let v4 = IPv4Address(f) else { return nil }
                    out.append(UInt16(v4.rawValue >> 16))
                    out.append(UInt16(v4.rawValue & 0xffff))
                } else {
                    guard (1...4).contains(f.count), let v = UInt16(f, radix: 16) else { return nil }
                    out.append(v)
                }
            }
            return out
        }
        if halves.count == 2 {
            guard let a = parseGroups(halves[0], allowDottedTail: false),
                  let b = parseGroups(halves[1], allowDottedTail: true), a.count + b.count <= 7 else { return nil }
            groups = a
            tailGroups = b
            groups += [UInt16](repeating: 0, count: 8 - a.count - b.count) + tailGroups
        } else {
            guard let a = parseGroups(halves[0], allowDottedTail: true), a.count == 8 else { return nil }
            groups = a
        }
        var h: UInt64 = 0, l: UInt64 = 0
        for (i, g) in groups.enumerated() {
            if i < 4 { h = h << 16 | UInt64(g) } else { l = l << 16 | UInt64(g) }
        }
        high = h
        low = l
    }

    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            out[i] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i)))
            out[8 + i] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i)))
        }
        return out
    }

    /// RFC 5952 canonical text: lower case, the longest run of two or more zero groups compressed (the first such run
    /// on a tie), no leading zeros.
    public var description: String {
        let groups = (0..<8).map { i -> UInt16 in
            i < 4 ? UInt16(truncatingIfNeeded: high >> (48 - 16 * UInt64(i)))
                : UInt16(truncatingIfNeeded: low >> (48 - 16 * UInt64(i - 4)))
        }
        var bestStart = -1, bestLen = 0, curStart = -1, curLen = 0
        for (i, g) in groups.enumerated() {
            if g == 0 {
                if curStart < 0 { curStart = i; curLen = 0 }
                curLen += 1
                if curLen > bestLen { bestStart = curStart; bestLen = curLen }
            } else {
                curStart = -1
            }
        }
        func hex(_ r: ArraySlice<UInt16>) -> String { r.map { String($0, radix: 16) }.joined(separator: ":") }
        if bestLen < 2 { return hex(groups[...]) }
        return hex(groups[0..<bestStart]) + "::" + hex(groups[(bestStart + bestLen)...])
    }

    public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}
