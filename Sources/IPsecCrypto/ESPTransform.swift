import COpenSSL

/// The cryptographic transform of one ESP SA: seals and opens payloads in place.
///
/// One per SA and direction. It owns its OpenSSL contexts (created in `init`, freed in `deinit`) and reuses them for
/// every packet, so that a warm transform allocates nothing per packet. It is not thread-safe: use one per SA per
/// thread (it is deliberately not `Sendable`).
///
/// Every transform is treated as an AEAD, as strongSwan and Linux do: `seal` encrypts and authenticates, `open`
/// verifies and decrypts. What is authenticated is described on `ESPAssociatedData`.
///
/// Nonces: AES-GCM and ChaCha20-Poly1305 use salt(4) ‖ IV(8) (RFC 4106 §4, RFC 7634 §2); AES-CCM uses salt(3) ‖ IV(8)
/// with L = 4 (RFC 4309 §4); AES-CTR's counter block is nonce(4) ‖ IV(8) ‖ 0x00000001 (RFC 3686 §4). With the implicit
/// IV of RFC 8750 the 8-byte IV is not sent: it is the 64-bit ESN, or 32 zero bits ‖ the 32-bit sequence number.
public final class ESPTransform {
    public let algorithm: ESPAlgorithm
    /// Bytes of IV the data plane supplies per packet (0 for NULL and implicit-IV transforms).
    public let ivLength: Int
    /// Bytes of ICV per packet (0 for confidentiality-only ESP).
    public let icvLength: Int
    /// What the payload (inner packet ‖ padding ‖ pad length ‖ next header) must be a multiple of.
    public let blockSize: Int

    private enum Mode {
        case composite
        case gcm
        case ccm
        case chacha
        case gmac
    }

    private let mode: Mode
    private let encryptor: CipherContext?
    private let decryptor: CipherContext?
    private let mac: MACContext?
    private let label: String
    private let saltLength: Int
    private let cipherBlock: Int  // CBC block to check payloads against; 1 for stream ciphers
    private let isCTR: Bool

    /// Per-transform working memory, so that packets allocate nothing. Salt and derived values are key material and
    /// are cleansed in `deinit`.
    private let scratch: UnsafeMutableRawPointer
    private static let saltOffset = 0  // 4 bytes
    private static let nonceOffset = 16  // up to 16 bytes (CTR counter block)
    private static let aadOffset = 32  // SPI ‖ [high] ‖ low ‖ extra: up to 12 + 64 bytes
    private static let macOffset = 112  // untruncated MAC or tag: up to 64 bytes
    private static let scratchLength = 176

    /// - Parameters:
    ///   - encryptionKey: key followed by its salt (GCM, GMAC, ChaCha20: 4 bytes; CCM: 3; CTR: 4-byte nonce), as
    ///     `ip xfrm` lays it out. Empty for NULL.
    ///   - integrityKey: the integrity key; empty for combined-mode transforms.
    public init(_ algorithm: ESPAlgorithm, encryptionKey: [UInt8], integrityKey: [UInt8]) throws(CryptoError) {
        self.algorithm = algorithm
        let encryption = algorithm.encryption
        let label = algorithm.keyword
        self.label = label
        ivLength = encryption.ivLength
        icvLength = algorithm.icvLength
        blockSize = encryption.blockSize
        saltLength = encryption.saltLength

        let keyLength = encryption.keyLength
        guard encryptionKey.count == encryption.keyMaterialLength else {
            let layout = saltLength > 0
                ? "\(keyLength) key + \(saltLength) \(encryption == .aesCTR(keyBits: keyLength * 8) ? "nonce" : "salt")"
                : nil
            throw .badKeyLength(label, have: encryptionKey.count, need: encryption.keyMaterialLength, layout: layout)
        }
        guard integrityKey.count == algorithm.integrity.keyMaterialLength else {
            throw .badKeyLength(label, what: "integrity key", have: integrityKey.count,
                                need: algorithm.integrity.keyMaterialLength)
        }

        switch encryption {
        case .null, .aesCBC, .aesCTR, .tripleDESCBC: mode = .composite
        case .aesGCM, .aesGCMImplicitIV: mode = .gcm
        case .aesCCM, .aesCCMImplicitIV: mode = .ccm
        case .chacha20Poly1305, .chacha20Poly1305ImplicitIV: mode = .chacha
        case .nullAuthAESGMAC: mode = .gmac
        }
        switch encryption {
        case .aesCBC: cipherBlock = 16
        case .tripleDESCBC: cipherBlock = 8
        default: cipherBlock = 1
        }
        if case .aesCTR = encryption { isCTR = true } else { isCTR = false }

        let name: String? = switch encryption {
        case .null: nil
        case .aesCBC(let bits): "AES-\(bits)-CBC"
        case .aesCTR(let bits): "AES-\(bits)-CTR"
        case .tripleDESCBC: "DES-EDE3-CBC"
        case .aesGCM(let bits, _), .aesGCMImplicitIV(let bits, _), .nullAuthAESGMAC(let bits): "AES-\(bits)-GCM"
        case .aesCCM(let bits, _), .aesCCMImplicitIV(let bits, _): "AES-\(bits)-CCM"
        case .chacha20Poly1305, .chacha20Poly1305ImplicitIV: "ChaCha20-Poly1305"
        }
        let nonceLength: Int? = mode == .ccm ? 11 : nil  // RFC 4309 §4: 3-byte salt ‖ 8-byte IV, L = 4
        let ccmTag: Int? = mode == .ccm ? encryption.icvLength : nil
        let needsDecryptor = mode != .gmac

        let contexts: (CipherContext?, CipherContext?) = try withBytes(encryptionKey) { material throws(CryptoError) in
            guard let name else { return (nil, nil) }
            let key = UnsafeRawBufferPointer(rebasing: material[0..<keyLength])
            if encryption == .tripleDESCBC { try Self.rejectDegenerate3DES(key, label) }
            let enc = try CipherContext(name: name, key: key, encrypting: true, label: label,
                                        aeadNonceLength: nonceLength, ccmTagLength: ccmTag)
            let dec = needsDecryptor
                ? try CipherContext(name: name, key: key, encrypting: false, label: label,
                                    aeadNonceLength: nonceLength, ccmTagLength: ccmTag)
                : nil
            return (enc, dec)
        }
        (encryptor, decryptor) = contexts
        mac = algorithm.integrity == .none
            ? nil
            : try withBytes(integrityKey) { key throws(CryptoError) in
                try MACContext(algorithm.integrity, key: key, label: label)
            }

        scratch = UnsafeMutableRawPointer.allocate(byteCount: Self.scratchLength, alignment: 16)
        scratch.initializeMemory(as: UInt8.self, repeating: 0, count: Self.scratchLength)
        if saltLength > 0 {
            encryptionKey.withUnsafeBytes { material in
                scratch.copyMemory(from: material.baseAddress!.advanced(by: keyLength), byteCount: saltLength)
            }
        }
    }

    deinit {
        OPENSSL_cleanse(scratch, Self.scratchLength)
        scratch.deallocate()
    }

    /// RFC 2451 §2.3 (via ANSI X9.52 keying options): K1 = K2 or K2 = K3 reduces 3DES to single DES.
    private static func rejectDegenerate3DES(_ key: UnsafeRawBufferPointer, _ label: String) throws(CryptoError) {
        let k1 = UnsafeRawBufferPointer(rebasing: key[0..<8])
        let k2 = UnsafeRawBufferPointer(rebasing: key[8..<16])
        let k3 = UnsafeRawBufferPointer(rebasing: key[16..<24])
        if constantTimeEqual(k1, k2) || constantTimeEqual(k2, k3) {
            throw CryptoError(.badKeyLength, algorithm: label,
                              reason: "3DES key parts repeat (K1 = K2 or K2 = K3), which degenerates to single DES")
        }
    }

    // MARK: - Seal and open

    /// Encrypts `payload` in place (already padded: inner packet ‖ padding ‖ pad length ‖ next header) and writes
    /// exactly `icvLength` bytes of ICV to `icv`. `iv` must be `ivLength` bytes (empty for implicit IVs).
    public func seal(_ aad: ESPAssociatedData, iv: UnsafeRawBufferPointer, payload: UnsafeMutableRawBufferPointer,
                     icv: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        try checkSizes(iv: iv.count, payload: payload.count, icv: icv.count)
        switch mode {
        case .composite:
            if let encryptor {
                try startComposite(encryptor, iv: iv)
                guard encryptor.update(payload.bytePointer, UnsafePointer(payload.bytePointer), count: payload.count)
                else { throw .backend("EVP_EncryptUpdate") }
            }
            if let mac {
                try compositeMAC(mac, aad, iv: iv, ciphertext: UnsafeRawBufferPointer(payload))
                icv.baseAddress!.copyMemory(from: scratch.advanced(by: Self.macOffset), byteCount: icvLength)
            }
        case .gcm, .ccm, .chacha:
            let encryptor = encryptor!
            try encryptor.start(iv: nonce(aad, iv: iv))
            if mode == .ccm { try encryptor.announceLength(payload.count) }
            try encryptor.authenticate(scratch.advanced(by: Self.aadOffset), count: aeadAAD(aad))
            guard encryptor.update(payload.bytePointer, UnsafePointer(payload.bytePointer), count: payload.count),
                  encryptor.finish()
            else { throw .backend("EVP_EncryptUpdate") }
            try encryptor.tag(into: icv.baseAddress!, count: icvLength)
        case .gmac:
            try gmacTag(aad, iv: iv, payload: UnsafeRawBufferPointer(payload))
            icv.baseAddress!.copyMemory(from: scratch.advanced(by: Self.macOffset), byteCount: icvLength)
        }
    }

    /// Verifies the ICV first, in constant time, and decrypts `payload` in place only if it verified. Returns false
    /// when the ICV does not verify.
    ///
    /// What the payload holds after a failure:
    /// - composite transforms and GMAC: the ciphertext, untouched (the MAC covers the ciphertext, so nothing is
    ///   decrypted before it verifies);
    /// - AES-GCM and ChaCha20-Poly1305: the ciphertext, restored. EVP verifies the tag only at the end of decryption,
    ///   so the payload is decrypted in place and, on failure, encrypted again with the same nonce (both are CTR-mode
    ///   keystreams, so this gives back the exact ciphertext);
    /// - AES-CCM: zeros. CCM's tag covers the plaintext, so it cannot be checked before decrypting, and OpenSSL
    ///   cleanses the output when the tag does not match.
    ///
    /// Confidentiality-only ESP has no ICV: it decrypts and returns true.
    public func open(_ aad: ESPAssociatedData, iv: UnsafeRawBufferPointer, payload: UnsafeMutableRawBufferPointer,
                     icv: UnsafeRawBufferPointer) throws(CryptoError) -> Bool {
        try checkSizes(iv: iv.count, payload: payload.count, icv: icv.count)
        switch mode {
        case .composite:
            if let mac {
                try compositeMAC(mac, aad, iv: iv, ciphertext: UnsafeRawBufferPointer(payload))
                let computed = UnsafeRawBufferPointer(start: scratch.advanced(by: Self.macOffset), count: icvLength)
                guard constantTimeEqual(computed, icv) else { return false }
            }
            if let decryptor {
                try startComposite(decryptor, iv: iv)
                guard decryptor.update(payload.bytePointer, UnsafePointer(payload.bytePointer), count: payload.count)
                else { throw .backend("EVP_DecryptUpdate") }
            }
            return true
        case .ccm:
            let decryptor = decryptor!
            try decryptor.start(iv: nonce(aad, iv: iv))
            try decryptor.expectTag(icv.baseAddress!, count: icvLength)
            try decryptor.announceLength(payload.count)
            try decryptor.authenticate(scratch.advanced(by: Self.aadOffset), count: aeadAAD(aad))
            // OpenSSL's CCM checks the tag inside this update and cleanses the output when it does not match.
            guard decryptor.update(payload.bytePointer, UnsafePointer(payload.bytePointer), count: payload.count)
            else {
                OpenSSLErrorQueue.clear()
                payload.initializeMemory(as: UInt8.self, repeating: 0)
                return false
            }
            return true
        case .gcm, .chacha:
            let decryptor = decryptor!
            let nonce = try nonce(aad, iv: iv)
            try decryptor.start(iv: nonce)
            try decryptor.authenticate(scratch.advanced(by: Self.aadOffset), count: aeadAAD(aad))
            guard decryptor.update(payload.bytePointer, UnsafePointer(payload.bytePointer), count: payload.count)
            else { throw .backend("EVP_DecryptUpdate") }
            try decryptor.expectTag(icv.baseAddress!, count: icvLength)
            if decryptor.finish() { return true }
            OpenSSLErrorQueue.clear()
            // Put the ciphertext back: same key, same nonce, same keystream.
            let encryptor = encryptor!
            try encryptor.start(iv: nonce)
            guard encryptor.update(payload.bytePointer, UnsafePointer(payload.bytePointer), count: payload.count)
            else { throw .backend("EVP_EncryptUpdate(restore)") }
            return false
        case .gmac:
            try gmacTag(aad, iv: iv, payload: UnsafeRawBufferPointer(payload))
            let computed = UnsafeRawBufferPointer(start: scratch.advanced(by: Self.macOffset), count: icvLength)
            return constantTimeEqual(computed, icv)
        }
    }

    // MARK: - Pieces

    @inline(__always)
    private func checkSizes(iv: Int, payload: Int, icv: Int) throws(CryptoError) {
        guard iv == ivLength else { throw .badIVLength(label, have: iv, need: ivLength) }
        guard icv == icvLength else {
            throw .bufferSize(label, "ICV buffer is \(icv) bytes, needs \(icvLength)")
        }
        guard payload <= Int(Int32.max) else { throw .bufferSize(label, "payload of \(payload) bytes is too large") }
        guard payload % cipherBlock == 0 else {
            throw .bufferSize(label, "payload is \(payload) bytes, not a multiple of the \(cipherBlock)-byte block")
        }
    }

    /// Installs the IV of a CBC or CTR cipher.
    @inline(__always)
    private func startComposite(_ context: CipherContext, iv: UnsafeRawBufferPointer) throws(CryptoError) {
        if isCTR {
            // RFC 3686 §4: nonce ‖ IV ‖ block counter starting at 1.
            let block = scratch.advanced(by: Self.nonceOffset)
            block.copyMemory(from: scratch.advanced(by: Self.saltOffset), byteCount: 4)
            block.advanced(by: 4).copyMemory(from: iv.baseAddress!, byteCount: 8)
            storeBigEndian(UInt32(1), block, at: 12)
            try context.start(iv: block)
        } else {
            try context.start(iv: iv.baseAddress!)
        }
    }

    /// RFC 4303 §2.2.1 and §3.3.2.1: MAC(SPI ‖ Seq(low) ‖ IV ‖ ciphertext ‖ [Seq(high)] ‖ extra), untruncated, into
    /// the scratch MAC slot.
    private func compositeMAC(_ mac: MACContext, _ aad: ESPAssociatedData, iv: UnsafeRawBufferPointer,
                              ciphertext: UnsafeRawBufferPointer) throws(CryptoError) {
        let header = scratch.advanced(by: Self.aadOffset)
        storeBigEndian(aad.spi, header, at: 0)
        storeBigEndian(aad.sequenceLow, header, at: 4)
        try mac.begin()
        try mac.update(header, count: 8)
        try mac.update(iv)
        try mac.update(ciphertext)
        try mac.update(header.advanced(by: 8), count: aad.writeMACTrailer(to: header.advanced(by: 8)))
        try mac.finish(into: scratch.advanced(by: Self.macOffset))
    }

    /// Writes SPI ‖ Seq (‖ extra) at the scratch AAD slot and returns its length. RFC 4106 §5, RFC 4309 §5,
    /// RFC 7634 §2.1: with ESN the high half comes before the low half.
    @inline(__always)
    private func aeadAAD(_ aad: ESPAssociatedData) -> Int {
        aad.writeAEADHeader(to: scratch.advanced(by: Self.aadOffset))
    }

    /// Builds salt ‖ IV in the scratch nonce slot. The IV is the explicit one, or for RFC 8750 the 64-bit sequence
    /// number (ESN), or 32 zero bits ‖ the 32-bit sequence number.
    @inline(__always)
    private func nonce(_ aad: ESPAssociatedData, iv: UnsafeRawBufferPointer) throws(CryptoError) -> UnsafeRawPointer {
        let nonce = scratch.advanced(by: Self.nonceOffset)
        nonce.copyMemory(from: scratch.advanced(by: Self.saltOffset), byteCount: saltLength)
        if ivLength == 0 {
            let implicit = aad.extendedSequenceNumbers ? aad.sequenceNumber : UInt64(aad.sequenceLow)
            storeBigEndian(implicit, nonce, at: saltLength)
        } else {
            nonce.advanced(by: saltLength).copyMemory(from: iv.baseAddress!, byteCount: 8)
        }
        return UnsafeRawPointer(nonce)
    }

    /// RFC 4543 §3: a GCM tag over empty plaintext with AAD = SPI ‖ Seq ‖ IV ‖ payload ‖ extra, into the MAC slot.
    private func gmacTag(_ aad: ESPAssociatedData, iv: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer)
        throws(CryptoError)
    {
        let encryptor = encryptor!
        try encryptor.start(iv: nonce(aad, iv: iv))
        let base = scratch.advanced(by: Self.aadOffset)
        try encryptor.authenticate(base, count: aad.writeAEADHeader(to: base, withExtra: false))
        try encryptor.authenticate(iv.baseAddress!, count: iv.count)
        if let bytes = payload.baseAddress { try encryptor.authenticate(bytes, count: payload.count) }
        aad.extra.copy(to: base)
        try encryptor.authenticate(base, count: aad.extra.count)
        guard encryptor.finish() else { throw .backend("EVP_EncryptFinal_ex(GMAC)") }
        try encryptor.tag(into: scratch.advanced(by: Self.macOffset), count: 16)
    }
}
