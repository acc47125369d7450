/// What an ESP transform authenticates besides the IV and the payload.
///
/// Per RFC (the transform lays the bytes out; the data plane only fills this value):
/// - composite transforms (RFC 4303 §2.2.1, §3.3.2.1): ICV = MAC(SPI ‖ Seq(low) ‖ IV ‖ ciphertext ‖ [Seq(high) if
///   ESN] ‖ extra), truncated;
/// - AEADs (RFC 4106 §5, RFC 4309 §5, RFC 7634 §2.1, RFC 8750): AAD = SPI ‖ Seq(low), or SPI ‖ Seq(high) ‖ Seq(low)
///   with ESN, then ‖ extra;
/// - ENCR_NULL_AUTH_AES_GMAC (RFC 4543 §3.3): AAD = SPI ‖ Seq (as for AEADs) ‖ IV ‖ payload ‖ extra.
///
/// `extra` holds bytes that are authenticated but not sent (the fields that the header-compressed tunnel elides);
/// they always come last, the way RFC 4303 appends the ESN high bits. They are empty for standard ESP.
public struct ESPAssociatedData: Hashable, Sendable {
    public var spi: UInt32
    /// The full sequence number; only the low 32 bits are sent. The high 32 bits are authenticated when
    /// `extendedSequenceNumbers` is set, and ignored otherwise.
    public var sequenceNumber: UInt64
    public var extendedSequenceNumbers: Bool
    public var extra: Extra

    public init(spi: UInt32, sequenceNumber: UInt64, extendedSequenceNumbers: Bool = false, extra: Extra = Extra()) {
        self.spi = spi
        self.sequenceNumber = sequenceNumber
        self.extendedSequenceNumbers = extendedSequenceNumbers
        self.extra = extra
    }

    var sequenceLow: UInt32 { UInt32(truncatingIfNeeded: sequenceNumber) }
    var sequenceHigh: UInt32 { UInt32(truncatingIfNeeded: sequenceNumber >> 32) }

    /// The AEAD associated data (RFC 4106 §5, RFC 4309 §5, RFC 7634 §2.1; RFC 4543 §3 begins the same way): SPI ‖
    /// [Seq high, with ESN] ‖ Seq low, then the extra bytes when `withExtra`. Writes it at `base`; returns its length.
    @inline(__always)
    func writeAEADHeader(to base: UnsafeMutableRawPointer, withExtra: Bool = true) -> Int {
        storeBigEndian(spi, base, at: 0)
        var length = 4
        if extendedSequenceNumbers {
            storeBigEndian(sequenceHigh, base, at: 4)
            length = 8
        }
        storeBigEndian(sequenceLow, base, at: length)
        length += 4
        guard withExtra else { return length }
        extra.copy(to: base.advanced(by: length))
        return length + extra.count
    }

    /// What a composite transform's MAC covers after the bytes on the wire (RFC 4303 §2.2.1): [Seq high, with ESN] ‖
    /// the extra bytes. Writes it at `base`; returns its length (`macTrailerLength`).
    @inline(__always)
    func writeMACTrailer(to base: UnsafeMutableRawPointer) -> Int {
        var length = 0
        if extendedSequenceNumbers {
            storeBigEndian(sequenceHigh, base, at: 0)
            length = 4
        }
        extra.copy(to: base.advanced(by: length))
        return length + extra.count
    }

    /// The length `writeMACTrailer` writes.
    var macTrailerLength: Int { (extendedSequenceNumbers ? 4 : 0) + extra.count }

    /// Up to `capacity` authenticated-but-not-sent bytes, stored inline so that building associated data per packet
    /// allocates nothing.
    public struct Extra: Hashable, Sendable {
        /// Enough for any set of elided IPv4 or IPv6 header fields (a whole IPv6 header is 40 bytes).
        public static let capacity = 64

        public private(set) var count: Int = 0
        private var storage: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)

        public init() {}

        public init(_ bytes: some Collection<UInt8>) throws(CryptoError) {
            try append(contentsOf: bytes)
        }

        public var isEmpty: Bool { count == 0 }

        public mutating func append(contentsOf bytes: some Collection<UInt8>) throws(CryptoError) {
            guard count + bytes.count <= Self.capacity else {
                throw .bufferSize("extra authenticated data",
                                  "\(count + bytes.count) bytes, at most \(Self.capacity)")
            }
            let start = count
            withUnsafeMutableBytes(of: &storage) { raw in
                var index = start
                for byte in bytes {
                    raw[index] = byte
                    index += 1
                }
            }
            count += bytes.count
        }

        /// Appends one byte (non-generic, for the per-packet paths).
        public mutating func append(_ byte: UInt8) throws(CryptoError) {
            guard count < Self.capacity else {
                throw .bufferSize("extra authenticated data", "\(count + 1) bytes, at most \(Self.capacity)")
            }
            let index = count
            withUnsafeMutableBytes(of: &storage) { raw in raw[index] = byte }
            count += 1
        }

        /// Appends bytes from memory (non-generic, for the per-packet paths).
        public mutating func append(bytes: UnsafeRawBufferPointer) throws(CryptoError) {
            guard count + bytes.count <= Self.capacity else {
                throw .bufferSize("extra authenticated data",
                                  "\(count + bytes.count) bytes, at most \(Self.capacity)")
            }
            let start = count
            withUnsafeMutableBytes(of: &storage) { raw in
                UnsafeMutableRawBufferPointer(rebasing: raw[start..<(start + bytes.count)]).copyMemory(from: bytes)
            }
            count += bytes.count
        }

        public mutating func removeAll() {
            storage = (0, 0, 0, 0, 0, 0, 0, 0)
            count = 0
        }

        /// Calls `body` with the stored bytes.
        public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            try Swift.withUnsafeBytes(of: storage) { raw in
                try body(UnsafeRawBufferPointer(rebasing: raw[0..<count]))
            }
        }

        /// Copies the stored bytes to `destination` (at least `count` bytes).
        @inline(__always)
        func copy(to destination: UnsafeMutableRawPointer) {
            let n = count
            guard n > 0 else { return }
            Swift.withUnsafeBytes(of: storage) { raw in destination.copyMemory(from: raw.baseAddress!, byteCount: n) }
        }

        /// The stored bytes as an array (allocates; for tests and tools).
        public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

        public static func == (lhs: Extra, rhs: Extra) -> Bool {
            lhs.count == rhs.count && lhs.bytes == rhs.bytes
        }

        public func hash(into hasher: inout Hasher) {
            withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }
}
