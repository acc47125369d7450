/// An ESP encryption transform, named after the strongSwan proposal keyword that selects it.
///
/// Combined-mode (AEAD) transforms carry their own ICV; the others pair with an `IntegrityAlgorithm`. Associated
/// values hold the parameters that IKEv2 negotiates (key size, ICV length); `ESPAlgorithm` validates them.
///
/// | case | RFC | key (bytes) | salt | IV on the wire | pad to | ICV |
/// |---|---|---|---|---|---|---|
/// | `null` | 2410 | 0 | – | 0 | 4 | – |
/// | `aesCBC` | 3602 | 16/24/32 | – | 16 | 16 | – |
/// | `aesCTR` | 3686 | 16/24/32 | 4 (nonce) | 8 | 4 | – |
/// | `tripleDESCBC` | 2451 | 24 | – | 8 | 8 | – |
/// | `aesGCM` | 4106 | 16/24/32 | 4 | 8 | 4 | 8/12/16 |
/// | `aesCCM` | 4309 | 16/24/32 | 3 | 8 | 4 | 8/12/16 |
/// | `chacha20Poly1305` | 7634 | 32 | 4 | 8 | 4 | 16 |
/// | `nullAuthAESGMAC` | 4543 | 16/24/32 | 4 | 8 | 4 | 16 |
/// | `…ImplicitIV` | 8750 | as above | as above | 0 | 4 | as above |
///
/// The salt (CTR: nonce) is part of the encryption key material and follows the key, as `ip xfrm` lays it out.
public enum EncryptionAlgorithm: Hashable, Sendable, CustomStringConvertible {
    /// ENCR_NULL (RFC 2410): no confidentiality; only allowed with an integrity algorithm.
    case null
    /// ENCR_AES_CBC (RFC 3602).
    case aesCBC(keyBits: Int)
    /// ENCR_AES_CTR (RFC 3686): a 4-byte nonce follows the key.
    case aesCTR(keyBits: Int)
    /// ENCR_3DES (RFC 2451).
    case tripleDESCBC
    /// ENCR_AES_GCM_8/12/16 (RFC 4106): a 4-byte salt follows the key.
    case aesGCM(keyBits: Int, icvLength: Int)
    /// ENCR_AES_CCM_8/12/16 (RFC 4309): a 3-byte salt follows the key.
    case aesCCM(keyBits: Int, icvLength: Int)
    /// ENCR_CHACHA20_POLY1305 (RFC 7634): 32-byte key, a 4-byte salt follows it.
    case chacha20Poly1305
    /// ENCR_NULL_AUTH_AES_GMAC (RFC 4543): integrity only; the payload stays in clear and is authenticated.
    case nullAuthAESGMAC(keyBits: Int)
    /// AES-GCM with the implicit IV of RFC 8750: the IV is the 64-bit sequence number and is not sent.
    /// IANA registers only ENCR_AES_GCM_16_IIV; other ICV lengths are IPsecLab extensions for experiments.
    case aesGCMImplicitIV(keyBits: Int, icvLength: Int)
    /// AES-CCM with the implicit IV of RFC 8750. IANA registers only ENCR_AES_CCM_8_IIV; other ICV lengths are
    /// IPsecLab extensions for experiments.
    case aesCCMImplicitIV(keyBits: Int, icvLength: Int)
    /// ENCR_CHACHA20_POLY1305_IIV (RFC 8750).
    case chacha20Poly1305ImplicitIV

    /// Key length in bytes, without the salt.
    public var keyLength: Int {
        switch self {
        case .null: 0
        case .tripleDESCBC: 24
        case .chacha20Poly1305, .chacha20Poly1305ImplicitIV: 32
        case .aesCBC(let bits), .aesCTR(let bits), .nullAuthAESGMAC(let bits),
             .aesGCM(let bits, _), .aesCCM(let bits, _),
             .aesGCMImplicitIV(let bits, _), .aesCCMImplicitIV(let bits, _):
            bits / 8
        }
    }

    /// Length of the salt (CTR: nonce) that follows the key in the key material.
    public var saltLength: Int {
        switch self {
        case .null, .aesCBC, .tripleDESCBC: 0
        case .aesCCM, .aesCCMImplicitIV: 3  // RFC 4309 §4
        case .aesCTR, .aesGCM, .aesGCMImplicitIV, .chacha20Poly1305, .chacha20Poly1305ImplicitIV,
             .nullAuthAESGMAC:
            4
        }
    }

    /// Key material length as configured (`ip xfrm`): key followed by salt.
    public var keyMaterialLength: Int { keyLength + saltLength }

    /// Length of the IV carried in each packet.
    public var ivLength: Int {
        switch self {
        case .null, .aesGCMImplicitIV, .aesCCMImplicitIV, .chacha20Poly1305ImplicitIV: 0
        case .aesCBC: 16
        case .tripleDESCBC, .aesCTR, .aesGCM, .aesCCM, .chacha20Poly1305, .nullAuthAESGMAC: 8
        }
    }

    /// What the ESP payload (inner packet, padding, pad length, next header) must be a multiple of: the cipher block
    /// for CBC modes, otherwise 4 (RFC 4303 §2.4: the ICV or the next header must end on a 4-byte boundary).
    public var blockSize: Int {
        switch self {
        case .aesCBC: 16
        case .tripleDESCBC: 8
        default: 4
        }
    }

    /// True for transforms that carry their own ICV (AEADs and GMAC); they take no separate integrity algorithm.
    public var isCombinedMode: Bool {
        switch self {
        case .null, .aesCBC, .aesCTR, .tripleDESCBC: false
        default: true
        }
    }

    /// ICV length of a combined-mode transform; 0 for the others (their ICV comes from the integrity algorithm).
    public var icvLength: Int {
        switch self {
        case .null, .aesCBC, .aesCTR, .tripleDESCBC: 0
        case .aesGCM(_, let icv), .aesCCM(_, let icv), .aesGCMImplicitIV(_, let icv),
             .aesCCMImplicitIV(_, let icv):
            icv
        case .chacha20Poly1305, .chacha20Poly1305ImplicitIV, .nullAuthAESGMAC: 16
        }
    }

    /// False for NULL and GMAC, which leave the payload in clear.
    public var providesConfidentiality: Bool {
        switch self {
        case .null, .nullAuthAESGMAC: false
        default: true
        }
    }

    /// True for the RFC 8750 forms, whose IV is the sequence number and is not sent.
    public var usesImplicitIV: Bool {
        switch self {
        case .aesGCMImplicitIV, .aesCCMImplicitIV, .chacha20Poly1305ImplicitIV: true
        default: false
        }
    }

    /// The strongSwan keyword of this transform alone, e.g. "aes128", "aes256gcm16", "chacha20poly1305iiv".
    public var keyword: String {
        switch self {
        case .null: "null"
        case .aesCBC(let bits): "aes\(bits)"
        case .aesCTR(let bits): "aes\(bits)ctr"
        case .tripleDESCBC: "3des"
        case .aesGCM(let bits, let icv): "aes\(bits)gcm\(icv)"
        case .aesCCM(let bits, let icv): "aes\(bits)ccm\(icv)"
        case .chacha20Poly1305: "chacha20poly1305"
        case .nullAuthAESGMAC(let bits): "aes\(bits)gmac"
        case .aesGCMImplicitIV(let bits, let icv): "aes\(bits)gcm\(icv)iiv"
        case .aesCCMImplicitIV(let bits, let icv): "aes\(bits)ccm\(icv)iiv"
        case .chacha20Poly1305ImplicitIV: "chacha20poly1305iiv"
        }
    }

    public var description: String { keyword }

    /// Checks the associated values: AES key sizes 128/192/256, AEAD ICV lengths 8/12/16.
    public func validate() throws(CryptoError) {
        switch self {
        case .null, .tripleDESCBC, .chacha20Poly1305, .chacha20Poly1305ImplicitIV:
            return
        case .aesCBC(let bits), .aesCTR(let bits), .nullAuthAESGMAC(let bits):
            try Self.checkAESKeyBits(bits, keyword)
        case .aesGCM(let bits, let icv), .aesCCM(let bits, let icv), .aesGCMImplicitIV(let bits, let icv),
             .aesCCMImplicitIV(let bits, let icv):
            try Self.checkAESKeyBits(bits, keyword)
            guard icv == 8 || icv == 12 || icv == 16 else {
                throw .unknownAlgorithm(keyword, "ICV length \(icv) bytes; RFC 4106/4309 allow 8, 12 or 16")
            }
        }
    }

    static func checkAESKeyBits(_ bits: Int, _ keyword: String) throws(CryptoError) {
        guard bits == 128 || bits == 192 || bits == 256 else {
            throw .unknownAlgorithm(keyword, "AES key size \(bits) bits; needs 128, 192 or 256")
        }
    }
}
