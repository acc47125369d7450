/// One ESP packet of a burst, protected or opened in place.
///
/// `packet` runs from the SPI to the end of the ICV: SPI ‖ Seq ‖ IV ‖ payload ‖ ICV, the payload already padded
/// (inner packet ‖ padding ‖ pad length ‖ next header). `seal` writes SPI and the low sequence bits from
/// `associatedData` into the header, reads the IV the caller placed after it, encrypts the payload and writes the ICV.
/// `open` verifies the ICV first and decrypts only what verified; `verified` tells which.
public struct ESPBurstPacket {
    public var packet: UnsafeMutableRawBufferPointer
    public var associatedData: ESPAssociatedData
    /// After `open`: whether the ICV verified (and so the payload is plaintext). After `seal`: true.
    public internal(set) var verified = false

    public init(packet: UnsafeMutableRawBufferPointer, associatedData: ESPAssociatedData) {
        self.packet = packet
        self.associatedData = associatedData
    }
}

/// The ESP transform of one SA, for bursts: seals or opens N packets per call, in place, allocating nothing.
///
/// It runs on the implementation asked for when that implementation offers the algorithm, and on OpenSSL otherwise
/// (`implementation` tells which was chosen). Packets that libipsec-mb cannot take (AES-CCM associated data over its
/// 46-byte limit, a composite SA whose appended ESN and elided bytes do not fit in the ICV slot, a header that does not
/// match the associated data) go to OpenSSL one by one and are counted in `fallbacks`. Both implementations produce
/// the same bytes; tests check it on every known answer and on random cases.
///
/// On OpenSSL a burst is a loop over `ESPTransform.seal` / `open`, so a burst of one is the single-packet path.
/// One per SA and direction; not thread-safe.
public final class ESPBurstTransform {
    public let algorithm: ESPAlgorithm
    public let implementation: CryptoImplementation
    // Stored, not forwarded to the reference: the burst paths read them for every packet.
    public let ivLength: Int
    public let icvLength: Int
    public let blockSize: Int
    /// Packets that the libipsec-mb path handed to OpenSSL.
    @exclusivity(unchecked) public private(set) var fallbacks = 0

    /// The OpenSSL transform: the whole work on OpenSSL, the fallback on libipsec-mb.
    let reference: ESPTransform
    private let fast: IPsecMBESP?

    /// - Parameters:
    ///   - encryptionKey: key followed by its salt (`ip xfrm` layout), as for `ESPTransform`.
    ///   - implementation: the library to run on; libipsec-mb falls back to OpenSSL where it lacks the algorithm.
    public convenience init(_ algorithm: ESPAlgorithm, encryptionKey: [UInt8], integrityKey: [UInt8],
                            implementation: CryptoImplementation = CryptoImplementation.preferred)
        throws(CryptoError)
    {
        try self.init(wrapping: ESPTransform(algorithm, encryptionKey: encryptionKey, integrityKey: integrityKey),
                      encryptionKey: encryptionKey, integrityKey: integrityKey, implementation: implementation)
    }

    /// Builds on an existing OpenSSL transform of the same keys (an SA's), which it uses as its reference.
    public init(wrapping reference: ESPTransform, encryptionKey: [UInt8], integrityKey: [UInt8],
                implementation: CryptoImplementation = CryptoImplementation.preferred) {
        let algorithm = reference.algorithm
        self.algorithm = algorithm
        self.reference = reference
        ivLength = reference.ivLength
        icvLength = reference.icvLength
        blockSize = reference.blockSize
        if implementation == .ipsecMB, IPsecMB.isAvailable {
            fast = IPsecMBESP(algorithm, encryptionKey: encryptionKey, integrityKey: integrityKey)
        } else {
            fast = nil
        }
        self.implementation = fast == nil ? .openSSL : .ipsecMB
    }

    /// The offsets of one packet, checked.
    @inline(__always)
    private func payloadRange(_ packet: UnsafeMutableRawBufferPointer) throws(CryptoError) -> Range<Int> {
        let start = 8 + reference.ivLength
        let end = packet.count - reference.icvLength
        guard end >= start else {
            throw .bufferSize(algorithm.keyword, "ESP packet of \(packet.count) bytes is shorter than its header, IV "
                              + "and ICV")
        }
        return start..<end
    }

    /// Seals every packet (see `ESPBurstPacket`).
    public func seal(_ burst: UnsafeMutableBufferPointer<ESPBurstPacket>) throws(CryptoError) {
        for i in burst.indices {
            let p = burst[i].packet
            _ = try payloadRange(p)
            storeBigEndian(burst[i].associatedData.spi, p.baseAddress!, at: 0)
            storeBigEndian(burst[i].associatedData.sequenceLow, p.baseAddress!, at: 4)
        }
        if let fast {
            try fast.seal(burst, reference: reference, fallbacks: &fallbacks)
            return
        }
        for i in burst.indices {
            try referenceSeal(&burst[i])
        }
    }

    /// Opens every packet: verifies its ICV, and decrypts it in place only if it verified (`verified`). What a
    /// packet that did not verify holds afterwards is as for `ESPTransform.open`.
    public func open(_ burst: UnsafeMutableBufferPointer<ESPBurstPacket>) throws(CryptoError) {
        for i in burst.indices { _ = try payloadRange(burst[i].packet) }
        if let fast {
            try fast.open(burst, reference: reference, fallbacks: &fallbacks)
            return
        }
        for i in burst.indices {
            try referenceOpen(&burst[i])
        }
    }

    @inline(__always)
    func referenceSeal(_ item: inout ESPBurstPacket) throws(CryptoError) {
        let p = item.packet
        let range = try payloadRange(p)
        try reference.seal(item.associatedData, iv: UnsafeRawBufferPointer(rebasing: p[8..<range.lowerBound]),
                           payload: UnsafeMutableRawBufferPointer(rebasing: p[range]),
                           icv: UnsafeMutableRawBufferPointer(rebasing: p[range.upperBound...]))
        item.verified = true
    }

    @inline(__always)
    func referenceOpen(_ item: inout ESPBurstPacket) throws(CryptoError) {
        let p = item.packet
        let range = try payloadRange(p)
        item.verified = try reference.open(item.associatedData,
                                           iv: UnsafeRawBufferPointer(rebasing: p[8..<range.lowerBound]),
                                           payload: UnsafeMutableRawBufferPointer(rebasing: p[range]),
                                           icv: UnsafeRawBufferPointer(rebasing: p[range.upperBound...]))
    }
}

extension ESPBurstTransform {
    /// Seals one packet: a burst of one.
    public func seal(_ item: inout ESPBurstPacket) throws(CryptoError) {
        try withUnsafeMutablePointer(to: &item) { pointer throws(CryptoError) in
            try seal(UnsafeMutableBufferPointer(start: pointer, count: 1))
        }
    }

    /// Opens one packet: a burst of one. Returns whether it verified.
    public func open(_ item: inout ESPBurstPacket) throws(CryptoError) -> Bool {
        try withUnsafeMutablePointer(to: &item) { pointer throws(CryptoError) in
            try open(UnsafeMutableBufferPointer(start: pointer, count: 1))
        }
        return item.verified
    }
}
