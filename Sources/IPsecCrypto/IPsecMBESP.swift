import CIPsecMB

/// ESP on libipsec-mb: the key schedules of one SA (in the C shim) and per-transform working memory, so that a
/// burst allocates nothing.
///
/// AES-GCM runs on the library's direct API (one call per packet: the VAES code is single-buffer); AES-CCM,
/// ChaCha20-Poly1305 and the composite transforms run on the job API (get next job, submit, flush), a burst at a
/// time; GMAC on the direct GMAC API, whose updates take the scattered associated data piece by piece.
///
/// The composite transforms MAC the wire bytes SPI ‖ Seq ‖ IV ‖ ciphertext in place (RFC 4303 §3.3.2.1); what is
/// authenticated but not sent (the ESN high bits, the compressed tunnel's elided bytes) is put in the ICV slot for
/// the MAC's duration, the way Linux does it, so the region stays contiguous. Opening verifies before decrypting:
/// MAC jobs first, cipher jobs only for the packets that verified.
final class IPsecMBESP {
    struct Parameters {
        var cipher: Int32
        var mac: Int32
        /// Bytes of tag or MAC asked from the library (at least the ICV).
        var tagLength: Int
    }

    /// How libipsec-mb runs `algorithm`, or nil when it does not (AES-192-CCM; HMAC-SHA-256-96 is computed as
    /// HMAC-SHA-256-128 and truncated).
    static func parameters(_ algorithm: ESPAlgorithm) -> Parameters? {
        let cipher: Int32
        switch algorithm.encryption {
        case .null: cipher = Int32(IPSECLAB_MB_CIPHER_NULL)
        case .aesCBC: cipher = Int32(IPSECLAB_MB_CIPHER_CBC)
        case .aesCTR: cipher = Int32(IPSECLAB_MB_CIPHER_CTR)
        case .tripleDESCBC: cipher = Int32(IPSECLAB_MB_CIPHER_3DES)
        case .aesGCM, .aesGCMImplicitIV: cipher = Int32(IPSECLAB_MB_CIPHER_GCM)
        case .aesCCM(let bits, _), .aesCCMImplicitIV(let bits, _):
            guard bits != 192 else { return nil }
            cipher = Int32(IPSECLAB_MB_CIPHER_CCM)
        case .chacha20Poly1305, .chacha20Poly1305ImplicitIV: cipher = Int32(IPSECLAB_MB_CIPHER_CHACHA20_POLY1305)
        case .nullAuthAESGMAC: cipher = Int32(IPSECLAB_MB_CIPHER_GMAC)
        }
        let mac: Int32
        var tagLength = algorithm.icvLength
        switch algorithm.integrity {
        case .none: mac = Int32(IPSECLAB_MB_MAC_NONE)
        case .hmacMD5_96: mac = Int32(IPSECLAB_MB_MAC_HMAC_MD5)
        case .hmacSHA1_96: mac = Int32(IPSECLAB_MB_MAC_HMAC_SHA1)
        case .hmacSHA256_128: mac = Int32(IPSECLAB_MB_MAC_HMAC_SHA256)
        case .hmacSHA256_96:
            mac = Int32(IPSECLAB_MB_MAC_HMAC_SHA256)
            tagLength = 16
        case .hmacSHA384_192: mac = Int32(IPSECLAB_MB_MAC_HMAC_SHA384)
        case .hmacSHA512_256: mac = Int32(IPSECLAB_MB_MAC_HMAC_SHA512)
        case .aesXCBC96: mac = Int32(IPSECLAB_MB_MAC_AES_XCBC)
        case .aesCMAC96: mac = Int32(IPSECLAB_MB_MAC_AES_CMAC)
        case .aesGMAC: return nil
        }
        return Parameters(cipher: cipher, mac: mac, tagLength: tagLength)
    }

    private enum Mode { case composite, gcm, ccm, chacha, gmac }

    /// Jobs per submission; longer bursts are processed in chunks.
    static let chunk = 64
    /// libipsec-mb's AES-CCM takes at most 46 bytes of associated data.
    private static let ccmAADLimit = 46
    private static let slotLength = 256  // per job: nonce 16 ‖ AAD 80 ‖ tag 64 ‖ saved ICV 64 ‖ spare
    private static let nonceSlot = 0
    private static let aadSlot = 16
    private static let tagSlot = 96
    private static let savedSlot = 160

    private let context: OpaquePointer
    private let mode: Mode
    private let ivLength: Int
    private let icvLength: Int
    private let saltLength: Int
    private let cipherBlock: Int
    private let isCTR: Bool
    /// Composite SAs with an integrity algorithm: only they authenticate anything, so only they append the ESN high
    /// bits and elided bytes to the MAC input (ESP without integrity has no MAC input to extend).
    private let hasMAC: Bool
    private let jobs: UnsafeMutablePointer<ipseclab_mb_job>
    /// Per job slots, and the salt at the end; cleansed in `deinit`.
    private let memory: UnsafeMutableRawPointer
    private let memoryLength: Int
    private let saltOffset: Int
    /// For each job of a chunk: the burst index it serves, or -1.
    private let owners: UnsafeMutablePointer<Int>
    private let needsReference: UnsafeMutablePointer<Bool>

    /// Nil when the library lacks the algorithm or refuses the key.
    init?(_ algorithm: ESPAlgorithm, encryptionKey: [UInt8], integrityKey: [UInt8]) {
        guard let parameters = Self.parameters(algorithm) else { return nil }
        let encryption = algorithm.encryption
        let keyLength = encryption.keyLength
        var error: UnsafePointer<CChar>? = nil
        let made: OpaquePointer? = encryptionKey.withUnsafeBufferPointer { key in
            integrityKey.withUnsafeBufferPointer { macKey in
                ipseclab_mb_esp_new(parameters.cipher, key.baseAddress, keyLength, parameters.mac, macKey.baseAddress,
                                    macKey.count, parameters.tagLength, &error)
            }
        }
        guard let made else { return nil }
        context = made
        switch encryption {
        case .null, .aesCBC, .aesCTR, .tripleDESCBC: mode = .composite
        case .aesGCM, .aesGCMImplicitIV: mode = .gcm
        case .aesCCM, .aesCCMImplicitIV: mode = .ccm
        case .chacha20Poly1305, .chacha20Poly1305ImplicitIV: mode = .chacha
        case .nullAuthAESGMAC: mode = .gmac
        }
        ivLength = encryption.ivLength
        icvLength = algorithm.icvLength
        saltLength = encryption.saltLength
        switch encryption {
        case .aesCBC: cipherBlock = 16
        case .tripleDESCBC: cipherBlock = 8
        default: cipherBlock = 1
        }
        if case .aesCTR = encryption { isCTR = true } else { isCTR = false }
        hasMAC = algorithm.integrity != .none
        jobs = .allocate(capacity: Self.chunk)
        jobs.initialize(repeating: ipseclab_mb_job(), count: Self.chunk)
        owners = .allocate(capacity: Self.chunk)
        owners.initialize(repeating: -1, count: Self.chunk)
        needsReference = .allocate(capacity: Self.chunk)
        needsReference.initialize(repeating: false, count: Self.chunk)
        saltOffset = Self.chunk * Self.slotLength
        memoryLength = saltOffset + 16
        memory = .allocate(byteCount: memoryLength, alignment: 64)
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: memoryLength)
        if saltLength > 0 {
            encryptionKey.withUnsafeBytes { material in
                memory.advanced(by: saltOffset).copyMemory(from: material.baseAddress!.advanced(by: keyLength),
                                                           byteCount: saltLength)
            }
        }
    }

    deinit {
        ipseclab_mb_esp_free(context)
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: memoryLength)
        withExtendedLifetime(memory) {}
        memory.deallocate()
        jobs.deallocate()
        owners.deallocate()
        needsReference.deallocate()
    }

    @inline(__always)
    private func slot(_ j: Int, _ offset: Int) -> UnsafeMutableRawPointer {
        memory.advanced(by: j * Self.slotLength + offset)
    }

    /// SPI ‖ [Seq high] ‖ Seq low ‖ extra into the AAD slot; its length.
    @inline(__always)
    private func writeAAD(_ aad: ESPAssociatedData, _ j: Int, extra: Bool = true) -> Int {
        aad.writeAEADHeader(to: slot(j, Self.aadSlot), withExtra: extra)
    }

    /// salt ‖ IV (explicit, or RFC 8750's implicit one from the sequence number) into the nonce slot.
    @inline(__always)
    private func writeNonce(_ aad: ESPAssociatedData, iv: UnsafeRawPointer, _ j: Int) -> UnsafeMutableRawPointer {
        let nonce = slot(j, Self.nonceSlot)
        nonce.copyMemory(from: memory.advanced(by: saltOffset), byteCount: saltLength)
        if ivLength == 0 {
            let implicit = aad.extendedSequenceNumbers ? aad.sequenceNumber : UInt64(aad.sequenceLow)
            storeBigEndian(implicit, nonce, at: saltLength)
        } else {
            nonce.advanced(by: saltLength).copyMemory(from: iv, byteCount: 8)
        }
        return nonce
    }

    /// Bytes a composite SA appends to the MAC input: ESN high bits, then the extra bytes.
    @inline(__always)
    private func trailerLength(_ aad: ESPAssociatedData) -> Int {
        hasMAC ? aad.macTrailerLength : 0
    }

    @inline(__always)
    private func writeTrailer(_ aad: ESPAssociatedData, at destination: UnsafeMutableRawPointer) {
        guard hasMAC else { return }
        _ = aad.writeMACTrailer(to: destination)
    }

    /// Whether this packet must go to OpenSSL: the library cannot take it as it is.
    @inline(__always)
    private func mustFallBack(_ item: ESPBurstPacket, payloadLength: Int) -> Bool {
        switch mode {
        case .composite:
            if trailerLength(item.associatedData) > icvLength { return true }
            // The MAC runs over the wire header, which must be what the associated data says.
            let p = item.packet.baseAddress!
            return p.loadUnaligned(fromByteOffset: 0, as: UInt32.self) != item.associatedData.spi.bigEndian
                || p.loadUnaligned(fromByteOffset: 4, as: UInt32.self) != item.associatedData.sequenceLow.bigEndian
        case .ccm:
            return 8 + (item.associatedData.extendedSequenceNumbers ? 4 : 0) + item.associatedData.extra.count
                > Self.ccmAADLimit || payloadLength == 0
        case .gcm, .chacha, .gmac:
            return false
        }
    }

    /// Fills job `j` for burst packet `item`. Returns false when the packet must go to OpenSSL instead.
    @inline(__always)
    private func prepare(_ item: ESPBurstPacket, _ j: Int, sealing: Bool) -> Bool {
        let p = item.packet.baseAddress!
        let payloadStart = 8 + ivLength
        let payloadLength = item.packet.count - payloadStart - icvLength
        if mustFallBack(item, payloadLength: payloadLength) { return false }
        let aad = item.associatedData
        let icv = p.advanced(by: payloadStart + payloadLength)
        var job = ipseclab_mb_job()
        switch mode {
        case .composite:
            let trailer = trailerLength(aad)
            if !sealing { slot(j, Self.savedSlot).copyMemory(from: icv, byteCount: icvLength) }
            writeTrailer(aad, at: icv)
            job.src = p.assumingMemoryBound(to: UInt8.self)
            job.cipher_offset = UInt64(payloadStart)
            job.cipher_length = UInt64(payloadLength)
            job.hash_length = UInt64(payloadStart + payloadLength + trailer)
            if isCTR {
                // RFC 3686 §4: nonce ‖ IV ‖ block counter starting at 1.
                let block = slot(j, Self.nonceSlot)
                block.copyMemory(from: memory.advanced(by: saltOffset), byteCount: 4)
                block.advanced(by: 4).copyMemory(from: p.advanced(by: 8), byteCount: 8)
                storeBigEndian(UInt32(1), block, at: 12)
                job.iv = UnsafePointer(block.assumingMemoryBound(to: UInt8.self))
            } else {
                job.iv = UnsafePointer(p.advanced(by: 8).assumingMemoryBound(to: UInt8.self))
            }
            job.tag = slot(j, Self.tagSlot).assumingMemoryBound(to: UInt8.self)
        case .gcm, .ccm, .chacha:
            let nonce = writeNonce(aad, iv: p.advanced(by: 8), j)
            let aadLength = writeAAD(aad, j)
            job.src = p.advanced(by: payloadStart).assumingMemoryBound(to: UInt8.self)
            job.cipher_offset = 0
            job.cipher_length = UInt64(payloadLength)
            job.hash_length = UInt64(payloadLength)
            job.iv = UnsafePointer(nonce.assumingMemoryBound(to: UInt8.self))
            job.aad = UnsafePointer(slot(j, Self.aadSlot).assumingMemoryBound(to: UInt8.self))
            job.aad_length = UInt64(aadLength)
            job.tag = (sealing ? icv : slot(j, Self.tagSlot)).assumingMemoryBound(to: UInt8.self)
        case .gmac:
            job.src = p.assumingMemoryBound(to: UInt8.self)
        }
        job.status = 0
        jobs[j] = job
        return true
    }

    /// RFC 4543 §3: the GMAC tag over SPI ‖ Seq ‖ IV ‖ payload ‖ extra into `tag`.
    @inline(__always)
    private func gmac(_ item: ESPBurstPacket, _ j: Int, into tag: UnsafeMutableRawPointer) -> Bool {
        let p = item.packet.baseAddress!
        let aad = item.associatedData
        let payloadLength = item.packet.count - 8 - ivLength - icvLength
        let nonce = writeNonce(aad, iv: p.advanced(by: 8), j)
        let headerLength = writeAAD(aad, j, extra: false)
        let extra = slot(j, Self.savedSlot)
        aad.extra.copy(to: extra)
        var parts: (UnsafePointer<UInt8>?, UnsafePointer<UInt8>?, UnsafePointer<UInt8>?, UnsafePointer<UInt8>?) = (
            UnsafePointer(slot(j, Self.aadSlot).assumingMemoryBound(to: UInt8.self)),
            UnsafePointer(p.advanced(by: 8).assumingMemoryBound(to: UInt8.self)),
            UnsafePointer(p.advanced(by: 8 + ivLength).assumingMemoryBound(to: UInt8.self)),
            UnsafePointer(extra.assumingMemoryBound(to: UInt8.self))
        )
        var lengths: (UInt64, UInt64, UInt64, UInt64) = (UInt64(headerLength), UInt64(ivLength),
                                                         UInt64(payloadLength), UInt64(aad.extra.count))
        return withUnsafePointer(to: &parts) { partsPointer in
            withUnsafePointer(to: &lengths) { lengthsPointer in
                partsPointer.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 4) { list in
                    lengthsPointer.withMemoryRebound(to: UInt64.self, capacity: 4) { sizes in
                        ipseclab_mb_gmac(context, UnsafePointer(nonce.assumingMemoryBound(to: UInt8.self)), list,
                                         sizes, 4, tag.assumingMemoryBound(to: UInt8.self)) == 1
                    }
                }
            }
        }
    }

    func seal(_ burst: UnsafeMutableBufferPointer<ESPBurstPacket>, reference: ESPTransform, fallbacks: inout Int)
        throws(CryptoError)
    {
        var start = 0
        while start < burst.count {
            let n = min(Self.chunk, burst.count - start)
            for j in 0..<n {
                let i = start + j
                needsReference[j] = false
                if mode == .gmac {
                    let icv = burst[i].packet.baseAddress!.advanced(by: burst[i].packet.count - icvLength)
                    if !gmac(burst[i], j, into: icv) { needsReference[j] = true }
                    jobs[j].status = 1  // nothing for the job API
                    continue
                }
                if !prepare(burst[i], j, sealing: true) {
                    needsReference[j] = true
                    jobs[j].status = 1
                }
            }
            if mode != .gmac { _ = ipseclab_mb_esp_seal(context, jobs, n) }
            for j in 0..<n {
                let i = start + j
                if needsReference[j] || (mode != .gmac && jobs[j].status != 0) {
                    fallbacks += 1
                    try referenceSeal(&burst[i], reference)
                    continue
                }
                if mode == .composite {
                    let icv = burst[i].packet.baseAddress!.advanced(by: burst[i].packet.count - icvLength)
                    icv.copyMemory(from: slot(j, Self.tagSlot), byteCount: icvLength)
                }
                burst[i].verified = true
            }
            start += n
        }
    }

    func open(_ burst: UnsafeMutableBufferPointer<ESPBurstPacket>, reference: ESPTransform, fallbacks: inout Int)
        throws(CryptoError)
    {
        var start = 0
        while start < burst.count {
            let n = min(Self.chunk, burst.count - start)
            for j in 0..<n {
                let i = start + j
                needsReference[j] = false
                if mode == .gmac {
                    if !gmac(burst[i], j, into: slot(j, Self.tagSlot)) { needsReference[j] = true }
                    jobs[j].status = 1
                    continue
                }
                if !prepare(burst[i], j, sealing: false) {
                    needsReference[j] = true
                    jobs[j].status = 1
                }
            }
            if mode != .gmac { _ = ipseclab_mb_esp_open(context, jobs, n) }
            // Compare tags in constant time; composite SAs get their received ICV back in place.
            for j in 0..<n {
                let i = start + j
                if needsReference[j] { continue }
                if mode != .gmac && jobs[j].status != 0 {
                    if mode == .composite {
                        let icv = burst[i].packet.baseAddress!.advanced(by: burst[i].packet.count - icvLength)
                        icv.copyMemory(from: slot(j, Self.savedSlot), byteCount: icvLength)
                    }
                    needsReference[j] = true
                    continue
                }
                let p = burst[i].packet
                let icv = p.baseAddress!.advanced(by: p.count - icvLength)
                let received: UnsafeRawPointer
                if mode == .composite {
                    icv.copyMemory(from: slot(j, Self.savedSlot), byteCount: icvLength)
                }
                received = UnsafeRawPointer(icv)
                let ok = constantTimeEqual(UnsafeRawBufferPointer(start: slot(j, Self.tagSlot), count: icvLength),
                                           UnsafeRawBufferPointer(start: received, count: icvLength))
                burst[i].verified = ok
                if mode == .composite {
                    jobs[j].status = ok ? 0 : 1  // decrypt only what verified
                } else if !ok {
                    restore(burst[i], j)
                }
            }
            if mode == .composite { _ = ipseclab_mb_esp_decrypt(context, jobs, n) }
            for j in 0..<n where needsReference[j] {
                fallbacks += 1
                try referenceOpen(&burst[start + j], reference)
            }
            if mode == .composite {
                for j in 0..<n where !needsReference[j] && burst[start + j].verified && jobs[j].status != 0 {
                    throw CryptoError(.backend, algorithm: "libipsec-mb",
                                      reason: "a decryption job failed with status \(jobs[j].status)")
                }
            }
            start += n
        }
    }

    /// After a failed AEAD open: the ciphertext back (GCM, ChaCha20: encrypt again with the same nonce), or zeros
    /// (CCM, as OpenSSL leaves it), so that both implementations leave the same bytes.
    private func restore(_ item: ESPBurstPacket, _ j: Int) {
        let p = item.packet.baseAddress!
        let payloadStart = 8 + ivLength
        let payloadLength = item.packet.count - payloadStart - icvLength
        switch mode {
        case .ccm:
            p.advanced(by: payloadStart).initializeMemory(as: UInt8.self, repeating: 0, count: payloadLength)
        case .gcm, .chacha:
            jobs[j].status = 0
            jobs[j].tag = slot(j, Self.tagSlot).assumingMemoryBound(to: UInt8.self)
            _ = ipseclab_mb_esp_reencrypt(context, jobs.advanced(by: j))
        case .composite, .gmac:
            break
        }
    }

    private func referenceSeal(_ item: inout ESPBurstPacket, _ reference: ESPTransform) throws(CryptoError) {
        let p = item.packet
        let start = 8 + ivLength
        let end = p.count - icvLength
        try reference.seal(item.associatedData, iv: UnsafeRawBufferPointer(rebasing: p[8..<start]),
                           payload: UnsafeMutableRawBufferPointer(rebasing: p[start..<end]),
                           icv: UnsafeMutableRawBufferPointer(rebasing: p[end...]))
        item.verified = true
    }

    private func referenceOpen(_ item: inout ESPBurstPacket, _ reference: ESPTransform) throws(CryptoError) {
        let p = item.packet
        let start = 8 + ivLength
        let end = p.count - icvLength
        item.verified = try reference.open(item.associatedData, iv: UnsafeRawBufferPointer(rebasing: p[8..<start]),
                                           payload: UnsafeMutableRawBufferPointer(rebasing: p[start..<end]),
                                           icv: UnsafeRawBufferPointer(rebasing: p[end...]))
    }
}
