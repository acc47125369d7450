import IPsecWire
/// The JSON of vector files: a small strict reader and a writer with a fixed layout, so that `generate` is byte-for-byte
/// reproducible. Numbers are kept as their text (sequence numbers use all 64 bits, beyond a Double's precision);
/// object members keep their order.
public indirect enum VJSON: Hashable, Sendable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([VJSON])
    case object([(String, VJSON)])

    public static func == (a: VJSON, b: VJSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(compact) }

    static func int<I: BinaryInteger>(_ value: I) -> VJSON { .number(String(value)) }

    subscript(key: String) -> VJSON? {
        if case .object(let members) = self { return members.first(where: { $0.0 == key })?.1 }
        return nil
    }

    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// One line, no whitespace but a space after `:` and `,` (how each test case is written).
    var compact: String {
        var out = ""
        write(&out, indent: nil, level: 0)
        return out
    }

    /// Objects and arrays one member a line, two-space indentation, except objects and arrays at `inlineDepth` or
    /// deeper, which stay on one line.
    func pretty(inlineFrom depth: Int) -> String {
        var out = ""
        writePretty(&out, level: 0, inlineFrom: depth)
        out += "\n"
        return out
    }

    private func writePretty(_ out: inout String, level: Int, inlineFrom depth: Int) {
        guard level < depth else { write(&out, indent: nil, level: 0); return }
        let pad = String(repeating: "  ", count: level + 1)
        let close = String(repeating: "  ", count: level)
        switch self {
        case .array(let items) where !items.isEmpty:
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += pad
                item.writePretty(&out, level: level + 1, inlineFrom: depth)
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            out += close + "]"
        case .object(let members) where !members.isEmpty:
            out += "{\n"
            for (i, m) in members.enumerated() {
                out += pad
                Self.writeString(m.0, &out)
                out += ": "
                m.1.writePretty(&out, level: level + 1, inlineFrom: depth)
                out += i == members.count - 1 ? "\n" : ",\n"
            }
            out += close + "}"
        default:
            write(&out, indent: nil, level: 0)
        }
    }

    private func write(_ out: inout String, indent: String?, level: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): Self.writeString(s, &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += ", " }
                item.write(&out, indent: indent, level: level)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, m) in members.enumerated() {
                if i > 0 { out += ", " }
                Self.writeString(m.0, &out)
                out += ": "
                m.1.write(&out, indent: indent, level: level)
            }
            out += "}"
        }
    }

    static func writeString(_ s: String, _ out: inout String) {
        JSONValue.writeString(s, to: &out)
    }

    /// Parses JSON text (RFC 8259, strict: no trailing commas, no comments). The error names the line.
    static func parse(_ bytes: [UInt8]) throws(VectorError) -> VJSON {
        var p = Parser(bytes: bytes)
        p.skipSpace()
        let value = try p.value(depth: 0)
        p.skipSpace()
        guard p.index == bytes.count else { throw p.fail("unexpected text after the JSON value") }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        var line: Int { bytes[..<min(index, bytes.count)].reduce(1) { $1 == 0x0a ? $0 + 1 : $0 } }

        func fail(_ message: String) -> VectorError { VectorError("line \(line): \(message)") }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[index]) { index += 1 }
        }

        mutating func expect(_ literal: String) throws(VectorError) {
            let l = Array(literal.utf8)
            guard index + l.count <= bytes.count, Array(bytes[index..<(index + l.count)]) == l else {
                throw fail("invalid JSON")
            }
            index += l.count
        }

        mutating func value(depth: Int) throws(VectorError) -> VJSON {
            guard depth < 64 else { throw fail("nesting too deep") }
            guard index < bytes.count else { throw fail("unexpected end of the file") }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                var members: [(String, VJSON)] = []
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
                while true {
                    skipSpace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a key") }
                    let key = try string()
                    if members.contains(where: { $0.0 == key }) { throw fail("duplicate key \"\(key)\"") }
                    skipSpace()
                    try expect(":")
                    skipSpace()
                    members.append((key, try value(depth: depth + 1)))
                    skipSpace()
                    guard index < bytes.count else { throw fail("unexpected end of the file") }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
                    throw fail("expected ',' or '}'")
                }
            case UInt8(ascii: "["):
                index += 1
                var items: [VJSON] = []
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
                while true {
                    skipSpace()
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard index < bytes.count else { throw fail("unexpected end of the file") }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
                    throw fail("expected ',' or ']'")
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            default:
                let start = index
                while index < bytes.count,
                      (0x30...0x39).contains(bytes[index]) || [0x2d, 0x2b, 0x2e, 0x65, 0x45].contains(bytes[index]) {
                    index += 1
                }
                guard index > start else { throw fail("invalid JSON") }
                let text = String(decoding: bytes[start..<index], as: UTF8.self)
                guard text.first != "+", text != "-" else { throw fail("invalid number \(text)") }
                return .number(text)
            }
        }

        mutating func string() throws(VectorError) -> String {
            index += 1
            var out: [UInt8] = []
            while index < bytes.count {
                let b = bytes[index]
                index += 1
                switch b {
                case UInt8(ascii: "\""):
                    guard let s = String(validating: out, as: UTF8.self) else { throw fail("string is not UTF-8") }
                    return s
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { throw fail("unterminated string") }
                    let e = bytes[index]
                    index += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                    case UInt8(ascii: "n"): out.append(0x0a)
                    case UInt8(ascii: "r"): out.append(0x0d)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0c)
                    case UInt8(ascii: "u"):
                        guard index + 4 <= bytes.count,
                              let v = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16),
                              let scalar = Unicode.Scalar(v) else { throw fail("bad \\u escape") }
                        index += 4
                        out.append(contentsOf: Array(String(Character(scalar)).utf8))
                    default: throw fail("bad escape in a string")
                    }
                default:
                    guard b >= 0x20 else { throw fail("control character in a string") }
                    out.append(b)
                }
            }
            throw fail("unterminated string")
        }
    }
}

/// A vector file that cannot be used: the message names the file and, where it can, the line or the test.
public struct VectorError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Hex text of bytes, lower case, no separators.
func hexString(_ bytes: some Collection<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0x0f)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// Hex text in Swift source (whitespace ignored); traps on bad hex — for literal data only.
func hex(_ text: String) -> [UInt8] {
    let clean = String(text.filter { !$0.isWhitespace })
    guard let b = bytes(fromHex: clean) else { preconditionFailure("bad hex literal") }
    return b
}
