/// Why a run of bytes is not a valid header.
///
/// Errors carry a code (what kind of failure), the layer that failed and a human reason. Equality compares the code
/// and the layer only, so tests can match a failure without spelling out its message.
public struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure. Open: later layers may add codes.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Fewer bytes than the header (or a length field) requires.
        public static let truncated = Code(rawValue: "truncated")
        /// A length or offset field that contradicts the bytes or another field.
        public static let badLength = Code(rawValue: "bad-length")
        /// A field value the specification forbids (wrong version, reserved value, non-zero reserved bits, ...).
        public static let badValue = Code(rawValue: "bad-value")
        /// More elements (options, extension headers) than the bounds allow.
        public static let limitExceeded = Code(rawValue: "limit-exceeded")
        /// A buffer given to `emit` is too short for the value.
        public static let bufferTooShort = Code(rawValue: "buffer-too-short")
        /// Bytes left over where the grammar allows none.
        public static let trailingBytes = Code(rawValue: "trailing-bytes")
    }

    public let code: Code
    /// The header or structure that failed, e.g. "IPv4", "IPv6 Routing", "ESP trailer".
    public let layer: String
    public let reason: String

    public init(_ code: Code, layer: String, reason: String) {
        self.code = code
        self.layer = layer
        self.reason = reason
    }

    public var description: String { "\(layer): \(reason)" }

    public static func == (lhs: WireError, rhs: WireError) -> Bool {
        lhs.code == rhs.code && lhs.layer == rhs.layer
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(layer)
    }

    // Factories stay out of line so that error paths do not bloat the parsers' fast paths.

    @inline(never)
    public static func truncated(_ layer: String, need: Int, have: Int) -> WireError {
        WireError(.truncated, layer: layer, reason: "needs \(need) bytes, has \(have)")
    }

    @inline(never)
    public static func badLength(_ layer: String, _ reason: String) -> WireError {
        WireError(.badLength, layer: layer, reason: reason)
    }

    @inline(never)
    public static func badValue(_ layer: String, _ reason: String) -> WireError {
        WireError(.badValue, layer: layer, reason: reason)
    }

    @inline(never)
    public static func limitExceeded(_ layer: String, _ reason: String) -> WireError {
        WireError(.limitExceeded, layer: layer, reason: reason)
    }

    @inline(never)
    public static func bufferTooShort(_ layer: String, need: Int, have: Int) -> WireError {
        WireError(.bufferTooShort, layer: layer, reason: "emit needs \(need) bytes, buffer has \(have)")
    }

    @inline(never)
    public static func trailingBytes(_ layer: String, count: Int) -> WireError {
        WireError(.trailingBytes, layer: layer, reason: "\(count) unexpected trailing bytes")
    }
}
