import IPsecCrypto
import IPsecWire

/// Why a packet could not be protected, or an SA not installed. Inbound failures are not errors: they are drops with
/// a `DropReason`.
public struct CoreError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The packet to protect is not a well-formed IP packet.
        public static let badPacket = Code(rawValue: "bad-packet")
        /// The SA cannot protect this packet (address family, a fragment in transport mode, a size limit).
        public static let unsupported = Code(rawValue: "unsupported")
        /// The outbound sequence number would wrap (RFC 4303 §3.3.3: a new SA is needed).
        public static let sequenceOverflow = Code(rawValue: "sequence-overflow")
        /// The SA's configuration is unusable (keys, algorithm for the protocol).
        public static let badConfiguration = Code(rawValue: "bad-configuration")
        /// The SA's hard lifetime is reached (RFC 4301 §4.4.2.1).
        public static let lifetime = Code(rawValue: "lifetime")
        /// The crypto backend failed.
        public static let crypto = Code(rawValue: "crypto")
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { reason }

    public static func == (lhs: CoreError, rhs: CoreError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    @inline(never)
    static func badPacket(_ error: Error) -> CoreError {
        CoreError(.badPacket, "not a well-formed IP packet: \(error)")
    }

    @inline(never)
    static func crypto(_ error: CryptoError) -> CoreError {
        CoreError(.crypto, "\(error)")
    }
}
