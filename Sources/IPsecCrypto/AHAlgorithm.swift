/// The integrity algorithm of one AH SA.
///
/// Keywords (strongSwan's AH proposal syntax): "md5", "sha1", "sha256", "sha384", "sha512", "aesxcbc", "aescmac",
/// "aes128gmac", "aes192gmac", "aes256gmac" (and the aliases "sha", "sha2_256", "sha2_384", "sha2_512"), plus
/// "sha256_96" (alias "sha2_256_96"), Linux's non-RFC 96-bit HMAC-SHA-256, for interoperability only.
public struct AHAlgorithm: Hashable, Sendable, CustomStringConvertible {
    public let integrity: IntegrityAlgorithm

    public init(_ integrity: IntegrityAlgorithm) throws(CryptoError) {
        try integrity.validate()
        guard integrity != .none else {
            throw .forbiddenCombination("none", "AH needs an integrity algorithm")
        }
        self.integrity = integrity
    }

    public init(keyword: String) throws(CryptoError) {
        let text = keyword.lowercased()
        if let parsed = IntegrityAlgorithm.parseComposite(text) {
            try self.init(parsed)
            return
        }
        if case .nullAuthAESGMAC(let bits)? = ESPAlgorithm.parseEncryption(text) {
            try self.init(.aesGMAC(keyBits: bits))
            return
        }
        throw .unknownAlgorithm(keyword, "unknown AH integrity algorithm")
    }

    /// The canonical keyword; parses back to the same value.
    public var keyword: String { integrity.keyword }
    public var description: String { keyword }

    /// Key material length (GMAC: key and salt).
    public var keyLength: Int { integrity.keyMaterialLength }
    /// Length of the AH ICV field (GMAC: 8-byte IV and 16-byte tag), before any alignment padding.
    public var icvLength: Int { integrity.icvLength }

    /// Every AH algorithm, each key size of GMAC included.
    public static let all: [AHAlgorithm] = {
        let integrities: [IntegrityAlgorithm] = [
            .hmacMD5_96, .hmacSHA1_96, .hmacSHA256_128, .hmacSHA384_192, .hmacSHA512_256, .aesXCBC96, .aesCMAC96,
            .aesGMAC(keyBits: 128), .aesGMAC(keyBits: 192), .aesGMAC(keyBits: 256),
        ]
        return integrities.compactMap { try? AHAlgorithm($0) }
    }()
}
