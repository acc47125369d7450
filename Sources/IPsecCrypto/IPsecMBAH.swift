import CIPsecMB

/// AH on libipsec-mb: the key schedule of one AH SA (in the C shim) and the working memory of its ICV computations,
/// so that a warm transform allocates nothing per packet.
///
/// HMAC-MD5/SHA-1/SHA-2, AES-XCBC-MAC and AES-CMAC run as hash-only jobs of the job API, keyed as the shim's
/// NULL-cipher ESP context, one job at a time on a manager of the SSE code path (`ipseclab_mb_mac_one`: the
/// multi-buffer managers make a lone job pay for all their lanes). The library MACs contiguous bytes, and AH's input
/// is scattered — the caller's prefix (the IP header with mutable fields zeroed, usually a copy), the ICV field as
/// zeros, the payload in the packet, then RFC 4302 §3.3.3.1's ESN high bits, which are not sent — so the input is laid
/// out in `message`, which grows to the largest packet seen and is then reused.
/// AUTH_AES_GMAC runs on the direct GMAC API, whose updates take the pieces where they lie: no copy.
///
/// HMAC-SHA-256-96 asks the library for HMAC-SHA-256-128 and keeps the first 12 bytes, as the ESP path does.
final class IPsecMBAH {
    private let context: OpaquePointer
    private let isGMAC: Bool
    private let icvLength: Int
    /// prefix ‖ 0^icvLength ‖ suffix ‖ [ESN high], rebuilt for every packet (MACs other than GMAC).
    private var message: UnsafeMutableRawPointer
    private var capacity: Int
    /// GMAC's five pieces: prefix, IV, the zeroed tag position, suffix, ESN high.
    private let parts: UnsafeMutablePointer<UnsafePointer<UInt8>?>
    private let lengths: UnsafeMutablePointer<UInt64>
    /// tag 64 ‖ nonce 16 (salt ‖ IV) ‖ 16 zeros ‖ ESN high 4 ‖ salt 4; cleansed in `deinit`.
    private let scratch: UnsafeMutableRawPointer
    private static let tagOffset = 0
    private static let nonceOffset = 64
    private static let zerosOffset = 80
    private static let highOffset = 96
    private static let saltOffset = 112
    private static let scratchLength = 128
    /// Room for a 1500-byte packet from the start; larger packets grow the buffer once.
    private static let initialCapacity = 2048

    /// The computed MAC (or GMAC tag), at least `icvLength` bytes (GMAC: the 16-byte tag).
    var tag: UnsafeRawPointer { UnsafeRawPointer(scratch.advanced(by: Self.tagOffset)) }

    /// Nil when the library is unavailable or refuses the key; `key` has been length-checked by `AHTransform`.
    init?(_ algorithm: AHAlgorithm, key: [UInt8]) {
        guard IPsecMB.isAvailable else { return nil }
        let integrity = algorithm.integrity
        var error: UnsafePointer<CChar>? = nil
        let made: OpaquePointer?
        if case .aesGMAC(let bits) = integrity {
            isGMAC = true
            made = key.withUnsafeBufferPointer { material in
                ipseclab_mb_esp_new(Int32(IPSECLAB_MB_CIPHER_GMAC), material.baseAddress, bits / 8,
                                    Int32(IPSECLAB_MB_MAC_NONE), nil, 0, 16, &error)
            }
        } else {
            // The ESP mapping of the same MAC with NULL encryption: one table of what the library runs.
            guard let esp = try? ESPAlgorithm(encryption: .null, integrity: integrity),
                  let parameters = IPsecMBESP.parameters(esp)
            else { return nil }
            isGMAC = false
            made = key.withUnsafeBufferPointer { material in
                ipseclab_mb_esp_new(parameters.cipher, nil, 0, parameters.mac, material.baseAddress, material.count,
                                    parameters.tagLength, &error)
            }
        }
        guard let made else { return nil }
        context = made
        icvLength = algorithm.icvLength
        capacity = isGMAC ? 0 : Self.initialCapacity
        message = .allocate(byteCount: max(capacity, 1), alignment: 64)
        parts = .allocate(capacity: 5)
        parts.initialize(repeating: nil, count: 5)
        lengths = .allocate(capacity: 5)
        lengths.initialize(repeating: 0, count: 5)
        scratch = .allocate(byteCount: Self.scratchLength, alignment: 64)
        scratch.initializeMemory(as: UInt8.self, repeating: 0, count: Self.scratchLength)
        if isGMAC {
            key.withUnsafeBytes { material in
                scratch.advanced(by: Self.saltOffset).copyMemory(
                    from: material.baseAddress!.advanced(by: integrity.keyLength), byteCount: 4)
            }
        }
    }

    deinit {
        ipseclab_mb_esp_free(context)
        scratch.initializeMemory(as: UInt8.self, repeating: 0, count: Self.scratchLength)
        withExtendedLifetime(scratch) {}
        scratch.deallocate()
        message.deallocate()
        parts.deallocate()
        lengths.deallocate()
    }

    /// HMAC, XCBC or CMAC of prefix ‖ 0^icvLength ‖ suffix ‖ [ESN high] into `tag`; false when the job failed.
    func mac(prefix: UnsafeRawBufferPointer, suffix: UnsafeRawBufferPointer, sequenceNumber: UInt64,
             extendedSequenceNumbers: Bool) -> Bool {
        let total = prefix.count + icvLength + suffix.count + (extendedSequenceNumbers ? 4 : 0)
        if total > capacity { grow(to: total) }
        let m = message
        if let bytes = prefix.baseAddress, prefix.count > 0 { m.copyMemory(from: bytes, byteCount: prefix.count) }
        var at = prefix.count
        m.advanced(by: at).initializeMemory(as: UInt8.self, repeating: 0, count: icvLength)
        at += icvLength
        if let bytes = suffix.baseAddress, suffix.count > 0 {
            m.advanced(by: at).copyMemory(from: bytes, byteCount: suffix.count)
        }
        at += suffix.count
        if extendedSequenceNumbers {
            storeBigEndian(UInt32(truncatingIfNeeded: sequenceNumber >> 32), m, at: at)
            at += 4
        }
        return ipseclab_mb_mac_one(context, m.assumingMemoryBound(to: UInt8.self), UInt64(at),
                                   scratch.advanced(by: Self.tagOffset).assumingMemoryBound(to: UInt8.self)) == 1
    }

    /// RFC 4543 §4 as `AHTransform` reads it: the GMAC tag with nonce salt ‖ IV over
    /// prefix ‖ IV ‖ 0^16 ‖ suffix ‖ [ESN high] into `tag`; false when the library refused.
    func gmac(prefix: UnsafeRawBufferPointer, iv: UnsafeRawPointer, suffix: UnsafeRawBufferPointer,
              sequenceNumber: UInt64, extendedSequenceNumbers: Bool) -> Bool {
        let nonce = scratch.advanced(by: Self.nonceOffset)
        nonce.copyMemory(from: scratch.advanced(by: Self.saltOffset), byteCount: 4)
        nonce.advanced(by: 4).copyMemory(from: iv, byteCount: 8)
        let high = scratch.advanced(by: Self.highOffset)
        storeBigEndian(UInt32(truncatingIfNeeded: sequenceNumber >> 32), high, at: 0)
        let zeros = UnsafePointer(scratch.advanced(by: Self.zerosOffset).assumingMemoryBound(to: UInt8.self))
        parts[0] = prefix.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) } ?? zeros
        lengths[0] = UInt64(prefix.count)
        parts[1] = iv.assumingMemoryBound(to: UInt8.self)
        lengths[1] = 8
        parts[2] = zeros
        lengths[2] = 16
        parts[3] = suffix.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) } ?? zeros
        lengths[3] = UInt64(suffix.count)
        parts[4] = UnsafePointer(high.assumingMemoryBound(to: UInt8.self))
        lengths[4] = extendedSequenceNumbers ? 4 : 0
        return ipseclab_mb_gmac(context, UnsafePointer(nonce.assumingMemoryBound(to: UInt8.self)),
                                UnsafePointer(parts), UnsafePointer(lengths), 5,
                                scratch.advanced(by: Self.tagOffset).assumingMemoryBound(to: UInt8.self)) == 1
    }

    /// A larger `message`: the old one's bytes are not needed (each packet rewrites it whole).
    private func grow(to total: Int) {
        let next = max(total, 2 * capacity)
        message.deallocate()
        message = .allocate(byteCount: next, alignment: 64)
        capacity = next
    }
}
