import IPsecCore
import IPsecCrypto
import IPsecWire

/// Wireshark's ESP SA table: the `esp_sa` UAT file (`~/.config/wireshark/esp_sa`), one SA a line, eight quoted
/// fields, as Wireshark 4.0's epan/dissectors/packet-ipsec.c defines them:
///
///     "IPv4","192.0.2.1","192.0.2.2","0x00001000","AES-CBC [RFC3602]","0x…","HMAC-SHA-1-96 [RFC2404]","0x…"
///     PROTOCOL, SOURCE, DESTINATION, SPI, ENCRYPTION, ENCRYPTION-KEY, AUTHENTICATION, AUTHENTICATION-KEY
///
/// The algorithm fields hold the strings of packet-ipsec.c's `esp_encryption_type_vals` and
/// `esp_authentication_type_vals`; keys are `0x` and hex digits (or text), salt and nonce included, as Linux lays
/// them out. Lines starting with `#` are comments, as in every UAT file.
///
/// Wireshark records neither mode, nor replay state, nor anything else IPsecLab needs beyond the keys. A comment line
/// `# ipsec-lab: WORDS` just above an entry supplies them, in `ip xfrm state` words (`mode transport reqid 1
/// replay-window 32 flag esn sel …`); IPsecLab's export writes one for every SA, and Wireshark ignores it. Without
/// one, an SA is tunnel mode with a 64-packet window (the usual gateway, and the native format's default window).
///
/// Refused on import: wildcard and prefix addresses (`*`, `10.0.0.*`, `10.0.0.0/24`) and SPIs — Wireshark matches
/// many SAs with one entry, but an SA has exactly one pair of endpoints and one SPI here (inbound lookup is by SPI
/// and destination, RFC 4301 §4.1) — and the algorithms IPsecLab lacks or that do not say which algorithm they are
/// ("ANY 96 bit authentication [no checking]").
enum WiresharkESPSA {
    /// Whether a line (blanks skipped) is an entry: `"IPv4",` or `"IPv6",`.
    static func isEntry(_ content: ArraySlice<UInt8>) -> Bool {
        content.starts(with: Array("\"IPv4\",".utf8)) || content.starts(with: Array("\"IPv6\",".utf8))
    }

    static let annotation = "# ipsec-lab:"

    /// packet-ipsec.c's encryption names, and the Linux transform (`enc`/`aead` name, ICV bits) each is.
    static let encryptionNames: [(wireshark: String, keyword: String, linux: String, icvBits: Int?)] = [
        ("NULL", "enc", "ecb(cipher_null)", nil),
        ("TripleDES-CBC [RFC2451]", "enc", "cbc(des3_ede)", nil),
        ("AES-CBC [RFC3602]", "enc", "cbc(aes)", nil),
        ("AES-CTR [RFC3686]", "enc", "rfc3686(ctr(aes))", nil),
        ("AES-GCM with 8 octet ICV [RFC4106]", "aead", "rfc4106(gcm(aes))", 64),
        ("AES-GCM with 12 octet ICV [RFC4106]", "aead", "rfc4106(gcm(aes))", 96),
        ("AES-GCM with 16 octet ICV [RFC4106]", "aead", "rfc4106(gcm(aes))", 128),
    ]

    static let unsupportedEncryption = [
        "DES-CBC [RFC2405]", "CAST5-CBC [RFC2144]", "BLOWFISH-CBC [RFC2451]", "TWOFISH-CBC",
    ]

    /// packet-ipsec.c's authentication names, and the Linux `auth-trunc` name and bits each is.
    static let authenticationNames: [(wireshark: String, linux: String, bits: Int)] = [
        ("HMAC-SHA-1-96 [RFC2404]", "hmac(sha1)", 96),
        ("HMAC-SHA-256-96 [draft-ietf-ipsec-ciph-sha-256-00]", "hmac(sha256)", 96),
        ("HMAC-SHA-256-128 [RFC4868]", "hmac(sha256)", 128),
        ("HMAC-SHA-384-192 [RFC4868]", "hmac(sha384)", 192),
        ("HMAC-SHA-512-256 [RFC4868]", "hmac(sha512)", 256),
        ("HMAC-MD5-96 [RFC2403]", "hmac(md5)", 96),
    ]

    // MARK: - Reading

    static func decode(_ bytes: [UInt8], origin: String) throws(ConfigError) -> SAFile {
        var collection = ConfigCollection()
        var lineNumber = 0
        var pending: (words: [String], line: Int)?
        for rawLine in bytes.split(separator: 0x0a, omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = rawLine
            if line.last == 0x0d { line = line.dropLast() }
            let content = line.drop(while: { $0 == 0x20 || $0 == 0x09 })
            guard !content.isEmpty else { continue }
            let text = String(decoding: content, as: UTF8.self)
            if text.hasPrefix(annotation) {
                let commands: [ShellWords.Command]
                do { commands = try ShellWords.split(Array(text.dropFirst(annotation.count).utf8)) } catch {
                    throw error.at(origin, line: lineNumber)
                }
                pending = (commands.flatMap { $0.words.map(\.text) }, lineNumber)
                continue
            }
            if text.hasPrefix("#") { continue }
            let fields = try self.fields(content, line: lineNumber, origin: origin)
            try collection.add(try entry(fields, line: lineNumber, annotation: pending, origin: origin))
            pending = nil
        }
        return try collection.file(.wiresharkESPSA, origin: origin, emptyReason: "the table holds no SA")
    }

    /// The comma-separated quoted fields of a UAT line, with Wireshark's `\xNN`, `\\` and `\"` escapes undone.
    static func fields(_ line: ArraySlice<UInt8>, line number: Int, origin: String) throws(ConfigError) -> [String] {
        func fail(_ reason: String) -> ConfigError { ConfigError(.syntax, origin: origin, line: number, reason: reason) }
        var fields: [String] = []
        var i = line.startIndex
        while true {
            guard i < line.endIndex, line[i] == UInt8(ascii: "\"") else {
                throw fail("field \(fields.count + 1) is not a quoted string; an esp_sa line is 8 quoted fields")
            }
            i += 1
            var value: [UInt8] = []
            while true {
                guard i < line.endIndex else { throw fail("field \(fields.count + 1) is not closed with '\"'") }
                let b = line[i]
                if b == UInt8(ascii: "\"") { break }
                if b == UInt8(ascii: "\\"), i + 1 < line.endIndex {
                    let e = line[i + 1]
                    if e == UInt8(ascii: "x"), i + 3 < line.endIndex, let hi = TextValues.digitValue(line[i + 2]),
                       let lo = TextValues.digitValue(line[i + 3])
                    {
                        value.append(UInt8(hi << 4 | lo))
                        i += 4
                        continue
                    }
                    value.append(e)
                    i += 2
                    continue
                }
                value.append(b)
                i += 1
            }
            fields.append(String(decoding: value, as: UTF8.self))
            i += 1
            while i < line.endIndex, line[i] == 0x20 || line[i] == 0x09 { i += 1 }
            if i == line.endIndex { break }
            guard line[i] == UInt8(ascii: ",") else { throw fail("expected ',' after field \(fields.count)") }
            i += 1
            while i < line.endIndex, line[i] == 0x20 || line[i] == 0x09 { i += 1 }
        }
        guard fields.count == 8 else {
            throw fail("\(fields.count) fields; Wireshark 4.0's esp_sa has 8 (protocol, source, destination, SPI, "
                + "encryption, its key, authentication, its key)")
        }
        return fields
    }

    /// An entry as `ip xfrm state add` words, read by the same parser as commands (so it is checked alike).
    static func entry(_ f: [String], line: Int, annotation: (words: [String], line: Int)?, origin: String)
        throws(ConfigError) -> SADraft
    {
        func fail(_ code: ConfigError.Code, _ reason: String) -> ConfigError {
            ConfigError(code, origin: origin, line: line, reason: reason)
        }
        let family: IPVersion
        switch f[0] {
        case "IPv4": family = .v4
        case "IPv6": family = .v6
        default: throw fail(.invalidValue, "protocol \(ConfigError.shown(f[0])) is not IPv4 or IPv6")
        }
        for (value, what) in [(f[1], "source"), (f[2], "destination"), (f[3], "SPI")]
        where value.contains("*") || value.contains("/") || value.isEmpty {
            throw fail(.unsupported, "a wildcard or prefix \(what) (\(ConfigError.shown(value))) matches many SAs in "
                + "Wireshark; an IPsecLab SA has one \(what): write it out")
        }
        for (value, what) in [(f[1], "source"), (f[2], "destination")] {
            let address = try place(line, origin) { () throws(Problem) in try TextValues.address(value, what: what) }
            guard address.version == family else {
                throw fail(.inconsistent, "\(what) \(address) is not \(f[0]), as the entry's protocol says")
            }
        }
        var words = ["src", f[1], "dst", f[2], "proto", "esp", "spi", f[3]]
        let extra = annotation?.words ?? []
        if !extra.contains("mode") { words += ["mode", "tunnel"] }
        if !extra.contains("replay-window") { words += ["replay-window", "64"] }
        words += extra
        guard let encryption = encryptionNames.first(where: { $0.wireshark == f[4] }) else {
            if unsupportedEncryption.contains(f[4]) {
                throw fail(.unsupported, "\(f[4]) is a Wireshark cipher that IPsecLab does not implement")
            }
            if f[4] == "AES-GCM [RFC4106]" {
                throw fail(.unsupported, "\"AES-GCM [RFC4106]\" (deprecated in Wireshark) gives no ICV length; choose "
                    + "\"AES-GCM with 16 octet ICV [RFC4106]\" or the 8 or 12 octet one")
            }
            throw fail(.unknownAlgorithm, "unknown encryption \(ConfigError.shown(f[4])) (Wireshark 4.0's names, e.g. "
                + "\"AES-CBC [RFC3602]\")")
        }
        words += [encryption.keyword, encryption.linux, keyWord(f[5])]
        if let bits = encryption.icvBits { words.append(String(bits)) }
        if let auth = authenticationNames.first(where: { $0.wireshark == f[6] }) {
            words += ["auth-trunc", auth.linux, keyWord(f[7]), String(auth.bits)]
        } else if f[6] == "NULL" {
            guard f[7].isEmpty || f[7].lowercased() == "0x" else {
                throw fail(.badKeyLength, "NULL authentication takes no key")
            }
        } else if f[6].hasPrefix("ANY ") {
            throw fail(.unsupported, "Wireshark's 'ANY … bit authentication [no checking]' does not say which "
                + "algorithm the ICV is; IPsecLab needs it to verify packets")
        } else if f[6] == "MAC-RIPEMD-160-96 [RFC2857]" {
            throw fail(.unsupported, "HMAC-RIPEMD-160-96 is not implemented by IPsecLab")
        } else {
            throw fail(.unknownAlgorithm, "unknown authentication \(ConfigError.shown(f[6])) (Wireshark 4.0's names, "
                + "e.g. \"HMAC-SHA-1-96 [RFC2404]\")")
        }
        let wordLine = annotation?.line ?? line
        let shellWords = words.map { ShellWords.Word(text: $0, line: wordLine, quoted: false, expands: false) }
        var parser = CommandParser(origin: origin, words: shellWords)
        parser.i = 0
        let state = try parser.state(from: ShellWords.Word(text: "", line: line, quoted: false, expands: false))
        return try parser.finish(state)
    }

    /// A key field as `ip xfrm` reads it: `0x…` hex, or the text's own bytes; empty is an empty key.
    private static func keyWord(_ field: String) -> String {
        if field.isEmpty { return "0x" }
        if field.lowercased().hasPrefix("0x") { return field }
        return "0x" + TextValues.hexString(Array(field.utf8))
    }

    private static func place<T>(_ line: Int, _ origin: String, _ body: () throws(Problem) -> T) throws(ConfigError) -> T {
        do { return try body() } catch { throw error.at(origin, line: line) }
    }

    // MARK: - Writing

    static func encode(_ associations: [SAConfiguration]) throws(ConfigError) -> String {
        var out = "# Wireshark ESP SA table (esp_sa), written by ipsec-lab export-keys. It holds keys.\n"
        var written = 0
        for (i, sa) in associations.enumerated() {
            let name = "\(sa.protocol) SPI 0x\(JSONFormat.hex32(sa.spi)) \(sa.source) -> \(sa.destination)"
            switch entry(sa, index: i) {
            case .failure(let skip):
                out += "# not exported: \(name): \(skip.reason)\n"
            case .success(let (annotation, line, notes)):
                for note in notes { out += "# note: \(name): \(note)\n" }
                out += annotation + "\n" + line + "\n"
                written += 1
            }
        }
        guard written > 0 else {
            throw ConfigError(.unsupported, origin: "esp_sa", line: nil,
                              reason: "none of the \(associations.count) SA(s) can be written for Wireshark (it "
                                  + "decrypts ESP with NULL, 3DES-CBC, AES-CBC, AES-CTR and AES-GCM only)")
        }
        return out
    }

    private struct Skip: Error { let reason: String }

    /// The `# ipsec-lab:` line, the entry, and notes about what Wireshark will not do with it.
    private static func entry(_ sa: SAConfiguration, index: Int) -> Result<(String, String, [String]), Skip> {
        guard case .esp(let a) = sa.algorithm else {
            return .failure(Skip(reason: "Wireshark's table is for ESP; AH has nothing to decrypt"))
        }
        var notes: [String] = []
        let encryption: String
        switch a.encryption {
        case .null: encryption = "NULL"
        case .tripleDESCBC: encryption = "TripleDES-CBC [RFC2451]"
        case .aesCBC: encryption = "AES-CBC [RFC3602]"
        case .aesCTR: encryption = "AES-CTR [RFC3686]"
        case .aesGCM(_, let icv): encryption = "AES-GCM with \(icv) octet ICV [RFC4106]"
        default: return .failure(Skip(reason: "Wireshark 4.0 cannot decrypt \(a.encryption.keyword)"))
        }
        let authentication: String
        switch a.integrity {
        case .none: authentication = "NULL"
        case .hmacMD5_96: authentication = "HMAC-MD5-96 [RFC2403]"
        case .hmacSHA1_96: authentication = "HMAC-SHA-1-96 [RFC2404]"
        case .hmacSHA256_96: authentication = "HMAC-SHA-256-96 [draft-ietf-ipsec-ciph-sha-256-00]"
        case .hmacSHA256_128: authentication = "HMAC-SHA-256-128 [RFC4868]"
        case .hmacSHA384_192: authentication = "HMAC-SHA-384-192 [RFC4868]"
        case .hmacSHA512_256: authentication = "HMAC-SHA-512-256 [RFC4868]"
        case .aesXCBC96, .aesCMAC96:
            // Wireshark has no AES-XCBC or CMAC, but can still skip a 96-bit ICV it does not check and decrypt.
            authentication = "ANY 96 bit authentication [no checking]"
            notes.append("Wireshark cannot check \(a.integrity.keyword); it decrypts without checking the ICV, and the "
                + "entry cannot be read back")
        case .aesGMAC: return .failure(Skip(reason: "AES-GMAC integrity is AH's"))
        }
        if sa.extendedSequenceNumbers {
            notes.append("Wireshark 4.0 does not know the ESN high bits, so its ICV checks of this SA fail; decryption "
                + (a.encryption.isCombinedMode ? "fails too (the AEAD's AAD holds them)" : "works"))
        }
        var settings: [String] = []
        do throws(ConfigError) {
            settings = try IPXfrmCommands.settingWords(sa, index: index) + IPXfrmCommands.trailingWords(sa)
        } catch {
            return .failure(Skip(reason: error.reason))
        }
        let family = sa.source.version == .v4 ? "IPv4" : "IPv6"
        let fields = [family, sa.source.description, sa.destination.description, "0x" + JSONFormat.hex32(sa.spi),
                      encryption, hexKey(sa.encryptionKey), authentication, hexKey(sa.integrityKey)]
        let line = fields.map { "\"\($0)\"" }.joined(separator: ",")
        return .success(("\(annotation) " + settings.joined(separator: " "), line, notes))
    }

    private static func hexKey(_ key: [UInt8]) -> String {
        key.isEmpty ? "" : "0x" + TextValues.hexString(key)
    }
}
