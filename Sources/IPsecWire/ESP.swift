// ESP, the Encapsulating Security Payload (RFC 4303 §2).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ----
// |               Security Parameters Index (SPI)                 | ^ ESPHeader
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |
// |                      Sequence Number                          | v
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ----
// |                IV (if the transform sends one)                | ^
// ~                                                               ~ |
// |              Payload Data (variable, encrypted)               | |
// ~               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ | ESPPacket.payload
// |               |     Padding (0-255 bytes)                     | |  (opaque here)
// +-+-+-+-+-+-+-+-+               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |
// |                               |  Pad Length   | Next Header   | | <- ESPTrailer, once decrypted
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |
// |         Integrity Check Value (ICV, variable)                 | v
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ----
//
// Only the SPI and sequence number are in the clear. Where the IV ends and the ICV starts depends on the SA's
// transforms, so at this layer everything after the first 8 bytes is one opaque payload; `ESPTrailer` reads the end of
// the payload once it has been decrypted.

/// A checked view of an ESP packet: once `init` has passed, no accessor traps.
public struct ESPPacket: Hashable, Sendable {
    enum Field {
        static let spi = 0..<4
        static let sequenceNumber = 4..<8
    }

    public static let headerLength = 8
    static let layer = "ESP"

    public let bytes: ArraySlice<UInt8>

    /// Checks that `bytes` hold the SPI and sequence number, and that the SPI is not the reserved zero.
    public init(_ bytes: ArraySlice<UInt8>) throws {
        guard bytes.count >= Self.headerLength else {
            throw WireError.truncated(Self.layer, need: Self.headerLength, have: bytes.count)
        }
        // RFC 4303 §2.1: SPI 0 is reserved for local use and MUST NOT be sent. (1–255 are reserved by IANA for
        // future use but not forbidden on the wire; they simply match no SA.)
        guard bytes.wireUInt32(at: Field.spi.lowerBound) != 0 else {
            throw WireError.badValue(Self.layer, "SPI 0 is reserved and must not be sent")
        }
        self.bytes = bytes
    }

    public var spi: UInt32 { bytes.wireUInt32(at: Field.spi.lowerBound) }
    /// The low 32 bits of the sequence number; with ESN the high 32 bits are not sent (RFC 4303 §2.2.1).
    public var sequenceNumber: UInt32 { bytes.wireUInt32(at: Field.sequenceNumber.lowerBound) }
    /// IV ‖ ciphertext ‖ ICV: opaque until the SA says how long the IV and ICV are.
    public var payload: ArraySlice<UInt8> { bytes.dropFirst(Self.headerLength) }
}

/// The 8 clear-text bytes of an ESP packet as a value.
public struct ESPHeader: WireRepresentable {
    /// Never 0: `init` rejects it, as `parse` does, so every value can be sent.
    public let spi: UInt32
    public var sequenceNumber: UInt32

    /// Throws `badValue` for SPI 0 (RFC 4303 §2.1: MUST NOT be sent).
    public init(spi: UInt32, sequenceNumber: UInt32) throws {
        guard spi != 0 else {
            throw WireError.badValue(ESPPacket.layer, "SPI 0 is reserved and must not be sent")
        }
        self.spi = spi
        self.sequenceNumber = sequenceNumber
    }

    public init(_ view: ESPPacket) {
        // The view has already refused SPI 0.
        self.spi = view.spi
        self.sequenceNumber = view.sequenceNumber
    }

    public static func parse(_ bytes: ArraySlice<UInt8>) throws -> ESPHeader {
        ESPHeader(try ESPPacket(bytes))
    }

    public var bufferLength: Int { ESPPacket.headerLength }

    public func emit(into buffer: inout ArraySlice<UInt8>) throws {
        try checkEmitBuffer(buffer, layer: ESPPacket.layer)
        buffer.setWireUInt32(spi, at: ESPPacket.Field.spi.lowerBound)
        buffer.setWireUInt32(sequenceNumber, at: ESPPacket.Field.sequenceNumber.lowerBound)
    }
}

/// The end of a decrypted ESP payload: padding, pad length and next header (RFC 4303 §2.4–2.6).
///
/// As a `WireRepresentable` its bytes are exactly padding ‖ pad length ‖ next header: `parse` wants nothing before
/// the padding. To take a trailer off a whole decrypted payload, use `split`.
public struct ESPTrailer: WireRepresentable {
    public let padding: [UInt8]
    /// Always equal to `padding.count`; kept as the wire field it is.
    public let padLength: UInt8
    /// The protocol of the payload data; `noNextHeader` (59) marks a dummy packet (RFC 4303 §2.6).
    public var nextHeader: IPProtocol

    static let layer = "ESP trailer"
    /// Pad length and next header.
    public static let fixedLength = 2
    /// RFC 4303 §2.4: the pad length is one byte.
    public static let maximumPadding = 255

    /// Throws `badLength` unless `padLength` is `padding.count` (which also keeps the padding within 255 bytes).
    public init(padding: [UInt8], padLength: UInt8, nextHeader: IPProtocol) throws {
        guard padding.count == Int(padLength) else {
            throw WireError.badLength(Self.layer, "pad length \(padLength) but \(padding.count) padding bytes")
        }
        self.padding = padding
        self.padLength = padLength
        self.nextHeader = nextHeader
    }

    /// Throws `badLength` for more than 255 padding bytes.
    public init(padding: [UInt8], nextHeader: IPProtocol) throws {
        guard padding.count <= Self.maximumPadding else {
            throw WireError.badLength(Self.layer, "\(padding.count) padding bytes, more than 255")
        }
        try self.init(padding: padding, padLength: UInt8(padding.count), nextHeader: nextHeader)
    }

    /// Splits a decrypted ESP payload (payload data ‖ padding ‖ pad length ‖ next header, the ICV and IV already
    /// removed) into the payload data and the trailer. The trailer is read from the end: the last byte is the next
    /// header, the one before it the pad length, and the `padLength` bytes before that are padding.
    ///
    /// Throws `truncated` if there are fewer than 2 + pad length bytes. The padding's contents are not judged here;
    /// `hasDefaultPadding` is the strict check.
    public static func split(_ plaintext: ArraySlice<UInt8>) throws
        -> (payload: ArraySlice<UInt8>, trailer: ESPTrailer) {
        guard plaintext.count >= fixedLength else {
            throw WireError.truncated(layer, need: fixedLength, have: plaintext.count)
        }
        let end = plaintext.count
        let padLength = plaintext.wireUInt8(at: end - 2)
        let nextHeader = IPProtocol(plaintext.wireUInt8(at: end - 1))
        let trailerLength = fixedLength + Int(padLength)
        guard trailerLength <= end else {
            throw WireError.truncated(layer, need: trailerLength, have: end)
        }
        let paddingStart = end - trailerLength
        let trailer = ESPTrailer(
            unchecked: Array(plaintext.wireBytes(at: paddingStart, count: Int(padLength))),
            padLength: padLength, nextHeader: nextHeader)
        return (plaintext.prefix(paddingStart), trailer)
    }

    private init(unchecked padding: [UInt8], padLength: UInt8, nextHeader: IPProtocol) {
        self.padding = padding
        self.padLength = padLength
        self.nextHeader = nextHeader
    }

    /// Parses exactly a trailer: bytes before the padding are `trailingBytes` (they belong to the payload, so pass the
    /// whole plaintext to `split` instead).
    public static func parse(_ bytes: ArraySlice<UInt8>) throws -> ESPTrailer {
        let (payload, trailer) = try split(bytes)
        guard payload.isEmpty else { throw WireError.trailingBytes(layer, count: payload.count) }
        return trailer
    }

    /// Whether the padding is the default 1, 2, 3, … (RFC 4303 §2.4). A receiver that knows the sender uses the
    /// default SHOULD check it; a mismatch means a wrong key or a forged or corrupted packet.
    ///
    /// Every byte is looked at, whichever is the first wrong one: the time depends on the padding's length only, not
    /// on where a wrong byte sits (the `padding-check` and `decap-padding` leakage tests, docs/timing.md).
    public var hasDefaultPadding: Bool {
        var difference: UInt8 = 0
        for (i, b) in padding.enumerated() { difference |= b ^ UInt8(truncatingIfNeeded: i + 1) }
        return difference == 0
    }

    /// The default padding of `count` bytes: 1, 2, 3, … (RFC 4303 §2.4). `count` must be in 0...255.
    public static func defaultPadding(count: Int) -> [UInt8] {
        precondition((0...maximumPadding).contains(count), "ESP padding is 0...255 bytes, not \(count)")
        return (0..<count).map { UInt8(truncatingIfNeeded: $0 + 1) }
    }

    /// The fewest padding bytes that make payload ‖ padding ‖ pad length ‖ next header a multiple of both the
    /// cipher's block size and `alignment` (RFC 4303 §2.4: the ciphertext fills whole blocks and ends on a 4-byte
    /// boundary so that the ICV is aligned). Both sizes must be powers of two up to 256, so the answer is at most 255.
    ///
    /// AES-CBC: `blockSize: 16`; AES-GCM, ChaCha20-Poly1305, CTR and NULL: `blockSize: 4` (or 1).
    public static func paddingLength(payloadLength: Int, blockSize: Int, alignment: Int = 4) -> Int {
        func isPowerOfTwoUpTo256(_ size: Int) -> Bool { size > 0 && size <= 256 && size & (size - 1) == 0 }
        precondition(payloadLength >= 0, "payload length must not be negative")
        precondition(isPowerOfTwoUpTo256(blockSize), "block size must be a power of two up to 256, not \(blockSize)")
        precondition(isPowerOfTwoUpTo256(alignment), "alignment must be a power of two up to 256, not \(alignment)")
        // Both are powers of two, so the larger is the unit and remainders are masks (no division on the hot path).
        let mask = max(blockSize, alignment) - 1
        // Reduce first so that no sum can overflow, whatever payloadLength is.
        let used = ((payloadLength & mask) + fixedLength) & mask
        return (mask + 1 - used) & mask
    }

    public var bufferLength: Int { padding.count + Self.fixedLength }

    public func emit(into buffer: inout ArraySlice<UInt8>) throws {
        try checkEmitBuffer(buffer, layer: Self.layer)
        buffer.setWireBytes(padding, at: 0)
        buffer.setWireUInt8(padLength, at: padding.count)
        buffer.setWireUInt8(nextHeader.rawValue, at: padding.count + 1)
    }
}
