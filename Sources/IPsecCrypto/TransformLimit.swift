import COpenSSL

/// The bare cryptography of one ESP or AH transform, with nothing of IPsec around it: what a packet costs at the
/// least on this backend. `ipsec-lab bench` measures the data plane against it, in the same run, on buffers of the
/// same sizes, with the same keys.
///
/// Per packet, exactly what the transform itself asks of the library and no more:
/// - AES-GCM, AES-CCM, ChaCha20-Poly1305: set the nonce, feed the 8-byte associated data (SPI ‖ sequence), encrypt or
///   decrypt the payload, finish, read or check the tag (CCM announces the length first);
/// - ENCR_NULL_AUTH_AES_GMAC: set the nonce, feed 8 bytes ‖ IV ‖ payload as associated data, finish;
/// - composite transforms: the cipher over the payload with a fresh IV (if any) and the MAC over 8 bytes ‖ IV ‖
///   ciphertext (if any), on the same contexts the transforms use (HMAC from precomputed pads, see `MACContext`);
/// - AH: the MAC (or GMAC) over the whole packet.
///
/// Opening reads one buffer and writes another, so that the same ciphertext (and ICV) verifies every time. The nonce does not
/// change between packets: keys here are benchmark keys and nothing leaves the process.
///
/// One per transform and thread; not thread-safe.
public final class TransformLimit {
    /// The library measured ("openssl"). A second backend adds its own limit beside this one.
    public let backend = "openssl"
    /// Bytes of ICV the transform produces.
    public let icvLength: Int

    private enum Kind {
        case aead(ccm: Bool)
        case gmac
        case composite
    }

    private let kind: Kind
    private let encryptor: CipherContext?
    private let decryptor: CipherContext?
    private let mac: MACContext?
    private let ivLength: Int
    /// SPI ‖ sequence, authenticated by ESP transforms; AH's MAC covers the packet alone.
    private let headerLength: Int
    private let memory: UnsafeMutableRawPointer
    private static let nonceOffset = 0  // 16
    private static let headerOffset = 16  // 8: SPI ‖ sequence
    private static let ivOffset = 32  // 16
    private static let tagOffset = 48  // 64: the computed MAC
    private static let memoryLength = 112

    /// The limit of an ESP transform (keys laid out as for `ESPTransform`).
    public init(_ algorithm: ESPAlgorithm, encryptionKey: [UInt8], integrityKey: [UInt8]) throws(CryptoError) {
        let encryption = algorithm.encryption
        let label = algorithm.keyword
        icvLength = algorithm.icvLength
        ivLength = encryption.ivLength
        headerLength = 8
        guard encryptionKey.count == encryption.keyMaterialLength else {
            throw .badKeyLength(label, have: encryptionKey.count, need: encryption.keyMaterialLength)
        }
        let keyLength = encryption.keyLength
        var nonceLength: Int?
        var ccmTag: Int?
        let name: String?
        switch encryption {
        case .null:
            kind = .composite
            name = nil
        case .aesCBC(let bits):
            kind = .composite
            name = "AES-\(bits)-CBC"
        case .aesCTR(let bits):
            kind = .composite
            name = "AES-\(bits)-CTR"
        case .tripleDESCBC:
            kind = .composite
            name = "DES-EDE3-CBC"
        case .aesGCM(let bits, _), .aesGCMImplicitIV(let bits, _):
            kind = .aead(ccm: false)
            name = "AES-\(bits)-GCM"
        case .nullAuthAESGMAC(let bits):
            kind = .gmac
            name = "AES-\(bits)-GCM"
        case .aesCCM(let bits, _), .aesCCMImplicitIV(let bits, _):
            kind = .aead(ccm: true)
            name = "AES-\(bits)-CCM"
            nonceLength = 11
            ccmTag = encryption.icvLength
        case .chacha20Poly1305, .chacha20Poly1305ImplicitIV:
            kind = .aead(ccm: false)
            name = "ChaCha20-Poly1305"
        }
        let contexts: (CipherContext?, CipherContext?) = try withBytes(encryptionKey) { material throws(CryptoError) in
            guard let name else { return (nil, nil) }
            let key = UnsafeRawBufferPointer(rebasing: material[0..<keyLength])
            let enc = try CipherContext(name: name, key: key, encrypting: true, label: label,
                                        aeadNonceLength: nonceLength, ccmTagLength: ccmTag)
            let dec = try CipherContext(name: name, key: key, encrypting: false, label: label,
                                        aeadNonceLength: nonceLength, ccmTagLength: ccmTag)
            return (enc, dec)
        }
        (encryptor, decryptor) = contexts
        mac = algorithm.integrity == .none
            ? nil
            : try withBytes(integrityKey) { key throws(CryptoError) in
                try MACContext(algorithm.integrity, key: key, label: label)
            }
        memory = Self.allocateMemory()
    }

    /// The limit of an AH transform: the MAC (or GMAC) over the whole packet.
    public init(_ algorithm: AHAlgorithm, key: [UInt8]) throws(CryptoError) {
        let integrity = algorithm.integrity
        let label = "ah-" + algorithm.keyword
        icvLength = algorithm.icvLength
        ivLength = 0
        headerLength = 0
        guard key.count == integrity.keyMaterialLength else {
            throw .badKeyLength(label, have: key.count, need: integrity.keyMaterialLength)
        }
        if case .aesGMAC(let bits) = integrity {
            kind = .gmac
            let contexts: (CipherContext, CipherContext) = try withBytes(key) { material throws(CryptoError) in
                let k = UnsafeRawBufferPointer(rebasing: material[0..<bits / 8])
                return (try CipherContext(name: "AES-\(bits)-GCM", key: k, encrypting: true, label: label),
                        try CipherContext(name: "AES-\(bits)-GCM", key: k, encrypting: false, label: label))
            }
            (encryptor, decryptor) = contexts
            mac = nil
        } else {
            kind = .composite
            mac = try withBytes(key) { material throws(CryptoError) in
                try MACContext(integrity, key: material, label: label)
            }
            (encryptor, decryptor) = (nil, nil)
        }
        memory = Self.allocateMemory()
    }

    private static func allocateMemory() -> UnsafeMutableRawPointer {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: memoryLength, alignment: 16)
        memory.initializeMemory(as: UInt8.self, repeating: 0x5a, count: memoryLength)
        return memory
    }

    deinit {
        OPENSSL_cleanse(memory, Self.memoryLength)
        memory.deallocate()
    }

    /// One packet's cryptography, sealing `payload` in place (the ESP payload; for AH, the whole packet, which is only
    /// authenticated) and writing `icvLength` bytes of ICV to `icv`.
    public func seal(_ payload: UnsafeMutableRawBufferPointer, icv: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        guard icv.count == icvLength else { throw .bufferSize("limit", "ICV buffer of \(icv.count) bytes") }
        let expected = icv.baseAddress!
        let bytes = payload.bytePointer
        let count = payload.count
        switch kind {
        case .aead(let ccm):
            let e = encryptor!
            try e.start(iv: memory.advanced(by: Self.nonceOffset))
            if ccm { try e.announceLength(count) }
            try e.authenticate(memory.advanced(by: Self.headerOffset), count: 8)
            guard e.update(bytes, UnsafePointer(bytes), count: count), e.finish() else {
                throw .backend("EVP_EncryptUpdate")
            }
            try e.tag(into: expected, count: icvLength)
        case .gmac:
            let e = encryptor!
            try e.start(iv: memory.advanced(by: Self.nonceOffset))
            try e.authenticate(memory.advanced(by: Self.headerOffset), count: headerLength + ivLength)
            if count > 0 { try e.authenticate(payload.baseAddress!, count: count) }
            guard e.finish() else { throw .backend("EVP_EncryptFinal_ex") }
            try e.tag(into: expected, count: 16)
        case .composite:
            if let e = encryptor {
                try e.start(iv: memory.advanced(by: Self.ivOffset))
                guard e.update(bytes, UnsafePointer(bytes), count: count) else { throw .backend("EVP_EncryptUpdate") }
            }
            if let mac {
                try compositeMAC(mac, UnsafeRawBufferPointer(payload))
                expected.copyMemory(from: memory.advanced(by: Self.tagOffset), byteCount: icvLength)
            }
        }
    }

    /// One packet's cryptography the other way: verifies `input` against `icv` and decrypts it to `output` (of the
    /// same size). Returns whether it verified.
    public func open(_ input: UnsafeRawBufferPointer, icv: UnsafeRawBufferPointer,
                     into output: UnsafeMutableRawBufferPointer) throws(CryptoError) -> Bool {
        guard output.count >= input.count else { throw .bufferSize("limit", "output smaller than input") }
        guard icv.count == icvLength else { throw .bufferSize("limit", "ICV buffer of \(icv.count) bytes") }
        let source = input.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let target = output.bytePointer
        let count = input.count
        let expected = icv.baseAddress!
        switch kind {
        case .aead(let ccm):
            let d = decryptor!
            try d.start(iv: memory.advanced(by: Self.nonceOffset))
            if ccm {
                try d.expectTag(expected, count: icvLength)
                try d.announceLength(count)
                try d.authenticate(memory.advanced(by: Self.headerOffset), count: 8)
                return d.update(target, source, count: count)
            }
            try d.authenticate(memory.advanced(by: Self.headerOffset), count: 8)
            guard d.update(target, source, count: count) else { throw .backend("EVP_DecryptUpdate") }
            try d.expectTag(expected, count: icvLength)
            return d.finish()
        case .gmac:
            let d = decryptor!
            try d.start(iv: memory.advanced(by: Self.nonceOffset))
            try d.authenticate(memory.advanced(by: Self.headerOffset), count: headerLength + ivLength)
            if count > 0 { try d.authenticate(source, count: count) }
            try d.expectTag(expected, count: 16)
            return d.finish()
        case .composite:
            var verified = true
            if let mac {
                try compositeMAC(mac, input)
                verified = constantTimeEqual(UnsafeRawBufferPointer(start: memory.advanced(by: Self.tagOffset),
                                                                    count: icvLength),
                                             UnsafeRawBufferPointer(start: expected, count: icvLength))
            }
            if let d = decryptor {
                try d.start(iv: memory.advanced(by: Self.ivOffset))
                guard d.update(target, source, count: count) else { throw .backend("EVP_DecryptUpdate") }
            }
            return verified
        }
    }

    private func compositeMAC(_ mac: MACContext, _ data: UnsafeRawBufferPointer) throws(CryptoError) {
        try mac.begin()
        try mac.update(memory.advanced(by: Self.headerOffset), count: headerLength)
        if ivLength > 0 { try mac.update(memory.advanced(by: Self.ivOffset), count: ivLength) }
        try mac.update(data)
        try mac.finish(into: memory.advanced(by: Self.tagOffset))
    }
}
