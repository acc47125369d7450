// ICMP for IPv4 (RFC 792) and for IPv6 (RFC 4443 §2.1). Both share the first 8 bytes' shape; the 4 bytes after
// the checksum depend on the type (echo: identifier and sequence number; packet too big: the MTU; otherwise mostly
// unused or a pointer).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     Type      |     Code      |          Checksum             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                        Rest of Header                         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                     Message Body ...                          |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

/// Byte ranges and the length check shared by the ICMPv4 and ICMPv6 views.
enum ICMPLayout {
    enum Field {
        static let type = 0..<1
        static let code = 1..<2
        static let checksum = 2..<4
        static let restOfHeader = 4..<8
    }

    /// Every message of both versions starts with these 8 bytes (RFC 792; RFC 4443 §2.1 and §3–4).
    static let headerLength = 8

    static func check(_ bytes: ArraySlice<UInt8>, layer: String) throws {
        guard bytes.count >= headerLength else {
            throw WireError.truncated(layer, need: headerLength, have: bytes.count)
        }
    }

    static func emit(type: UInt8, code: UInt8, checksum: UInt16, restOfHeader: UInt32,
                     into buffer: inout ArraySlice<UInt8>) {
        buffer.setWireUInt8(type, at: Field.type.lowerBound)
        buffer.setWireUInt8(code, at: Field.code.lowerBound)
        buffer.setWireUInt16(checksum, at: Field.checksum.lowerBound)
        buffer.setWireUInt32(restOfHeader, at: Field.restOfHeader.lowerBound)
    }
}

/// ICMPv4 message types (IANA "ICMP Type Numbers"), as plain numbers with names.
public enum ICMPv4Type {
    public static let echoReply: UInt8 = 0
    public static let destinationUnreachable: UInt8 = 3
    public static let redirect: UInt8 = 5
    public static let echoRequest: UInt8 = 8
    public static let routerAdvertisement: UInt8 = 9
    public static let routerSolicitation: UInt8 = 10
    public static let timeExceeded: UInt8 = 11
    public static let parameterProblem: UInt8 = 12
    public static let timestamp: UInt8 = 13
    public static let timestampReply: UInt8 = 14

    /// A readable name, or "type N" for types IPsecLab has no name for.
    public static func name(_ type: UInt8) -> String {
        switch type {
        case 0: "echo reply"
        case 3: "destination unreachable"
        case 4: "source quench"
        case 5: "redirect"
        case 8: "echo request"
        case 9: "router advertisement"
        case 10: "router solicitation"
        case 11: "time exceeded"
        case 12: "parameter problem"
        case 13: "timestamp"
        case 14: "timestamp reply"
        default: "type \(type)"
        }
    }
}

/// ICMPv6 message types (RFC 4443 §2.1, RFC 4861 §4, RFC 2710/3810), as plain numbers with names.
public enum ICMPv6Type {
    public static let destinationUnreachable: UInt8 = 1
    public static let packetTooBig: UInt8 = 2
    public static let timeExceeded: UInt8 = 3
    public static let parameterProblem: UInt8 = 4
    public static let echoRequest: UInt8 = 128
    public static let echoReply: UInt8 = 129
    public static let routerSolicitation: UInt8 = 133
    public static let routerAdvertisement: UInt8 = 134
    public static let neighborSolicitation: UInt8 = 135
    public static let neighborAdvertisement: UInt8 = 136
    public static let redirect: UInt8 = 137

    /// A readable name, or "type N" for types IPsecLab has no name for.
    public static func name(_ type: UInt8) -> String {
        switch type {
        case 1: "destination unreachable"
        case 2: "packet too big"
        case 3: "time exceeded"
        case 4: "parameter problem"
        case 128: "echo request"
        case 129: "echo reply"
        case 130: "multicast listener query"
        case 131: "multicast listener report"
        case 132: "multicast listener done"
        case 133: "router solicitation"
        case 134: "router advertisement"
        case 135: "neighbor solicitation"
        case 136: "neighbor advertisement"
        case 137: "redirect"
        case 143: "multicast listener report v2"
        default: "type \(type)"
        }
    }
}

// MARK: - ICMPv4

/// A checked view of an ICMPv4 message: once `init` has passed, no accessor traps.
///
/// ICMP has no length field: `bytes` must be exactly the message as the IPv4 header bounds it, since the checksum
/// covers all of it.
public struct ICMPv4Message: Sendable {
    typealias Field = ICMPLayout.Field
    public static let headerLength = ICMPLayout.headerLength
    static let layer = "ICMPv4"

    public let bytes: ArraySlice<UInt8>

    public init(_ bytes: ArraySlice<UInt8>) throws {
        try ICMPLayout.check(bytes, layer: Self.layer)
        self.bytes = bytes
    }

    public var type: UInt8 { bytes.wireUInt8(at: Field.type.lowerBound) }
    public var code: UInt8 { bytes.wireUInt8(at: Field.code.lowerBound) }
    public var checksum: UInt16 { bytes.wireUInt16(at: Field.checksum.lowerBound) }
    /// The 4 bytes after the checksum, as one big-endian number.
    public var restOfHeader: UInt32 { bytes.wireUInt32(at: Field.restOfHeader.lowerBound) }
    public var payload: ArraySlice<UInt8> { bytes.dropFirst(Self.headerLength) }
    public var name: String { ICMPv4Type.name(type) }

    /// Whether the checksum is right. RFC 792: it covers the ICMP message alone, with no pseudo-header.
    public func verifyChecksum() -> Bool {
        InternetChecksum.compute(bytes) == 0
    }
}

/// An ICMPv4 header (its first 8 bytes) as a value.
public struct ICMPv4Header: WireRepresentable {
    public var type: UInt8
    public var code: UInt8
    public var checksum: UInt16
    /// The 4 bytes after the checksum; for echo, identifier << 16 | sequence number.
    public var restOfHeader: UInt32

    public init(type: UInt8, code: UInt8, checksum: UInt16 = 0, restOfHeader: UInt32 = 0) {
        self.type = type
        self.code = code
        self.checksum = checksum
        self.restOfHeader = restOfHeader
    }

    public init(_ view: ICMPv4Message) {
        self.init(type: view.type, code: view.code, checksum: view.checksum, restOfHeader: view.restOfHeader)
    }

    public static func parse(_ bytes: ArraySlice<UInt8>) throws -> ICMPv4Header {
        ICMPv4Header(try ICMPv4Message(bytes))
    }

    public var name: String { ICMPv4Type.name(type) }

    public var bufferLength: Int { ICMPv4Message.headerLength }

    public func emit(into buffer: inout ArraySlice<UInt8>) throws {
        try checkEmitBuffer(buffer, layer: ICMPv4Message.layer)
        ICMPLayout.emit(type: type, code: code, checksum: checksum, restOfHeader: restOfHeader, into: &buffer)
    }

    /// The checksum this header should carry for the message body `payload` (RFC 792: no pseudo-header).
    public func computeChecksum<C: Collection>(payload: C) -> UInt16 where C.Element == UInt8 {
        var c = InternetChecksum()
        c.add(UInt16(type) << 8 | UInt16(code))
        c.add(restOfHeader)
        c.add(payload)
        return c.value
    }
}

// MARK: - ICMPv6

/// A checked view of an ICMPv6 message: once `init` has passed, no accessor traps.
///
/// `bytes` must be exactly the message as the IPv6 header chain bounds it, since the checksum covers all of it.
public struct ICMPv6Message: Sendable {
    typealias Field = ICMPLayout.Field
    public static let headerLength = ICMPLayout.headerLength
    static let layer = "ICMPv6"

    public let bytes: ArraySlice<UInt8>

    public init(_ bytes: ArraySlice<UInt8>) throws {
        try ICMPLayout.check(bytes, layer: Self.layer)
        self.bytes = bytes
    }

    public var type: UInt8 { bytes.wireUInt8(at: Field.type.lowerBound) }
    public var code: UInt8 { bytes.wireUInt8(at: Field.code.lowerBound) }
    public var checksum: UInt16 { bytes.wireUInt16(at: Field.checksum.lowerBound) }
    /// The 4 bytes after the checksum, as one big-endian number (echo identifier and sequence, MTU, pointer, ...).
    public var restOfHeader: UInt32 { bytes.wireUInt32(at: Field.restOfHeader.lowerBound) }
    public var payload: ArraySlice<UInt8> { bytes.dropFirst(Self.headerLength) }
    /// RFC 4443 §2.1: types 0–127 are errors, 128–255 informational.
    public var isError: Bool { type < 128 }
    public var name: String { ICMPv6Type.name(type) }

    /// Whether the checksum is right under `pseudoHeader` (RFC 4443 §2.3: the IPv6 pseudo-header with next header
    /// 58 and the message length). ICMPv6 is only defined over IPv6, so an IPv4 pseudo-header never verifies.
    public func verifyChecksum(_ pseudoHeader: PseudoHeader) -> Bool {
        guard case .ipv6 = pseudoHeader else { return false }
        return pseudoHeader.checksum(over: bytes) == 0
    }
}

/// An ICMPv6 header (its first 8 bytes) as a value.
public struct ICMPv6Header: WireRepresentable {
    public var type: UInt8
    public var code: UInt8
    public var checksum: UInt16
    /// The 4 bytes after the checksum; for echo, identifier << 16 | sequence number; for packet too big, the MTU.
    public var restOfHeader: UInt32

    public init(type: UInt8, code: UInt8, checksum: UInt16 = 0, restOfHeader: UInt32 = 0) {
        self.type = type
        self.code = code
        self.checksum = checksum
        self.restOfHeader = restOfHeader
    }

    public init(_ view: ICMPv6Message) {
        self.init(type: view.type, code: view.code, checksum: view.checksum, restOfHeader: view.restOfHeader)
    }

    public static func parse(_ bytes: ArraySlice<UInt8>) throws -> ICMPv6Header {
        ICMPv6Header(try ICMPv6Message(bytes))
    }

    public var name: String { ICMPv6Type.name(type) }

    public var bufferLength: Int { ICMPv6Message.headerLength }

    public func emit(into buffer: inout ArraySlice<UInt8>) throws {
        try checkEmitBuffer(buffer, layer: ICMPv6Message.layer)
        ICMPLayout.emit(type: type, code: code, checksum: checksum, restOfHeader: restOfHeader, into: &buffer)
    }

    /// The checksum this header should carry for the message body `payload` under `pseudoHeader` (RFC 4443 §2.3;
    /// its length must be `bufferLength + payload.count`).
    public func computeChecksum<C: Collection>(payload: C, pseudoHeader: PseudoHeader) -> UInt16
    where C.Element == UInt8 {
        var h = self
        h.checksum = 0
        var c = InternetChecksum()
        pseudoHeader.add(to: &c)
        c.add(UInt16(h.type) << 8 | UInt16(h.code))
        c.add(h.restOfHeader)
        c.add(payload)
        return c.value
    }
}
