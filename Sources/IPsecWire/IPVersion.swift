/// The IP version of a packet or header. Several IPsec rules differ by version (AH's ICV alignment, the pseudo-header,
/// mutable fields), so headers that depend on it take it explicitly.
public enum IPVersion: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case v4 = 4
    case v6 = 6

    public var description: String { self == .v4 ? "IPv4" : "IPv6" }
}
