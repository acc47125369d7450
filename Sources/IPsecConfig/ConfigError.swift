import IPsecWire

/// Why an SA file could not be loaded: one line naming the file, the line and what is wrong, e.g.
/// `sa.conf:3: unknown algorithm 'cbc(foo)'` or
/// `sa.json:7: associations[0].encryption_key: 16 bytes, aes128gcm16 needs 20 (16 key + 4 salt)`.
///
/// No message ever contains key material: reasons name lengths, positions and algorithms, and a token of the file is
/// quoted only when it cannot be a key (see `ConfigError.shown`). Equality compares the code and the location (file
/// and line), so tests can match a failure without spelling out its message.
public struct ConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure. Open: later formats may add codes.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The file could not be read (missing, a directory, no permission, too large).
        public static let unreadable = Code(rawValue: "unreadable")
        /// The content is none of the supported formats (empty, binary, something else).
        public static let notAnSAFile = Code(rawValue: "not-an-sa-file")
        /// Malformed JSON, an unterminated quote, a truncated command.
        public static let syntax = Code(rawValue: "syntax")
        /// A JSON key or `ip xfrm` keyword that the format does not have.
        public static let unknownKey = Code(rawValue: "unknown-key")
        /// A key, keyword or SA given twice.
        public static let duplicate = Code(rawValue: "duplicate")
        /// A JSON value of the wrong type (a string where a number belongs, ...).
        public static let wrongType = Code(rawValue: "wrong-type")
        /// A required field or argument is absent.
        public static let missing = Code(rawValue: "missing")
        /// A value that does not parse or is out of range (address, number, hex, SPI 0, ...).
        public static let invalidValue = Code(rawValue: "invalid-value")
        /// An algorithm name IPsecLab does not know, or a combination the RFCs forbid.
        public static let unknownAlgorithm = Code(rawValue: "unknown-algorithm")
        /// Valid in the format, but not (yet) supported by IPsecLab: IPComp, BEET mode, `hc-fields`, ...
        public static let unsupported = Code(rawValue: "unsupported")
        /// Key material of the wrong length for the algorithm.
        public static let badKeyLength = Code(rawValue: "bad-key-length")
        /// Values that contradict each other (mixed address families, encapsulation on AH, ...).
        public static let inconsistent = Code(rawValue: "inconsistent")
    }

    public let code: Code
    /// The file, as the caller named it (`load(path:)` uses the path, `parse(_:origin:)` the given origin).
    public let origin: String
    /// The 1-based line the problem is on, when it has one.
    public let line: Int?
    public let reason: String

    public init(_ code: Code, origin: String, line: Int?, reason: String) {
        self.code = code
        self.origin = origin
        self.line = line
        self.reason = reason
    }

    /// `FILE:LINE: REASON` (or `FILE: REASON`), always on one line.
    public var description: String {
        let location = line.map { "\(Self.oneLine(origin)):\($0)" } ?? Self.oneLine(origin)
        return "\(location): \(Self.oneLine(reason))"
    }

    public static func == (lhs: ConfigError, rhs: ConfigError) -> Bool {
        lhs.code == rhs.code && lhs.origin == rhs.origin && lhs.line == rhs.line
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(origin)
        hasher.combine(line)
    }

    private static func oneLine(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "?" : $0 }))
    }

    /// `cbc(aes)`, `rfc7539esp(chacha20,poly1305)`: letters, digits and `_`, then a parenthesised part at the end.
    private static func looksLikeAlgorithmName(_ text: String) -> Bool {
        guard let open = text.firstIndex(of: "("), text.hasSuffix(")"), open != text.startIndex else { return false }
        return text[..<open].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    /// A token of the file, quoted for a message, or a placeholder when it might be key material.
    ///
    /// Keys are written as `0x` and hex digits or as string literals, and a misplaced key ends up where a name or a
    /// keyword was expected (`enc 0x0102…` with the algorithm name forgotten), possibly cut or glued to something.
    /// So a token is not shown when it has eight hex digits in a row anywhere, when it is `0x` and more than four
    /// digits, or when it has 16 or more characters and is not plainly an algorithm name (`cbc(aes)`) or an address.
    /// Every key IPsecLab accepts has at least 16 bytes, so a string key has at least 16 characters. Numbers are
    /// never quoted at all (see `TextValues`).
    static func shown(_ token: some StringProtocol) -> String {
        let text = String(token)
        let printable = !text.isEmpty && text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f }
        var run = 0
        var longestHexRun = 0
        for byte in text.utf8 {
            run = TextValues.digitValue(byte) == nil ? 0 : run + 1
            longestHexRun = max(longestHexRun, run)
        }
        let hexLike = longestHexRun >= 8 || (text.lowercased().hasPrefix("0x") && text.count > 6)
        let harmless = text.count < 16 || looksLikeAlgorithmName(text) || IPPrefix(text) != nil
        if printable && !hexLike && harmless && text.count <= 64 { return "'\(text)'" }
        return "a \(text.count)-character value (not shown)"
    }
}

/// A failure not yet tied to a file: small parsing helpers throw it (with a line when they know one), and the format
/// parsers turn it into a `ConfigError`.
struct Problem: Error {
    let code: ConfigError.Code
    let reason: String
    var line: Int?

    init(_ code: ConfigError.Code, _ reason: String, line: Int? = nil) {
        self.code = code
        self.reason = reason
        self.line = line
    }

    /// The error in `origin`, at the problem's own line if it has one, else at `line`; `label` names the field.
    func at(_ origin: String, line: Int?, label: String = "") -> ConfigError {
        ConfigError(code, origin: origin, line: self.line ?? line, reason: label.isEmpty ? reason : "\(label): \(reason)")
    }
}
