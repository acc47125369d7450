import IPsecCore

/// The formats an SA file may be in; `SAFile` tells them apart by their content, never by the file name.
public enum SAFileFormat: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// IPsecLab's native JSON (docs/sa-files.md).
    case json
    /// `ip xfrm state add|update …` commands, as a setup script holds them.
    case ipXfrmCommands = "ip-xfrm"
    /// What `ip xfrm state` and `ip xfrm policy` print.
    case ipXfrmListing = "ip-xfrm-listing"
    /// setkey.conf of ipsec-tools/KAME (`setkey(8)`): `add`, `spdadd`, `flush;`, `spdflush;`.
    case setkey
    /// Wireshark's ESP SA table (the `esp_sa` UAT file).
    case wiresharkESPSA = "wireshark-esp-sa"

    public var description: String { rawValue }
}

/// The SAs, IPComp SAs and policies of one SA file, and the format they were read from.
///
/// Every format goes through the same validation (key lengths for the algorithm, SPI, address families, selectors,
/// sequence numbers, lifetimes, duplicate SAs and policies), so a file is accepted or refused alike whatever its
/// format; an error is one line with the file and line (`ConfigError`). Several `--sa` files are merged by the caller.
public struct SAFile: Hashable, Sendable {
    public var associations: [SAConfiguration]
    /// The policies in file order (a `SecurityPolicyDatabase` orders them by priority).
    public var policies: [SecurityPolicy]
    public var compressions: [IPCompAssociation]
    public var format: SAFileFormat

    public init(associations: [SAConfiguration], policies: [SecurityPolicy] = [],
                compressions: [IPCompAssociation] = [], format: SAFileFormat) {
        self.associations = associations
        self.policies = policies
        self.compressions = compressions
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
                              reason: "not an SA file (expected JSON, 'ip xfrm' commands or listing, setkey.conf or "
                                  + "Wireshark's esp_sa)")
        }
        let text = bytes.starts(with: byteOrderMark) ? Array(bytes.dropFirst(3)) : bytes
        switch format {
        case .json: return try JSONFormat.decode(text, origin: origin)
        case .ipXfrmCommands: return try IPXfrmCommands.decode(text, origin: origin)
        case .ipXfrmListing: return try IPXfrmListing.decode(text, origin: origin)
        case .setkey: return try SetkeyConf.decode(text, origin: origin)
        case .wiresharkESPSA: return try WiresharkESPSA.decode(text, origin: origin)
        }
    }

    /// The format of `bytes`, judged from the first line that is neither blank nor a `#` comment: `{` or `[` starts
    /// JSON, `ip`/`sudo`/`xfrm` (or a path ending in `/ip`) starts commands, `src ` at the start of the line starts
    /// a listing, a setkey statement (`add`, `spdadd`, `flush`, `spdflush`, …) starts setkey.conf, and `"IPv4",` or
    /// `"IPv6",` starts Wireshark's esp_sa table. Nil for anything else, for text that is not UTF-8, and for text
    /// with NUL or other control bytes (binary files).
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
            if WiresharkESPSA.isEntry(content) { return .wiresharkESPSA }
            let word = String(decoding: content.prefix(while: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0d }),
                              as: UTF8.self)
            if SetkeyConf.startsStatement(word) { return .setkey }
            return IPXfrmCommands.startsCommand(word) ? .ipXfrmCommands : nil
        }
        return nil
    }

    /// The native JSON format of `associations`. Keys are written only when `includeKeys` is true: without them the
    /// file describes the SAs (for reports) but cannot be loaded back.
    public static func json(_ associations: [SAConfiguration], includeKeys: Bool) -> String {
        JSONFormat.encode(SAFile(associations: associations, format: .json), includeKeys: includeKeys)
    }

    /// The native JSON format of the whole file: SAs, IPComp SAs and policies.
    public func json(includeKeys: Bool) -> String {
        JSONFormat.encode(self, includeKeys: includeKeys)
    }

    /// `ip xfrm state add` commands for `associations`, one a line, keys included (for a Linux peer or VM). Throws
    /// `.unsupported` for what Linux cannot express: RFC 8750 implicit-IV transforms, AH with GMAC, the non-RFC
    /// forms Linux has no name for, and ESN without a replay window.
    public static func ipXfrmCommands(_ associations: [SAConfiguration]) throws(ConfigError) -> String {
        try IPXfrmCommands.encode(SAFile(associations: associations, format: .ipXfrmCommands))
    }

    /// `ip xfrm state add` commands for the SAs and IPComp SAs, then `ip xfrm policy add` commands for the policies.
    /// Throws as `ipXfrmCommands(_:)` does, and for policies Linux cannot express (address and port ranges that are
    /// not one prefix or one port).
    public func ipXfrmCommands() throws(ConfigError) -> String {
        try IPXfrmCommands.encode(self)
    }

    /// Wireshark's `esp_sa` table for the ESP SAs of `associations` (keys included: that is its purpose), to put in
    /// `~/.config/wireshark/esp_sa` or pass as `-o 'uat:esp_sa:…'` line by line. SAs Wireshark cannot decrypt (AH,
    /// AES-CCM, ChaCha20-Poly1305, AES-GMAC, the implicit-IV forms) are left out with a `#` comment line each saying
    /// why; Wireshark reads `#` lines as comments. Throws when no SA at all can be written.
    public static func wiresharkESPSA(_ associations: [SAConfiguration]) throws(ConfigError) -> String {
        try WiresharkESPSA.encode(associations)
    }

    private static let byteOrderMark: [UInt8] = [0xef, 0xbb, 0xbf]
}
