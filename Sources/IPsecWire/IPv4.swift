// IPv4 (RFC 791 §3.1; DSCP: RFC 2474 §3; ECN: RFC 3168 §5).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |Version|  IHL  |   DSCP    |ECN|          Total Length         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |         Identification        |R|D|M|     Fragment Offset     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Time to Live |    Protocol   |         Header Checksum       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                       Source Address                          |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Destination Address                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                Options (IHL × 4 − 20 bytes, 0–40)             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// R: reserved, must be zero. D: Don't Fragment. M: More Fragments. Fragment Offset counts 8-byte units.

/// A checked view of an IPv4 packet: once `init` has passed, no accessor traps.
///
/// The view checks lengths only. Options are parsed (and can fail) by `IPv4Header`.
public struct IPv4Packet: Sendable {
    enum Field {
        static let versionAndIHL = 0..<1
        static let dscpAndECN = 1..<2
        static let totalLength = 2..<4
        static let identification = 4..<6
        static let flagsAndFragmentOffset = 6..<8
        static let ttl = 8..<9
        static let `protocol` = 9..<10
        static let headerChecksum = 10..<12
        static let source = 12..<16
        static let destination = 16..<20
        /// Options start here and run to IHL × 4.
        static let options = 20
    }

    enum FlagBit {
        static let reserved: UInt16 = 0x8000
        static let dontFragment: UInt16 = 0x4000
        static let moreFragments: UInt16 = 0x2000
        static let fragmentOffsetMask: UInt16 = 0x1fff
    }

    public static let minimumHeaderLength = 20
    /// IHL is 4 bits: at most 15 × 4 bytes.
    public static let maximumHeaderLength = 60
    static let layer = "IPv4"

    public let bytes: ArraySlice<UInt8>

    /// Checks that `bytes` hold a whole packet: version 4, a header length of at least 20 bytes that the bytes
    /// contain, and a total length that covers the header and that the bytes contain. Bytes beyond the total length
    /// (link-layer padding, e.g. Ethernet's 60-byte minimum) are not part of the packet (see `packet`).
    public init(_ bytes: ArraySlice<UInt8>) throws {
        let layer = Self.layer
        guard bytes.count >= Self.minimumHeaderLength else {
            throw WireError.truncated(layer, need: Self.minimumHeaderLength, have: bytes.count)
        }
        let first = bytes.wireUInt8(at: Field.versionAndIHL.lowerBound)
        guard first >> 4 == 4 else { throw WireError.badValue(layer, "version \(first >> 4), expected 4") }
        let headerLength = Int(first & 0x0f) * 4
        guard headerLength >= Self.minimumHeaderLength else {
            throw WireError.badLength(layer, "IHL \(first & 0x0f) is below the minimum of 5")
        }
        guard headerLength <= bytes.count else {
            throw WireError.truncated(layer, need: headerLength, have: bytes.count)
        }
        let totalLength = Int(bytes.wireUInt16(at: Field.totalLength.lowerBound))
        guard totalLength >= headerLength else {
            throw WireError.badLength(
                layer, "total length \(totalLength) is shorter than the \(headerLength)-byte header")
        }
        guard totalLength <= bytes.count else {
            throw WireError.truncated(layer, need: totalLength, have: bytes.count)
        }
        self.bytes = bytes
    }

    public var version: UInt8 { bytes.wireUInt8(at: Field.versionAndIHL.lowerBound) >> 4 }
    /// The header length in bytes (IHL × 4), options included.
    public var headerLength: Int { Int(bytes.wireUInt8(at: Field.versionAndIHL.lowerBound) & 0x0f) * 4 }
    public var dscp: UInt8 { bytes.wireUInt8(at: Field.dscpAndECN.lowerBound) >> 2 }
    public var ecn: UInt8 { bytes.wireUInt8(at: Field.dscpAndECN.lowerBound) & 0x03 }
    public var totalLength: UInt16 { bytes.wireUInt16(at: Field.totalLength.lowerBound) }
    public var identification: UInt16 { bytes.wireUInt16(at: Field.identification.lowerBound) }
    private var flagsAndFragmentOffset: UInt16 { bytes.wireUInt16(at: Field.flagsAndFragmentOffset.lowerBound) }
    public var reservedFlag: Bool { flagsAndFragmentOffset & FlagBit.reserved != 0 }
    public var dontFragment: Bool { flagsAndFragmentOffset & FlagBit.dontFragment != 0 }
    public var moreFragments: Bool { flagsAndFragmentOffset & FlagBit.moreFragments != 0 }
    /// In 8-byte units, as on the wire.
    public var fragmentOffset: UInt16 { flagsAndFragmentOffset & FlagBit.fragmentOffsetMask }
    /// Whether this packet is a fragment (first or later) rather than a whole datagram.
    public var isFragment: Bool { moreFragments || fragmentOffset != 0 }
    public var ttl: UInt8 { bytes.wireUInt8(at: Field.ttl.lowerBound) }
    public var `protocol`: IPProtocol { IPProtocol(bytes.wireUInt8(at: Field.protocol.lowerBound)) }
    public var headerChecksum: UInt16 { bytes.wireUInt16(at: Field.headerChecksum.lowerBound) }
    public var source: IPv4Address { IPv4Address(rawValue: bytes.wireUInt32(at: Field.source.lowerBound)) }
    public var destination: IPv4Address { IPv4Address(rawValue: bytes.wireUInt32(at: Field.destination.lowerBound)) }
    /// The header, options included.
    public var headerBytes: ArraySlice<UInt8> { bytes.prefix(headerLength) }
    public var optionBytes: ArraySlice<UInt8> {
        bytes.wireBytes(at: Field.options, count: headerLength - Field.options)
    }
    /// The packet as its total length bounds it.
    public var packet: ArraySlice<UInt8> { bytes.prefix(Int(totalLength)) }
    public var payload: ArraySlice<UInt8> { packet.dropFirst(headerLength) }

    /// Whether the header checksum is right: the header, checksum included, sums to zero (RFC 791 §3.1, RFC 1071).
    public func verifyHeaderChecksum() -> Bool {
        InternetChecksum.compute(headerBytes) == 0
    }
}

/// An IPv4 header as a value, options included.
///
/// `emit` rejects values that the wire format cannot carry (DSCP over 6 bits, ECN over 2, a fragment offset over
/// 13, options that break the option rules or do not fill whole 32-bit words, or exceed 40 bytes) with `badValue`
/// or `badLength`. It does not check `totalLength` against the header or the payload: that is a packet-level
/// matter, and negative test vectors need to be able to get it wrong.
public struct IPv4Header: WireRepresentable {
    /// Differentiated Services codepoint, 6 bits (RFC 2474 §3).
    public var dscp: UInt8
    /// ECN field, 2 bits (RFC 3168 §5).
    public var ecn: UInt8
    /// Header plus payload, in bytes.
    public var totalLength: UInt16
    public var identification: UInt16
    /// The reserved flag bit; RFC 791 §3.1 says it must be zero, but it is kept so that every header round-trips.
    public var reservedFlag: Bool
    public var dontFragment: Bool
    public var moreFragments: Bool
    /// 13 bits, in 8-byte units.
    public var fragmentOffset: UInt16
    public var ttl: UInt8
    public var `protocol`: IPProtocol
    public var headerChecksum: UInt16
    public var source: IPv4Address
    public var destination: IPv4Address
    /// In wire order; they must total a multiple of 4 bytes (pad with `.endOfOptionList(padding:)` or `.noOperation`).
    public var options: [IPv4Option]

    public init(dscp: UInt8 = 0, ecn: UInt8 = 0, totalLength: UInt16, identification: UInt16 = 0,
                reservedFlag: Bool = false, dontFragment: Bool = false, moreFragments: Bool = false,
                fragmentOffset: UInt16 = 0, ttl: UInt8 = 64, protocol: IPProtocol, headerChecksum: UInt16 = 0,
                source: IPv4Address, destination: IPv4Address, options: [IPv4Option] = []) {
        self.dscp = dscp
        self.ecn = ecn
        self.totalLength = totalLength
        self.identification = identification
        self.reservedFlag = reservedFlag
        self.dontFragment = dontFragment
        self.moreFragments = moreFragments
        self.fragmentOffset = fragmentOffset
        self.ttl = ttl
        self.protocol = `protocol`
        self.headerChecksum = headerChecksum
        self.source = source
        self.destination = destination
        self.options = options
    }

    /// The header of a checked packet; throws if its options are malformed.
    public init(_ view: IPv4Packet) throws {
        self.init(dscp: view.dscp, ecn: view.ecn, totalLength: view.totalLength, identification: view.identification,
                  reservedFlag: view.reservedFlag, dontFragment: view.dontFragment,
                  moreFragments: view.moreFragments, fragmentOffset: view.fragmentOffset, ttl: view.ttl,
                  protocol: view.protocol, headerChecksum: view.headerChecksum, source: view.source,
                  destination: view.destination, options: try IPv4Option.parseOptions(view.optionBytes))
    }

    /// Parses the header of the packet in `bytes`. The whole packet must be there: the total length is checked.
    public static func parse(_ bytes: ArraySlice<UInt8>) throws -> IPv4Header {
        try IPv4Header(IPv4Packet(bytes))
    }

    public var bufferLength: Int { IPv4Packet.minimumHeaderLength + IPv4Option.encodedLength(of: options) }

    public func emit(into buffer: inout ArraySlice<UInt8>) throws {
        let layer = IPv4Packet.layer
        guard dscp <= 0x3f else { throw WireError.badValue(layer, "DSCP \(dscp) does not fit in 6 bits") }
        guard ecn <= 0x03 else { throw WireError.badValue(layer, "ECN \(ecn) does not fit in 2 bits") }
        guard fragmentOffset <= IPv4Packet.FlagBit.fragmentOffsetMask else {
            throw WireError.badValue(layer, "fragment offset \(fragmentOffset) does not fit in 13 bits")
        }
        try IPv4Option.validate(options)
        let optionLength = IPv4Option.encodedLength(of: options)
        // IHL counts 32-bit words (RFC 791 §3.1).
        guard optionLength % 4 == 0 else {
            throw WireError.badLength(layer, "options total \(optionLength) bytes, not a multiple of 4")
        }
        try checkEmitBuffer(buffer, layer: layer)
        write(into: &buffer)
    }

    /// Writes `bufferLength` bytes without validating; fields too wide for the wire are truncated.
    private func write(into buffer: inout ArraySlice<UInt8>) {
        typealias F = IPv4Packet.Field
        let ihl = UInt8(truncatingIfNeeded: bufferLength / 4)
        buffer.setWireUInt8(4 << 4 | ihl & 0x0f, at: F.versionAndIHL.lowerBound)
        buffer.setWireUInt8(dscp << 2 | ecn & 0x03, at: F.dscpAndECN.lowerBound)
        buffer.setWireUInt16(totalLength, at: F.totalLength.lowerBound)
        buffer.setWireUInt16(identification, at: F.identification.lowerBound)
        var flags = fragmentOffset & IPv4Packet.FlagBit.fragmentOffsetMask
        if reservedFlag { flags |= IPv4Packet.FlagBit.reserved }
        if dontFragment { flags |= IPv4Packet.FlagBit.dontFragment }
        if moreFragments { flags |= IPv4Packet.FlagBit.moreFragments }
        buffer.setWireUInt16(flags, at: F.flagsAndFragmentOffset.lowerBound)
        buffer.setWireUInt8(ttl, at: F.ttl.lowerBound)
        buffer.setWireUInt8(self.protocol.rawValue, at: F.protocol.lowerBound)
        buffer.setWireUInt16(headerChecksum, at: F.headerChecksum.lowerBound)
        buffer.setWireUInt32(source.rawValue, at: F.source.lowerBound)
        buffer.setWireUInt32(destination.rawValue, at: F.destination.lowerBound)
        IPv4Option.write(options, into: &buffer, at: F.options)
    }

    /// Sets `headerChecksum` to the checksum of the serialised header, computed with the checksum field zero
    /// (RFC 791 §3.1). A header that `emit` would reject gets a checksum of its truncated fields, which nothing
    /// should rely on.
    public mutating func updateChecksum() {
        headerChecksum = 0
        var header = [UInt8](repeating: 0, count: bufferLength)
        write(into: &header[...])
        headerChecksum = InternetChecksum.compute(header)
    }
}
