/// The algorithms of one ESP SA: an encryption transform and, unless it is combined-mode, an integrity transform.
///
/// Grammar of the keyword (strongSwan's ESP proposal syntax, without DH groups or ESN flags), case-insensitive:
///
///     keyword   = aead | gmac | cipher [ "-" integrity ] | "null-" integrity
///     aead      = "aes" bits ( "gcm" | "ccm" ) [ icv ] [ "iiv" ] | "chacha20poly1305" [ "iiv" ]
///     gmac      = "aes" bits "gmac"
///     cipher    = "aes" [ bits ] [ "ctr" ] | "3des"
///     bits      = "128" | "192" | "256"              ; "aes" alone means AES-128-CBC
///     icv       = "8" | "12" | "16" | "64" | "96" | "128"   ; bytes or bits; absent means 16
///     integrity = "md5" | "sha1" | "sha" | "sha256" | "sha2_256" | "sha384" | "sha2_384"
///               | "sha512" | "sha2_512" | "aesxcbc" | "aescmac"
///               | "sha256_96" | "sha2_256_96"     ; Linux's 96-bit HMAC-SHA-256, not RFC 4868
///
/// The canonical `keyword` uses bytes for ICVs and the first spelling of each alias, so that
/// `ESPAlgorithm(keyword: a.keyword) == a` for every valid `a`.
///
/// Rejected, as the RFCs require: a combined-mode transform with a separate integrity algorithm (RFC 4303 §3.2),
/// NULL encryption without integrity (RFC 4303 §3.2, RFC 8221 §5), and AH's AUTH_AES_*_GMAC as ESP integrity
/// (RFC 4543 defines ENCR_NULL_AUTH_AES_GMAC for ESP instead). Confidentiality-only ESP (a cipher alone) is
/// allowed by RFC 4303 but insecure; `isConfidentialityOnly` flags it.
public struct ESPAlgorithm: Hashable, Sendable, CustomStringConvertible {
    public let encryption: EncryptionAlgorithm
    public let integrity: IntegrityAlgorithm

    public init(encryption: EncryptionAlgorithm, integrity: IntegrityAlgorithm = .none) throws(CryptoError) {
        let keyword = Self.keyword(encryption, integrity)
        try encryption.validate()
        try integrity.validate()
        if encryption.isCombinedMode && integrity != .none {
            throw .forbiddenCombination(
                keyword, "\(encryption.keyword) is a combined-mode transform with its own ICV; "
                    + "no separate integrity algorithm is allowed (RFC 4303 §3.2)")
        }
        if case .aesGMAC = integrity {
            throw .forbiddenCombination(
                keyword, "AUTH_AES_GMAC is for AH; ESP uses ENCR_NULL_AUTH_AES_GMAC (\"aes128gmac\", RFC 4543)")
        }
        if encryption == .null && integrity == .none {
            throw .forbiddenCombination(
                keyword, "NULL encryption without integrity protects nothing (RFC 4303 §3.2, RFC 8221 §5)")
        }
        self.encryption = encryption
        self.integrity = integrity
    }

    /// Parses a strongSwan ESP keyword such as "aes128gcm16", "aes256-sha256", "null-sha256", "aes128gcm16iiv".
    public init(keyword: String) throws(CryptoError) {
        let text = keyword.lowercased()
        let tokens = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard tokens.count == 1 || tokens.count == 2, !tokens.contains(where: \.isEmpty) else {
            throw .unknownAlgorithm(keyword, "expected ENCRYPTION or ENCRYPTION-INTEGRITY")
        }
        guard let encryption = Self.parseEncryption(tokens[0]) else {
            throw .unknownAlgorithm(keyword, "unknown encryption algorithm \"\(tokens[0])\"")
        }
        var integrity = IntegrityAlgorithm.none
        if tokens.count == 2 {
            guard let parsed = IntegrityAlgorithm.parseComposite(tokens[1]) else {
                throw .unknownAlgorithm(keyword, "unknown integrity algorithm \"\(tokens[1])\"")
            }
            integrity = parsed
        }
        try self.init(encryption: encryption, integrity: integrity)
    }

    /// The canonical strongSwan keyword; parses back to the same value.
    public var keyword: String { Self.keyword(encryption, integrity) }

    public var description: String { keyword }

    /// True when the SA encrypts without any integrity protection: allowed by RFC 4303, but open to active
    /// attacks (Degabriele and Paterson, IEEE S&P 2007). Use only for tests and interoperability.
    public var isConfidentialityOnly: Bool { !encryption.isCombinedMode && integrity == .none }

    /// Encryption key material length (key and salt).
    public var encryptionKeyLength: Int { encryption.keyMaterialLength }
    /// Integrity key length (0 for combined-mode transforms).
    public var integrityKeyLength: Int { integrity.keyMaterialLength }
    /// Bytes of IV per packet.
    public var ivLength: Int { encryption.ivLength }
    /// Bytes of ICV per packet.
    public var icvLength: Int { encryption.isCombinedMode ? encryption.icvLength : integrity.icvLength }
    /// What the payload must be padded to a multiple of.
    public var blockSize: Int { encryption.blockSize }

    /// One representative of every algorithm and every ICV length, for round-trip tests of every mode.
    public static let all: [ESPAlgorithm] = {
        var list: [ESPAlgorithm] = []
        func add(_ encryption: EncryptionAlgorithm, _ integrity: IntegrityAlgorithm = .none) {
            // The list is built from valid literals; a failure here is a programming error caught by the tests.
            if let algorithm = try? ESPAlgorithm(encryption: encryption, integrity: integrity) {
                list.append(algorithm)
            }
        }
        for icv in [8, 12, 16] {
            add(.aesGCM(keyBits: 128, icvLength: icv))
            add(.aesCCM(keyBits: 128, icvLength: icv))
        }
        for bits in [192, 256] {
            add(.aesGCM(keyBits: bits, icvLength: 16))
            add(.aesCCM(keyBits: bits, icvLength: 16))
        }
        add(.chacha20Poly1305)
        for bits in [128, 192, 256] { add(.nullAuthAESGMAC(keyBits: bits)) }
        add(.aesGCMImplicitIV(keyBits: 128, icvLength: 16))
        add(.aesGCMImplicitIV(keyBits: 256, icvLength: 16))
        add(.aesCCMImplicitIV(keyBits: 128, icvLength: 8))
        add(.aesCCMImplicitIV(keyBits: 256, icvLength: 16))
        add(.chacha20Poly1305ImplicitIV)
        add(.aesCBC(keyBits: 128), .hmacSHA1_96)
        add(.aesCBC(keyBits: 128), .hmacMD5_96)
        add(.aesCBC(keyBits: 128), .hmacSHA256_128)
        add(.aesCBC(keyBits: 192), .hmacSHA384_192)
        add(.aesCBC(keyBits: 256), .hmacSHA512_256)
        add(.aesCBC(keyBits: 128), .aesXCBC96)
        add(.aesCBC(keyBits: 256), .aesCMAC96)
        add(.aesCTR(keyBits: 128), .hmacSHA256_128)
        add(.aesCTR(keyBits: 192), .aesXCBC96)
        add(.aesCTR(keyBits: 256), .hmacSHA1_96)
        add(.tripleDESCBC, .hmacMD5_96)
        add(.tripleDESCBC, .hmacSHA1_96)
        add(.null, .hmacSHA256_128)
        add(.null, .hmacSHA1_96)
        add(.null, .aesXCBC96)
        add(.null, .aesCMAC96)
        add(.aesCBC(keyBits: 128))
        add(.aesCBC(keyBits: 256))
        add(.aesCTR(keyBits: 128))
        add(.tripleDESCBC)
        return list
    }()

    static func keyword(_ encryption: EncryptionAlgorithm, _ integrity: IntegrityAlgorithm) -> String {
        integrity == .none ? encryption.keyword : "\(encryption.keyword)-\(integrity.keyword)"
    }

    /// Parses the encryption part of a keyword; nil when it is not one.
    static func parseEncryption(_ token: String) -> EncryptionAlgorithm? {
        switch token {
        case "null": return .null
        case "3des": return .tripleDESCBC
        case "chacha20poly1305": return .chacha20Poly1305
        case "chacha20poly1305iiv": return .chacha20Poly1305ImplicitIV
        case "aes": return .aesCBC(keyBits: 128)
        default: break
        }
        guard token.hasPrefix("aes") else { return nil }
        var rest = Substring(token.dropFirst(3))
        let bitsText = rest.prefix(while: \.isNumber)
        guard let bits = Int(bitsText), bits == 128 || bits == 192 || bits == 256 else { return nil }
        rest = rest.dropFirst(bitsText.count)
        let implicitIV = rest.hasSuffix("iiv")
        if implicitIV { rest = rest.dropLast(3) }
        switch rest {
        case "" where !implicitIV: return .aesCBC(keyBits: bits)
        case "ctr" where !implicitIV: return .aesCTR(keyBits: bits)
        case "gmac" where !implicitIV: return .nullAuthAESGMAC(keyBits: bits)
        default: break
        }
        for mode in ["gcm", "ccm"] where rest.hasPrefix(mode) {
            let icvText = rest.dropFirst(mode.count)
            let icv: Int
            switch icvText {
            case "", "16", "128": icv = 16
            case "12", "96": icv = 12
            case "8", "64": icv = 8
            default: return nil
            }
            switch (mode, implicitIV) {
            case ("gcm", false): return .aesGCM(keyBits: bits, icvLength: icv)
            case ("gcm", true): return .aesGCMImplicitIV(keyBits: bits, icvLength: icv)
            case ("ccm", false): return .aesCCM(keyBits: bits, icvLength: icv)
            default: return .aesCCMImplicitIV(keyBits: bits, icvLength: icv)
            }
        }
        return nil
    }
}
