import COpenSSL

/// A keyed MAC for composite ESP and for AH, created once per SA and reused for every packet.
///
/// HMAC runs on OpenSSL's digests from precomputed pads (`HMACPads`), CMAC on OpenSSL's `EVP_MAC` (re-armed per
/// packet by `EVP_MAC_init` with a NULL key, which keeps the key). OpenSSL 3.0 has no AES-XCBC `EVP_MAC`, so RFC 3566
/// is built here on an AES-128-CBC context. None of them allocates per message.
final class MACContext {
    private enum Engine {
        case evp(OpaquePointer)
        case hmac(HMACPads)
        case xcbc(XCBCMAC)
    }

    private let engine: Engine
    /// Length of the untruncated output.
    let outputLength: Int
    /// For messages only.
    let label: String

    init(_ algorithm: IntegrityAlgorithm, key: UnsafeRawBufferPointer, label: String) throws(CryptoError) {
        self.label = label
        switch algorithm {
        case .hmacMD5_96, .hmacSHA1_96, .hmacSHA256_128, .hmacSHA256_96, .hmacSHA384_192, .hmacSHA512_256:
            let digest: HMACPads.Digest
            switch algorithm {
            case .hmacMD5_96: digest = .md5
            case .hmacSHA1_96: digest = .sha1
            case .hmacSHA256_128, .hmacSHA256_96: digest = .sha256
            case .hmacSHA384_192: digest = .sha384
            default: digest = .sha512
            }
            outputLength = digest.outputLength
            engine = .hmac(HMACPads(digest, key: key))
        case .aesCMAC96:
            outputLength = 16
            engine = .evp(try Self.evpMAC("CMAC", parameter: "cipher", value: "AES-128-CBC", key: key))
        case .aesXCBC96:
            outputLength = 16
            engine = .xcbc(try XCBCMAC(key: key, label: label))
        case .none, .aesGMAC:
            // GMAC is an AEAD tag, computed by the transforms on a GCM cipher context.
            throw .unknownAlgorithm(label, "\(algorithm) is not a MAC over a byte string")
        }
    }

    deinit {
        if case .evp(let ctx) = engine { EVP_MAC_CTX_free(ctx) }
    }

    /// An EVP_MAC context keyed once. OSSL_PARAM records keep pointers to their strings, so the parameter array only
    /// lives inside the `withCString` closures.
    private static func evpMAC(_ name: String, parameter: String, value: String, key: UnsafeRawBufferPointer)
        throws(CryptoError) -> OpaquePointer
    {
        guard let mac = EVP_MAC_fetch(nil, name, nil) else { throw .backend("EVP_MAC_fetch(\(name))") }
        defer { EVP_MAC_free(mac) }
        guard let ctx = EVP_MAC_CTX_new(mac) else { throw .backend("EVP_MAC_CTX_new") }
        let ok: Int32 = parameter.withCString { parameterName in
            value.withCString { valueName in
                var params = (
                    OSSL_PARAM_construct_utf8_string(parameterName, UnsafeMutablePointer(mutating: valueName), 0),
                    OSSL_PARAM_construct_end()
                )
                return withUnsafeMutablePointer(to: &params) { pair in
                    pair.withMemoryRebound(to: OSSL_PARAM.self, capacity: 2) { list in
                        EVP_MAC_init(ctx, key.bytePointer, key.count, list)
                    }
                }
            }
        }
        guard ok == 1 else {
            EVP_MAC_CTX_free(ctx)
            throw .backend("EVP_MAC_init(\(name))")
        }
        return ctx
    }

    /// Starts a new message with the same key.
    @inline(__always)
    func begin() throws(CryptoError) {
        switch engine {
        case .evp(let ctx):
            guard EVP_MAC_init(ctx, nil, 0, nil) == 1 else { throw .backend("EVP_MAC_init") }
        case .hmac(let pads):
            pads.begin()
        case .xcbc(let xcbc):
            try xcbc.begin()
        }
    }

    @inline(__always)
    func update(_ data: UnsafeRawPointer, count: Int) throws(CryptoError) {
        guard count > 0 else { return }
        switch engine {
        case .evp(let ctx):
            guard EVP_MAC_update(ctx, data.assumingMemoryBound(to: UInt8.self), count) == 1 else {
                throw .backend("EVP_MAC_update")
            }
        case .hmac(let pads):
            pads.update(data, count: count)
        case .xcbc(let xcbc):
            try xcbc.update(data, count: count)
        }
    }

    @inline(__always)
    func update(_ data: UnsafeRawBufferPointer) throws(CryptoError) {
        guard let base = data.baseAddress else { return }
        try update(base, count: data.count)
    }

    /// Writes the untruncated MAC (`outputLength` bytes) to `output`.
    @inline(__always)
    func finish(into output: UnsafeMutableRawPointer) throws(CryptoError) {
        switch engine {
        case .evp(let ctx):
            var written = 0
            guard EVP_MAC_final(ctx, output.assumingMemoryBound(to: UInt8.self), &written, outputLength) == 1,
                  written == outputLength
            else { throw .backend("EVP_MAC_final") }
        case .hmac(let pads):
            pads.finish(into: output)
        case .xcbc(let xcbc):
            try xcbc.finish(into: output)
        }
    }
}

/// AES-XCBC-MAC (RFC 3566 §4) on an AES-128-CBC context keyed with K1.
///
/// K1 = E(K, 0x01…), K2 = E(K, 0x02…), K3 = E(K, 0x03…) are derived once. CBC chaining supplies the XOR with the
/// previous block; the last block is XORed with K2 (complete) or padded 10* and XORed with K3 (incomplete or empty)
/// before it enters the chain. Every block but the last is processed as soon as more input shows it is not last.
final class XCBCMAC {
    private let cbc: CipherContext
    /// K2 at 0, K3 at 16, the pending block at 32, a zero IV at 48, then the CBC output sink.
    private let memory: UnsafeMutableRawPointer
    private static let sinkOffset = 64
    private static let sinkLength = 512
    private static let memoryLength = sinkOffset + sinkLength
    private var pending = 0

    init(key: UnsafeRawBufferPointer, label: String) throws(CryptoError) {
        guard key.count == 16 else { throw .badKeyLength(label, have: key.count, need: 16) }
        memory = UnsafeMutableRawPointer.allocate(byteCount: Self.memoryLength, alignment: 16)
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: Self.memoryLength)
        do throws(CryptoError) {
            // Derive K1 ‖ K2 ‖ K3 with one ECB pass over the three constant blocks.
            let ecb = try CipherContext(name: "AES-128-ECB", key: key, encrypting: true, label: label)
            let derived = memory.advanced(by: Self.sinkOffset)
            for i in 0..<3 {
                derived.advanced(by: 16 * i).initializeMemory(as: UInt8.self, repeating: UInt8(i + 1), count: 16)
            }
            try ecb.start(iv: memory)  // ECB ignores the IV; the call only resets the context
            let out = derived.advanced(by: 48).assumingMemoryBound(to: UInt8.self)
            guard ecb.update(out, UnsafePointer(derived.assumingMemoryBound(to: UInt8.self)), count: 48) else {
                throw .backend("EVP_EncryptUpdate(XCBC keys)")
            }
            memory.copyMemory(from: derived.advanced(by: 64), byteCount: 32)  // K2, K3
            cbc = try CipherContext(name: "AES-128-CBC", key: UnsafeRawBufferPointer(start: derived.advanced(by: 48),
                                                                                      count: 16),
                                    encrypting: true, label: label)
            OPENSSL_cleanse(derived, 96)
        } catch {
            OPENSSL_cleanse(memory, Self.memoryLength)
            memory.deallocate()
            throw error
        }
    }

    deinit {
        OPENSSL_cleanse(memory, Self.memoryLength)
        memory.deallocate()
    }

    func begin() throws(CryptoError) {
        pending = 0
        try cbc.start(iv: memory.advanced(by: 48))
    }

    /// Chains `count` bytes (a multiple of 16) through CBC, discarding the output except the running state.
    private func chain(_ input: UnsafeRawPointer, count: Int) throws(CryptoError) {
        var offset = 0
        let sink = memory.advanced(by: Self.sinkOffset).assumingMemoryBound(to: UInt8.self)
        while offset < count {
            let n = min(Self.sinkLength, count - offset)
            guard cbc.update(sink, input.advanced(by: offset).assumingMemoryBound(to: UInt8.self), count: n) else {
                throw .backend("EVP_EncryptUpdate(XCBC)")
            }
            offset += n
        }
    }

    func update(_ data: UnsafeRawPointer, count: Int) throws(CryptoError) {
        let block = memory.advanced(by: 32)
        var input = data
        var remaining = count
        while remaining > 0 {
            if pending == 16 {
                // More input follows, so the pending block is not the last one.
                try chain(block, count: 16)
                pending = 0
            }
            if pending == 0 && remaining > 16 {
                // Everything but the final 1...16 bytes, straight from the input.
                let bulk = (remaining - 1) / 16 * 16
                try chain(input, count: bulk)
                input += bulk
                remaining -= bulk
            }
            let take = min(16 - pending, remaining)
            block.advanced(by: pending).copyMemory(from: input, byteCount: take)
            pending += take
            input += take
            remaining -= take
        }
    }

    /// Writes the full 16-byte MAC.
    func finish(into output: UnsafeMutableRawPointer) throws(CryptoError) {
        let block = memory.advanced(by: 32).assumingMemoryBound(to: UInt8.self)
        let subkey: UnsafeMutablePointer<UInt8>
        if pending == 16 {
            subkey = memory.assumingMemoryBound(to: UInt8.self)  // K2
        } else {
            block[pending] = 0x80
            for i in (pending + 1)..<16 { block[i] = 0 }
            subkey = memory.advanced(by: 16).assumingMemoryBound(to: UInt8.self)  // K3
        }
        for i in 0..<16 { block[i] ^= subkey[i] }
        guard cbc.update(output.assumingMemoryBound(to: UInt8.self), UnsafePointer(block), count: 16) else {
            throw .backend("EVP_EncryptUpdate(XCBC)")
        }
        pending = 0
    }
}

/// HMAC (RFC 2104) from precomputed pads: the digest states after H(K ⊕ ipad) and H(K ⊕ opad) are computed once per
/// key and copied (plain structs, no heap) at the start of every message, on OpenSSL's own digest implementations.
/// This is the textbook way to run HMAC per packet and what `EVP_MAC` does internally, minus the provider context
/// OpenSSL 3.0 duplicates on the heap at every re-initialisation.
final class HMACPads {
    enum Digest {
        case md5, sha1, sha256, sha384, sha512

        var outputLength: Int {
            switch self {
            case .md5: 16
            case .sha1: 20
            case .sha256: 32
            case .sha384: 48
            case .sha512: 64
            }
        }

        var blockLength: Int {
            switch self {
            case .md5, .sha1, .sha256: 64
            case .sha384, .sha512: 128
            }
        }

        var contextLength: Int {
            switch self {
            case .md5: MemoryLayout<MD5_CTX>.stride
            case .sha1: MemoryLayout<SHA_CTX>.stride
            case .sha256: MemoryLayout<SHA256_CTX>.stride
            case .sha384, .sha512: MemoryLayout<SHA512_CTX>.stride
            }
        }
    }

    private let digest: Digest
    private let stride: Int
    /// The inner-pad state, the outer-pad state, the working state, then the inner hash: key-derived, cleansed in
    /// `deinit`.
    private let memory: UnsafeMutableRawPointer
    private let length: Int

    init(_ digest: Digest, key: UnsafeRawBufferPointer) {
        self.digest = digest
        stride = (digest.contextLength + 15) & ~15
        length = 3 * stride + 64 + 2 * digest.blockLength
        memory = UnsafeMutableRawPointer.allocate(byteCount: length, alignment: 16)
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: length)
        // K0 (RFC 2104 §2): the key, hashed first if longer than a block, zero-padded to a block.
        let block = digest.blockLength
        let k0 = memory.advanced(by: 3 * stride + 64)
        let pad = k0.advanced(by: block)
        if key.count > block {
            begin(at: 2 * stride)
            if let base = key.baseAddress { update(at: 2 * stride, base, count: key.count) }
            final(at: 2 * stride, into: k0)
        } else if let base = key.baseAddress {
            k0.copyMemory(from: base, byteCount: key.count)
        }
        for (state, byte) in [(0, UInt8(0x36)), (stride, UInt8(0x5c))] {
            for i in 0..<block {
                pad.storeBytes(of: k0.load(fromByteOffset: i, as: UInt8.self) ^ byte, toByteOffset: i, as: UInt8.self)
            }
            begin(at: state)
            update(at: state, pad, count: block)
        }
        OPENSSL_cleanse(k0, 2 * block)
    }

    deinit {
        OPENSSL_cleanse(memory, length)
        memory.deallocate()
    }

    /// Starts a message: the working state becomes the inner-pad state.
    @inline(__always)
    func begin() {
        memory.advanced(by: 2 * stride).copyMemory(from: memory, byteCount: stride)
    }

    @inline(__always)
    func update(_ data: UnsafeRawPointer, count: Int) {
        update(at: 2 * stride, data, count: count)
    }

    /// Writes the full MAC (`outputLength` bytes): H(K ⊕ opad ‖ H(K ⊕ ipad ‖ message)).
    @inline(__always)
    func finish(into output: UnsafeMutableRawPointer) {
        let inner = memory.advanced(by: 3 * stride)
        final(at: 2 * stride, into: inner)
        memory.advanced(by: 2 * stride).copyMemory(from: memory.advanced(by: stride), byteCount: stride)
        update(at: 2 * stride, inner, count: digest.outputLength)
        final(at: 2 * stride, into: output)
    }

    // The digest behind each state slot. Return codes are always 1 for these functions on valid contexts.

    @inline(__always)
    private func begin(at offset: Int) {
        let p = memory.advanced(by: offset)
        switch digest {
        case .md5: _ = MD5_Init(p.assumingMemoryBound(to: MD5_CTX.self))
        case .sha1: _ = SHA1_Init(p.assumingMemoryBound(to: SHA_CTX.self))
        case .sha256: _ = SHA256_Init(p.assumingMemoryBound(to: SHA256_CTX.self))
        case .sha384: _ = SHA384_Init(p.assumingMemoryBound(to: SHA512_CTX.self))
        case .sha512: _ = SHA512_Init(p.assumingMemoryBound(to: SHA512_CTX.self))
        }
    }

    @inline(__always)
    private func update(at offset: Int, _ data: UnsafeRawPointer, count: Int) {
        let p = memory.advanced(by: offset)
        switch digest {
        case .md5: _ = MD5_Update(p.assumingMemoryBound(to: MD5_CTX.self), data, count)
        case .sha1: _ = SHA1_Update(p.assumingMemoryBound(to: SHA_CTX.self), data, count)
        case .sha256: _ = SHA256_Update(p.assumingMemoryBound(to: SHA256_CTX.self), data, count)
        case .sha384: _ = SHA384_Update(p.assumingMemoryBound(to: SHA512_CTX.self), data, count)
        case .sha512: _ = SHA512_Update(p.assumingMemoryBound(to: SHA512_CTX.self), data, count)
        }
    }

    @inline(__always)
    private func final(at offset: Int, into output: UnsafeMutableRawPointer) {
        let p = memory.advanced(by: offset)
        let out = output.assumingMemoryBound(to: UInt8.self)
        switch digest {
        case .md5: _ = MD5_Final(out, p.assumingMemoryBound(to: MD5_CTX.self))
        case .sha1: _ = SHA1_Final(out, p.assumingMemoryBound(to: SHA_CTX.self))
        case .sha256: _ = SHA256_Final(out, p.assumingMemoryBound(to: SHA256_CTX.self))
        case .sha384: _ = SHA384_Final(out, p.assumingMemoryBound(to: SHA512_CTX.self))
        case .sha512: _ = SHA512_Final(out, p.assumingMemoryBound(to: SHA512_CTX.self))
        }
    }
}
