import CIPsecMB

/// The bare cryptography of one ESP transform on libipsec-mb, nothing of IPsec around it: the second limit beside
/// OpenSSL's (`TransformLimit`) in `ipsec-lab bench`. It works on its own buffers (`count` of `length` bytes), as a
/// burst: AES-GCM through the direct API one buffer after the other, the other transforms through the job API with
/// `count` jobs in flight, which is how the library reaches its multi-buffer speed. Opening decrypts and computes the
/// tag (composite: MAC then decrypt in one job) but compares nothing. Keys and nonces are benchmark values.
///
/// One per transform and thread; not thread-safe.
public final class IPsecMBLimit {
    public let backend = CryptoImplementation.ipsecMB.rawValue
    public let count: Int
    public let length: Int

    private let context: OpaquePointer
    private let buffers: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>
    private let memory: UnsafeMutableRawPointer
    private let tags: UnsafeMutablePointer<UInt8>
    /// ENCR_NULL_AUTH_AES_GMAC runs on the direct GMAC API, as `IPsecMBESP` runs it: `ipseclab_mb_raw` fills no GMAC
    /// jobs, so every one of them failed.
    private let gmac: Bool

    /// Nil when libipsec-mb is unavailable or lacks the algorithm. `length` is the ESP payload's (a whole number of
    /// cipher blocks for CBC).
    public init?(_ algorithm: ESPAlgorithm, encryptionKey: [UInt8], integrityKey: [UInt8], length: Int, count: Int = 32) {
        guard IPsecMB.isAvailable, let parameters = IPsecMBESP.parameters(algorithm), count > 0, length >= 0 else {
            return nil
        }
        var error: UnsafePointer<CChar>? = nil
        let made: OpaquePointer? = encryptionKey.withUnsafeBufferPointer { key in
            integrityKey.withUnsafeBufferPointer { macKey in
                ipseclab_mb_esp_new(parameters.cipher, key.baseAddress, algorithm.encryption.keyLength, parameters.mac,
                                    macKey.baseAddress, macKey.count, parameters.tagLength, &error)
            }
        }
        guard let made else { return nil }
        context = made
        gmac = parameters.cipher == IPSECLAB_MB_CIPHER_GMAC
        self.count = count
        self.length = length
        let stride = (max(length, 1) + 63) / 64 * 64
        memory = .allocate(byteCount: stride * count, alignment: 64)
        memory.initializeMemory(as: UInt8.self, repeating: 0x5a, count: stride * count)
        buffers = .allocate(capacity: count)
        for i in 0..<count { buffers[i] = (memory + i * stride).assumingMemoryBound(to: UInt8.self) }
        tags = .allocate(capacity: 64 * count)
        tags.initialize(repeating: 0, count: 64 * count)
    }

    deinit {
        ipseclab_mb_esp_free(context)
        memory.deallocate()
        buffers.deallocate()
        tags.deallocate()
    }

    /// Seals (or opens) every buffer `rounds` times; false if the library refused a job.
    @discardableResult
    public func run(opening: Bool, rounds: Int) -> Bool {
        if gmac { return runGMAC(rounds: rounds) }
        return ipseclab_mb_raw(context, opening ? 1 : 0, buffers, count, UInt64(length), UInt64(rounds), tags) == 0
    }

    /// GMAC over 8 bytes of SPI ‖ sequence, the 8-byte IV and the buffer, as the ESP path feeds it (RFC 4543 §3),
    /// one buffer after the other; sealing and opening compute the same tag.
    private func runGMAC(rounds: Int) -> Bool {
        // SPI ‖ sequence (8), IV (8), nonce (salt ‖ IV, 12): benchmark values.
        let header: (UInt64, UInt64, UInt64, UInt64) = (0x0100_0000_0110_0000, 0x0807_0605_0403_0201,
                                                        0x0807_0605_0403_0201, 0x0c0b_0a09)
        return withUnsafeBytes(of: header) { bytes in
            let base = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var ok = true
            for _ in 0..<rounds {
                for i in 0..<count {
                    let parts: (UnsafePointer<UInt8>?, UnsafePointer<UInt8>?, UnsafePointer<UInt8>?) =
                        (base, base + 8, UnsafePointer(buffers[i]))
                    let lengths: (UInt64, UInt64, UInt64) = (8, 8, UInt64(length))
                    let done = withUnsafeBytes(of: parts) { p in
                        withUnsafeBytes(of: lengths) { l in
                            ipseclab_mb_gmac(context, base + 20, p.assumingMemoryBound(to: UnsafePointer<UInt8>?.self)
                                .baseAddress, l.assumingMemoryBound(to: UInt64.self).baseAddress, 3, tags + 64 * i)
                        }
                    }
                    ok = ok && done == 1
                }
            }
            return ok
        }
    }
}
