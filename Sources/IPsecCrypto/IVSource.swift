import COpenSSL

/// Where per-packet IVs come from. Injectable, so that known-answer tests can compare every byte and `--seed N`
/// makes a run reproducible.
///
/// - `random`: OpenSSL's DRBG (`RAND_bytes`). The only safe choice for CBC, whose IVs must be unpredictable
///   (RFC 3602 §3, RFC 2451).
/// - `counter(start:)`: a 64-bit big-endian counter, one step per IV, right-aligned with leading zeros when the IV is
///   longer than 8 bytes (the unique-but-predictable IVs that Linux's `seqiv` gives CTR, GCM, CCM and ChaCha20). Do
///   not use it for CBC.
/// - `fixed(bytes)`: the same bytes every time, for known-answer tests only: reusing a counter-mode IV under one key
///   destroys confidentiality and (GCM, GMAC, ChaCha20-Poly1305) authenticity.
/// - `seeded(seed)`: a deterministic SplitMix64 stream, so that `--seed N` reproduces a run. Not for production.
///
/// A value type: a copy continues the same sequence independently, so keep one source per SA and pass it `inout`.
public struct IVSource: Sendable {
    enum Kind: Sendable {
        case random
        case counter(next: UInt64)
        case fixed
        case seeded(state: UInt64)
    }

    // The kind holds no reference (the fixed bytes live beside it), so that drawing an IV, once per packet, copies
    // and stores plain words.
    var kind: Kind
    private var fixedBytes: [UInt8] = []

    public static var random: IVSource { IVSource(kind: .random) }

    public static func counter(start: UInt64) -> IVSource { IVSource(kind: .counter(next: start)) }

    public static func fixed(_ bytes: [UInt8]) -> IVSource {
        var source = IVSource(kind: .fixed)
        source.fixedBytes = bytes
        return source
    }

    public static func seeded(_ seed: UInt64) -> IVSource { IVSource(kind: .seeded(state: seed)) }

    /// Fills `iv` (whatever its length, 0 included) for the packet with this sequence number. The sequence number is
    /// given so that sources may derive IVs from it; the built-in sources do not, to stay independent of the replay
    /// counter (RFC 8750's implicit IV is computed by the transform, not by a source).
    public mutating func fill(_ iv: UnsafeMutableRawBufferPointer, sequence: UInt64) throws(CryptoError) {
        guard let base = iv.baseAddress, iv.count > 0 else { return }
        switch kind {
        case .random:
            guard iv.count <= Int(Int32.max), RAND_bytes(base.assumingMemoryBound(to: UInt8.self), Int32(iv.count)) == 1
            else { throw .backend("RAND_bytes") }
        case .counter(let next):
            let width = min(iv.count, 8)
            iv.initializeMemory(as: UInt8.self, repeating: 0)
            var value = next.bigEndian
            withUnsafeBytes(of: &value) { bytes in
                iv.baseAddress!.advanced(by: iv.count - width).copyMemory(
                    from: bytes.baseAddress!.advanced(by: 8 - width), byteCount: width)
            }
            kind = .counter(next: next &+ 1)
        case .fixed:
            guard fixedBytes.count == iv.count else {
                throw .badIVLength("fixed IV source", have: fixedBytes.count, need: iv.count)
            }
            fixedBytes.withUnsafeBytes { iv.copyMemory(from: $0) }
        case .seeded(var state):
            var offset = 0
            while offset < iv.count {
                var word = Self.splitMix64(&state).littleEndian
                let n = min(8, iv.count - offset)
                withUnsafeBytes(of: &word) { bytes in
                    base.advanced(by: offset).copyMemory(from: bytes.baseAddress!, byteCount: n)
                }
                offset += n
            }
            kind = .seeded(state: state)
        }
    }

    /// Array convenience for tests and tools.
    public mutating func next(count: Int, sequence: UInt64 = 0) throws(CryptoError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let result: Result<Void, CryptoError> = bytes.withUnsafeMutableBytes { buffer in
            do throws(CryptoError) { try fill(buffer, sequence: sequence); return .success(()) } catch {
                return .failure(error)
            }
        }
        try result.get()
        return bytes
    }

    /// SplitMix64 (Steele, Lea and Flood, OOPSLA 2014): one 64-bit output per step.
    static func splitMix64(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
