/// A named field of a dissected header, for the pretty printer and for JSON output.
public struct Field: Hashable, Sendable {
    /// The field's name as a JSON key (snake_case); the tree printer shows it as is.
    public let key: String
    public let value: FieldValue

    public init(_ key: String, _ value: FieldValue) {
        self.key = key
        self.value = value
    }
}

public indirect enum FieldValue: Hashable, Sendable {
    case int(Int)
    /// An integer best read in hex (SPIs, checksums, flags); JSON carries the number, text shows `0x…` of `digits`.
    case hex(Int, digits: Int)
    case string(String)
    case bool(Bool)
    /// Raw bytes; JSON and text show lower-case hex.
    case bytes([UInt8])
    case list([FieldValue])
    case group([Field])

    public var json: JSONValue {
        switch self {
        case .int(let v), .hex(let v, _): .int(v)
        case .string(let s): .string(s)
        case .bool(let b): .bool(b)
        case .bytes(let b): .string(hexString(b))
        case .list(let items): .array(items.map(\.json))
        case .group(let fields): .object(fields.map { JSONMember($0.key, $0.value.json) })
        }
    }

    /// One-line text for the tree printer (groups are printed as children instead).
    public var text: String {
        switch self {
        case .int(let v): String(v)
        case .hex(let v, let digits):
            "0x" + String(repeating: "0", count: max(0, digits - String(v, radix: 16).count)) + String(v, radix: 16)
        case .string(let s): s
        case .bool(let b): b ? "yes" : "no"
        case .bytes(let b): b.isEmpty ? "(none)" : hexString(b)
        case .list(let items): "[" + items.map(\.text).joined(separator: ", ") + "]"
        case .group(let fields): fields.map { "\($0.key)=\($0.value.text)" }.joined(separator: " ")
        }
    }
}

/// Lower-case hex of `bytes`, no separators.
public func hexString<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    let digits: [Character] = Array("0123456789abcdef")
    var s = ""
    s.reserveCapacity(bytes.count * 2)
    for b in bytes {
        s.append(digits[Int(b >> 4)])
        s.append(digits[Int(b & 0x0f)])
    }
    return s
}

/// The bytes an even number of hex digits (either case, no separators) spell; nil for anything else.
public func bytes(fromHex text: some StringProtocol) -> [UInt8]? {
    let u = Array(text.utf8)
    guard u.count % 2 == 0 else { return nil }
    func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        case 0x41...0x46: c - 0x41 + 10
        default: nil
        }
    }
    var out: [UInt8] = []
    out.reserveCapacity(u.count / 2)
    var i = 0
    while i < u.count {
        guard let hi = nibble(u[i]), let lo = nibble(u[i + 1]) else { return nil }
        out.append(hi << 4 | lo)
        i += 2
    }
    return out
}
