import IPsecCore

/// The formats an SA file may be in; `SAFile` tells them apart by their content, never by the file name.
public enum SAFileFormat: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// IPsecLab's native JSON (docs/sa-files.md).
    case json
    /// `ip xfrm state add|update …` commands, as a setup script holds them.
    case ipXfrmCommands = "ip-xfrm"
    /// What `ip xfrm state` prints.
    case ipXfrmListing = "ip-xfrm-listing"

    public var description: String { rawValue }
}

/// The SAs of one SA file, and the format they were read from.
///
/// Every format goes through the same validation (key lengths for the algorithm, SPI, address families, selectors,
/// sequence numbers, duplicate SAs), so a file is accepted or refused alike whatever its format; an error is one line
/// with the file and line (`ConfigError`). Several `--sa` files are merged by the caller.
public struct SAFile: Hashable, Sendable {
    public var associations: [SAConfiguration]
    public var format: SAFileFormat

    public init(associations: [SAConfiguration], format: SAFileFormat) {
        self.associations = associations
        self.format = format
    }

    /// Larger files are refused unread: an SA file holds a few SAs, and a wrong path (a capture, a device) should fail
    /// fast rather than be read whole.
    public static let maximumSize = 16 << 20

    /// Reads and parses the file at `path`; messages name it as given.
    public static func load(path: String) throws(ConfigError) -> SAFile {
        let bytes: [UInt8]
        switch readFile(path, limit: maximumSize) {
        case .success(let content): bytes = content
        case .failure(let failure): throw ConfigError(.unreadable, origin: path, line: nil, reason: failure.reason)
        }
        return try parse(bytes: bytes, origin: path)
    }

    /// Parses SA file text; `origin` names it in messages.
    public static func parse(_ text: String, origin: String) throws(ConfigError) -> SAFile {
        try parse(bytes: Array(text.utf8), origin: origin)
    }

    /// Parses SA file bytes, which must be UTF-8 text; `origin` names it in messages.
    public static func parse(bytes: [UInt8], origin: String) throws(ConfigError) -> SAFile {
        guard let format = detectFormat(bytes) else {
            throw ConfigError(.notAnSAFile, origin: origin, line: nil,
                              reason: "not an SA file (expected JSON, 'ip xfrm state' commands or an 'ip xfrm state' "
                                  + "listing)")
        }
        let text = bytes.starts(with: byteOrderMark) ? Array(bytes.dropFirst(3)) : bytes
        let associations: [SAConfiguration]
        switch format {
        case .json: associations = try JSONFormat.decode(text, origin: origin)
        case .ipXfrmCommands: associations = try IPXfrmCommands.decode(text, origin: origin)
        case .ipXfrmListing: associations = try IPXfrmListing.decode(text, origin: origin)
        }
        return SAFile(associations: associations, format: format)
    }

    /// The format of `bytes`, judged from the first line that is neither blank nor a `#` comment: `{` or `[` starts
    /// JSON, `ip`/`sudo`/`xfrm` (or a path ending in `/ip`) starts commands, `src ` at the start of the line starts
    /// a listing. Nil for anything else, for text that is not UTF-8, and for text with NUL or other control bytes
    /// (binary files).
    public static func detectFormat(_ bytes: [UInt8]) -> SAFileFormat? {
        let body = bytes.starts(with: byteOrderMark) ? bytes.dropFirst(3) : bytes[...]
        guard String(validating: body, as: UTF8.self) != nil,
              !body.contains(where: { $0 < 0x20 && $0 != 0x09 && $0 != 0x0a && $0 != 0x0d || $0 == 0x7f })
        else { return nil }
        for line in body.split(separator: 0x0a) {
            let content = line.drop(while: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0d })
            guard let first = content.first, first != UInt8(ascii: "#") else { continue }
            if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") { return .json }
            if IPXfrmListing.isHeader(line) { return .ipXfrmListing }
            let word = String(decoding: content.prefix(while: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0d }),
                              as: UTF8.self)
            return IPXfrmCommands.startsCommand(word) ? .ipXfrmCommands : nil
        }
        return nil
    }

    /// The native JSON format of `associations`. Keys are written only when `includeKeys` is true: without them the
    /// file describes the SAs (for reports) but cannot be loaded back.
    public static func json(_ associations: [SAConfiguration], includeKeys: Bool) -> String {
        JSONFormat.encode(associations, includeKeys: includeKeys)
    }

    /// `ip xfrm state add` commands for `associations`, one a line, keys included (for a Linux peer or VM). Throws
    /// `.unsupported` for what Linux cannot express: RFC 8750 implicit-IV transforms, AH with GMAC, the non-RFC
    /// forms Linux has no name for, and ESN without a replay window.
    public static func ipXfrmCommands(_ associations: [SAConfiguration]) throws(ConfigError) -> String {
        try IPXfrmCommands.encode(associations)
    }

    private static let byteOrderMark: [UInt8] = [0xef, 0xbb, 0xbf]
}
