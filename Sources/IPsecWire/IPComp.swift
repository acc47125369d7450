// IPComp, the IP Payload Compression Protocol header (RFC 3173 §2.2).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Next Header  |     Flags     | Compression Parameter Index   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                   Compressed Payload ...                      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

/// Compression Parameter Index values (RFC 3173 §2.2): 0–63 are the well-known algorithms, numbered as the
/// IANA IPComp transform identifiers; 64–255 are reserved; 256–61439 are negotiated per IPComp association;
/// 61440–65535 are for private use.
public enum IPCompCPI {
    public static let oui: UInt16 = 1
    /// RFC 2394.
    public static let deflate: UInt16 = 2
    /// RFC 2395.
    public static let lzs: UInt16 = 3
    /// ITU-T V.44 packet method, RFC 3051.
    public static let lzjh: UInt16 = 4

    /// The algorithm a well-known CPI names, or the range a CPI falls in.
    public static func name(_ cpi: UInt16) -> String {
        switch cpi {
        case 0: "reserved"
        case 1: "OUI"
        case 2: "DEFLATE"
        case 3: "LZS"
        case 4: "LZJH"
        case 5...63: "well-known \(cpi)"
        case 64...255: "reserved \(cpi)"
        case 256...61439: "negotiated \(cpi)"
        default: "private \(cpi)"
        }
    }
}

/// A checked view of an IPComp header and its compressed payload: once `init` has passed, no accessor traps.
public struct IPCompPacket: Sendable {
    enum Field {
        static let nextHeader = 0..<1
        static let flags = 1..<2
        static let cpi = 2..<4
    }

    public static let headerLength = 4
    static let layer = "IPComp"

    public let bytes: ArraySlice<UInt8>

    /// Checks that `bytes` hold the 4-byte header and that the flags are zero.
    public init(_ bytes: ArraySlice<UInt8>) throws {
        guard bytes.count >= Self.headerLength else {
            throw WireError.truncated(Self.layer, need: Self.headerLength, have: bytes.count)
        }
        // RFC 3173 §2.2: the flags are reserved for future use and MUST be set to zero; no flag is defined, so a
        // non-zero value is a header this implementation cannot understand.
        let flags = bytes.wireUInt8(at: Field.flags.lowerBound)
        guard flags == 0 else {
            throw WireError.badValue(Self.layer, "flags are \(flags), not zero")
        }
        self.bytes = bytes
    }

    /// The protocol of the payload before compression.
    public var nextHeader: IPProtocol { IPProtocol(bytes.wireUInt8(at: Field.nextHeader.lowerBound)) }
    /// Always zero once `init` has passed.
    public var flags: UInt8 { bytes.wireUInt8(at: Field.flags.lowerBound) }
    public var cpi: UInt16 { bytes.wireUInt16(at: Field.cpi.lowerBound) }
    /// The compression algorithm (or CPI range) the CPI names.
    public var name: String { IPCompCPI.name(cpi) }
    /// The compressed payload.
    public var payload: ArraySlice<UInt8> { bytes.dropFirst(Self.headerLength) }
}

/// An IPComp header as a value.
public struct IPCompHeader: WireRepresentable {
    public var nextHeader: IPProtocol
    public var cpi: UInt16

    public init(nextHeader: IPProtocol, cpi: UInt16) {
        self.nextHeader = nextHeader
        self.cpi = cpi
    }

    public init(_ view: IPCompPacket) {
        self.init(nextHeader: view.nextHeader, cpi: view.cpi)
    }

    public static func parse(_ bytes: ArraySlice<UInt8>) throws -> IPCompHeader {
        IPCompHeader(try IPCompPacket(bytes))
    }

    /// Always zero (RFC 3173 §2.2); `parse` rejects anything else.
    public var flags: UInt8 { 0 }
    /// The compression algorithm (or CPI range) the CPI names.
    public var name: String { IPCompCPI.name(cpi) }

    public var bufferLength: Int { IPCompPacket.headerLength }

    public func emit(into buffer: inout ArraySlice<UInt8>) throws {
        try checkEmitBuffer(buffer, layer: IPCompPacket.layer)
        buffer.setWireUInt8(nextHeader.rawValue, at: IPCompPacket.Field.nextHeader.lowerBound)
        buffer.setWireUInt8(flags, at: IPCompPacket.Field.flags.lowerBound)
        buffer.setWireUInt16(cpi, at: IPCompPacket.Field.cpi.lowerBound)
    }
}
