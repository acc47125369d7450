import IPsecCrypto

/// The Linux kernel's IPsec algorithm names (the tables of net/xfrm/xfrm_algo.c), as `ip xfrm state` takes and lists
/// them, mapped to IPsecCrypto's algorithms. docs/sa-files.md has the table.
///
/// Names are matched as the kernel matches them (the full name or its one `compat` alias), but case-insensitively.
/// Where Linux picks a parameter from the key (AES key size) or the ICV length, so does this mapping; where Linux would
/// accept something IPsecLab cannot do (DES, other HMAC truncations), the error says so.
enum LinuxAlgorithms {
    /// `enc NAME KEY`.
    static func encryption(_ name: String, keyLength: Int) throws(Problem) -> EncryptionAlgorithm {
        switch name.lowercased() {
        case "cbc(aes)", "aes":
            return .aesCBC(keyBits: try aesBits(name, keyLength: keyLength, salt: 0))
        case "rfc3686(ctr(aes))":
            return .aesCTR(keyBits: try aesBits(name, keyLength: keyLength, salt: 4, saltName: "nonce"))
        case "cbc(des3_ede)", "des3_ede":
            guard keyLength == 24 else { throw keyProblem(name, keyLength, "24") }
            return .tripleDESCBC
        case "ecb(cipher_null)", "cipher_null":
            guard keyLength == 0 else { throw keyProblem(name, keyLength, "0 (write the key as \"\" or 0x)") }
            return .null
        case let lower where aeadNames.contains(lower):
            throw Problem(.unknownAlgorithm, "'\(lower)' is an AEAD; write 'aead \(lower) KEY ICV-BITS'")
        case let lower where unsupportedEncryption.contains(lower):
            throw Problem(.unsupported, "'\(lower)' is a Linux cipher that IPsecLab does not implement")
        default:
            throw Problem(.unknownAlgorithm,
                          "unknown encryption algorithm \(ConfigError.shown(name)) (Linux names: cbc(aes), "
                              + "rfc3686(ctr(aes)), cbc(des3_ede), ecb(cipher_null))")
        }
    }

    /// `aead NAME KEY ICV-BITS`. Linux's AEAD table lists each name with its allowed ICV lengths.
    static func aead(_ name: String, keyLength: Int, icvBits: UInt64) throws(Problem) -> EncryptionAlgorithm {
        let lower = name.lowercased()
        func icv(_ allowed: [UInt64], rfc: String) throws(Problem) -> Int {
            guard allowed.contains(icvBits) else {
                let list = allowed.map(String.init).joined(separator: ", ")
                throw Problem(.unknownAlgorithm, "\(lower) with a \(icvBits)-bit ICV; \(rfc) and Linux allow \(list)")
            }
            return Int(icvBits / 8)
        }
        switch lower {
        case "rfc4106(gcm(aes))":
            let icvLength = try icv([64, 96, 128], rfc: "RFC 4106")
            return .aesGCM(keyBits: try aesBits(lower, keyLength: keyLength, salt: 4), icvLength: icvLength)
        case "rfc4309(ccm(aes))":
            let icvLength = try icv([64, 96, 128], rfc: "RFC 4309")
            return .aesCCM(keyBits: try aesBits(lower, keyLength: keyLength, salt: 3), icvLength: icvLength)
        case "rfc4543(gcm(aes))":
            _ = try icv([128], rfc: "RFC 4543")
            return .nullAuthAESGMAC(keyBits: try aesBits(lower, keyLength: keyLength, salt: 4))
        case "rfc7539esp(chacha20,poly1305)":
            _ = try icv([128], rfc: "RFC 7634")
            guard keyLength == 36 else { throw keyProblem(lower, keyLength, "36 (32 key + 4 salt)") }
            return .chacha20Poly1305
        default:
            if encryptionNames.contains(lower) || unsupportedEncryption.contains(lower) {
                throw Problem(.unknownAlgorithm, "'\(lower)' is not an AEAD; write 'enc \(lower) KEY'")
            }
            throw Problem(.unknownAlgorithm,
                          "unknown AEAD \(ConfigError.shown(name)) (Linux names: rfc4106(gcm(aes)), rfc4309(ccm(aes)), "
                              + "rfc4543(gcm(aes)), rfc7539esp(chacha20,poly1305))")
        }
    }

    /// `auth NAME KEY` (truncation nil: the kernel's default for the name) or `auth-trunc NAME KEY BITS`.
    ///
    /// The trap: Linux's default truncation of HMAC-SHA-256 is 96 bits (from before RFC 4868), so `auth hmac(sha256)`
    /// is `sha256_96`, not RFC 4868's 128-bit `sha256`; only `auth-trunc hmac(sha256) KEY 128` is the latter.
    static func integrity(_ name: String, truncationBits: UInt64?) throws(Problem) -> IntegrityAlgorithm {
        let lower = name.lowercased()
        let choices: [(bits: UInt64, algorithm: IntegrityAlgorithm)]
        switch lower {
        case "digest_null": choices = [(0, .none)]
        case "hmac(md5)", "md5": choices = [(96, .hmacMD5_96)]
        case "hmac(sha1)", "sha1": choices = [(96, .hmacSHA1_96)]
        case "hmac(sha256)", "sha256": choices = [(96, .hmacSHA256_96), (128, .hmacSHA256_128)]
        case "hmac(sha384)": choices = [(192, .hmacSHA384_192)]
        case "hmac(sha512)": choices = [(256, .hmacSHA512_256)]
        case "xcbc(aes)": choices = [(96, .aesXCBC96)]
        case "cmac(aes)": choices = [(96, .aesCMAC96)]
        case "sha384", "sha512":
            throw Problem(.unknownAlgorithm,
                          "Linux has no short name '\(lower)' (only md5, sha1 and sha256 have one); write 'hmac(\(lower))'")
        case "hmac(rmd160)", "rmd160", "hmac(sm3)", "sm3":
            throw Problem(.unsupported, "'\(lower)' is a Linux integrity algorithm that IPsecLab does not implement")
        default:
            throw Problem(.unknownAlgorithm,
                          "unknown integrity algorithm \(ConfigError.shown(name)) (Linux names: hmac(md5), hmac(sha1), "
                              + "hmac(sha256), hmac(sha384), hmac(sha512), xcbc(aes), cmac(aes), digest_null)")
        }
        // Without auth-trunc the kernel applies its table's default, which is the first choice.
        guard let bits = truncationBits else { return choices[0].algorithm }
        if let match = choices.first(where: { $0.bits == bits }) { return match.algorithm }
        let list = choices.map { String($0.bits) }.joined(separator: " or ")
        throw Problem(.unsupported,
                      "\(lower) truncated to \(bits) bits is not a transform IPsecLab implements (it takes \(list))")
    }

    /// How `ip xfrm state add` writes an encryption transform: (`enc` or `aead`, name, ICV bits for an AEAD), or nil
    /// when Linux has no such transform (the RFC 8750 implicit-IV forms).
    static func name(of encryption: EncryptionAlgorithm) -> (keyword: String, name: String, icvBits: Int?)? {
        switch encryption {
        case .null: ("enc", "ecb(cipher_null)", nil)
        case .aesCBC: ("enc", "cbc(aes)", nil)
        case .aesCTR: ("enc", "rfc3686(ctr(aes))", nil)
        case .tripleDESCBC: ("enc", "cbc(des3_ede)", nil)
        case .aesGCM(_, let icv): ("aead", "rfc4106(gcm(aes))", icv * 8)
        case .aesCCM(_, let icv): ("aead", "rfc4309(ccm(aes))", icv * 8)
        case .nullAuthAESGMAC: ("aead", "rfc4543(gcm(aes))", 128)
        case .chacha20Poly1305: ("aead", "rfc7539esp(chacha20,poly1305)", 128)
        case .aesGCMImplicitIV, .aesCCMImplicitIV, .chacha20Poly1305ImplicitIV: nil
        }
    }

    /// How `ip xfrm state add` writes an integrity transform with `auth-trunc`: (name, truncation bits), or nil when
    /// Linux has none (AH's GMAC; `.none` is written by leaving `auth` out).
    static func name(of integrity: IntegrityAlgorithm) -> (name: String, bits: Int)? {
        switch integrity {
        case .none, .aesGMAC: nil
        case .hmacMD5_96: ("hmac(md5)", 96)
        case .hmacSHA1_96: ("hmac(sha1)", 96)
        case .hmacSHA256_96: ("hmac(sha256)", 96)
        case .hmacSHA256_128: ("hmac(sha256)", 128)
        case .hmacSHA384_192: ("hmac(sha384)", 192)
        case .hmacSHA512_256: ("hmac(sha512)", 256)
        case .aesXCBC96: ("xcbc(aes)", 96)
        case .aesCMAC96: ("cmac(aes)", 96)
        }
    }

    private static let encryptionNames: Set<String> = [
        "cbc(aes)", "aes", "rfc3686(ctr(aes))", "cbc(des3_ede)", "des3_ede", "ecb(cipher_null)", "cipher_null",
    ]

    private static let aeadNames: Set<String> = [
        "rfc4106(gcm(aes))", "rfc4309(ccm(aes))", "rfc4543(gcm(aes))", "rfc7539esp(chacha20,poly1305)",
    ]

    /// Ciphers in Linux's table that IPsecLab leaves out (DES and CAST5 are forbidden by RFC 8221; the rest are not in
    /// IPsecCrypto).
    private static let unsupportedEncryption: Set<String> = [
        "cbc(des)", "des", "cbc(cast5)", "cast5", "cbc(blowfish)", "blowfish", "cbc(serpent)", "serpent",
        "cbc(camellia)", "camellia", "cbc(twofish)", "twofish", "cbc(sm4)", "sm4",
    ]

    /// AES key bits from key material of `keyLength` bytes of which `salt` are salt (or nonce).
    private static func aesBits(_ name: String, keyLength: Int, salt: Int, saltName: String = "salt") throws(Problem)
        -> Int
    {
        let key = keyLength - salt
        guard key == 16 || key == 24 || key == 32 else {
            let need = [16, 24, 32].map { String($0 + salt) }
            let layout = salt == 0 ? "" : " (16, 24 or 32 key + \(salt) \(saltName))"
            throw keyProblem(name, keyLength, "\(need[0]), \(need[1]) or \(need[2])\(layout)")
        }
        return key * 8
    }

    private static func keyProblem(_ name: String, _ have: Int, _ need: String) -> Problem {
        Problem(.badKeyLength, "\(name.lowercased()) key is \(have) bytes; it needs \(need)")
    }
}
