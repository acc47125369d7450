// UDP (RFC 768).
//
//  0      7 8     15 16    23 24    31
// +--------+--------+--------+--------+
// |     Source      |   Destination   |
// |      Port       |      Port       |
// +--------+--------+--------+--------+
// |     Length      |    Checksum     |
// +--------+--------+--------+--------+

/// A checked view of a UDP datagram: once `init` has passed, no accessor traps.
public struct UDPDatagram: Sendable {
    enum Field {
        static let sourcePort = 0..<2
        static let destinationPort = 2..<4
        static let length = 4..<6
        static let checksum = 6..<8
    }

    public static let headerLength = 8
    static let layer = "UDP"

    public let bytes: ArraySlice<UInt8>

    /// Checks that `bytes` hold a whole datagram: at least the header, and at least as many bytes as the length field
    /// says. Bytes beyond the length field are not part of the datagram (see `datagram`).
    public init(_ bytes: ArraySlice<UInt8>) throws {
        guard bytes.count >= Self.headerLength else {
            throw WireError.truncated(Self.layer, need: Self.headerLength, have: bytes.count)
        }
        let length = Int(bytes.wireUInt16(at: Field.length.lowerBound))
        guard length >= Self.headerLength else {
            throw WireError.badLength(Self.layer, "length field \(length) is shorter than the 8-byte header")
        }
        guard length <= bytes.count else {
            throw WireError.truncated(Self.layer, need: length, have: bytes.count)
        }
        self.bytes = bytes
    }

    public var sourcePort: UInt16 { bytes.wireUInt16(at: Field.sourcePort.lowerBound) }
    public var destinationPort: UInt16 { bytes.wireUInt16(at: Field.destinationPort.lowerBound) }
    public var length: UInt16 { bytes.wireUInt16(at: Field.length.lowerBound) }
    public var checksum: UInt16 { bytes.wireUInt16(at: Field.checksum.lowerBound) }
    /// The datagram as its length field bounds it.
    public var datagram: ArraySlice<UInt8> { bytes.prefix(Int(length)) }
    public var payload: ArraySlice<UInt8> { datagram.dropFirst(Self.headerLength) }

    /// Whether the checksum is right under `pseudoHeader`. A zero checksum means "not computed", which IPv4 allows
    /// (RFC 768) and IPv6 does not (RFC 8200 §8.1).
    public func verifyChecksum(_ pseudoHeader: PseudoHeader) -> Bool {
        if checksum == 0, case .ipv4 = pseudoHeader { return true }
        return pseudoHeader.checksum(over: datagram) == 0
    }
}

/// A UDP header as a value.
public struct UDPHeader: WireRepresentable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// Header plus payload, in bytes.
    public var length: UInt16
    public var checksum: UInt16

    public init(sourcePort: UInt16, destinationPort: UInt16, length: UInt16, checksum: UInt16 = 0) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.length = length
        self.checksum = checksum
    }

    public init(_ view: UDPDatagram) {
        self.init(sourcePort: view.sourcePort, destinationPort: view.destinationPort, length: view.length,
                  checksum: view.checksum)
    }

    public static func parse(_ bytes: ArraySlice<UInt8>) throws -> UDPHeader {
        UDPHeader(try UDPDatagram(bytes))
    }

    public var bufferLength: Int { UDPDatagram.headerLength }

    public func emit(into buffer: inout ArraySlice<UInt8>) throws {
        try checkEmitBuffer(buffer, layer: UDPDatagram.layer)
        buffer.setWireUInt16(sourcePort, at: UDPDatagram.Field.sourcePort.lowerBound)
        buffer.setWireUInt16(destinationPort, at: UDPDatagram.Field.destinationPort.lowerBound)
        buffer.setWireUInt16(length, at: UDPDatagram.Field.length.lowerBound)
        buffer.setWireUInt16(checksum, at: UDPDatagram.Field.checksum.lowerBound)
    }

    /// The checksum this header should carry for `payload` under `pseudoHeader`; 0xffff stands for a computed zero
    /// (RFC 768).
    public func computeChecksum<C: Collection>(payload: C, pseudoHeader: PseudoHeader) -> UInt16
    where C.Element == UInt8 {
        var c = InternetChecksum()
        pseudoHeader.add(to: &c)
        c.add(sourcePort)
        c.add(destinationPort)
        c.add(length)
        c.add(payload)
        let v = c.value
        return v == 0 ? 0xffff : v
    }
}
