/// A JSON value and the line it starts on. Objects keep their members in order with each key's line, so that unknown
/// and duplicate keys are reported where they are written.
struct JSONNode {
    indirect enum Value {
        case null
        case bool(Bool)
        /// The number's text, exactly as written; the reader of a field decides what it may be.
        case number(String)
        case string(String)
        case array([JSONNode])
        case object([Member])
    }

    struct Member {
        let key: String
        let line: Int
        let value: JSONNode
    }

    let value: Value
    let line: Int

    var isArray: Bool {
        if case .array = value { return true }
        return false
    }

    var typeName: String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// RFC 8259 JSON, read strictly, with line numbers.
///
///     value  = object / array / string / number / "true" / "false" / "null"
///     object = "{" [ string ":" value *( "," string ":" value ) ] "}"
///     array  = "[" [ value *( "," value ) ] "]"
///     number = [ "-" ] ( "0" / 1-9 *DIGIT ) [ "." 1*DIGIT ] [ ( "e" / "E" ) [ "+" / "-" ] 1*DIGIT ]
///
/// Stricter than RFC 8259 allows a parser to be: a key repeated in one object is an error (§4 leaves the meaning
/// open, and quietly keeping one of two `encryption_key`s would hide a mistake), nesting is bounded, and nothing may
/// follow the value. Messages never quote the input (a key may be what is malformed); they say what was expected.
struct JSONReader {
    /// Deeper nesting is refused; the SA format needs four levels.
    static let maximumDepth = 32

    private let bytes: [UInt8]
    private var index = 0
    private var line = 1

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    static func parse(_ bytes: [UInt8]) throws(Problem) -> JSONNode {
        var reader = JSONReader(bytes)
        reader.skipWhitespace()
        let value = try reader.value(depth: 0)
        reader.skipWhitespace()
        guard reader.index == bytes.count else { throw reader.problem("unexpected text after the JSON value") }
        return value
    }

    private func problem(_ reason: String) -> Problem {
        Problem(.syntax, "JSON: \(reason)", line: line)
    }

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while let b = peek, b == 0x20 || b == 0x09 || b == 0x0a || b == 0x0d {
            if b == 0x0a { line += 1 }
            index += 1
        }
    }

    private func unexpected(expecting: String) -> Problem {
        guard let b = peek else { return problem("the file ends where \(expecting) was expected") }
        let seen: String
        switch b {
        case UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: ":"),
             UInt8(ascii: ","), UInt8(ascii: "\""):
            seen = "'\(Character(Unicode.Scalar(b)))'"
        default:
            seen = "other text"
        }
        return problem("expected \(expecting), found \(seen)")
    }

    private mutating func value(depth: Int) throws(Problem) -> JSONNode {
        guard depth < Self.maximumDepth else { throw problem("nested more than \(Self.maximumDepth) levels deep") }
        let start = line
        guard let b = peek else { throw unexpected(expecting: "a value") }
        switch b {
        case UInt8(ascii: "{"): return JSONNode(value: try object(depth: depth), line: start)
        case UInt8(ascii: "["): return JSONNode(value: try array(depth: depth), line: start)
        case UInt8(ascii: "\""): return JSONNode(value: .string(try string()), line: start)
        case UInt8(ascii: "t"): try literal("true"); return JSONNode(value: .bool(true), line: start)
        case UInt8(ascii: "f"): try literal("false"); return JSONNode(value: .bool(false), line: start)
        case UInt8(ascii: "n"): try literal("null"); return JSONNode(value: .null, line: start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return JSONNode(value: .number(try number()),
                                                                                   line: start)
        default: throw unexpected(expecting: "a value")
        }
    }

    private mutating func literal(_ word: String) throws(Problem) {
        for expected in word.utf8 {
            guard peek == expected else { throw problem("expected '\(word)'") }
            index += 1
        }
    }

    private mutating func object(depth: Int) throws(Problem) -> JSONNode.Value {
        index += 1  // {
        var members: [JSONNode.Member] = []
        var seen: [String: Int] = [:]
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard peek == UInt8(ascii: "\"") else { throw unexpected(expecting: "a key in double quotes") }
            let keyLine = line
            let key = try string()
            if let first = seen[key] {
                throw Problem(.duplicate, "JSON: key \(ConfigError.shown(key)) appears twice in one object "
                    + "(first at line \(first))", line: keyLine)
            }
            seen[key] = keyLine
            skipWhitespace()
            guard peek == UInt8(ascii: ":") else { throw unexpected(expecting: "':' after the key") }
            index += 1
            skipWhitespace()
            members.append(JSONNode.Member(key: key, line: keyLine, value: try value(depth: depth + 1)))
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return .object(members)
            default: throw unexpected(expecting: "',' or '}'")
            }
        }
    }

    private mutating func array(depth: Int) throws(Problem) -> JSONNode.Value {
        index += 1  // [
        var items: [JSONNode] = []
        skipWhitespace()
        if peek == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            items.append(try value(depth: depth + 1))
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return .array(items)
            default: throw unexpected(expecting: "',' or ']'")
            }
        }
    }

    private mutating func number() throws(Problem) -> String {
        let start = index
        func digits(_ reader: inout JSONReader) -> Int {
            var n = 0
            while let b = reader.peek, b >= 0x30, b <= 0x39 {
                reader.index += 1
                n += 1
            }
            return n
        }
        if peek == UInt8(ascii: "-") { index += 1 }
        if peek == UInt8(ascii: "0") {
            index += 1
            if let b = peek, b >= 0x30, b <= 0x39 { throw problem("a number may not have leading zeros") }
        } else if digits(&self) == 0 {
            throw problem("'-' must be followed by digits")
        }
        if peek == UInt8(ascii: ".") {
            index += 1
            guard digits(&self) > 0 else { throw problem("a decimal point must be followed by digits") }
        }
        if let b = peek, b | 0x20 == UInt8(ascii: "e") {
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            guard digits(&self) > 0 else { throw problem("an exponent must have digits") }
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func string() throws(Problem) -> String {
        index += 1  // opening quote
        var out: [UInt8] = []
        while true {
            guard let b = peek else { throw problem("a string is not closed before the end of the file") }
            index += 1
            switch b {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let e = peek else { throw problem("a string is not closed before the end of the file") }
                index += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0c)
                case UInt8(ascii: "n"): out.append(0x0a)
                case UInt8(ascii: "r"): out.append(0x0d)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"): out.append(contentsOf: try unicodeEscape())
                default: throw problem("unknown escape in a string (JSON has \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u)")
                }
            case 0x00..<0x20:
                throw problem("a control character (a line break?) inside a string; escape it or close the string")
            default:
                out.append(b)
            }
        }
    }

    /// After `\u`: four hex digits, and for a high surrogate a second `\u` escape with the low one.
    private mutating func unicodeEscape() throws(Problem) -> [UInt8] {
        let first = try hex4()
        var scalarValue = UInt32(first)
        if (0xd800..<0xdc00).contains(first) {
            guard peek == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                throw problem("a \\u escape of a high surrogate must be followed by its low surrogate")
            }
            index += 2
            let second = try hex4()
            guard (0xdc00..<0xe000).contains(second) else {
                throw problem("a \\u escape of a high surrogate must be followed by its low surrogate")
            }
            scalarValue = 0x10000 + (UInt32(first) - 0xd800) << 10 + (UInt32(second) - 0xdc00)
        } else if (0xdc00..<0xe000).contains(first) {
            throw problem("a \\u escape of a lone low surrogate")
        }
        guard let scalar = Unicode.Scalar(scalarValue) else { throw problem("an invalid \\u escape") }
        return Array(String(Character(scalar)).utf8)
    }

    private mutating func hex4() throws(Problem) -> UInt16 {
        var v: UInt16 = 0
        for _ in 0..<4 {
            guard let b = peek, let d = TextValues.digitValue(b) else {
                throw problem("\\u must be followed by four hex digits")
            }
            v = v << 4 | UInt16(d)
            index += 1
        }
        return v
    }
}
