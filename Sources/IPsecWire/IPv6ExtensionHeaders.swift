// IPv6 extension headers (RFC 8200 §4).
//
// Hop-by-Hop Options (§4.3) and Destination Options (§4.6):
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Next Header  |  Hdr Ext Len  |                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
// .                            Options                            .
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Hdr Ext Len counts 8-octet units after the first 8, here and in the Routing header.
//
// An option (§4.2); Pad1 alone is a single zero byte. The type's top bits are the action if unrecognised (AA) and
// whether the data may change en route (C):
//
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- - - - - - - - -
// |A A C  number  |  Opt Data Len |  Option Data
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- - - - - - - - -
//
// Routing (§4.4):
//
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Next Header  |  Hdr Ext Len  |  Routing Type | Segments Left |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// .                       type-specific data                      .
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//   type 0 (RFC 2460 §4.4):  Reserved (32) | Address[1..n]
//   type 2 (RFC 6275 §6.4):  Reserved (32) | Home Address
//   type 3 (RFC 6554 §3):    CmprI (4) CmprE (4) Pad (4) Reserved (20) | Address[1..n], prefixes elided | Pad bytes
//   type 4 (RFC 8754 §2):    Last Entry (8) Flags (8) Tag (16) | Segment List[0..Last Entry] | TLVs
//
// Fragment (§4.5):
//
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                         Identification                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

// MARK: - Options

/// One option of a Hop-by-Hop or Destination Options header (RFC 8200 §4.2).
///
/// Padding is strict, as in Linux: PadN data must be zero and a run of consecutive padding may not exceed 7 bytes
/// (RFC 4942 §2.1.9.5: padding exists only to align to 8 bytes, so anything more is a covert channel). Hence PadN is
/// represented by its length alone and every parsed list round-trips byte for byte.
public enum IPv6Option: Hashable, Sendable {
    /// One byte of padding (type 0).
    case pad1
    /// `totalLength` bytes of padding (type 1), type and length bytes included, so at least 2.
    case padN(totalLength: Int)
    /// Router Alert (type 5, RFC 2711 §2.1): 0 MLD, 1 RSVP, 2 Active Networks.
    case routerAlert(value: UInt16)
    /// Any other type, Jumbo Payload (0xC2) included, its data kept as bytes. Never type 0, 1 or 5: emitting rejects
    /// that, because it would come back as the typed case.
    case unknown(type: UInt8, data: [UInt8])

    public enum TypeCode {
        public static let pad1: UInt8 = 0
        public static let padN: UInt8 = 1
        public static let routerAlert: UInt8 = 5
        /// RFC 2675 §2; not supported (see `IPv6Packet`), kept as `.unknown` when met.
        public static let jumboPayload: UInt8 = 0xc2
    }

    /// What a node that does not recognise the option must do: the top two bits of the type (RFC 8200 §4.2).
    public enum UnrecognizedAction: UInt8, Hashable, Sendable, CaseIterable {
        case skip = 0
        case discard = 1
        case discardAndSendICMP = 2
        case discardAndSendICMPUnlessMulticast = 3
    }

    /// The longest run of consecutive padding bytes accepted (RFC 4942 §2.1.9.5).
    public static let maximumPaddingRun = 7

    public var type: UInt8 {
        switch self {
        case .pad1: TypeCode.pad1
        case .padN: TypeCode.padN
        case .routerAlert: TypeCode.routerAlert
        case .unknown(let type, _): type
        }
    }

    public var actionIfUnrecognized: UnrecognizedAction {
        switch type >> 6 {
        case 0: .skip
        case 1: .discard
        case 2: .discardAndSendICMP
        default: .discardAndSendICMPUnlessMulticast
        }
    }

    /// The third-highest bit of the type: the option data may change en route (RFC 8200 §4.2), so AH covers it as
    /// zeros (RFC 4302 §3.3.3.1.2.1).
    public var isMutableInTransit: Bool { type & 0x20 != 0 }

    public var encodedLength: Int {
        switch self {
        case .pad1: 1
        // Never negative, even for a hand-built value that `emit` will reject.
        case .padN(let totalLength): max(0, totalLength)
        case .routerAlert: 4
        case .unknown(_, let data): 2 + data.count
        }
    }

    /// The padding options for `count` bytes: none, Pad1, or one PadN.
    public static func padding(_ count: Int) -> [IPv6Option] {
        switch count {
        case ...0: []
        case 1: [.pad1]
        default: [.padN(totalLength: count)]
        }
    }

    static func encodedLength(of options: [IPv6Option]) -> Int {
        options.reduce(0) { $0 + $1.encodedLength }
    }

    /// Parses an options area (a header minus its first two bytes); the options must fill it exactly. The area is at
    /// most 2046 bytes and every option takes at least one, so the loop is bounded.
    static func parseList(_ area: ArraySlice<UInt8>, layer: String) throws -> [IPv6Option] {
        var options: [IPv6Option] = []
        var offset = 0
        while offset < area.count {
            let type = area.wireUInt8(at: offset)
            if type == TypeCode.pad1 {
                options.append(.pad1)
                offset += 1
                continue
            }
            guard area.count - offset >= 2 else {
                throw WireError.badLength(layer, "option type \(type) at offset \(offset + 2) has no length byte")
            }
            let dataLength = Int(area.wireUInt8(at: offset + 1))
            guard dataLength <= area.count - offset - 2 else {
                throw WireError.badLength(
                    layer, "option type \(type) with \(dataLength) data bytes at offset \(offset + 2) runs past the "
                        + "end of the header")
            }
            let data = area.wireBytes(at: offset + 2, count: dataLength)
            switch type {
            case TypeCode.padN:
                guard data.allSatisfy({ $0 == 0 }) else {
                    throw WireError.badValue(layer, "PadN at offset \(offset + 2) carries non-zero data")
                }
                options.append(.padN(totalLength: 2 + dataLength))
            case TypeCode.routerAlert:
                guard dataLength == 2 else {
                    throw WireError.badLength(layer, "router alert has \(dataLength) data bytes, not 2")
                }
                options.append(.routerAlert(value: data.wireUInt16(at: 0)))
            default:
                options.append(.unknown(type: type, data: Array(data)))
            }
            offset += 2 + dataLength
        }
        try validate(options, layer: layer)
        return options
    }

    /// The rules that parsing and emitting share, so that whatever is emitted parses back to the same list.
    static func validate(_ options: [IPv6Option], layer: String) throws {
        var paddingRun = 0
        for option in options {
            switch option {
            case .pad1:
                paddingRun += 1
            case .padN(let totalLength):
                guard (2...257).contains(totalLength) else {
                    throw WireError.badLength(layer, "PadN of \(totalLength) bytes (2 to 257 can be encoded)")
                }
                paddingRun += totalLength
            case .routerAlert:
                paddingRun = 0
            case .unknown(let type, let data):
                guard type != TypeCode.pad1, type != TypeCode.padN, type != TypeCode.routerAlert else {
                    throw WireError.badValue(
                        layer, "option type \(type) has its own case; .unknown would not round-trip")
                }
                guard data.count <= 255 else {
                    throw WireError.badLength(layer, "option type \(type) has \(data.count) data bytes, over 255")
                }
                paddingRun = 0
            }
            guard paddingRun <= maximumPaddingRun else {
                throw WireError.badValue(
                    layer, "\(paddingRun) consecutive bytes of padding, over 7 (RFC 4942 §2.1.9.5)")
            }
        }
    }

    /// Writes without validating; the caller guarantees `encodedLength` bytes from `offset`.
    func write(into buffer: inout ArraySlice<UInt8>, at offset: Int) {
        buffer.setWireUInt8(type, at: offset)
        switch self {
        case .pad1:
            break
        case .padN(let totalLength):
            guard totalLength >= 2 else { return }
            buffer.setWireUInt8(UInt8(truncatingIfNeeded: totalLength - 2), at: offset + 1)
            for i in 2..<totalLength { buffer.setWireUInt8(0, at: offset + i) }
        case .routerAlert(let value):
            buffer.setWireUInt8(2, at: offset + 1)
            buffer.setWireUInt16(value, at: offset + 2)
        case .unknown(_, let data):
            buffer.setWireUInt8(UInt8(truncatingIfNeeded: data.count), at: offset + 1)
            buffer.setWireBytes(data, at: offset + 2)
        }
    }
}

// MARK: - Length framing shared by the variable-length headers

enum IPv6ExtensionFraming {
    /// Hdr Ext Len is one byte of 8-octet units beyond the first 8.
    static let maximumLength = 2048

    /// The length of the header at the start of `bytes`, from its Hdr Ext Len, checked against the bytes.
    static func headerLength(_ bytes: ArraySlice<UInt8>, layer: String) throws -> Int {
        guard bytes.count >= 2 else { throw WireError.truncated(layer, need: 8, have: bytes.count) }
        let length = (Int(bytes.wireUInt8(at: 1)) + 1) * 8
        guard length <= bytes.count else { throw WireError.truncated(layer, need: length, have: bytes.count) }
        return length
    }

    /// Checks that `length` bytes can be announced by a Hdr Ext Len field.
    static func checkEncodable(_ length: Int, layer: String) throws {
        guard length % 8 == 0, (8...maximumLength).contains(length) else {
            throw WireError.badLength(layer, "header of \(length) bytes is not a multiple of 8 from 8 to 2048")
        }
    }
}

// MARK: - Hop-by-Hop and Destination Options

/// A Hop-by-Hop Options (RFC 8200 §4.3) or Destination Options (§4.6) header; the two share a format.
///
/// Errors from `parse` and `emit` name the layer "IPv6 Options"; through `IPv6ExtensionHeader` and the chain walk
/// they name the header ("IPv6 Hop-by-Hop", "IPv6 Destination Options").
public struct IPv6OptionsHeader: WireRepresentable {
    enum Field {
        static let nextHeader = 0..<1
        static let headerExtensionLength = 1..<2
        /// Options start here and run to the end of the header.
        static let options = 2
    }

    static let layer = "IPv6 Options"

    public var nextHeader: IPProtocol
    /// In wire order; with the two leading bytes they must fill whole 8-byte units (see `padded`).
    public var options: [IPv6Option]

    public init(nextHeader: IPProtocol, options: [IPv6Option]) {
        self.nextHeader = nextHeader
        self.options = options
    }

    /// A header holding `options` followed by the padding that fills its last 8-byte unit.
    public static func padded(nextHeader: IPProtocol, options: [IPv6Option]) -> IPv6OptionsHeader {
        let length = Field.options + IPv6Option.encodedLength(of: options)
        let pad = (8 - length % 8) % 8
        return IPv6OptionsHeader(nextHeader: nextHeader, options: options + IPv6Option.padding(pad))
    }

    public static func parse(_ bytes: ArraySlice<UInt8>) throws -> IPv6OptionsHeader {
        try parse(bytes, layer: layer)
    }

    static func parse(_ bytes: ArraySlice<UInt8>, layer: String) throws -> IPv6OptionsHeader {
        let length = try IPv6ExtensionFraming.headerLength(bytes, layer: layer)
        let options = try IPv6Option.parseList(
            bytes.wireBytes(at: Field.options, count: length - Field.options), layer: layer)
        return IPv6OptionsHeader(nextHeader: IPProtocol(bytes.wireUInt8(at: Field.nextHeader.lowerBound)),
                                 options: options)
    }

    public var bufferLength: Int { Field.options + IPv6Option.encodedLength(of: options) }

    public func emit(into buffer: inout ArraySlice<UInt8>) throws {
        try emit(into: &buffer, layer: Self.layer)
    }

    func emit(into buffer: inout ArraySlice<UInt8>, layer: String) throws {
        try IPv6Option.validate(options, layer: layer)
        try IPv6ExtensionFraming.checkEncodable(bufferLength, layer: layer)
        try checkEmitBuffer(buffer, layer: layer)
        buffer.setWireUInt8(nextHeader.rawValue, at: Field.nextHeader.lowerBound)
        buffer.setWireUInt8(UInt8(truncatingIfNeeded: bufferLength / 8 - 1),
                            at: Field.headerExtensionLength.lowerBound)
        var offset = Field.options
        for option in options {
            option.write(into: &buffer, at: offset)
            offset += option.encodedLength
        }
    }
}

// MARK: - Routing

/// A Routing header (RFC 8200 §4.4), its type-specific data kept as bytes so that every type round-trips, with
/// checked typed accessors for types 0, 2, 3 and 4.
///
/// `parse` and `emit` check the data of those four types (a routing header the typed accessors cannot read is
/// rejected); other types are opaque. Type 0 is deprecated (RFC 5095) but still parsed, to be able to look at it.
public struct IPv6RoutingHeader: WireRepresentable {
    enum Field {
        static let nextHeader = 0..<1
        static let headerExtensionLength = 1..<2
        static let routingType = 2..<3
        static let segmentsLeft = 3..<4
        /// Type-specific data starts here and runs to the end of the header.
        static let data = 4
    }

    /// Offsets within `data` for the typed layouts.
    enum DataField {
        /// Types 0 and 2.
        static let reserved = 0..<4
        static let addresses = 4
        /// Type 3: CmprI and CmprE.
        static let rplCompression = 0..<1
        /// Type 3: Pad (high 4 bits) and the first bits of Reserved.
        static let rplPad = 1..<2
        /// Type 4.
        static let srhLastEntry = 0..<1
        static let srhFlags = 1..<2
        static let srhTag = 2..<4
    }

    public enum RoutingType {
        /// Source route (RFC 2460 §4.4), deprecated by RFC 5095.
        public static let sourceRoute: UInt8 = 0
        /// Mobile IPv6 home address (RFC 6275 §6.4).
        public static let mobileIPv6: UInt8 = 2
        /// RPL source route (RFC 6554).
        public static let rpl: UInt8 = 3
        /// Segment Routing Header (RFC 8754).
        public static let segmentRouting: UInt8 = 4
    }

    static let layer = "IPv6 Routing"

    public var nextHeader: IPProtocol
    public var routingType: UInt8
    public var segmentsLeft: UInt8
    /// Everything after the first four bytes; 4 + `data.count` must be a multiple of 8.
    public var data: [UInt8]

    public init(nextHeader: IPProtocol, routingType: UInt8, segmentsLeft: UInt8, data: [UInt8]) {
        self.nextHeader = nextHeader
        self.routingType = routingType
        self.segmentsLeft = segmentsLeft
        self.data = data
    }

    /// A type 0 header: reserved bytes zero, then `addresses`.
    public static func makeSourceRoute(nextHeader: IPProtocol, segmentsLeft: UInt8, addresses: [IPv6Address])
        -> IPv6RoutingHeader {
        IPv6RoutingHeader(nextHeader: nextHeader, routingType: RoutingType.sourceRoute, segmentsLeft: segmentsLeft,
                          data: [0, 0, 0, 0] + addresses.flatMap(\.bytes))
    }

    /// A type 2 header carrying `homeAddress`; Segments Left is 1 on the wire (RFC 6275 §6.4).
    public static func makeHomeAddress(nextHeader: IPProtocol, homeAddress: IPv6Address, segmentsLeft: UInt8 = 1)
        -> IPv6RoutingHeader {
        IPv6RoutingHeader(nextHeader: nextHeader, routingType: RoutingType.mobileIPv6, segmentsLeft: segmentsLeft,
                          data: [0, 0, 0, 0] + homeAddress.bytes)
    }

    /// A type 4 header (SRH). `segments` is the Segment List in wire order: `segments[0]` is the final segment
    /// (RFC 8754 §2). `tlvBytes` are the encoded TLVs, padding included. Too many segments (the header holds at most
    /// 127) or TLVs that do not frame make `emit` throw.
    public static func makeSegmentRouting(nextHeader: IPProtocol, segmentsLeft: UInt8, flags: UInt8 = 0,
                                          tag: UInt16 = 0, segments: [IPv6Address], tlvBytes: [UInt8] = [])
        -> IPv6RoutingHeader {
        let lastEntry = UInt8(truncatingIfNeeded: segments.count - 1)
        let fixed = [lastEntry, flags, UInt8(truncatingIfNeeded: tag >> 8), UInt8(truncatingIfNeeded: tag)]
        return IPv6RoutingHeader(nextHeader: nextHeader, routingType: RoutingType.segmentRouting,
                                 segmentsLeft: segmentsLeft, data: fixed + segments.flatMap(\.bytes) + tlvBytes)
    }

    // MARK: Typed layouts

    /// The RPL source route fields (RFC 6554 §3). Address[1..n−1] have their first `cmprI` bytes elided,
    /// Address[n] its first `cmprE`; the elided bytes are those of the IPv6 Destination Address.
    public struct RPLFields: Hashable, Sendable {
        public var cmprI: UInt8
        public var cmprE: UInt8
        public var pad: UInt8
        /// Address[1..n] as carried, without their elided prefixes.
        public var compressedAddresses: [[UInt8]]

        /// The full addresses, taking the elided prefixes from `reference` (the packet's Destination Address).
        public func addresses(prefixFrom reference: IPv6Address) -> [IPv6Address] {
            let prefix = reference.bytes
            return compressedAddresses.enumerated().map { i, suffix in
                let elided = i == compressedAddresses.count - 1 ? Int(cmprE) : Int(cmprI)
                var full = Array(prefix.prefix(elided)) + suffix
                // Sizes are consistent by construction (RPLFields only comes from a checked header); pad or cut
                // anyway rather than trap on a hand-built value.
                full = Array((full + [UInt8](repeating: 0, count: 16)).prefix(16))
                return IPv6Packet.address(in: full[...], at: 0)
            }
        }
    }

    /// The Segment Routing Header fields (RFC 8754 §2).
    public struct SegmentRoutingFields: Hashable, Sendable {
        public var lastEntry: UInt8
        public var flags: UInt8
        public var tag: UInt16
        /// Segment List[0...lastEntry]; `segments[0]` is the last segment of the path.
        public var segments: [IPv6Address]
        public var tlvs: [SegmentRoutingTLV]
    }

    /// One TLV after the segment list (RFC 8754 §2.1). Pad1 (type 0) has no length byte and an empty value.
    public struct SegmentRoutingTLV: Hashable, Sendable {
        public var type: UInt8
        public var value: [UInt8]

        public static let pad1Type: UInt8 = 0
        public static let padNType: UInt8 = 4
        public static let hmacType: UInt8 = 5
    }

    enum Layout {
        case sourceRoute([IPv6Address])
        case homeAddress(IPv6Address)
        case rpl(RPLFields)
        case segmentRouting(SegmentRoutingFields)
        case opaque
    }

    /// Decodes and checks the type-specific data; parsing and emitting both go through here.
    func layout(layer: String) throws -> Layout {
        try IPv6ExtensionFraming.checkEncodable(Field.data + data.count, layer: layer)
        // From here on data.count ≥ 4 and data.count % 8 == 4.
        let d = data[...]
        switch routingType {
        case RoutingType.sourceRoute:
            let addressBytes = d.count - DataField.addresses
            // RFC 2460 §4.4: Hdr Ext Len is twice the number of addresses.
            guard addressBytes % 16 == 0 else {
                throw WireError.badLength(layer, "type 0 with \(addressBytes) bytes of addresses, not a multiple of 16")
            }
            let addresses = Self.addresses(in: d, at: DataField.addresses, count: addressBytes / 16)
            guard Int(segmentsLeft) <= addresses.count else {
                throw WireError.badValue(
                    layer, "type 0 Segments Left \(segmentsLeft) exceeds \(addresses.count) addresses")
            }
            return .sourceRoute(addresses)
        case RoutingType.mobileIPv6:
            // RFC 6275 §6.4: exactly one address (Hdr Ext Len 2), Segments Left 1 on the wire. 0 is accepted too:
            // it is the value once processed, and the form AH covers (RFC 4302 §3.3.3.1.2.2).
            guard d.count == DataField.addresses + 16 else {
                throw WireError.badLength(layer, "type 2 must carry exactly one address (Hdr Ext Len 2)")
            }
            guard segmentsLeft <= 1 else {
                throw WireError.badValue(layer, "type 2 Segments Left \(segmentsLeft), expected 1")
            }
            return .homeAddress(IPv6Packet.address(in: d, at: DataField.addresses))
        case RoutingType.rpl:
            return .rpl(try rplFields(d, layer: layer))
        case RoutingType.segmentRouting:
            return .segmentRouting(try segmentRoutingFields(d, layer: layer))
        default:
            return .opaque
        }
    }

    private func rplFields(_ d: ArraySlice<UInt8>, layer: String) throws -> RPLFields {
        let compression = d.wireUInt8(at: DataField.rplCompression.lowerBound)
        let cmprI = compression >> 4, cmprE = compression & 0x0f
        let pad = d.wireUInt8(at: DataField.rplPad.lowerBound) >> 4
        let addressArea = d.count - DataField.addresses
        let otherSize = 16 - Int(cmprI), lastSize = 16 - Int(cmprE)
        // RFC 6554 §3: n = ((Hdr Ext Len × 8 − Pad − (16 − CmprE)) / (16 − CmprI)) + 1; the division must be
        // exact, or the sizes contradict Hdr Ext Len.
        let others = addressArea - Int(pad) - lastSize
        guard others >= 0, others % otherSize == 0 else {
            throw WireError.badLength(
                layer, "type 3 sizes (CmprI \(cmprI), CmprE \(cmprE), Pad \(pad)) do not fit \(addressArea) bytes")
        }
        let n = others / otherSize + 1
        guard Int(segmentsLeft) <= n else {
            throw WireError.badValue(layer, "type 3 Segments Left \(segmentsLeft) exceeds \(n) addresses")
        }
        var compressed: [[UInt8]] = []
        compressed.reserveCapacity(n)
        for i in 0..<(n - 1) {
            compressed.append(Array(d.wireBytes(at: DataField.addresses + i * otherSize, count: otherSize)))
        }
        compressed.append(Array(d.wireBytes(at: DataField.addresses + others, count: lastSize)))
        return RPLFields(cmprI: cmprI, cmprE: cmprE, pad: pad, compressedAddresses: compressed)
    }

    private func segmentRoutingFields(_ d: ArraySlice<UInt8>, layer: String) throws -> SegmentRoutingFields {
        let lastEntry = d.wireUInt8(at: DataField.srhLastEntry.lowerBound)
        let count = Int(lastEntry) + 1
        let tlvStart = DataField.addresses + 16 * count
        guard tlvStart <= d.count else {
            throw WireError.badLength(layer, "SRH Last Entry \(lastEntry) needs \(count) segments, header has room "
                                        + "for \((d.count - DataField.addresses) / 16)")
        }
        // RFC 8754 §4.3.1.1: Segments Left may be Last Entry + 1 (a reduced SRH omits the first segment).
        guard Int(segmentsLeft) <= count else {
            throw WireError.badValue(layer, "SRH Segments Left \(segmentsLeft) exceeds Last Entry + 1 (\(count))")
        }
        var tlvs: [SegmentRoutingTLV] = []
        var offset = tlvStart
        while offset < d.count {
            let type = d.wireUInt8(at: offset)
            if type == SegmentRoutingTLV.pad1Type {
                tlvs.append(SegmentRoutingTLV(type: type, value: []))
                offset += 1
                continue
            }
            guard d.count - offset >= 2 else {
                throw WireError.badLength(layer, "SRH TLV type \(type) has no length byte")
            }
            let length = Int(d.wireUInt8(at: offset + 1))
            guard length <= d.count - offset - 2 else {
                throw WireError.badLength(layer, "SRH TLV type \(type) of length \(length) runs past the header")
            }
            tlvs.append(SegmentRoutingTLV(type: type, value: Array(d.wireBytes(at: offset + 2, count: length))))
            offset += 2 + length
        }
        return SegmentRoutingFields(
            lastEntry: lastEntry, flags: d.wireUInt8(at: DataField.srhFlags.lowerBound),
            tag: d.wireUInt16(at: DataField.srhTag.lowerBound),
            segments: Self.addresses(in: d, at: DataField.addresses, count: count), tlvs: tlvs)
    }

    private static func addresses(in bytes: ArraySlice<UInt8>, at offset: Int, count: Int) -> [IPv6Address] {
        (0..<count).map { IPv6Packet.address(in: bytes, at: offset + 16 * $0) }
    }

    /// The addresses of a type 0 (Address[1..n]), type 2 (the home address) or type 4 (Segment List[0...], wire
    /// order) header; `nil` for other types (for type 3 see `rpl`) and for data that does not check.
    public var addresses: [IPv6Address]? {
        switch try? layout(layer: Self.layer) {
        case .sourceRoute(let addresses): addresses
        case .homeAddress(let address): [address]
        case .segmentRouting(let fields): fields.segments
        default: nil
        }
    }

    /// The type 3 fields, or `nil`.
    public var rpl: RPLFields? {
        if case .rpl(let fields) = try? layout(layer: Self.layer) { fields } else { nil }
    }

    /// The type 4 fields, or `nil`.
    public var segmentRouting: SegmentRoutingFields? {
        if case .segmentRouting(let fields) = try? layout(layer: Self.layer) { fields } else { nil }
    }

    /// The packet's final destination as this header names it: the last address for type 0, the home address for
    /// type 2, Segment List[0] for type 4. `nil` otherwise (for type 3, decompress with `rpl`), and for a type 0
    /// header without addresses (the Destination Address is then final).
    public func finalDestination() -> IPv6Address? {
        switch try? layout(layer: Self.layer) {
        case .sourceRoute(let addresses): addresses.last
        case .homeAddress(let address): address
        case .segmentRouting(let fields): fields.segments.first
        default: nil
        }
    }

    /// This header and the Destination Address as they will be on arrival at the final destination: the form AH's
    /// ICV covers, since the routing header is mutable but predictable (RFC 4302 §3.3.3.1.2.2 and Appendix A.2).
    ///
    /// Types 0 and 2 swap addresses on every hop (RFC 2460 §4.4, RFC 6275 §6.4): the destination becomes the last
    /// address, the not-yet-visited addresses shift up behind the current destination, Segments Left becomes 0.
    /// Type 4 does not rewrite its list (RFC 8754 §4.3.1.1): the destination becomes Segment List[0] and Segments
    /// Left 0. `nil` for other types (type 3 would need recompression) and for data that does not check.
    public func atFinalDestination(currentDestination: IPv6Address)
        -> (header: IPv6RoutingHeader, destination: IPv6Address)? {
        guard let layout = try? layout(layer: Self.layer) else { return nil }
        var final = self
        final.segmentsLeft = 0
        switch layout {
        case .sourceRoute, .homeAddress:
            guard let list = addresses, !list.isEmpty, segmentsLeft > 0 else { return (self, currentDestination) }
            let visited = list.count - Int(segmentsLeft)
            let rotated = Array(list[0..<visited]) + [currentDestination] + Array(list[visited..<(list.count - 1)])
            final.data = Array(data[DataField.reserved]) + rotated.flatMap(\.bytes)
            return (final, list[list.count - 1])
        case .segmentRouting(let fields):
            guard let first = fields.segments.first else { return nil }
            return (final, first)
        case .rpl, .opaque:
            return nil
        }
    }

    // MARK: Wire

    public static func parse(_ bytes: ArraySlice<UInt8>) throws -> IPv6RoutingHeader {
        let length = try IPv6ExtensionFraming.headerLength(bytes, layer: layer)
        let header = IPv6RoutingHeader(
            nextHeader: IPProtocol(bytes.wireUInt8(at: Field.nextHeader.lowerBound)),
            routingType: bytes.wireUInt8(at: Field.routingType.lowerBound),
            segmentsLeft: bytes.wireUInt8(at: Field.segmentsLeft.lowerBound),
            data: Array(bytes.wireBytes(at: Field.data, count: length - Field.data)))
        _ = try header.layout(layer: layer)
        return header
    }

    public var bufferLength: Int { Field.data + data.count }

    public func emit(into buffer: inout ArraySlice<UInt8>) throws {
        _ = try layout(layer: Self.layer)
        try checkEmitBuffer(buffer, layer: Self.layer)
        buffer.setWireUInt8(nextHeader.rawValue, at: Field.nextHeader.lowerBound)
        buffer.setWireUInt8(UInt8(truncatingIfNeeded: bufferLength / 8 - 1),
                            at: Field.headerExtensionLength.lowerBound)
        buffer.setWireUInt8(routingType, at: Field.routingType.lowerBound)
        buffer.setWireUInt8(segmentsLeft, at: Field.segmentsLeft.lowerBound)
        buffer.setWireBytes(data, at: Field.data)
    }
}

// MARK: - Fragment

/// A Fragment header (RFC 8200 §4.5). The reserved fields are kept, not checked: the RFC says receivers ignore them.
public struct IPv6FragmentHeader: WireRepresentable {
    enum Field {
        static let nextHeader = 0..<1
        static let reserved = 1..<2
        static let offsetAndFlags = 2..<4
        static let identification = 4..<8
    }

    public static let length = 8
    static let layer = "IPv6 Fragment"

    public var nextHeader: IPProtocol
    public var reserved: UInt8
    /// 13 bits, in 8-byte units.
    public var fragmentOffset: UInt16
    /// 2 bits.
    public var reserved2: UInt8
    public var moreFragments: Bool
    public var identification: UInt32

    public init(nextHeader: IPProtocol, reserved: UInt8 = 0, fragmentOffset: UInt16, reserved2: UInt8 = 0,
                moreFragments: Bool, identification: UInt32) {
        self.nextHeader = nextHeader
        self.reserved = reserved
        self.fragmentOffset = fragmentOffset
        self.reserved2 = reserved2
        self.moreFragments = moreFragments
        self.identification = identification
    }

    /// Whether this is the first fragment (offset 0), the only one whose upper-layer header can be read.
    public var isFirstFragment: Bool { fragmentOffset == 0 }

    public static func parse(_ bytes: ArraySlice<UInt8>) throws -> IPv6FragmentHeader {
        guard bytes.count >= length else { throw WireError.truncated(layer, need: length, have: bytes.count) }
        let word = bytes.wireUInt16(at: Field.offsetAndFlags.lowerBound)
        return IPv6FragmentHeader(
            nextHeader: IPProtocol(bytes.wireUInt8(at: Field.nextHeader.lowerBound)),
            reserved: bytes.wireUInt8(at: Field.reserved.lowerBound), fragmentOffset: word >> 3,
            reserved2: UInt8(truncatingIfNeeded: word >> 1) & 0x03, moreFragments: word & 1 != 0,
            identification: bytes.wireUInt32(at: Field.identification.lowerBound))
    }

    public var bufferLength: Int { Self.length }

    public func emit(into buffer: inout ArraySlice<UInt8>) throws {
        guard fragmentOffset <= 0x1fff else {
            throw WireError.badValue(Self.layer, "fragment offset \(fragmentOffset) does not fit in 13 bits")
        }
        guard reserved2 <= 0x03 else {
            throw WireError.badValue(Self.layer, "reserved2 \(reserved2) does not fit in 2 bits")
        }
        try checkEmitBuffer(buffer, layer: Self.layer)
        buffer.setWireUInt8(nextHeader.rawValue, at: Field.nextHeader.lowerBound)
        buffer.setWireUInt8(reserved, at: Field.reserved.lowerBound)
        buffer.setWireUInt16(fragmentOffset << 3 | UInt16(reserved2) << 1 | (moreFragments ? 1 : 0),
                             at: Field.offsetAndFlags.lowerBound)
        buffer.setWireUInt32(identification, at: Field.identification.lowerBound)
    }
}

// MARK: - Any extension header, and the chain

/// One of the extension headers that `IPv6ExtensionChain` walks.
public enum IPv6ExtensionHeader: Hashable, Sendable {
    case hopByHop(IPv6OptionsHeader)
    case routing(IPv6RoutingHeader)
    case fragment(IPv6FragmentHeader)
    case destinationOptions(IPv6OptionsHeader)

    /// The layer name errors carry for a header announced by `protocolNumber`.
    static func layer(for protocolNumber: IPProtocol) -> String {
        switch protocolNumber {
        case .hopByHop: "IPv6 Hop-by-Hop"
        case .routing: IPv6RoutingHeader.layer
        case .fragment: IPv6FragmentHeader.layer
        case .destinationOptions: "IPv6 Destination Options"
        default: "IPv6 extension header"
        }
    }

    /// Parses the header that `protocolNumber` announces from the start of `bytes`.
    public static func parse(_ protocolNumber: IPProtocol, bytes: ArraySlice<UInt8>) throws -> IPv6ExtensionHeader {
        let layer = layer(for: protocolNumber)
        switch protocolNumber {
        case .hopByHop: return .hopByHop(try IPv6OptionsHeader.parse(bytes, layer: layer))
        case .routing: return .routing(try IPv6RoutingHeader.parse(bytes))
        case .fragment: return .fragment(try IPv6FragmentHeader.parse(bytes))
        case .destinationOptions: return .destinationOptions(try IPv6OptionsHeader.parse(bytes, layer: layer))
        default: throw WireError.badValue(layer, "protocol \(protocolNumber) is not a walked extension header")
        }
    }

    public var nextHeader: IPProtocol {
        switch self {
        case .hopByHop(let h), .destinationOptions(let h): h.nextHeader
        case .routing(let h): h.nextHeader
        case .fragment(let h): h.nextHeader
        }
    }

    /// The Next Header value that announces this header.
    public var protocolNumber: IPProtocol {
        switch self {
        case .hopByHop: .hopByHop
        case .routing: .routing
        case .fragment: .fragment
        case .destinationOptions: .destinationOptions
        }
    }

    public var bufferLength: Int {
        switch self {
        case .hopByHop(let h), .destinationOptions(let h): h.bufferLength
        case .routing(let h): h.bufferLength
        case .fragment(let h): h.bufferLength
        }
    }

    public func emit(into buffer: inout ArraySlice<UInt8>) throws {
        switch self {
        case .hopByHop(let h), .destinationOptions(let h):
            try h.emit(into: &buffer, layer: Self.layer(for: protocolNumber))
        case .routing(let h): try h.emit(into: &buffer)
        case .fragment(let h): try h.emit(into: &buffer)
        }
    }
}

/// The extension headers at the start of an IPv6 payload, and where the upper layer starts.
public struct IPv6ExtensionChain: Hashable, Sendable {
    /// The most headers `walk` accepts. A packet that follows RFC 8200 §4.1 carries at most five of the four walked
    /// kinds (Hop-by-Hop, Destination Options, Routing, Fragment, Destination Options), but receivers must accept any
    /// order and repetition (except for Hop-by-Hop), so the bound is generous; it exists to cap the work a hostile
    /// packet can cause per walk (each header costs at least 8 bytes, so a 64 KiB payload could otherwise chain
    /// 8192), in the spirit of RFC 8883's processing limits.
    public static let maximumHeaders = 16
    static let layer = "IPv6 extension headers"

    public var headers: [IPv6ExtensionHeader]
    /// The first Next Header value that is not a walked extension header (ESP, AH, TCP, UDP, ICMPv6, No Next Header,
    /// a tunnelled IP packet, anything unknown); after a non-first fragment, the Fragment header's Next Header.
    public var upperLayerProtocol: IPProtocol
    /// Where the upper layer (or, after a non-first fragment, the fragment data) starts, from the start of the
    /// walked bytes.
    public var upperLayerOffset: Int

    public init(headers: [IPv6ExtensionHeader], upperLayerProtocol: IPProtocol, upperLayerOffset: Int) {
        self.headers = headers
        self.upperLayerProtocol = upperLayerProtocol
        self.upperLayerOffset = upperLayerOffset
    }

    /// The Fragment header, if the chain has one.
    public var fragmentHeader: IPv6FragmentHeader? {
        for case .fragment(let f) in headers { return f }
        return nil
    }

    /// Whether the walk stopped at a Fragment header with a non-zero offset: the bytes after it continue some
    /// earlier fragment, and `upperLayerProtocol` names what they belong to, not a header that starts there.
    public var isNonFirstFragment: Bool { fragmentHeader.map { !$0.isFirstFragment } ?? false }

    /// Walks Hop-by-Hop, Routing, Fragment and Destination Options headers from the start of `bytes` (an IPv6
    /// payload), `firstHeader` being the fixed header's Next Header.
    ///
    /// Throws `badValue` for a Hop-by-Hop header anywhere but first (RFC 8200 §4.3), `limitExceeded` past
    /// `maximumHeaders`, `truncated` for a header that runs past `bytes`, and whatever a header's own parse throws.
    /// Stops after a Fragment header with a non-zero offset: what follows is not a header (RFC 8200 §4.5).
    public static func walk(firstHeader: IPProtocol, bytes: ArraySlice<UInt8>) throws -> IPv6ExtensionChain {
        var headers: [IPv6ExtensionHeader] = []
        var next = firstHeader
        var offset = 0
        while next.isIPv6ExtensionHeader {
            if next == .hopByHop, !headers.isEmpty {
                throw WireError.badValue(IPv6ExtensionHeader.layer(for: next),
                                         "Hop-by-Hop header after \(headers.count) other headers; it may only be first")
            }
            guard headers.count < maximumHeaders else {
                throw WireError.limitExceeded(layer, "more than \(maximumHeaders) extension headers")
            }
            let header = try IPv6ExtensionHeader.parse(next, bytes: bytes.dropFirst(offset))
            headers.append(header)
            offset += header.bufferLength
            next = header.nextHeader
            if case .fragment(let f) = header, !f.isFirstFragment { break }
        }
        return IPv6ExtensionChain(headers: headers, upperLayerProtocol: next, upperLayerOffset: offset)
    }
}
