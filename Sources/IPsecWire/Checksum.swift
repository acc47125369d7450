/// The Internet checksum (RFC 1071): the ones'-complement of the ones'-complement sum of 16-bit words.
///
/// Accumulate with `add`, then read `value` (the checksum to put on the wire). A run of bytes that already holds a
/// correct checksum sums to a `value` of zero, which is how `verify` works.
public struct InternetChecksum: Sendable {
    private var sum: UInt64 = 0
    /// A byte left over from an odd-length `add`, to be paired with the first byte of the next one.
    private var pending: UInt8? = nil

    public init() {}

    public mutating func add<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        // Arrays and slices (every caller on the data path) are summed from their storage, without an iterator: the
        // generic walk costs a protocol call, and sometimes a heap allocation, per byte.
        if bytes.withContiguousStorageIfAvailable({ add(contiguous: UnsafeRawBufferPointer($0)) }) != nil { return }
        var it = bytes.makeIterator()
        if let hi = pending {
            guard let lo = it.next() else { return }
            sum &+= UInt64(hi) << 8 | UInt64(lo)
            pending = nil
        }
        while let hi = it.next() {
            if let lo = it.next() {
                sum &+= UInt64(hi) << 8 | UInt64(lo)
            } else {
                pending = hi
            }
        }
    }

    /// Adds bytes in memory, 32 bits at a time into the 64-bit accumulator (RFC 1071 §2(B): the sum may be taken
    /// over wider words and folded at the end).
    public mutating func add(contiguous bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var offset = 0
        let count = bytes.count
        if let hi = pending {
            sum &+= UInt64(hi) << 8 | UInt64(base.load(as: UInt8.self))
            pending = nil
            offset = 1
        }
        while offset + 4 <= count {
            sum &+= UInt64(UInt32(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            offset += 4
        }
        if offset + 2 <= count {
            sum &+= UInt64(UInt16(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
            offset += 2
        }
        if offset < count { pending = base.load(fromByteOffset: offset, as: UInt8.self) }
    }

    public mutating func add(_ word: UInt16) {
        precondition(pending == nil, "16-bit words must be added on a 16-bit boundary")
        sum &+= UInt64(word)
    }

    public mutating func add(_ word: UInt32) {
        add(UInt16(truncatingIfNeeded: word >> 16))
        add(UInt16(truncatingIfNeeded: word))
    }

    /// The checksum of everything added so far, ready to be written to the wire.
    public var value: UInt16 {
        var s = sum
        if let hi = pending { s &+= UInt64(hi) << 8 }
        while s >> 16 != 0 { s = (s & 0xffff) &+ (s >> 16) }
        return ~UInt16(truncatingIfNeeded: s)
    }

    /// The checksum of `bytes` alone.
    public static func compute<C: Collection>(_ bytes: C) -> UInt16 where C.Element == UInt8 {
        var c = InternetChecksum()
        c.add(bytes)
        return c.value
    }
}

/// The pseudo-header that UDP, TCP and ICMPv6 checksums cover (RFC 768, RFC 9293 §3.1, RFC 8200 §8.1).
public enum PseudoHeader: Hashable, Sendable {
    case ipv4(source: IPv4Address, destination: IPv4Address, protocol: IPProtocol, length: UInt16)
    /// For IPv6 the destination is the final one: with a Routing header, the last address in it (RFC 8200 §8.1).
    case ipv6(source: IPv6Address, destination: IPv6Address, nextHeader: IPProtocol, length: UInt32)

    public func add(to checksum: inout InternetChecksum) {
        switch self {
        case let .ipv4(src, dst, proto, length):
            checksum.add(src.rawValue)
            checksum.add(dst.rawValue)
            checksum.add(UInt16(proto.rawValue))
            checksum.add(length)
        case let .ipv6(src, dst, next, length):
            checksum.add(src.bytes)
            checksum.add(dst.bytes)
            checksum.add(length)
            checksum.add(UInt32(next.rawValue))
        }
    }

    /// The checksum of an upper-layer message under this pseudo-header. The message's own checksum field must hold
    /// zero for computing, or the received value for verifying (then a correct message gives 0).
    public func checksum<C: Collection>(over message: C) -> UInt16 where C.Element == UInt8 {
        var c = InternetChecksum()
        add(to: &c)
        c.add(message)
        return c.value
    }
}
