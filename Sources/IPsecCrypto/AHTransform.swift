import COpenSSL

/// The integrity transform of one AH SA.
///
/// The AH layer hands over the packet as it is authenticated (RFC 4302 §3.3.3.1: mutable IP fields zeroed, the
/// Routing header in its final-destination form), split around the ICV field: `prefix` is everything before the
/// ICV field (IP header and extension headers, then Next Header, Payload Len, Reserved, SPI and the low 32 bits of
/// the sequence number), `suffix` everything after it (any ICV alignment padding, then the protected payload). The
/// transform treats the `icvLength` bytes between them as zeros, and with ESN appends the high 32 bits of the
/// sequence number after the suffix (RFC 4302 §3.3.3.1: they are authenticated but not sent).
///
/// AUTH_AES_GMAC (RFC 4543 §4): the ICV field carries an 8-byte IV followed by the 16-byte tag; the IV is an input of
/// the algorithm (nonce = salt ‖ IV) and is written by this transform from its `IVSource`. IPsecLab authenticates
/// the IV as sent and zeroes only the tag position: the GCM AAD is prefix ‖ IV ‖ 16 zero bytes ‖ suffix (‖ ESN high),
/// with empty plaintext. (No independent AH-GMAC implementation was available to check this reading against.)
///
/// It runs on OpenSSL (the reference) or on libipsec-mb, which has every AH algorithm (docs/ipsec-mb.md, "AH"); both
/// give the same ICVs. One per SA and direction; reuses its contexts and working memory for every packet (no heap
/// allocation per packet once warm); not thread-safe.
public final class AHTransform {
    public let algorithm: AHAlgorithm
    /// Length of the ICV field, before any alignment padding (GMAC: 24).
    public let icvLength: Int
    /// The library that computes this transform's ICVs: libipsec-mb when it was asked for and is usable here (it
    /// refuses no AH algorithm), OpenSSL otherwise.
    public let implementation: CryptoImplementation

    private let mac: MACContext?
    private let gmac: CipherContext?
    private let fast: IPsecMBAH?
    private let isGMAC: Bool
    private var ivSource: IVSource
    private let label: String
    private let scratch: UnsafeMutableRawPointer
    private static let saltOffset = 0  // 4 bytes
    private static let nonceOffset = 16  // 12 bytes
    private static let zerosOffset = 32  // 32 zero bytes stand in for the ICV field
    private static let macOffset = 64  // up to 64 bytes
    private static let trailerOffset = 128  // ESN high bits
    private static let scratchLength = 144

    /// - Parameters:
    ///   - key: the integrity key (GMAC: key followed by its 4-byte salt).
    ///   - ivSource: where GMAC's per-packet IVs come from; unused by the other algorithms.
    ///   - implementation: the library to run on; libipsec-mb falls back to OpenSSL where it is not usable.
    public init(_ algorithm: AHAlgorithm, key: [UInt8], ivSource: IVSource = .random,
                implementation: CryptoImplementation = CryptoImplementation.preferred) throws(CryptoError) {
        self.algorithm = algorithm
        icvLength = algorithm.icvLength
        self.ivSource = ivSource
        let label = "ah-" + algorithm.keyword
        self.label = label
        let integrity = algorithm.integrity
        guard key.count == integrity.keyMaterialLength else {
            let layout = integrity.saltLength > 0 ? "\(integrity.keyLength) key + \(integrity.saltLength) salt" : nil
            throw .badKeyLength(label, have: key.count, need: integrity.keyMaterialLength, layout: layout)
        }
        if case .aesGMAC = integrity { isGMAC = true } else { isGMAC = false }
        fast = implementation == .ipsecMB ? IPsecMBAH(algorithm, key: key) : nil
        self.implementation = fast == nil ? .openSSL : .ipsecMB
        if fast != nil {
            mac = nil
            gmac = nil
        } else if case .aesGMAC(let bits) = integrity {
            gmac = try withBytes(key) { material throws(CryptoError) in
                try CipherContext(name: "AES-\(bits)-GCM", key: UnsafeRawBufferPointer(rebasing: material[0..<bits / 8]),
                                  encrypting: true, label: label)
            }
            mac = nil
        } else {
            mac = try withBytes(key) { material throws(CryptoError) in
                try MACContext(integrity, key: material, label: label)
            }
            gmac = nil
        }
        scratch = UnsafeMutableRawPointer.allocate(byteCount: Self.scratchLength, alignment: 16)
        scratch.initializeMemory(as: UInt8.self, repeating: 0, count: Self.scratchLength)
        if integrity.saltLength > 0 {
            key.withUnsafeBytes { material in
                scratch.copyMemory(from: material.baseAddress!.advanced(by: integrity.keyLength),
                                   byteCount: integrity.saltLength)
            }
        }
    }

    deinit {
        OPENSSL_cleanse(scratch, Self.scratchLength)
        scratch.deallocate()
    }

    /// Computes the ICV field (`icvLength` bytes) into `icv`. For GMAC, first draws the IV from the IV source and
    /// writes it to the start of `icv`.
    public func computeICV(prefix: UnsafeRawBufferPointer, suffix: UnsafeRawBufferPointer, sequenceNumber: UInt64,
                           extendedSequenceNumbers: Bool, into icv: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        guard icv.count == icvLength else {
            throw .bufferSize(label, "ICV buffer is \(icv.count) bytes, needs \(icvLength)")
        }
        if isGMAC {
            let iv = UnsafeMutableRawBufferPointer(rebasing: icv[0..<8])
            try ivSource.fill(iv, sequence: sequenceNumber)
            try gmacTag(prefix: prefix, iv: UnsafeRawBufferPointer(iv), suffix: suffix,
                        sequenceNumber: sequenceNumber, extendedSequenceNumbers: extendedSequenceNumbers)
            icv.baseAddress!.advanced(by: 8).copyMemory(from: computed, byteCount: 16)
        } else {
            try macICV(prefix: prefix, suffix: suffix, sequenceNumber: sequenceNumber,
                       extendedSequenceNumbers: extendedSequenceNumbers)
            icv.baseAddress!.copyMemory(from: computed, byteCount: icvLength)
        }
    }

    /// Recomputes the ICV over the same input and compares it with the received `icv` in constant time.
    public func verifyICV(prefix: UnsafeRawBufferPointer, suffix: UnsafeRawBufferPointer, sequenceNumber: UInt64,
                          extendedSequenceNumbers: Bool, icv: UnsafeRawBufferPointer) throws(CryptoError) -> Bool {
        guard icv.count == icvLength else {
            throw .bufferSize(label, "ICV buffer is \(icv.count) bytes, needs \(icvLength)")
        }
        if isGMAC {
            try gmacTag(prefix: prefix, iv: UnsafeRawBufferPointer(rebasing: icv[0..<8]), suffix: suffix,
                        sequenceNumber: sequenceNumber, extendedSequenceNumbers: extendedSequenceNumbers)
            return constantTimeEqual(UnsafeRawBufferPointer(start: computed, count: 16),
                                     UnsafeRawBufferPointer(rebasing: icv[8..<24]))
        }
        try macICV(prefix: prefix, suffix: suffix, sequenceNumber: sequenceNumber,
                   extendedSequenceNumbers: extendedSequenceNumbers)
        return constantTimeEqual(UnsafeRawBufferPointer(start: computed, count: icvLength), icv)
    }

    /// Where the last `macICV` or `gmacTag` left its result.
    private var computed: UnsafeRawPointer {
        fast?.tag ?? UnsafeRawPointer(scratch.advanced(by: Self.macOffset))
    }

    private func macICV(prefix: UnsafeRawBufferPointer, suffix: UnsafeRawBufferPointer, sequenceNumber: UInt64,
                        extendedSequenceNumbers: Bool) throws(CryptoError) {
        if let fast {
            guard fast.mac(prefix: prefix, suffix: suffix, sequenceNumber: sequenceNumber,
                           extendedSequenceNumbers: extendedSequenceNumbers)
            else { throw CryptoError(.backend, algorithm: "libipsec-mb", reason: "\(label): the MAC job failed") }
            return
        }
        let mac = mac!
        try mac.begin()
        try mac.update(prefix)
        try mac.update(scratch.advanced(by: Self.zerosOffset), count: icvLength)
        try mac.update(suffix)
        if extendedSequenceNumbers {
            storeBigEndian(UInt32(truncatingIfNeeded: sequenceNumber >> 32), scratch, at: Self.trailerOffset)
            try mac.update(scratch.advanced(by: Self.trailerOffset), count: 4)
        }
        try mac.finish(into: scratch.advanced(by: Self.macOffset))
    }

    private func gmacTag(prefix: UnsafeRawBufferPointer, iv: UnsafeRawBufferPointer, suffix: UnsafeRawBufferPointer,
                         sequenceNumber: UInt64, extendedSequenceNumbers: Bool) throws(CryptoError) {
        if let fast {
            guard fast.gmac(prefix: prefix, iv: iv.baseAddress!, suffix: suffix, sequenceNumber: sequenceNumber,
                            extendedSequenceNumbers: extendedSequenceNumbers)
            else { throw CryptoError(.backend, algorithm: "libipsec-mb", reason: "\(label): GMAC failed") }
            return
        }
        let gmac = gmac!
        let nonce = scratch.advanced(by: Self.nonceOffset)
        nonce.copyMemory(from: scratch.advanced(by: Self.saltOffset), byteCount: 4)
        nonce.advanced(by: 4).copyMemory(from: iv.baseAddress!, byteCount: 8)
        try gmac.start(iv: nonce)
        if let bytes = prefix.baseAddress { try gmac.authenticate(bytes, count: prefix.count) }
        try gmac.authenticate(iv.baseAddress!, count: 8)
        try gmac.authenticate(scratch.advanced(by: Self.zerosOffset), count: 16)
        if let bytes = suffix.baseAddress { try gmac.authenticate(bytes, count: suffix.count) }
        if extendedSequenceNumbers {
            storeBigEndian(UInt32(truncatingIfNeeded: sequenceNumber >> 32), scratch, at: Self.trailerOffset)
            try gmac.authenticate(scratch.advanced(by: Self.trailerOffset), count: 4)
        }
        guard gmac.finish() else { throw .backend("EVP_EncryptFinal_ex(GMAC)") }
        try gmac.tag(into: scratch.advanced(by: Self.macOffset), count: 16)
    }
}

extension AHTransform {
    /// Array convenience for tests and tools: the ICV field for `prefix` ‖ ICV field ‖ `suffix` (allocates).
    public func icv(prefix: [UInt8], suffix: [UInt8], sequenceNumber: UInt64 = 0,
                    extendedSequenceNumbers: Bool = false) throws(CryptoError) -> [UInt8] {
        var icv = [UInt8](repeating: 0, count: icvLength)
        let failure: CryptoError? = prefix.withUnsafeBytes { p in
            suffix.withUnsafeBytes { s in
                icv.withUnsafeMutableBytes { out in
                    do throws(CryptoError) {
                        try computeICV(prefix: p, suffix: s, sequenceNumber: sequenceNumber,
                                       extendedSequenceNumbers: extendedSequenceNumbers, into: out)
                        return nil
                    } catch {
                        return error
                    }
                }
            }
        }
        if let failure { throw failure }
        return icv
    }
}
