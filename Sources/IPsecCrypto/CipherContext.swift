import COpenSSL

/// One keyed `EVP_CIPHER_CTX`, created once per SA and direction and reused for every packet: each packet only
/// installs a new IV (`EVP_*Init_ex2` with a NULL key keeps the key schedule).
///
/// Separate contexts serve encryption and decryption because AES-CBC's decryption key schedule differs from its
/// encryption schedule, and re-initialising with a NULL key would not rebuild it.
final class CipherContext {
    let ctx: OpaquePointer
    let encrypting: Bool
    /// For messages only (e.g. "aes128gcm16").
    let label: String

    /// - Parameters:
    ///   - name: the OpenSSL cipher name, e.g. "AES-128-GCM".
    ///   - aeadNonceLength: sets the AEAD nonce length before keying (CCM: 11 bytes, so L = 4 per RFC 4309 §4).
    ///   - ccmTagLength: CCM's tag length M, which must be fixed before keying.
    init(name: String, key: UnsafeRawBufferPointer, encrypting: Bool, label: String,
         aeadNonceLength: Int? = nil, ccmTagLength: Int? = nil) throws(CryptoError) {
        guard let ctx = EVP_CIPHER_CTX_new() else { throw .backend("EVP_CIPHER_CTX_new") }
        self.ctx = ctx
        self.encrypting = encrypting
        self.label = label
        guard let cipher = EVP_CIPHER_fetch(nil, name, nil) else { throw .backend("EVP_CIPHER_fetch(\(name))") }
        defer { EVP_CIPHER_free(cipher) }
        guard EVP_CIPHER_get_key_length(cipher) == Int32(key.count) else {
            throw .badKeyLength(label, have: key.count, need: Int(EVP_CIPHER_get_key_length(cipher)))
        }
        let enc: Int32 = encrypting ? 1 : 0
        guard EVP_CipherInit_ex2(ctx, cipher, nil, nil, enc, nil) == 1 else { throw .backend("EVP_CipherInit_ex2") }
        if let nonceLength = aeadNonceLength {
            guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, Int32(nonceLength), nil) == 1 else {
                throw .backend("EVP_CIPHER_CTX_ctrl(SET_IVLEN)")
            }
        }
        if let tagLength = ccmTagLength {
            guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, Int32(tagLength), nil) == 1 else {
                throw .backend("EVP_CIPHER_CTX_ctrl(SET_TAG)")
            }
        }
        guard EVP_CipherInit_ex2(ctx, nil, key.bytePointer, nil, enc, nil) == 1 else {
            throw .backend("EVP_CipherInit_ex2")
        }
        // ESP pads itself (RFC 4303 §2.4); the cipher must never add or strip PKCS#7 padding.
        guard EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 else { throw .backend("EVP_CIPHER_CTX_set_padding") }
    }

    deinit {
        // Frees the key schedule after cleansing it.
        EVP_CIPHER_CTX_free(ctx)
    }

    /// Installs a new IV (or nonce, or initial counter block), keeping the key.
    @inline(__always)
    func start(iv: UnsafeRawPointer) throws(CryptoError) {
        let ok = encrypting
            ? EVP_EncryptInit_ex2(ctx, nil, nil, iv.assumingMemoryBound(to: UInt8.self), nil)
            : EVP_DecryptInit_ex2(ctx, nil, nil, iv.assumingMemoryBound(to: UInt8.self), nil)
        guard ok == 1 else { throw .backend(encrypting ? "EVP_EncryptInit_ex2" : "EVP_DecryptInit_ex2") }
    }

    /// Processes `count` bytes from `input` to `output` (which may be the same buffer). Returns false, without
    /// throwing, when OpenSSL refuses: for CCM decryption that is how a wrong tag shows.
    @inline(__always)
    func update(_ output: UnsafeMutablePointer<UInt8>?, _ input: UnsafePointer<UInt8>?, count: Int) -> Bool {
        var written: Int32 = 0
        let ok = encrypting
            ? EVP_EncryptUpdate(ctx, output, &written, input, Int32(count))
            : EVP_DecryptUpdate(ctx, output, &written, input, Int32(count))
        return ok == 1 && (output == nil || written == Int32(count))
    }

    /// Feeds associated data (an AEAD update with no output).
    @inline(__always)
    func authenticate(_ data: UnsafeRawPointer, count: Int) throws(CryptoError) {
        guard count > 0 else { return }
        var written: Int32 = 0
        let input = data.assumingMemoryBound(to: UInt8.self)
        let ok = encrypting
            ? EVP_EncryptUpdate(ctx, nil, &written, input, Int32(count))
            : EVP_DecryptUpdate(ctx, nil, &written, input, Int32(count))
        guard ok == 1 else { throw .backend(encrypting ? "EVP_EncryptUpdate(AAD)" : "EVP_DecryptUpdate(AAD)") }
    }

    /// Announces the message length (CCM needs it before the associated data).
    @inline(__always)
    func announceLength(_ count: Int) throws(CryptoError) {
        var written: Int32 = 0
        let ok = encrypting
            ? EVP_EncryptUpdate(ctx, nil, &written, nil, Int32(count))
            : EVP_DecryptUpdate(ctx, nil, &written, nil, Int32(count))
        guard ok == 1 else { throw .backend("EVP_CipherUpdate(length)") }
    }

    /// Finishes the message. For AEAD decryption, false means the tag did not verify.
    @inline(__always)
    func finish() -> Bool {
        var written: Int32 = 0
        var sink: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)  // no cipher here writes on Final; room anyway
        return withUnsafeMutableBytes(of: &sink) { raw in
            let out = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            return (encrypting ? EVP_EncryptFinal_ex(ctx, out, &written) : EVP_DecryptFinal_ex(ctx, out, &written))
                == 1
        }
    }

    /// Reads the tag after an AEAD encryption.
    @inline(__always)
    func tag(into output: UnsafeMutableRawPointer, count: Int) throws(CryptoError) {
        guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, Int32(count), output) == 1 else {
            throw .backend("EVP_CIPHER_CTX_ctrl(GET_TAG)")
        }
    }

    /// Sets the expected tag before an AEAD decryption is finished (GCM, ChaCha20-Poly1305) or run (CCM).
    @inline(__always)
    func expectTag(_ tag: UnsafeRawPointer, count: Int) throws(CryptoError) {
        guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, Int32(count), UnsafeMutableRawPointer(mutating: tag))
            == 1
        else { throw .backend("EVP_CIPHER_CTX_ctrl(SET_TAG)") }
    }
}
