// AH, the Authentication Header (RFC 4302 §2).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Header   |  Payload Len  |          RESERVED             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 Security Parameters Index (SPI)               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Sequence Number Field                      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                                                               |
// +                Integrity Check Value-ICV (variable)           |
// |                  (and alignment padding)                      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Payload Len is the header length in 32-bit words minus 2 (RFC 4302 §2.2). The whole header must be a multiple of
// 4 bytes over IPv4 and of 8 bytes over IPv6, so over IPv6 the ICV may be followed by padding (RFC 4302 §2.6,
// §3.3.3.2.1). Where the ICV ends and the padding starts depends on the SA's algorithm, so this layer keeps both as
// one run of bytes.

/// A checked view of an AH header and what follows it: once `init` has passed, no accessor traps.
public struct AHPacket: Sendable {
    enum Field {
        static let nextHeader = 0..<1
        static let payloadLength = 1..<2
        static let reserved = 2..<4
        static let spi = 4..<8
        static let sequenceNumber = 8..<12
        /// The ICV and any padding run from here to the header length.
        static func icvAndPadding(headerLength: Int) -> Range<Int> { AHPacket.icvOffset..<headerLength }
    }

    /// Where the ICV starts: after the 12-byte fixed part.
    public static let icvOffset = 12
    /// The fixed part alone (an ICV of length 0, as RFC 4302 §2.2 allows for the debugging-only null algorithm).
    public static let minimumHeaderLength = 12
    static let layer = "AH"

    public let bytes: ArraySlice<UInt8>

    /// Checks the header under `ipVersion`'s alignment rule: at least 12 bytes; a header length (from Payload Len)
    /// of at least 12, within `bytes`, and a multiple of 4 (IPv4) or 8 (IPv6); reserved zero; SPI not zero.
    public init(_ bytes: ArraySlice<UInt8>, ipVersion: IPVersion) throws {
        try self.init(bytes, alignment: AHHeader.alignment(for: ipVersion))
    }

    /// Checks the header under the rule common to both IP versions (4-byte alignment, which is IPv4's). Over IPv6,
    /// prefer `init(_:ipVersion:)`, which also enforces the 8-byte alignment.
    public init(_ bytes: ArraySlice<UInt8>) throws {
        try self.init(bytes, alignment: 4)
    }

    private init(_ bytes: ArraySlice<UInt8>, alignment: Int) throws {
        guard bytes.count >= Self.minimumHeaderLength else {
            throw WireError.truncated(Self.layer, need: Self.minimumHeaderLength, have: bytes.count)
        }
        let payloadLength = Int(bytes.wireUInt8(at: Field.payloadLength.lowerBound))
        let headerLength = (payloadLength + 2) * 4
        guard headerLength >= Self.minimumHeaderLength else {
            throw WireError.badLength(
                Self.layer, "payload length \(payloadLength) gives \(headerLength) bytes, below the 12-byte fixed part")
        }
        // RFC 4302 §2.2 and §3.3.3.2.1: the header is a whole number of 32-bit words over IPv4 (always true of
        // (n + 2) * 4) and of 64-bit words over IPv6.
        guard headerLength % alignment == 0 else {
            throw WireError.badLength(
                Self.layer, "header length \(headerLength) is not a multiple of \(alignment) bytes")
        }
        guard headerLength <= bytes.count else {
            throw WireError.truncated(Self.layer, need: headerLength, have: bytes.count)
        }
        // RFC 4302 §2.3: RESERVED MUST be zero when sent; a non-zero value is not a header we produced or accept.
        let reserved = bytes.wireUInt16(at: Field.reserved.lowerBound)
        guard reserved == 0 else {
            throw WireError.badValue(Self.layer, "reserved field is \(reserved), not zero")
        }
        // RFC 4302 §2.4: SPI 0 is reserved for local use and MUST NOT be sent.
        guard bytes.wireUInt32(at: Field.spi.lowerBound) != 0 else {
            throw WireError.badValue(Self.layer, "SPI 0 is reserved and must not be sent")
        }
        self.bytes = bytes
    }

    public var nextHeader: IPProtocol { IPProtocol(bytes.wireUInt8(at: Field.nextHeader.lowerBound)) }
    /// The raw wire value: header length in 32-bit words minus 2.
    public var payloadLength: UInt8 { bytes.wireUInt8(at: Field.payloadLength.lowerBound) }
    /// Always zero once `init` has passed.
    public var reserved: UInt16 { bytes.wireUInt16(at: Field.reserved.lowerBound) }
    public var spi: UInt32 { bytes.wireUInt32(at: Field.spi.lowerBound) }
    /// The low 32 bits of the sequence number; with ESN the high 32 bits are not sent (RFC 4302 §2.5.1).
    public var sequenceNumber: UInt32 { bytes.wireUInt32(at: Field.sequenceNumber.lowerBound) }
    /// The header length in bytes, ICV and padding included.
    public var headerLength: Int { (Int(payloadLength) + 2) * 4 }
    /// The ICV followed by any alignment padding; only the SA's algorithm tells them apart.
    public var icvAndPadding: ArraySlice<UInt8> {
        let r = Field.icvAndPadding(headerLength: headerLength)
        return bytes.wireBytes(at: r.lowerBound, count: r.count)
    }
    /// What AH protects: everything after the header.
    public var payload: ArraySlice<UInt8> { bytes.dropFirst(headerLength) }
}

/// An AH header as a value.
///
/// `icv` holds the ICV *and* any alignment padding after it: which bytes are padding depends on the algorithm, which
/// the header does not name. Values are always emittable: `init` checks that the SPI is not zero and that
/// 12 + `icv.count` is a multiple of 4 no larger than 1028 bytes (Payload Len is one byte). The IPv6 8-byte rule is
/// checked by `parse(_:ipVersion:)` and reported by `isAligned(for:)`.
public struct AHHeader: WireRepresentable {
    public var nextHeader: IPProtocol
    /// Never 0: `init` rejects it, as `parse` does.
    public let spi: UInt32
    public var sequenceNumber: UInt32
    /// ICV ‖ padding. Its length is fixed once the value is made; `setICV` overwrites its first bytes.
    public private(set) var icv: [UInt8]

    /// Payload Len can say at most (255 + 2) * 4 bytes.
    public static let maximumHeaderLength = (255 + 2) * 4
    public static let icvOffset = AHPacket.icvOffset

    /// Throws `badValue` for SPI 0, `badLength` unless 12 + `icv.count` is a multiple of 4 of at most 1028 bytes.
    public init(nextHeader: IPProtocol, spi: UInt32, sequenceNumber: UInt32, icv: [UInt8]) throws {
        guard spi != 0 else {
            throw WireError.badValue(AHPacket.layer, "SPI 0 is reserved and must not be sent")
        }
        let headerLength = Self.icvOffset + icv.count
        guard headerLength % 4 == 0, headerLength <= Self.maximumHeaderLength else {
            throw WireError.badLength(
                AHPacket.layer,
                "a \(icv.count)-byte ICV gives a \(headerLength)-byte header, not a multiple of 4 up to 1028")
        }
        self.nextHeader = nextHeader
        self.spi = spi
        self.sequenceNumber = sequenceNumber
        self.icv = icv
    }

    /// A header ready for computing the ICV: the ICV and the padding `ipVersion` needs after it are zero, as RFC 4302
    /// §3.3.3.1 wants them while the ICV is computed. Fill the ICV in afterwards with `setICV`.
    public init(nextHeader: IPProtocol, spi: UInt32, sequenceNumber: UInt32, icvLength: Int,
                ipVersion: IPVersion) throws {
        guard icvLength >= 0, icvLength <= Self.maximumHeaderLength - Self.icvOffset else {
            throw WireError.badLength(AHPacket.layer, "ICV length \(icvLength) does not fit in an AH header")
        }
        let length = Self.headerLength(icvLength: icvLength, ipVersion: ipVersion)
        try self.init(nextHeader: nextHeader, spi: spi, sequenceNumber: sequenceNumber,
                      icv: [UInt8](repeating: 0, count: length - Self.icvOffset))
    }

    public init(_ view: AHPacket) {
        // The view has already checked the SPI and the length rules.
        self.nextHeader = view.nextHeader
        self.spi = view.spi
        self.sequenceNumber = view.sequenceNumber
        self.icv = Array(view.icvAndPadding)
    }

    /// Parses under the rule common to both IP versions: 4-byte alignment, which is IPv4's. Use
    /// `parse(_:ipVersion:)` to enforce IPv6's 8-byte alignment as well.
    public static func parse(_ bytes: ArraySlice<UInt8>) throws -> AHHeader {
        AHHeader(try AHPacket(bytes))
    }

    public static func parse(_ bytes: ArraySlice<UInt8>, ipVersion: IPVersion) throws -> AHHeader {
        AHHeader(try AHPacket(bytes, ipVersion: ipVersion))
    }

    public static func parse(_ bytes: [UInt8], ipVersion: IPVersion) throws -> AHHeader {
        try parse(bytes[...], ipVersion: ipVersion)
    }

    /// The header length for an ICV of `icvLength` bytes: 12 + ICV, padded to a multiple of 4 (IPv4) or 8 (IPv6)
    /// (RFC 4302 §2.6: only as much padding as the alignment needs). `icvLength` must be in 0...1028; an answer
    /// above `maximumHeaderLength` means the ICV does not fit in AH at all.
    public static func headerLength(icvLength: Int, ipVersion: IPVersion) -> Int {
        precondition((0...maximumHeaderLength).contains(icvLength), "ICV length must be in 0...1028, not \(icvLength)")
        let unit = alignment(for: ipVersion)
        let unpadded = icvOffset + icvLength
        return unpadded + (unit - unpadded % unit) % unit
    }

    static func alignment(for ipVersion: IPVersion) -> Int {
        ipVersion == .v4 ? 4 : 8
    }

    /// The raw wire value: header length in 32-bit words minus 2.
    public var payloadLength: UInt8 { UInt8(truncatingIfNeeded: bufferLength / 4 - 2) }
    /// Always zero (RFC 4302 §2.3); `parse` rejects anything else.
    public var reserved: UInt16 { 0 }
    /// The header length in bytes.
    public var headerLength: Int { bufferLength }

    /// Whether the header length suits `ipVersion` (RFC 4302 §2.2: 8-byte multiples over IPv6).
    public func isAligned(for ipVersion: IPVersion) -> Bool {
        bufferLength % Self.alignment(for: ipVersion) == 0
    }

    /// Writes `value` over the first bytes of `icv`, leaving any padding after it as it was. Throws `badLength` if
    /// `value` is longer than the space the header has for it.
    public mutating func setICV<C: Collection>(_ value: C) throws where C.Element == UInt8 {
        guard value.count <= icv.count else {
            throw WireError.badLength(AHPacket.layer, "\(value.count)-byte ICV in a header with room for \(icv.count)")
        }
        icv.replaceSubrange(0..<value.count, with: value)
    }

    public var bufferLength: Int { Self.icvOffset + icv.count }

    public func emit(into buffer: inout ArraySlice<UInt8>) throws {
        try checkEmitBuffer(buffer, layer: AHPacket.layer)
        typealias F = AHPacket.Field
        buffer.setWireUInt8(nextHeader.rawValue, at: F.nextHeader.lowerBound)
        buffer.setWireUInt8(payloadLength, at: F.payloadLength.lowerBound)
        buffer.setWireUInt16(reserved, at: F.reserved.lowerBound)
        buffer.setWireUInt32(spi, at: F.spi.lowerBound)
        buffer.setWireUInt32(sequenceNumber, at: F.sequenceNumber.lowerBound)
        buffer.setWireBytes(icv, at: Self.icvOffset)
    }
}
