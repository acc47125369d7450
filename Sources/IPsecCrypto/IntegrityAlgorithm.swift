/// An integrity transform for ESP (paired with a non-AEAD cipher) or AH, named after its strongSwan keyword.
///
/// | case | RFC | key (bytes) | ICV (bytes) |
/// |---|---|---|---|
/// | `hmacMD5_96` | 2403 | 16 | 12 |
/// | `hmacSHA1_96` | 2404 | 20 | 12 |
/// | `hmacSHA256_128` / `hmacSHA384_192` / `hmacSHA512_256` | 4868 | 32 / 48 / 64 | 16 / 24 / 32 |
/// | `hmacSHA256_96` (not an RFC transform; Linux `auth hmac(sha256)`) | – | 32 | 12 |
/// | `aesXCBC96` | 3566 | 16 | 12 |
/// | `aesCMAC96` | 4494 | 16 | 12 |
/// | `aesGMAC` (AH only) | 4543 | 16/24/32 + 4 salt | 24 (8 IV + 16 tag) |
///
/// HMAC key lengths are the ones RFC 2403/2404/4868 fix for IPsec; other lengths are rejected rather than hashed or
/// padded. Note RFC 4868's truncation (SHA-256 → 128 bits), unlike Linux's legacy `auth sha256` (96 bits).
public enum IntegrityAlgorithm: Hashable, Sendable, CustomStringConvertible {
    /// No integrity: only for combined-mode ESP, or (insecurely) confidentiality-only ESP.
    case none
    case hmacMD5_96
    case hmacSHA1_96
    case hmacSHA256_128
    case hmacSHA384_192
    case hmacSHA512_256
    /// HMAC-SHA-256 truncated to 96 bits: not RFC 4868, but what Linux applies to `ip xfrm state … auth
    /// hmac(sha256)` (its default truncation for sha256 is 96 bits, from pre-RFC drafts). strongSwan names it
    /// "sha256_96" for interoperability with such peers; here it exists to read their SAs and captures.
    case hmacSHA256_96
    case aesXCBC96
    case aesCMAC96
    /// AUTH_AES_128/192/256_GMAC (RFC 4543 §4), for AH only: a 4-byte salt follows the key; the AH ICV field carries
    /// the 8-byte IV followed by the 16-byte tag.
    case aesGMAC(keyBits: Int)

    /// Key length in bytes, without the GMAC salt.
    public var keyLength: Int {
        switch self {
        case .none: 0
        case .hmacMD5_96, .aesXCBC96, .aesCMAC96: 16
        case .hmacSHA1_96: 20
        case .hmacSHA256_128, .hmacSHA256_96: 32
        case .hmacSHA384_192: 48
        case .hmacSHA512_256: 64
        case .aesGMAC(let bits): bits / 8
        }
    }

    /// Salt length following the key (GMAC only).
    public var saltLength: Int {
        if case .aesGMAC = self { 4 } else { 0 }
    }

    /// Key material length as configured: key followed by salt.
    public var keyMaterialLength: Int { keyLength + saltLength }

    /// Length of the IV carried in the ICV field (GMAC only).
    public var ivLength: Int {
        if case .aesGMAC = self { 8 } else { 0 }
    }

    /// Length of the ICV field on the wire, truncation applied (GMAC: IV and tag).
    public var icvLength: Int {
        switch self {
        case .none: 0
        case .hmacMD5_96, .hmacSHA1_96, .hmacSHA256_96, .aesXCBC96, .aesCMAC96: 12
        case .hmacSHA256_128: 16
        case .hmacSHA384_192: 24
        case .hmacSHA512_256: 32
        case .aesGMAC: 24
        }
    }

    /// The strongSwan keyword ("" for `.none`).
    public var keyword: String {
        switch self {
        case .none: ""
        case .hmacMD5_96: "md5"
        case .hmacSHA1_96: "sha1"
        case .hmacSHA256_128: "sha256"
        case .hmacSHA384_192: "sha384"
        case .hmacSHA512_256: "sha512"
        case .hmacSHA256_96: "sha256_96"
        case .aesXCBC96: "aesxcbc"
        case .aesCMAC96: "aescmac"
        case .aesGMAC(let bits): "aes\(bits)gmac"
        }
    }

    public var description: String { self == .none ? "none" : keyword }

    /// Checks the associated values (GMAC key size).
    public func validate() throws(CryptoError) {
        if case .aesGMAC(let bits) = self {
            try EncryptionAlgorithm.checkAESKeyBits(bits, keyword)
        }
    }

    /// Parses an integrity keyword, with strongSwan's aliases ("sha" = "sha1", "sha2_256" = "sha256", ...).
    /// GMAC keywords are not parsed here: in an ESP proposal "aes128gmac" names the encryption transform.
    static func parseComposite(_ token: String) -> IntegrityAlgorithm? {
        switch token {
        case "md5": .hmacMD5_96
        case "sha1", "sha": .hmacSHA1_96
        case "sha256", "sha2_256": .hmacSHA256_128
        case "sha384", "sha2_384": .hmacSHA384_192
        case "sha512", "sha2_512": .hmacSHA512_256
        case "sha256_96", "sha2_256_96": .hmacSHA256_96
        case "aesxcbc": .aesXCBC96
        case "aescmac": .aesCMAC96
        default: nil
        }
    }
}
