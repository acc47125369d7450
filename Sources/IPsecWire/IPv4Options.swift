// IPv4 options (RFC 791 §3.1; Router Alert: RFC 2113; which of them matter today: RFC 7126).
//
// The type byte:
//
//    0   1 2  3 4 5 6 7
//  +---+-----+---------+
//  | C |class| number  |   C: copied into every fragment
//  +---+-----+---------+
//
// End of Option List (0) and No Operation (1) are that one byte. Every other option is type, length (counting the
// type and length bytes themselves), data:
//
//  +--------+--------+--------//--------+
//  |  type  | length |  length − 2 bytes |
//  +--------+--------+--------//--------+
//
// Record Route (7), Loose (131) and Strict (137) Source and Record Route:
//
//  +--------+--------+--------+---------//--------+
//  |  type  | 3 + 4n | pointer| n IPv4 addresses   |
//  +--------+--------+--------+---------//--------+
//
// Timestamp (68); an entry is a timestamp (flag 0) or an address and a timestamp (flags 1 and 3):
//
//  +--------+--------+--------+--------+
//  |01000100| length | pointer|oflw|flg|
//  +--------+--------+--------+--------+
//  |        entries (length − 4)       |
//  +--------+--------+--------+--------+
//
// Router Alert (148):
//
//  +--------+--------+--------+--------+
//  |10010100|00000100|      value      |
//  +--------+--------+--------+--------+

/// One IPv4 option, by type.
///
/// Round trip: `emitOptions(parseOptions(x))` gives back exactly the bytes `x`. The one place where RFC 791 leaves
/// bytes without meaning is after End of Option List: the rest of the option area is padding ("the padding is zero").
/// Those bytes are kept, as they came, in `.endOfOptionList(padding:)`, so that a header with non-zero padding (a
/// covert channel, or a bug worth seeing) re-serialises byte for byte. An End of Option List is therefore always the
/// last option of a list.
public enum IPv4Option: Hashable, Sendable {
    /// End of Option List (type 0), followed by the rest of the option area.
    case endOfOptionList(padding: [UInt8] = [])
    /// No Operation (type 1).
    case noOperation
    /// Record Route (type 7). `pointer` is the 1-based offset, within the option, of the next free slot.
    case recordRoute(pointer: UInt8, route: [IPv4Address])
    /// Loose Source and Record Route (type 131).
    case looseSourceRoute(pointer: UInt8, route: [IPv4Address])
    /// Strict Source and Record Route (type 137).
    case strictSourceRoute(pointer: UInt8, route: [IPv4Address])
    /// Internet Timestamp (type 68). `overflow` and `flag` are 4 bits each; `data` holds the entries as on the wire:
    /// 4-byte timestamps (flag 0) or 8-byte address-and-timestamp pairs (flags 1 and 3).
    case timestamp(pointer: UInt8, overflow: UInt8, flag: UInt8, data: [UInt8])
    /// Router Alert (type 148, RFC 2113 §2.1); value 0 is "router shall examine packet", the rest are reserved.
    case routerAlert(value: UInt16)
    /// Any other type, its data kept as bytes. Never one of the types above: `emitOptions` rejects that, because it
    /// would come back as the typed case.
    case unknown(type: UInt8, data: [UInt8])

    /// Option type values.
    public enum TypeCode {
        public static let endOfOptionList: UInt8 = 0
        public static let noOperation: UInt8 = 1
        public static let recordRoute: UInt8 = 7
        public static let timestamp: UInt8 = 68
        public static let looseSourceRoute: UInt8 = 131
        public static let strictSourceRoute: UInt8 = 137
        public static let routerAlert: UInt8 = 148
    }

    /// The timestamp option's flag values (RFC 791 §3.1); 2 and 4–15 are undefined.
    public enum TimestampFlag {
        public static let timestampsOnly: UInt8 = 0
        public static let addressAndTimestamp: UInt8 = 1
        public static let prespecifiedAddresses: UInt8 = 3
    }

    /// Offsets within an option.
    enum Field {
        static let type = 0..<1
        static let length = 1..<2
        /// Route and timestamp options.
        static let pointer = 2..<3
        static let routeData = 3
        /// Timestamp: overflow (high 4 bits) and flag (low 4 bits).
        static let timestampFlags = 3..<4
        static let timestampData = 4
        static let routerAlertValue = 2..<4
        static let unknownData = 2
    }

    /// The option area is bounded by the 4-bit IHL: at most 60 − 20 bytes (RFC 791 §3.1).
    public static let maximumAreaLength = 40

    static let layer = "IPv4 option"

    public var type: UInt8 {
        switch self {
        case .endOfOptionList: TypeCode.endOfOptionList
        case .noOperation: TypeCode.noOperation
        case .recordRoute: TypeCode.recordRoute
        case .looseSourceRoute: TypeCode.looseSourceRoute
        case .strictSourceRoute: TypeCode.strictSourceRoute
        case .timestamp: TypeCode.timestamp
        case .routerAlert: TypeCode.routerAlert
        case .unknown(let type, _): type
        }
    }

    /// The copy bit of the type: whether fragmentation repeats this option in every fragment (RFC 791 §3.1).
    public var copiedOnFragmentation: Bool { type & 0x80 != 0 }

    /// The option's bytes on the wire, type byte included (for End of Option List, its padding included).
    public var encodedLength: Int {
        switch self {
        case .endOfOptionList(let padding): 1 + padding.count
        case .noOperation: 1
        case .recordRoute(_, let route), .looseSourceRoute(_, let route), .strictSourceRoute(_, let route):
            3 + 4 * route.count
        case .timestamp(_, _, _, let data): 4 + data.count
        case .routerAlert: 4
        case .unknown(_, let data): 2 + data.count
        }
    }

    // MARK: - Parsing

    /// Parses an option area (the bytes between the fixed header and the end of the IPv4 header).
    ///
    /// Strict: an option without a length byte, with a length below 2 or running past the area is `badLength`; a
    /// typed option whose content contradicts RFC 791 is `badLength` or `badValue`; so is a second Record Route, a
    /// second Timestamp, or a second source route (RFC 791 §3.1 "appears at most once"; RFC 1122 §3.2.1.8 forbids
    /// two source routes). The area is at most 40 bytes and each option takes at least one, so the loop is bounded.
    public static func parseOptions(_ bytes: ArraySlice<UInt8>) throws -> [IPv4Option] {
        guard bytes.count <= maximumAreaLength else {
            throw WireError.badLength(layer, "\(bytes.count) bytes of options exceed the 40-byte option area")
        }
        var options: [IPv4Option] = []
        var offset = 0
        while offset < bytes.count {
            let type = bytes.wireUInt8(at: offset)
            switch type {
            case TypeCode.endOfOptionList:
                options.append(.endOfOptionList(padding: Array(bytes.dropFirst(offset + 1))))
                offset = bytes.count
            case TypeCode.noOperation:
                options.append(.noOperation)
                offset += 1
            default:
                guard bytes.count - offset >= 2 else {
                    throw WireError.badLength(layer, "option type \(type) at offset \(offset) has no length byte")
                }
                let length = Int(bytes.wireUInt8(at: offset + Field.length.lowerBound))
                guard length >= 2 else {
                    throw WireError.badLength(layer, "option type \(type) has length \(length), below 2")
                }
                guard length <= bytes.count - offset else {
                    throw WireError.badLength(
                        layer, "option type \(type) of length \(length) at offset \(offset) runs past the "
                            + "\(bytes.count)-byte option area")
                }
                let bodyStart = Field.length.upperBound
                let option = try decode(type: type,
                                        body: bytes.wireBytes(at: offset + bodyStart, count: length - bodyStart))
                try option.validate()
                options.append(option)
                offset += length
            }
        }
        try validateOccurrences(options)
        return options
    }

    /// Splits an option's body (the bytes after type and length) into the fields of its case; `validate` then checks
    /// the values.
    private static func decode(type: UInt8, body: ArraySlice<UInt8>) throws -> IPv4Option {
        switch type {
        case TypeCode.recordRoute, TypeCode.looseSourceRoute, TypeCode.strictSourceRoute:
            guard body.count >= 1, (body.count - 1) % 4 == 0 else {
                throw WireError.badLength(layer, "route option type \(type) has length \(body.count + 2), not 3 + 4n")
            }
            let pointer = body.wireUInt8(at: 0)
            let route = stride(from: 1, to: body.count, by: 4).map { IPv4Address(rawValue: body.wireUInt32(at: $0)) }
            switch type {
            case TypeCode.recordRoute: return .recordRoute(pointer: pointer, route: route)
            case TypeCode.looseSourceRoute: return .looseSourceRoute(pointer: pointer, route: route)
            default: return .strictSourceRoute(pointer: pointer, route: route)
            }
        case TypeCode.timestamp:
            guard body.count >= 2 else {
                throw WireError.badLength(layer, "timestamp option has length \(body.count + 2), below 4")
            }
            let flags = body.wireUInt8(at: 1)
            return .timestamp(pointer: body.wireUInt8(at: 0), overflow: flags >> 4, flag: flags & 0x0f,
                              data: Array(body.dropFirst(2)))
        case TypeCode.routerAlert:
            guard body.count == 2 else {
                throw WireError.badLength(layer, "router alert option has length \(body.count + 2), not 4")
            }
            return .routerAlert(value: body.wireUInt16(at: 0))
        default:
            return .unknown(type: type, data: Array(body))
        }
    }

    /// The rules for one option's values, shared by parsing and emitting so that whatever is emitted parses back.
    private func validate() throws {
        let layer = Self.layer
        guard encodedLength <= Self.maximumAreaLength else {
            throw WireError.badLength(layer, "option type \(type) of \(encodedLength) bytes exceeds the option area")
        }
        switch self {
        case .endOfOptionList, .noOperation, .routerAlert:
            break
        case .recordRoute(let pointer, _), .looseSourceRoute(let pointer, _), .strictSourceRoute(let pointer, _):
            // RFC 791 §3.1: the smallest legal pointer is 4; a pointer past the length means "route full"; one inside
            // the option must point at a whole address (a partial slot is "in error and discarded").
            try Self.checkPointer(pointer, minimum: 4, entrySize: 4, optionLength: encodedLength, type: type)
        case let .timestamp(pointer, overflow, flag, data):
            guard overflow <= 0x0f else {
                throw WireError.badValue(layer, "timestamp overflow \(overflow) does not fit in 4 bits")
            }
            let entrySize: Int
            switch flag {
            case TimestampFlag.timestampsOnly: entrySize = 4
            case TimestampFlag.addressAndTimestamp, TimestampFlag.prespecifiedAddresses: entrySize = 8
            default: throw WireError.badValue(layer, "timestamp flag \(flag) is undefined (RFC 791 §3.1 has 0, 1, 3)")
            }
            guard data.count % entrySize == 0 else {
                throw WireError.badLength(
                    layer,
                    "timestamp data of \(data.count) bytes is not whole \(entrySize)-byte entries (flag \(flag))")
            }
            // RFC 791 §3.1: the smallest legal pointer is 5, and a pointer inside the option starts a whole entry.
            try Self.checkPointer(pointer, minimum: 5, entrySize: entrySize, optionLength: encodedLength, type: type)
        case .unknown(let type, _):
            switch type {
            case TypeCode.endOfOptionList, TypeCode.noOperation, TypeCode.recordRoute, TypeCode.timestamp,
                 TypeCode.looseSourceRoute, TypeCode.strictSourceRoute, TypeCode.routerAlert:
                throw WireError.badValue(layer, "type \(type) has its own case; .unknown would not round-trip")
            default:
                break
            }
        }
    }

    private static func checkPointer(_ pointer: UInt8, minimum: Int, entrySize: Int, optionLength: Int, type: UInt8)
        throws {
        let p = Int(pointer)
        guard p >= minimum else {
            throw WireError.badValue(layer, "option type \(type) has pointer \(p), below \(minimum)")
        }
        guard p > optionLength || (p - minimum) % entrySize == 0 else {
            throw WireError.badValue(
                layer, "option type \(type) has pointer \(p) in the middle of a \(entrySize)-byte entry")
        }
    }

    /// List-level rules: End of Option List ends the list; RFC 791 §3.1 allows each of Record Route and Timestamp
    /// once, and RFC 1122 §3.2.1.8 one source route.
    private static func validateOccurrences(_ options: [IPv4Option]) throws {
        var recordRoutes = 0, timestamps = 0, sourceRoutes = 0
        for (i, option) in options.enumerated() {
            switch option {
            case .endOfOptionList:
                guard i == options.count - 1 else {
                    throw WireError.badValue(layer, "End of Option List must be the last option (its padding follows)")
                }
            case .recordRoute: recordRoutes += 1
            case .timestamp: timestamps += 1
            case .looseSourceRoute, .strictSourceRoute: sourceRoutes += 1
            case .noOperation, .routerAlert, .unknown: break
            }
        }
        guard recordRoutes <= 1 else { throw WireError.badValue(layer, "more than one Record Route option") }
        guard timestamps <= 1 else { throw WireError.badValue(layer, "more than one Timestamp option") }
        guard sourceRoutes <= 1 else { throw WireError.badValue(layer, "more than one source route option") }
    }

    // MARK: - Emitting

    /// The bytes `emitOptions` writes for `options`.
    public static func encodedLength(of options: [IPv4Option]) -> Int {
        options.reduce(0) { $0 + $1.encodedLength }
    }

    /// Checks everything `parseOptions` checks, so that what is emitted parses back to the same list.
    static func validate(_ options: [IPv4Option]) throws {
        for option in options { try option.validate() }
        try validateOccurrences(options)
        let length = encodedLength(of: options)
        guard length <= maximumAreaLength else {
            throw WireError.badLength(layer, "\(length) bytes of options exceed the 40-byte option area")
        }
    }

    /// Writes `options` at the start of `buffer`: exactly `encodedLength(of: options)` bytes. Whether the total is
    /// a multiple of 4, as a header needs, is the header's business (`IPv4Header.emit`).
    public static func emitOptions(_ options: [IPv4Option], into buffer: inout ArraySlice<UInt8>) throws {
        try validate(options)
        let length = encodedLength(of: options)
        guard buffer.count >= length else { throw WireError.bufferTooShort(layer, need: length, have: buffer.count) }
        write(options, into: &buffer, at: 0)
    }

    /// Writes without validating; out-of-range values are truncated. The caller guarantees
    /// `encodedLength(of: options)` bytes from `offset`.
    static func write(_ options: [IPv4Option], into buffer: inout ArraySlice<UInt8>, at offset: Int) {
        var at = offset
        for option in options {
            option.write(into: &buffer, at: at)
            at += option.encodedLength
        }
    }

    private func write(into buffer: inout ArraySlice<UInt8>, at offset: Int) {
        buffer.setWireUInt8(type, at: offset + Field.type.lowerBound)
        let length = UInt8(truncatingIfNeeded: encodedLength)
        switch self {
        case .endOfOptionList(let padding):
            buffer.setWireBytes(padding, at: offset + Field.type.upperBound)
        case .noOperation:
            break
        case .recordRoute(let pointer, let route), .looseSourceRoute(let pointer, let route),
             .strictSourceRoute(let pointer, let route):
            buffer.setWireUInt8(length, at: offset + Field.length.lowerBound)
            buffer.setWireUInt8(pointer, at: offset + Field.pointer.lowerBound)
            for (i, address) in route.enumerated() {
                buffer.setWireUInt32(address.rawValue, at: offset + Field.routeData + 4 * i)
            }
        case let .timestamp(pointer, overflow, flag, data):
            buffer.setWireUInt8(length, at: offset + Field.length.lowerBound)
            buffer.setWireUInt8(pointer, at: offset + Field.pointer.lowerBound)
            buffer.setWireUInt8(overflow << 4 | flag & 0x0f, at: offset + Field.timestampFlags.lowerBound)
            buffer.setWireBytes(data, at: offset + Field.timestampData)
        case .routerAlert(let value):
            buffer.setWireUInt8(length, at: offset + Field.length.lowerBound)
            buffer.setWireUInt16(value, at: offset + Field.routerAlertValue.lowerBound)
        case .unknown(_, let data):
            buffer.setWireUInt8(length, at: offset + Field.length.lowerBound)
            buffer.setWireBytes(data, at: offset + Field.unknownData)
        }
    }
}
