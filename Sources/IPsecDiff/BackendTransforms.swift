import Crypto
import CryptoExtras
import Foundation
import IPsecCrypto

/// The second crypto backend: every ESP and AH transform that swift-crypto (BoringSSL) offers, written from the RFCs
/// without IPsecCrypto's code, so that the two can be compared transform by transform (docs/differential.md).
///
/// Offered: AES-GCM (RFC 4106; 8-, 12- and 16-byte ICVs, the explicit IV and RFC 8750's implicit one),
/// ChaCha20-Poly1305 (RFC 7634, both IVs), ENCR_NULL_AUTH_AES_GMAC (RFC 4543), AES-CBC (RFC 3602), AES-CTR
/// (RFC 3686), NULL; HMAC-MD5-96, HMAC-SHA1-96, HMAC-SHA-256-128/-384-192/-512-256 (RFC 2403, 2404, 4868), Linux's
/// HMAC-SHA-256-96, AES-CMAC-96 (RFC 4494); AH with every one of those MACs and with AUTH_AES_GMAC. swift-crypto has
/// no AES-CCM, 3DES or AES-XCBC: those cells are left to the other oracles.
enum BackendTransforms {
    struct Unsupported: Error { let what: String }

    static func supports(_ algorithm: ESPAlgorithm) -> Bool {
        switch algorithm.encryption {
        case .aesCCM, .aesCCMImplicitIV, .tripleDESCBC: return false
        default: return supports(algorithm.integrity)
        }
    }

    static func supports(_ integrity: IntegrityAlgorithm) -> Bool {
        integrity != .aesXCBC96
    }

    // MARK: ESP

    /// The nonce's IV part: explicit, or RFC 8750's implicit IV (the 64-bit ESN, or 32 zero bits and the sequence
    /// number).
    static func ivPart(_ algorithm: ESPAlgorithm, iv: [UInt8], sequence: UInt64, esn: Bool) -> [UInt8] {
        guard algorithm.encryption.usesImplicitIV else { return iv }
        return be64(esn ? sequence : sequence & 0xffff_ffff)
    }

    /// RFC 4303 §2.2.1 and RFC 4106 §5: SPI ‖ Seq(low), or SPI ‖ Seq(high) ‖ Seq(low) with ESN (AEADs); the composite
    /// MAC input puts the high bits last instead.
    static func aeadAAD(spi: UInt32, sequence: UInt64, esn: Bool) -> [UInt8] {
        esn ? be32(spi) + be64(sequence) : be32(spi) + be32(UInt32(truncatingIfNeeded: sequence))
    }

    /// Seals an already padded payload: (ciphertext, ICV).
    static func seal(_ algorithm: ESPAlgorithm, encryptionKey: [UInt8], integrityKey: [UInt8], spi: UInt32,
                     sequence: UInt64, esn: Bool, iv: [UInt8], payload: [UInt8]) throws -> ([UInt8], [UInt8]) {
        let enc = algorithm.encryption
        let key = Array(encryptionKey.prefix(enc.keyLength))
        let salt = Array(encryptionKey.suffix(enc.saltLength))
        let icvLength = algorithm.icvLength
        switch enc {
        case .aesGCM, .aesGCMImplicitIV:
            let nonce = try AES.GCM.Nonce(data: salt + ivPart(algorithm, iv: iv, sequence: sequence, esn: esn))
            let box = try AES.GCM.seal(payload, using: SymmetricKey(data: key), nonce: nonce,
                                       authenticating: aeadAAD(spi: spi, sequence: sequence, esn: esn))
            return (Array(box.ciphertext), Array(box.tag.prefix(icvLength)))  // SP 800-38D §5.2.1.2: leftmost bits
        case .chacha20Poly1305, .chacha20Poly1305ImplicitIV:
            let nonce = try ChaChaPoly.Nonce(data: salt + ivPart(algorithm, iv: iv, sequence: sequence, esn: esn))
            let box = try ChaChaPoly.seal(payload, using: SymmetricKey(data: key), nonce: nonce,
                                          authenticating: aeadAAD(spi: spi, sequence: sequence, esn: esn))
            return (Array(box.ciphertext), Array(box.tag))
        case .nullAuthAESGMAC:
            // RFC 4543 §3.3: GMAC over AAD = SPI ‖ Seq ‖ IV ‖ payload, nothing encrypted.
            let nonce = try AES.GCM.Nonce(data: salt + iv)
            let box = try AES.GCM.seal([UInt8](), using: SymmetricKey(data: key), nonce: nonce,
                                       authenticating: aeadAAD(spi: spi, sequence: sequence, esn: esn) + iv + payload)
            return (payload, Array(box.tag))
        case .null, .aesCBC, .aesCTR:
            let ciphertext = try cipher(enc, key: key, salt: salt, iv: iv, payload, encrypting: true)
            let icv = try compositeICV(algorithm.integrity, key: integrityKey, spi: spi, sequence: sequence, esn: esn,
                                       iv: iv, ciphertext: ciphertext)
            return (ciphertext, icv)
        default:
            throw Unsupported(what: algorithm.keyword)
        }
    }

    /// Verifies and decrypts: the plaintext, or nil when the ICV does not verify.
    static func open(_ algorithm: ESPAlgorithm, encryptionKey: [UInt8], integrityKey: [UInt8], spi: UInt32,
                     sequence: UInt64, esn: Bool, iv: [UInt8], ciphertext: [UInt8], icv: [UInt8]) throws -> [UInt8]? {
        let enc = algorithm.encryption
        let key = Array(encryptionKey.prefix(enc.keyLength))
        let salt = Array(encryptionKey.suffix(enc.saltLength))
        switch enc {
        case .aesGCM, .aesGCMImplicitIV:
            let ivp = ivPart(algorithm, iv: iv, sequence: sequence, esn: esn)
            guard icv.count == algorithm.icvLength else { return nil }
            if icv.count == 16 {
                let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: salt + ivp), ciphertext: ciphertext, tag: icv)
                return try? Array(AES.GCM.open(box, using: SymmetricKey(data: key),
                                               authenticating: aeadAAD(spi: spi, sequence: sequence, esn: esn)))
            }
            // A truncated tag (RFC 4106 §6): decrypt with the GCM keystream (counter block J0 + 1, as CTR), seal
            // again to get the full tag, compare its leftmost bytes.
            let plain = try Array(AES._CTR.decrypt(ciphertext, using: SymmetricKey(data: key),
                                                   nonce: AES._CTR.Nonce(nonceBytes: salt + ivp + [0, 0, 0, 2])))
            let (again, tag) = try seal(algorithm, encryptionKey: encryptionKey, integrityKey: integrityKey, spi: spi,
                                        sequence: sequence, esn: esn, iv: iv, payload: plain)
            return again == ciphertext && tag == icv ? plain : nil
        case .chacha20Poly1305, .chacha20Poly1305ImplicitIV:
            guard icv.count == 16 else { return nil }
            let nonce = try ChaChaPoly.Nonce(data: salt + ivPart(algorithm, iv: iv, sequence: sequence, esn: esn))
            let box = try ChaChaPoly.SealedBox(nonce: nonce, ciphertext: ciphertext, tag: icv)
            return try? Array(ChaChaPoly.open(box, using: SymmetricKey(data: key),
                                              authenticating: aeadAAD(spi: spi, sequence: sequence, esn: esn)))
        case .nullAuthAESGMAC:
            let (_, tag) = try seal(algorithm, encryptionKey: encryptionKey, integrityKey: integrityKey, spi: spi,
                                    sequence: sequence, esn: esn, iv: iv, payload: ciphertext)
            return tag == icv ? ciphertext : nil
        case .null, .aesCBC, .aesCTR:
            let expected = try compositeICV(algorithm.integrity, key: integrityKey, spi: spi, sequence: sequence,
                                            esn: esn, iv: iv, ciphertext: ciphertext)
            guard expected == icv else { return nil }  // verify before decrypting (RFC 4303 §3.4.4)
            return try cipher(enc, key: key, salt: salt, iv: iv, ciphertext, encrypting: false)
        default:
            throw Unsupported(what: algorithm.keyword)
        }
    }

    static func cipher(_ enc: EncryptionAlgorithm, key: [UInt8], salt: [UInt8], iv: [UInt8], _ data: [UInt8],
                       encrypting: Bool) throws -> [UInt8] {
        switch enc {
        case .null: return data
        case .aesCBC:
            let ivv = try AES._CBC.IV(ivBytes: iv)
            return encrypting
                ? Array(try AES._CBC.encrypt(data, using: SymmetricKey(data: key), iv: ivv, noPadding: true))
                : Array(try AES._CBC.decrypt(data, using: SymmetricKey(data: key), iv: ivv, noPadding: true))
        case .aesCTR:
            // RFC 3686 §4: nonce ‖ IV ‖ block counter starting at 1.
            let nonce = try AES._CTR.Nonce(nonceBytes: salt + iv + [0, 0, 0, 1])
            return Array(try AES._CTR.encrypt(data, using: SymmetricKey(data: key), nonce: nonce))
        default: throw Unsupported(what: enc.keyword)
        }
    }

    /// RFC 4303 §2.2.1, §3.3.2.1: MAC(SPI ‖ Seq(low) ‖ IV ‖ ciphertext ‖ [Seq(high)]), truncated.
    static func compositeICV(_ integrity: IntegrityAlgorithm, key: [UInt8], spi: UInt32, sequence: UInt64, esn: Bool,
                             iv: [UInt8], ciphertext: [UInt8]) throws -> [UInt8] {
        if integrity == .none { return [] }
        var input = be32(spi) + be32(UInt32(truncatingIfNeeded: sequence)) + iv + ciphertext
        if esn { input += be32(UInt32(truncatingIfNeeded: sequence >> 32)) }
        return try mac(integrity, key: key, input)
    }

    /// A MAC, truncated to the ICV length of `integrity`.
    static func mac(_ integrity: IntegrityAlgorithm, key: [UInt8], _ data: [UInt8]) throws -> [UInt8] {
        let k = SymmetricKey(data: key)
        let full: [UInt8]
        switch integrity {
        case .hmacMD5_96: full = Array(HMAC<Insecure.MD5>.authenticationCode(for: data, using: k))
        case .hmacSHA1_96: full = Array(HMAC<Insecure.SHA1>.authenticationCode(for: data, using: k))
        case .hmacSHA256_128, .hmacSHA256_96: full = Array(HMAC<SHA256>.authenticationCode(for: data, using: k))
        case .hmacSHA384_192: full = Array(HMAC<SHA384>.authenticationCode(for: data, using: k))
        case .hmacSHA512_256: full = Array(HMAC<SHA512>.authenticationCode(for: data, using: k))
        case .aesCMAC96:
            var cmac = try AES.CMAC(key: k)
            cmac.update(data: data)
            full = Array(cmac.finalize())
        default: throw Unsupported(what: integrity.keyword)
        }
        return Array(full.prefix(integrity.icvLength))
    }

    // MARK: AH

    /// The AH ICV field over `prefix` ‖ ICV field as zeros ‖ `suffix` ‖ [Seq(high)] (RFC 4302 §3.3.3). GMAC
    /// (RFC 4543 §4): the field is IV ‖ tag, the tag over AAD = prefix ‖ IV ‖ 16 zero bytes ‖ suffix ‖ [Seq(high)].
    static func ahICV(_ algorithm: AHAlgorithm, key: [UInt8], prefix: [UInt8], suffix: [UInt8], sequence: UInt64,
                      esn: Bool, gmacIV: [UInt8]) throws -> [UInt8] {
        let high = esn ? be32(UInt32(truncatingIfNeeded: sequence >> 32)) : []
        if case .aesGMAC(let bits) = algorithm.integrity {
            let nonce = try AES.GCM.Nonce(data: Array(key.suffix(4)) + gmacIV)
            let box = try AES.GCM.seal([UInt8](), using: SymmetricKey(data: Array(key.prefix(bits / 8))), nonce: nonce,
                                       authenticating: prefix + gmacIV + [UInt8](repeating: 0, count: 16) + suffix + high)
            return gmacIV + Array(box.tag)
        }
        return try mac(algorithm.integrity, key: key,
                       prefix + [UInt8](repeating: 0, count: algorithm.icvLength) + suffix + high)
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)] }
    static func be64(_ v: UInt64) -> [UInt8] { be32(UInt32(v >> 32)) + be32(UInt32(truncatingIfNeeded: v)) }
}
