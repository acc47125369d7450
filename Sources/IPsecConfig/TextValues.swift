import IPsecWire

/// Parsers for the scalar values the SA formats share: integers, hex key material, addresses, prefixes and protocols.
/// Each throws a `Problem` whose reason never repeats key material.
enum TextValues {
    /// An unsigned integer as iproute2 reads one (`get_u32(…, 0)`, that is C's `strtoul` with base 0): `0x`/`0X` and
    /// hex digits, a leading `0` and octal digits, or decimal digits. Stricter than `strtoul`: no sign, no spaces, and
    /// the value is checked against `maximum` rather than wrapped.
    static func cInteger(_ text: some StringProtocol, maximum: UInt64, what: String) throws(Problem) -> UInt64 {
        let bytes = Array(text.utf8)
        var radix: UInt64 = 10
        var digits = bytes[...]
        if bytes.count > 2, bytes[0] == 0x30, bytes[1] | 0x20 == 0x78 {
            radix = 16
            digits = bytes[2...]
        } else if bytes.count > 1, bytes[0] == 0x30 {
            radix = 8
            digits = bytes[1...]
        }
        return try accumulate(digits, radix: radix, maximum: maximum, what: what)
    }

    /// Decimal digits only (JSON integers, iproute2 listing fields printed with `%u`).
    static func decimal(_ text: some StringProtocol, maximum: UInt64, what: String) throws(Problem) -> UInt64 {
        try accumulate(Array(text.utf8)[...], radix: 10, maximum: maximum, what: what)
    }

    /// `0x` and hex digits (the listing's `0x%x` fields, JSON's SPI strings).
    static func prefixedHex(_ text: some StringProtocol, maximum: UInt64, what: String) throws(Problem) -> UInt64 {
        let bytes = Array(text.utf8)
        guard bytes.count > 2, bytes[0] == 0x30, bytes[1] | 0x20 == 0x78 else {
            throw Problem(.invalidValue, "\(what) is not 0x and hex digits")
        }
        return try accumulate(bytes[2...], radix: 16, maximum: maximum, what: what)
    }

    /// Messages do not repeat the number: in a file of keys, a misplaced key may be what was read as one.
    private static func accumulate(_ digits: ArraySlice<UInt8>, radix: UInt64, maximum: UInt64, what: String)
        throws(Problem) -> UInt64
    {
        guard !digits.isEmpty else { throw Problem(.invalidValue, "\(what) is not a number") }
        var value: UInt64 = 0
        for byte in digits {
            guard let digit = digitValue(byte), digit < radix else {
                let kind = radix == 16 ? "a hex number" : radix == 8 ? "an octal number (it starts with 0)"
                    : "a decimal number"
                throw Problem(.invalidValue, "\(what) is not \(kind)")
            }
            let (shifted, o1) = value.multipliedReportingOverflow(by: radix)
            let (sum, o2) = shifted.addingReportingOverflow(digit)
            guard !o1, !o2, sum <= maximum else {
                throw Problem(.invalidValue, "\(what) is out of range (at most \(maximum))")
            }
            value = sum
        }
        return value
    }

    static func digitValue(_ byte: UInt8) -> UInt64? {
        switch byte {
        case 0x30...0x39: UInt64(byte - 0x30)
        case 0x41...0x46: UInt64(byte - 0x41 + 10)
        case 0x61...0x66: UInt64(byte - 0x61 + 10)
        default: nil
        }
    }

    /// Key material written as hex, with or without a `0x` prefix; empty text (or a bare `0x`) is an empty key.
    /// Odd digit counts are rejected, unlike iproute2, which silently prepends a zero: a key with a digit missing is
    /// almost always a copy-and-paste accident. Messages give counts and positions, never digits.
    static func hexBytes(_ text: some StringProtocol, what: String) throws(Problem) -> [UInt8] {
        var bytes = Array(text.utf8)[...]
        if bytes.count >= 2, bytes[bytes.startIndex] == 0x30, bytes[bytes.startIndex + 1] | 0x20 == 0x78 {
            bytes = bytes.dropFirst(2)
        }
        guard bytes.count % 2 == 0 else {
            throw Problem(.invalidValue, "\(what) has an odd number of hex digits (\(bytes.count))")
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count / 2)
        var high: UInt8 = 0
        for (i, byte) in bytes.enumerated() {
            guard let digit = digitValue(byte) else {
                throw Problem(.invalidValue, "\(what) is not hex (character \(i + 1) of its digits is not a hex digit)")
            }
            if i % 2 == 0 { high = UInt8(digit) << 4 } else { out.append(high | UInt8(digit)) }
        }
        return out
    }

    static func hexString(_ bytes: [UInt8]) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func address(_ text: some StringProtocol, what: String) throws(Problem) -> IPAddress {
        guard let address = IPAddress(text) else {
            throw Problem(.invalidValue, "\(what) \(ConfigError.shown(text)) is not an IPv4 or IPv6 address")
        }
        return address
    }

    static func prefix(_ text: some StringProtocol, what: String) throws(Problem) -> IPPrefix {
        guard let prefix = IPPrefix(text) else {
            throw Problem(.invalidValue, "\(what) \(ConfigError.shown(text)) is not an address or prefix (ADDRESS/LENGTH)")
        }
        return prefix
    }

    /// Upper-layer protocol names as `/etc/protocols` spells them (what iproute2's `getprotobyname` finds), and the
    /// name written back for each.
    static let protocolNames: [(name: String, number: UInt8)] = [
        ("icmp", 1), ("igmp", 2), ("ipencap", 4), ("tcp", 6), ("udp", 17), ("ipv6", 41), ("gre", 47), ("esp", 50),
        ("ah", 51), ("ipv6-icmp", 58), ("ospf", 89), ("pim", 103), ("ipcomp", 108), ("l2tp", 115), ("sctp", 132),
        ("mobility-header", 135), ("udplite", 136), ("dccp", 33),
    ]
    static let protocolAliases: [String: UInt8] = ["icmpv6": 58, "ipip": 4, "ospfigp": 89, "mh": 135]

    /// A protocol by name or number (1...255). 0 is refused: in an xfrm selector it means "any", which an absent
    /// protocol already says.
    static func ipProtocol(_ text: some StringProtocol, what: String, allowAny: Bool = false) throws(Problem)
        -> IPProtocol?
    {
        let lower = text.lowercased()
        if allowAny && lower == "any" { return nil }
        if let known = protocolNames.first(where: { $0.name == lower }) { return IPProtocol(known.number) }
        if let alias = protocolAliases[lower] { return IPProtocol(alias) }
        guard lower.utf8.first.map({ $0 >= 0x30 && $0 <= 0x39 }) == true else {
            throw Problem(.invalidValue, "\(what) \(ConfigError.shown(text)) is not a protocol name or number")
        }
        let number = try cInteger(lower, maximum: 255, what: what)
        guard number > 0 else {
            throw Problem(.invalidValue, "\(what) 0 means any protocol; leave it out instead")
        }
        return IPProtocol(UInt8(number))
    }

    static func protocolName(_ p: IPProtocol) -> String? {
        protocolNames.first(where: { $0.number == p.rawValue })?.name
    }

    /// Protocols whose selectors may name ports (iproute2 allows `sport`/`dport` with exactly these, plus UDP-Lite).
    static func hasPorts(_ p: IPProtocol) -> Bool {
        [6, 17, 33, 132, 136].contains(p.rawValue)
    }
}
