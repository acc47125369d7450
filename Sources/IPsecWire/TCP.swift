// TCP (RFC 9293 §3.1).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |          Source Port          |       Destination Port        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                        Sequence Number                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Acknowledgment Number                      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Data |       |C|E|U|A|P|R|S|F|                               |
// | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
// |       |       |R|E|G|K|H|T|N|N|                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |           Checksum            |         Urgent Pointer        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                           [Options]                           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                             Data                              |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

/// A checked view of a TCP segment: once `init` has passed, no accessor traps.
///
/// TCP has no length field: the segment is whatever the IP layer bounds, so `bytes` must be exactly the segment
/// (IPv4 total length or IPv6 payload length minus the IP headers) for `payload` and the checksum to be right.
/// The view checks lengths only; `options()` (and `TCPHeader.parse`) check the options strictly.
public struct TCPSegment: Sendable {
    enum Field {
        static let sourcePort = 0..<2
        static let destinationPort = 2..<4
        static let sequenceNumber = 4..<8
        static let acknowledgmentNumber = 8..<12
        /// Data offset (high 4 bits) and the reserved bits (low 4 bits).
        static let dataOffsetAndReserved = 12..<13
        static let flags = 13..<14
        static let window = 14..<16
        static let checksum = 16..<18
        static let urgentPointer = 18..<20
        /// The options run from here to the data offset.
        static func options(headerLength: Int) -> Range<Int> { 20..<headerLength }
    }

    /// The fixed header, without options.
    public static let minimumHeaderLength = 20
    /// Data offset is 4 bits of 32-bit words: at most 60 bytes of header, 40 of options (RFC 9293 §3.1).
    public static let maximumHeaderLength = 60
    static let layer = "TCP"

    public let bytes: ArraySlice<UInt8>

    /// Checks that `bytes` hold the fixed header and all the options the data offset announces.
    public init(_ bytes: ArraySlice<UInt8>) throws {
        guard bytes.count >= Self.minimumHeaderLength else {
            throw WireError.truncated(Self.layer, need: Self.minimumHeaderLength, have: bytes.count)
        }
        let dataOffset = Int(bytes.wireUInt8(at: Field.dataOffsetAndReserved.lowerBound) >> 4)
        // RFC 9293 §3.1: the data offset counts the header in 32-bit words; the fixed part alone is 5.
        guard dataOffset >= 5 else {
            throw WireError.badLength(Self.layer, "data offset \(dataOffset) is below the minimum of 5 words")
        }
        guard dataOffset * 4 <= bytes.count else {
            throw WireError.truncated(Self.layer, need: dataOffset * 4, have: bytes.count)
        }
        self.bytes = bytes
    }

    public var sourcePort: UInt16 { bytes.wireUInt16(at: Field.sourcePort.lowerBound) }
    public var destinationPort: UInt16 { bytes.wireUInt16(at: Field.destinationPort.lowerBound) }
    public var sequenceNumber: UInt32 { bytes.wireUInt32(at: Field.sequenceNumber.lowerBound) }
    public var acknowledgmentNumber: UInt32 { bytes.wireUInt32(at: Field.acknowledgmentNumber.lowerBound) }
    /// The header length in 32-bit words (5...15).
    public var dataOffset: UInt8 { bytes.wireUInt8(at: Field.dataOffsetAndReserved.lowerBound) >> 4 }
    /// The 4 bits between data offset and flags. The lowest is AccECN's AE bit (formerly RFC 3540's NS); RFC 9293
    /// §3.1 says receivers ignore bits they do not implement, so they are kept, not rejected.
    public var reserved: UInt8 { bytes.wireUInt8(at: Field.dataOffsetAndReserved.lowerBound) & 0x0f }
    public var flags: TCPFlags { TCPFlags(rawValue: bytes.wireUInt8(at: Field.flags.lowerBound)) }
    public var window: UInt16 { bytes.wireUInt16(at: Field.window.lowerBound) }
    public var checksum: UInt16 { bytes.wireUInt16(at: Field.checksum.lowerBound) }
    public var urgentPointer: UInt16 { bytes.wireUInt16(at: Field.urgentPointer.lowerBound) }
    /// Header length in bytes, options included.
    public var headerLength: Int { Int(dataOffset) * 4 }
    /// The raw option bytes (possibly empty).
    public var optionBytes: ArraySlice<UInt8> {
        let r = Field.options(headerLength: headerLength)
        return bytes.wireBytes(at: r.lowerBound, count: r.count)
    }
    public var payload: ArraySlice<UInt8> { bytes.dropFirst(headerLength) }

    /// The options, parsed strictly (see `TCPOption`).
    public func options() throws -> [TCPOption] {
        try TCPOption.parseList(optionBytes)
    }

    /// Whether the checksum is right under `pseudoHeader`, whose length must be `bytes.count`. Unlike UDP, a zero
    /// checksum is not special: TCP's checksum is mandatory (RFC 9293 §3.1).
    public func verifyChecksum(_ pseudoHeader: PseudoHeader) -> Bool {
        pseudoHeader.checksum(over: bytes) == 0
    }
}

/// The eight TCP control bits (RFC 9293 §3.1; CWR and ECE from RFC 3168 §6.1).
public struct TCPFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let fin = TCPFlags(rawValue: 0x01)
    public static let syn = TCPFlags(rawValue: 0x02)
    public static let rst = TCPFlags(rawValue: 0x04)
    public static let psh = TCPFlags(rawValue: 0x08)
    public static let ack = TCPFlags(rawValue: 0x10)
    public static let urg = TCPFlags(rawValue: 0x20)
    public static let ece = TCPFlags(rawValue: 0x40)
    public static let cwr = TCPFlags(rawValue: 0x80)

    /// tcpdump's letters, most significant first: "W", "E", "U", "A", "P", "R", "S", "F".
    public var description: String {
        let letters: [(TCPFlags, Character)] = [
            (.cwr, "W"), (.ece, "E"), (.urg, "U"), (.ack, "A"), (.psh, "P"), (.rst, "R"), (.syn, "S"), (.fin, "F"),
        ]
        let s = String(letters.compactMap { contains($0.0) ? $0.1 : nil })
        return s.isEmpty ? "." : s
    }
}

/// One SACK block: the edges of a run of received data (RFC 2018 §3).
public struct TCPSACKBlock: Hashable, Sendable {
    public var leftEdge: UInt32
    public var rightEdge: UInt32

    public init(leftEdge: UInt32, rightEdge: UInt32) {
        self.leftEdge = leftEdge
        self.rightEdge = rightEdge
    }
}

/// A TCP option (RFC 9293 §3.1 and the RFCs named per case).
///
/// Parsing is strict: a length byte below 2, an option running past the option area, or a known kind with a length
/// its RFC does not allow is `badLength`. Everything after End of Option List is kept verbatim as its padding, so a
/// parsed option list emits back to the same bytes.
public enum TCPOption: Hashable, Sendable {
    /// Kind 0. `padding` is every byte after it up to the data offset; RFC 9293 §3.1 says these are zero, and a
    /// receiver stops reading at this option, so other values are kept rather than rejected.
    case endOfOptionList(padding: [UInt8])
    /// Kind 1.
    case noOperation
    /// Kind 2, length 4 (RFC 9293 §3.7.1).
    case maximumSegmentSize(UInt16)
    /// Kind 3, length 3 (RFC 7323 §2.2). Values above 14 are kept; RFC 7323 tells receivers to clamp them.
    case windowScale(UInt8)
    /// Kind 4, length 2 (RFC 2018 §2).
    case sackPermitted
    /// Kind 5, length 2 + 8n with n in 1...4 (RFC 2018 §3: 40 option bytes hold at most four blocks).
    case sack([TCPSACKBlock])
    /// Kind 8, length 10 (RFC 7323 §3.2).
    case timestamps(value: UInt32, echoReply: UInt32)
    /// Any other kind, with the bytes after its length byte.
    case unknown(kind: UInt8, data: [UInt8])

    static let layer = "TCP option"
    /// RFC 9293 §3.1: 60 header bytes at most, 20 of them fixed.
    public static let maximumListLength = 40
    public static let maximumSACKBlocks = 4

    enum Kind {
        static let endOfOptionList: UInt8 = 0
        static let noOperation: UInt8 = 1
        static let maximumSegmentSize: UInt8 = 2
        static let windowScale: UInt8 = 3
        static let sackPermitted: UInt8 = 4
        static let sack: UInt8 = 5
        static let timestamps: UInt8 = 8
        static let known: Set<UInt8> = [0, 1, 2, 3, 4, 5, 8]
    }

    public var kind: UInt8 {
        switch self {
        case .endOfOptionList: Kind.endOfOptionList
        case .noOperation: Kind.noOperation
        case .maximumSegmentSize: Kind.maximumSegmentSize
        case .windowScale: Kind.windowScale
        case .sackPermitted: Kind.sackPermitted
        case .sack: Kind.sack
        case .timestamps: Kind.timestamps
        case let .unknown(kind, _): kind
        }
    }

    /// The bytes this option takes on the wire (for End of Option List, with its padding).
    public var encodedLength: Int {
        switch self {
        case let .endOfOptionList(padding): 1 + padding.count
        case .noOperation: 1
        case .maximumSegmentSize: 4
        case .windowScale: 3
        case .sackPermitted: 2
        case let .sack(blocks): 2 + 8 * blocks.count
        case .timestamps: 10
        case let .unknown(_, data): 2 + data.count
        }
    }

    /// Parses a whole option area. Never traps: every length is checked against what is left.
    static func parseList(_ bytes: ArraySlice<UInt8>) throws -> [TCPOption] {
        var reader = ByteReader(bytes)
        var options: [TCPOption] = []
        while let kind = reader.readUInt8() {
            switch kind {
            case Kind.endOfOptionList:
                // RFC 9293 §3.1: the end of the option list; what follows is padding up to the data offset.
                options.append(.endOfOptionList(padding: Array(reader.remainingBytes)))
                return options
            case Kind.noOperation:
                options.append(.noOperation)
            default:
                guard let length = reader.readUInt8() else {
                    throw WireError.badLength(layer, "kind \(kind) has no length byte")
                }
                // The length counts the kind and length bytes themselves.
                guard length >= 2 else {
                    throw WireError.badLength(layer, "kind \(kind) has length \(length), below 2")
                }
                guard let data = reader.readBytes(Int(length) - 2) else {
                    throw WireError.badLength(
                        layer, "kind \(kind) has length \(length), overrunning the \(bytes.count)-byte option area")
                }
                options.append(try parseOne(kind: kind, length: length, data: data))
            }
        }
        return options
    }

    private static func parseOne(kind: UInt8, length: UInt8, data: ArraySlice<UInt8>) throws -> TCPOption {
        func expect(_ expected: UInt8, _ name: String) throws {
            guard length == expected else {
                throw WireError.badLength(layer, "\(name) has length \(length), not \(expected)")
            }
        }
        switch kind {
        case Kind.maximumSegmentSize:
            try expect(4, "maximum segment size")
            return .maximumSegmentSize(data.wireUInt16(at: 0))
        case Kind.windowScale:
            try expect(3, "window scale")
            return .windowScale(data.wireUInt8(at: 0))
        case Kind.sackPermitted:
            try expect(2, "SACK permitted")
            return .sackPermitted
        case Kind.sack:
            let n = data.count / 8
            guard data.count % 8 == 0, (1...maximumSACKBlocks).contains(n) else {
                throw WireError.badLength(layer, "SACK has length \(length), not 2 + 8n with n in 1...4")
            }
            var blocks: [TCPSACKBlock] = []
            blocks.reserveCapacity(n)
            for i in 0..<n {
                blocks.append(TCPSACKBlock(leftEdge: data.wireUInt32(at: 8 * i),
                                           rightEdge: data.wireUInt32(at: 8 * i + 4)))
            }
            return .sack(blocks)
        case Kind.timestamps:
            try expect(10, "timestamps")
            return .timestamps(value: data.wireUInt32(at: 0), echoReply: data.wireUInt32(at: 4))
        default:
            return .unknown(kind: kind, data: Array(data))
        }
    }

    /// Throws unless this option can be emitted as it stands and parsed back to itself.
    func validate() throws {
        switch self {
        case let .sack(blocks):
            guard (1...Self.maximumSACKBlocks).contains(blocks.count) else {
                throw WireError.badLength(Self.layer, "SACK carries \(blocks.count) blocks, not 1...4")
            }
        case let .unknown(kind, data):
            // A known kind would parse back as its own case, not as `unknown`.
            guard !Kind.known.contains(kind) else {
                throw WireError.badValue(Self.layer, "kind \(kind) has its own case; it cannot be unknown")
            }
            guard data.count <= Self.maximumListLength - 2 else {
                throw WireError.badLength(Self.layer, "kind \(kind) carries \(data.count) bytes, more than 38")
            }
        case .endOfOptionList, .noOperation, .maximumSegmentSize, .windowScale, .sackPermitted, .timestamps:
            break
        }
    }

    /// Writes the option at `offset`; the caller has checked that `encodedLength` bytes fit.
    func emit(into buffer: inout ArraySlice<UInt8>, at offset: Int) {
        buffer.setWireUInt8(kind, at: offset)
        if case let .endOfOptionList(padding) = self {
            buffer.setWireBytes(padding, at: offset + 1)
            return
        }
        if case .noOperation = self { return }
        // Validated options are at most 40 bytes long.
        buffer.setWireUInt8(UInt8(truncatingIfNeeded: encodedLength), at: offset + 1)
        let body = offset + 2
        switch self {
        case let .maximumSegmentSize(mss):
            buffer.setWireUInt16(mss, at: body)
        case let .windowScale(shift):
            buffer.setWireUInt8(shift, at: body)
        case let .sack(blocks):
            for (i, block) in blocks.enumerated() {
                buffer.setWireUInt32(block.leftEdge, at: body + 8 * i)
                buffer.setWireUInt32(block.rightEdge, at: body + 8 * i + 4)
            }
        case let .timestamps(value, echoReply):
            buffer.setWireUInt32(value, at: body)
            buffer.setWireUInt32(echoReply, at: body + 4)
        case let .unknown(_, data):
            buffer.setWireBytes(data, at: body)
        case .endOfOptionList, .noOperation, .sackPermitted:
            break
        }
    }

    /// `options` followed, if their length is not a multiple of 4, by End of Option List and zero padding up to the
    /// next 32-bit boundary (RFC 9293 §3.1), ready for `TCPHeader`.
    public static func aligned(_ options: [TCPOption]) -> [TCPOption] {
        let length = options.reduce(0) { $0 + $1.encodedLength }
        guard length % 4 != 0 else { return options }
        return options + [.endOfOptionList(padding: [UInt8](repeating: 0, count: 3 - length % 4))]
    }
}

/// A TCP header as a value, options included.
///
/// Values are always emittable: the throwing `init` (and `setOptions`) check that the options encode to a whole
/// number of 32-bit words, at most 40 bytes, with End of Option List only last, so `dataOffset` follows from them.
public struct TCPHeader: WireRepresentable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var sequenceNumber: UInt32
    public var acknowledgmentNumber: UInt32
    /// The 4 reserved bits (0...15), kept so that AE/NS round-trips.
    public private(set) var reserved: UInt8
    public var flags: TCPFlags
    public var window: UInt16
    public var checksum: UInt16
    public var urgentPointer: UInt16
    public private(set) var options: [TCPOption]

    public init(sourcePort: UInt16, destinationPort: UInt16, sequenceNumber: UInt32, acknowledgmentNumber: UInt32,
                reserved: UInt8 = 0, flags: TCPFlags, window: UInt16, checksum: UInt16 = 0, urgentPointer: UInt16 = 0,
                options: [TCPOption] = []) throws {
        guard reserved <= 0x0f else {
            throw WireError.badValue(TCPSegment.layer, "reserved bits \(reserved) do not fit in 4 bits")
        }
        try Self.validate(options)
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.sequenceNumber = sequenceNumber
        self.acknowledgmentNumber = acknowledgmentNumber
        self.reserved = reserved
        self.flags = flags
        self.window = window
        self.checksum = checksum
        self.urgentPointer = urgentPointer
        self.options = options
    }

    /// The header of `view`; throws if its options are malformed.
    public init(_ view: TCPSegment) throws {
        try self.init(sourcePort: view.sourcePort, destinationPort: view.destinationPort,
                      sequenceNumber: view.sequenceNumber, acknowledgmentNumber: view.acknowledgmentNumber,
                      reserved: view.reserved, flags: view.flags, window: view.window, checksum: view.checksum,
                      urgentPointer: view.urgentPointer, options: try view.options())
    }

    public static func parse(_ bytes: ArraySlice<UInt8>) throws -> TCPHeader {
        try TCPHeader(try TCPSegment(bytes))
    }

    /// Replaces the options, with the same checks as `init`.
    public mutating func setOptions(_ options: [TCPOption]) throws {
        try Self.validate(options)
        self.options = options
    }

    private static func validate(_ options: [TCPOption]) throws {
        var length = 0
        for (i, option) in options.enumerated() {
            try option.validate()
            if case .endOfOptionList = option, i != options.count - 1 {
                throw WireError.badValue(TCPOption.layer, "End of Option List must be the last option")
            }
            length += option.encodedLength
            guard length <= TCPOption.maximumListLength else {
                throw WireError.badLength(TCPOption.layer, "options take more than 40 bytes")
            }
        }
        guard length % 4 == 0 else {
            throw WireError.badLength(TCPOption.layer,
                                      "options take \(length) bytes, not a multiple of 4 (see TCPOption.aligned)")
        }
    }

    private var optionsLength: Int { options.reduce(0) { $0 + $1.encodedLength } }

    /// The header length in 32-bit words, as the options make it.
    public var dataOffset: UInt8 { UInt8(truncatingIfNeeded: bufferLength / 4) }

    public var bufferLength: Int { TCPSegment.minimumHeaderLength + optionsLength }

    public func emit(into buffer: inout ArraySlice<UInt8>) throws {
        try checkEmitBuffer(buffer, layer: TCPSegment.layer)
        typealias F = TCPSegment.Field
        buffer.setWireUInt16(sourcePort, at: F.sourcePort.lowerBound)
        buffer.setWireUInt16(destinationPort, at: F.destinationPort.lowerBound)
        buffer.setWireUInt32(sequenceNumber, at: F.sequenceNumber.lowerBound)
        buffer.setWireUInt32(acknowledgmentNumber, at: F.acknowledgmentNumber.lowerBound)
        buffer.setWireUInt8(dataOffset << 4 | reserved & 0x0f, at: F.dataOffsetAndReserved.lowerBound)
        buffer.setWireUInt8(flags.rawValue, at: F.flags.lowerBound)
        buffer.setWireUInt16(window, at: F.window.lowerBound)
        buffer.setWireUInt16(checksum, at: F.checksum.lowerBound)
        buffer.setWireUInt16(urgentPointer, at: F.urgentPointer.lowerBound)
        var offset = TCPSegment.minimumHeaderLength
        for option in options {
            option.emit(into: &buffer, at: offset)
            offset += option.encodedLength
        }
    }

    /// The checksum this header should carry for `payload` under `pseudoHeader` (whose length must be
    /// `bufferLength + payload.count`). A computed zero is sent as zero: TCP has no "no checksum" value.
    public func computeChecksum<C: Collection>(payload: C, pseudoHeader: PseudoHeader) throws -> UInt16
    where C.Element == UInt8 {
        var h = self
        h.checksum = 0
        var c = InternetChecksum()
        pseudoHeader.add(to: &c)
        c.add(try h.serialized())
        c.add(payload)
        return c.value
    }
}
