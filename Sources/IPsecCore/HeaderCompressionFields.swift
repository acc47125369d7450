import IPsecWire

/// The field set X of the header-compressed tunnel (docs/header-compression.md): the inner-header fields that, when
/// equal to the outer header's, are elided and rebuilt from the outer header by the receiver.
///
/// Only fields that do not change in transit may be elided with equality semantics. TTL / hop limit, ECN, the IPv6
/// flow label and the fragment fields are never in X: they are always carried (or, for lengths, checksums and the
/// protocol, derived).
public struct HeaderCompressionFields: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let source = HeaderCompressionFields(rawValue: 1 << 0)
    public static let destination = HeaderCompressionFields(rawValue: 1 << 1)
    /// The DSCP bits of the IPv4 TOS / IPv6 traffic class (the encapsulator copies them to the outer header).
    public static let dscp = HeaderCompressionFields(rawValue: 1 << 2)
    /// IPv4 identification: the encapsulator copies it to the outer header instead of choosing a fresh one.
    public static let identification = HeaderCompressionFields(rawValue: 1 << 3)
    /// IPv4 Don't Fragment; a packet qualifies only if it is not a fragment (MF, offset and the reserved bit zero).
    public static let dontFragment = HeaderCompressionFields(rawValue: 1 << 4)

    /// Nothing elided by equality: only the derived fields (version, header length, total length, protocol,
    /// checksum) are removed. Works for every packet, gateway-to-gateway traffic included.
    public static let minimal: HeaderCompressionFields = []
    /// The inner addresses, when they are the tunnel endpoints'.
    public static let addresses: HeaderCompressionFields = [.source, .destination]
    /// Everything that can soundly be elided between two hosts that tunnel their own traffic.
    public static let hostToHost: HeaderCompressionFields = [.source, .destination, .dscp, .identification, .dontFragment]

    public static let presets: [(name: String, fields: HeaderCompressionFields)] = [
        ("minimal", .minimal), ("addresses", .addresses), ("host-to-host", .hostToHost),
    ]

    /// The fields by name, in the canonical (wire) order.
    public static let catalogue: [(name: String, field: HeaderCompressionFields)] = [
        ("source", .source), ("destination", .destination), ("dscp", .dscp), ("identification", .identification),
        ("dont-fragment", .dontFragment),
    ]

    /// Parses a preset name or a comma-separated list of field names (`source,destination,dscp`). Fields that change
    /// in transit are refused with the reason.
    public init?(parsing text: String) {
        if let preset = Self.presets.first(where: { $0.name == text }) {
            self = preset.fields
            return
        }
        var fields: HeaderCompressionFields = []
        for name in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let f = Self.catalogue.first(where: { $0.name == name }) else { return nil }
            fields.insert(f.field)
        }
        self = fields
    }

    /// Names of fields that can never be elided, with the reason, for error messages.
    public static let neverElided: [String: String] = [
        "ttl": "it is decremented in transit", "hop-limit": "it is decremented in transit",
        "ecn": "routers may mark congestion (CE) on the outer header", "flow-label": "RFC 6437 lets it change en route",
        "fragment": "fragmentation happens after encapsulation", "more-fragments": "fragmentation happens after encapsulation",
        "fragment-offset": "fragmentation happens after encapsulation",
        "total-length": "it is derived, never sent", "checksum": "it is derived, never sent",
        "protocol": "it travels in the ESP next-header field", "version": "it is derived",
    ]

    /// Whether the set makes sense for inner headers of `version` (IPv6 has no identification or DF).
    public func isValid(for version: IPVersion) -> Bool {
        version == .v4 || intersection([.identification, .dontFragment]).isEmpty
    }

    /// The preset name, or the field list.
    public var description: String {
        if let p = Self.presets.first(where: { $0.fields == self }) { return p.name }
        return Self.catalogue.filter { contains($0.field) }.map(\.name).joined(separator: ",")
    }
}
