import COpenSSL

/// A keyed MAC for composite ESP and for AH, created once per SA and reused for every packet.
///
/// HMAC and CMAC run on OpenSSL's `EVP_MAC` (re-armed per packet by `EVP_MAC_init` with a NULL key, which keeps the
/// key). OpenSSL 3.0 has no AES-XCBC `EVP_MAC`, so RFC 3566 is built here on an AES-128-CBC context.
final class MACContext {
    private enum Engine {
        case evp(OpaquePointer)
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
            let digest: String
            switch algorithm {
            case .hmacMD5_96: (digest, outputLength) = ("MD5", 16)
            case .hmacSHA1_96: (digest, outputLength) = ("SHA1", 20)
            case .hmacSHA256_128, .hmacSHA256_96: (digest, outputLength) = ("SHA2-256", 32)
            case .hmacSHA384_192: (digest, outputLength) = ("SHA2-384", 48)
            default: (digest, outputLength) = ("SHA2-512", 64)
            }
            engine = .evp(try Self.evpMAC("HMAC", parameter: "digest", value: digest, key: key))
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
