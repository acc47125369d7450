/// An IP protocol number (IPv4 "protocol", IPv6 "next header"), as assigned by IANA.
///
/// Open: every value is representable, and unknown ones round-trip unchanged.
public struct IPProtocol: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public init(_ rawValue: UInt8) { self.rawValue = rawValue }

    /// IPv6 Hop-by-Hop Options (RFC 8200 §4.3).
    public static let hopByHop = IPProtocol(0)
    public static let icmp = IPProtocol(1)
    /// IPv4 encapsulated in IP (tunnel mode's inner IPv4 packet).
    public static let ipv4 = IPProtocol(4)
    public static let tcp = IPProtocol(6)
    public static let udp = IPProtocol(17)
    /// IPv6 encapsulated in IP (tunnel mode's inner IPv6 packet).
    public static let ipv6 = IPProtocol(41)
    /// IPv6 Routing header (RFC 8200 §4.4).
    public static let routing = IPProtocol(43)
    /// IPv6 Fragment header (RFC 8200 §4.5).
    public static let fragment = IPProtocol(44)
    /// Encapsulating Security Payload (RFC 4303).
    public static let esp = IPProtocol(50)
    /// Authentication Header (RFC 4302).
    public static let ah = IPProtocol(51)
    public static let icmpv6 = IPProtocol(58)
    /// No next header (RFC 8200 §4.7); in ESP, the next-header value of a dummy packet (RFC 4303 §2.6).
    public static let noNextHeader = IPProtocol(59)
    /// IPv6 Destination Options (RFC 8200 §4.6).
    public static let destinationOptions = IPProtocol(60)
    /// IP Payload Compression (RFC 3173).
    public static let ipcomp = IPProtocol(108)

    /// The IANA keyword, or the number for values IPsecLab has no name for.
    public var name: String {
        switch rawValue {
        case 0: "HOPOPT"
        case 1: "ICMP"
        case 4: "IPv4"
        case 6: "TCP"
        case 17: "UDP"
        case 41: "IPv6"
        case 43: "IPv6-Route"
        case 44: "IPv6-Frag"
        case 50: "ESP"
        case 51: "AH"
        case 58: "IPv6-ICMP"
        case 59: "IPv6-NoNxt"
        case 60: "IPv6-Opts"
        case 108: "IPComp"
        default: "\(rawValue)"
        }
    }

    public var description: String { name }

    /// Whether this value names an IPv6 extension header that IPsecLab walks as part of the header chain
    /// (RFC 8200 §4; AH and ESP are handled as IPsec payloads, not as chain links).
    public var isIPv6ExtensionHeader: Bool {
        self == .hopByHop || self == .routing || self == .fragment || self == .destinationOptions
    }
}
