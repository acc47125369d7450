/// Why a transform could not be built or could not run.
///
/// Errors carry a code (what kind of failure), the algorithm they concern (its strongSwan keyword, or the OpenSSL
/// function for backend failures) and a one-line reason. Equality compares the code and the algorithm only, so tests
/// can match a failure without spelling out its message.
///
/// No message ever contains key material: reasons name lengths and algorithms, never bytes of a key or salt.
public struct CryptoError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure. Open: later layers may add codes.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A keyword or algorithm parameter (key size, ICV length) that IPsecLab does not know.
        public static let unknownAlgorithm = Code(rawValue: "unknown-algorithm")
        /// A pairing of algorithms that the RFCs forbid (an AEAD with a separate integrity algorithm, NULL encryption
        /// without integrity, an AH-only algorithm in ESP, ...).
        public static let forbiddenCombination = Code(rawValue: "forbidden-combination")
        /// Key material of the wrong length (key plus salt, as `ip xfrm` lays it out).
        public static let badKeyLength = Code(rawValue: "bad-key-length")
        /// An IV of the wrong length for the transform.
        public static let badIVLength = Code(rawValue: "bad-iv-length")
        /// A payload or ICV buffer of the wrong size (not a multiple of the cipher block, ICV not exactly its length,
        /// more than the backend can take in one call).
        public static let bufferSize = Code(rawValue: "buffer-size")
        /// An OpenSSL call failed.
        public static let backend = Code(rawValue: "backend")
    }

    public let code: Code
    /// The algorithm concerned, as its keyword (e.g. "aes128gcm16"), or the OpenSSL function for `.backend`.
    public let algorithm: String
    public let reason: String

    public init(_ code: Code, algorithm: String, reason: String) {
        self.code = code
        self.algorithm = algorithm
        self.reason = reason
    }

    public var description: String { "\(algorithm): \(reason)" }

    public static func == (lhs: CryptoError, rhs: CryptoError) -> Bool {
        lhs.code == rhs.code && lhs.algorithm == rhs.algorithm
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(algorithm)
    }

    // Factories stay out of line so that error paths do not bloat the per-packet fast paths.

    @inline(never)
    public static func unknownAlgorithm(_ algorithm: String, _ reason: String) -> CryptoError {
        CryptoError(.unknownAlgorithm, algorithm: algorithm, reason: reason)
    }

    @inline(never)
    public static func forbiddenCombination(_ algorithm: String, _ reason: String) -> CryptoError {
        CryptoError(.forbiddenCombination, algorithm: algorithm, reason: reason)
    }

    @inline(never)
    public static func badKeyLength(_ algorithm: String, what: String = "key", have: Int, need: Int,
                                    layout: String? = nil) -> CryptoError {
        let detail = layout.map { " (\($0))" } ?? ""
        return CryptoError(.badKeyLength, algorithm: algorithm,
                           reason: "\(what) is \(have) bytes, needs \(need)\(detail)")
    }

    @inline(never)
    public static func badIVLength(_ algorithm: String, have: Int, need: Int) -> CryptoError {
        CryptoError(.badIVLength, algorithm: algorithm, reason: "IV is \(have) bytes, needs \(need)")
    }

    @inline(never)
    public static func bufferSize(_ algorithm: String, _ reason: String) -> CryptoError {
        CryptoError(.bufferSize, algorithm: algorithm, reason: reason)
    }

    /// An OpenSSL call failed. Takes the first error from OpenSSL's queue (codes and library strings only: OpenSSL
    /// never puts key bytes there) and clears the queue so that later failures are not misattributed.
    @inline(never)
    static func backend(_ function: String) -> CryptoError {
        CryptoError(.backend, algorithm: function, reason: "\(function) failed\(OpenSSLErrorQueue.drain())")
    }
}
