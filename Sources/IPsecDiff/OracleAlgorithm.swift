import IPsecCore
import IPsecCrypto

/// One algorithm as IPsecLab and an oracle both name it.
struct OracleAlgorithm: Sendable {
    var algorithm: SAAlgorithm
    /// scapy's names (`crypt_algo`, `auth_algo`), when scapy implements it.
    var scapyCrypt: String?
    var scapyAuth: String?
    /// tshark's esp_sa names (encryption, integrity), when tshark decrypts and verifies it.
    var tsharkEncryption: String?
    var tsharkIntegrity: String?

    var keyword: String { algorithm.description }
    var hasIntegrity: Bool {
        switch algorithm {
        case .ah: true
        case .esp(let a): !a.isConfidentialityOnly
        }
    }
    var isAH: Bool { if case .ah = algorithm { true } else { false } }
    var encryptionKeyLength: Int { if case .esp(let a) = algorithm { a.encryptionKeyLength } else { 0 } }
    var integrityKeyLength: Int {
        switch algorithm {
        case .esp(let a): a.integrityKeyLength
        case .ah(let a): a.keyLength
        }
    }
    var ivLength: Int { if case .esp(let a) = algorithm { a.ivLength } else { 0 } }

    /// scapy 2.8.0 emits and expects a 16-byte AES-GCM ICV whatever size is asked for (scapy issue 4903).
    var scapyBug4903: Bool {
        if case .esp(let a) = algorithm, case .aesGCM(_, let icv) = a.encryption { return icv != 16 }
        return false
    }

    static let scapyAuths: [(IntegrityAlgorithm, String)] = [
        (.hmacSHA1_96, "HMAC-SHA1-96"), (.hmacSHA256_128, "SHA2-256-128"), (.hmacSHA384_192, "SHA2-384-192"),
        (.hmacSHA512_256, "SHA2-512-256"), (.hmacMD5_96, "HMAC-MD5-96"), (.aesCMAC96, "AES-CMAC-96"),
    ]

    /// Every ESP and AH algorithm scapy 2.8.0 implements that IPsecLab has a keyword for.
    static let scapy: [OracleAlgorithm] = {
        var out: [OracleAlgorithm] = []
        func esp(_ e: EncryptionAlgorithm, _ i: IntegrityAlgorithm, _ crypt: String, _ auth: String?) {
            guard let a = try? ESPAlgorithm(encryption: e, integrity: i) else { return }
            out.append(OracleAlgorithm(algorithm: .esp(a), scapyCrypt: crypt, scapyAuth: auth))
        }
        var ciphers: [(EncryptionAlgorithm, String)] = [(.null, "NULL"), (.tripleDESCBC, "3DES")]
        for bits in [128, 192, 256] {
            ciphers.append((.aesCBC(keyBits: bits), "AES-CBC"))
            ciphers.append((.aesCTR(keyBits: bits), "AES-CTR"))
        }
        for (cipher, crypt) in ciphers {
            for (integrity, auth) in scapyAuths { esp(cipher, integrity, crypt, auth) }
            if cipher != .null { esp(cipher, .none, crypt, nil) }
        }
        for bits in [128, 192, 256] {
            for icv in [8, 12, 16] {
                esp(.aesGCM(keyBits: bits, icvLength: icv), .none, "AES-GCM", nil)
                esp(.aesCCM(keyBits: bits, icvLength: icv), .none, "AES-CCM", nil)
            }
            esp(.nullAuthAESGMAC(keyBits: bits), .none, "AES-NULL-GMAC", nil)
        }
        esp(.chacha20Poly1305, .none, "CHACHA20-POLY1305", nil)
        for (integrity, auth) in scapyAuths {
            if let a = try? AHAlgorithm(integrity) {
                out.append(OracleAlgorithm(algorithm: .ah(a), scapyAuth: auth))
            }
        }
        return out
    }()

    /// Every ESP algorithm tshark 4.0 decrypts and verifies (it never verifies AH and has no ESN).
    static let tshark: [OracleAlgorithm] = {
        var out: [OracleAlgorithm] = []
        var ciphers: [(EncryptionAlgorithm, String)] = [(.null, "NULL"), (.tripleDESCBC, "TripleDES-CBC [RFC2451]")]
        for bits in [128, 192, 256] {
            ciphers.append((.aesCBC(keyBits: bits), "AES-CBC [RFC3602]"))
            ciphers.append((.aesCTR(keyBits: bits), "AES-CTR [RFC3686]"))
        }
        let integrities: [(IntegrityAlgorithm, String)] = [
            (.hmacSHA1_96, "HMAC-SHA-1-96 [RFC2404]"), (.hmacMD5_96, "HMAC-MD5-96 [RFC2403]"),
            (.hmacSHA256_128, "HMAC-SHA-256-128 [RFC4868]"), (.hmacSHA384_192, "HMAC-SHA-384-192 [RFC4868]"),
            (.hmacSHA512_256, "HMAC-SHA-512-256 [RFC4868]"),
            (.hmacSHA256_96, "HMAC-SHA-256-96 [draft-ietf-ipsec-ciph-sha-256-00]"),
        ]
        for (cipher, name) in ciphers {
            for (integrity, iname) in integrities {
                if let a = try? ESPAlgorithm(encryption: cipher, integrity: integrity) {
                    out.append(OracleAlgorithm(algorithm: .esp(a), tsharkEncryption: name, tsharkIntegrity: iname))
                }
            }
            if cipher != .null, let a = try? ESPAlgorithm(encryption: cipher) {
                out.append(OracleAlgorithm(algorithm: .esp(a), tsharkEncryption: name, tsharkIntegrity: "NULL"))
            }
        }
        for bits in [128, 192, 256] {
            for icv in [8, 12, 16] {
                if let a = try? ESPAlgorithm(encryption: .aesGCM(keyBits: bits, icvLength: icv)) {
                    out.append(OracleAlgorithm(algorithm: .esp(a),
                                               tsharkEncryption: "AES-GCM with \(icv) octet ICV [RFC4106]",
                                               tsharkIntegrity: "NULL"))
                }
            }
        }
        return out
    }()
}
