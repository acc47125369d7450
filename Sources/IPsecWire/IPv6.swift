// IPv6 fixed header (RFC 8200 §3; traffic class as DSCP and ECN: RFC 2474 §3, RFC 3168 §5).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |Version| Traffic Class |              Flow Label               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |         Payload Length        |  Next Header  |   Hop Limit   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                                                               |
// +                                                               +
// |                                                               |
// +                         Source Address                        +
// |                                                               |
// +                                                               +
// |                                                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                                                               |
// +                                                               +
// |                                                               |
// +                      Destination Address                      +
// |                                                               |
// +                                                               +
// |                                                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Payload Length counts everything after these 40 bytes, extension headers included.

/// A checked view of an IPv6 packet: once `init` has passed, no accessor traps.
///
/// The view checks the fixed header and the payload length only; `extensionChain()` walks the extension headers.
public struct IPv6Packet: Sendable {
    enum Field {
        static let versionClassAndFlow = 0..<4
        static let payloadLength = 4..<6
        static let nextHeader = 6..<7
        static let hopLimit = 7..<8
        static let source = 8..<24
        static let destination = 24..<40
    }

    public static let headerLength = 40
    static let layer = "IPv6"

    public let bytes: ArraySlice<UInt8>

    /// Checks that `bytes` hold a whole packet: the fixed header, version 6, and as many bytes after it as the
    /// payload length says. Bytes beyond that are link-layer padding, not part of the packet (see `packet`).
    ///
    /// A payload length of zero announces a jumbogram (RFC 2675 §3) only together with a Hop-by-Hop header, which
    /// carries the Jumbo Payload option; such a packet with bytes after the header is rejected (`badValue`, jumbograms
    /// are not supported). With any other next header, a zero payload length is just an empty payload and the
    /// remaining bytes are padding (a 40-byte packet in a 60-byte Ethernet frame has some).
    public init(_ bytes: ArraySlice<UInt8>) throws {
        let layer = Self.layer
        guard bytes.count >= Self.headerLength else {
            throw WireError.truncated(layer, need: Self.headerLength, have: bytes.count)
        }
        let version = bytes.wireUInt8(at: Field.versionClassAndFlow.lowerBound) >> 4
        guard version == 6 else { throw WireError.badValue(layer, "version \(version), expected 6") }
        let payloadLength = Int(bytes.wireUInt16(at: Field.payloadLength.lowerBound))
        let nextHeader = IPProtocol(bytes.wireUInt8(at: Field.nextHeader.lowerBound))
        if payloadLength == 0, nextHeader == .hopByHop, bytes.count > Self.headerLength {
            throw WireError.badValue(layer, "payload length 0 with a Hop-by-Hop header: jumbograms not supported")
        }
        guard payloadLength <= bytes.count - Self.headerLength else {
            throw WireError.truncated(layer, need: Self.headerLength + payloadLength, have: bytes.count)
        }
        self.bytes = bytes
    }

    private var firstWord: UInt32 { bytes.wireUInt32(at: Field.versionClassAndFlow.lowerBound) }
    public var version: UInt8 { UInt8(truncatingIfNeeded: firstWord >> 28) }
    public var trafficClass: UInt8 { UInt8(truncatingIfNeeded: firstWord >> 20) }
    /// The upper 6 bits of the traffic class (RFC 2474 §3).
    public var dscp: UInt8 { trafficClass >> 2 }
    /// The lower 2 bits of the traffic class (RFC 3168 §5).
    public var ecn: UInt8 { trafficClass & 0x03 }
    /// 20 bits.
    public var flowLabel: UInt32 { firstWord & 0x000f_ffff }
    public var payloadLength: UInt16 { bytes.wireUInt16(at: Field.payloadLength.lowerBound) }
    public var nextHeader: IPProtocol { IPProtocol(bytes.wireUInt8(at: Field.nextHeader.lowerBound)) }
    public var hopLimit: UInt8 { bytes.wireUInt8(at: Field.hopLimit.lowerBound) }
    public var source: IPv6Address { Self.address(in: bytes, at: Field.source.lowerBound) }
    public var destination: IPv6Address { Self.address(in: bytes, at: Field.destination.lowerBound) }
    /// The packet as its payload length bounds it.
    public var packet: ArraySlice<UInt8> { bytes.prefix(Self.headerLength + Int(payloadLength)) }
    /// Everything after the fixed header: extension headers, then the upper layer.
    public var payload: ArraySlice<UInt8> { packet.dropFirst(Self.headerLength) }

    /// The extension headers at the start of the payload (RFC 8200 §4).
    public func extensionChain() throws -> IPv6ExtensionChain {
        try IPv6ExtensionChain.walk(firstHeader: nextHeader, bytes: payload)
    }

    /// The 16 bytes at `offset` as an address; the caller has checked that they are there.
    static func address(in bytes: ArraySlice<UInt8>, at offset: Int) -> IPv6Address {
        IPv6Address(
            high: UInt64(bytes.wireUInt32(at: offset)) << 32 | UInt64(bytes.wireUInt32(at: offset + 4)),
            low: UInt64(bytes.wireUInt32(at: offset + 8)) << 32 | UInt64(bytes.wireUInt32(at: offset + 12)))
    }

    /// Writes `address` as 16 bytes at `offset`; the caller has checked that they fit.
    static func setAddress(_ address: IPv6Address, in buffer: inout ArraySlice<UInt8>, at offset: Int) {
        buffer.setWireUInt32(UInt32(truncatingIfNeeded: address.high >> 32), at: offset)
        buffer.setWireUInt32(UInt32(truncatingIfNeeded: address.high), at: offset + 4)
        buffer.setWireUInt32(UInt32(truncatingIfNeeded: address.low >> 32), at: offset + 8)
        buffer.setWireUInt32(UInt32(truncatingIfNeeded: address.low), at: offset + 12)
    }
}

/// The fixed IPv6 header as a value. Extension headers are separate values (`IPv6ExtensionHeader`).
public struct IPv6Header: WireRepresentable {
    public var trafficClass: UInt8
    /// 20 bits; `emit` rejects wider values.
    public var flowLabel: UInt32
    /// Bytes after the fixed header, extension headers included.
    public var payloadLength: UInt16
    public var nextHeader: IPProtocol
    public var hopLimit: UInt8
    public var source: IPv6Address
    public var destination: IPv6Address

    public init(trafficClass: UInt8 = 0, flowLabel: UInt32 = 0, payloadLength: UInt16, nextHeader: IPProtocol,
                hopLimit: UInt8 = 64, source: IPv6Address, destination: IPv6Address) {
        self.trafficClass = trafficClass
        self.flowLabel = flowLabel
        self.payloadLength = payloadLength
        self.nextHeader = nextHeader
        self.hopLimit = hopLimit
        self.source = source
        self.destination = destination
    }

    public init(_ view: IPv6Packet) {
        self.init(trafficClass: view.trafficClass, flowLabel: view.flowLabel, payloadLength: view.payloadLength,
                  nextHeader: view.nextHeader, hopLimit: view.hopLimit, source: view.source,
                  destination: view.destination)
    }

    /// Parses the fixed header of the packet in `bytes`. The whole packet must be there: the payload length is
    /// checked.
    public static func parse(_ bytes: ArraySlice<UInt8>) throws -> IPv6Header {
        IPv6Header(try IPv6Packet(bytes))
    }

    public var bufferLength: Int { IPv6Packet.headerLength }

    public func emit(into buffer: inout ArraySlice<UInt8>) throws {
        let layer = IPv6Packet.layer
        guard flowLabel <= 0x000f_ffff else {
            throw WireError.badValue(layer, "flow label \(flowLabel) does not fit in 20 bits")
        }
        try checkEmitBuffer(buffer, layer: layer)
        typealias F = IPv6Packet.Field
        buffer.setWireUInt32(6 << 28 | UInt32(trafficClass) << 20 | flowLabel, at: F.versionClassAndFlow.lowerBound)
        buffer.setWireUInt16(payloadLength, at: F.payloadLength.lowerBound)
        buffer.setWireUInt8(nextHeader.rawValue, at: F.nextHeader.lowerBound)
        buffer.setWireUInt8(hopLimit, at: F.hopLimit.lowerBound)
        IPv6Packet.setAddress(source, in: &buffer, at: F.source.lowerBound)
        IPv6Packet.setAddress(destination, in: &buffer, at: F.destination.lowerBound)
    }
}
