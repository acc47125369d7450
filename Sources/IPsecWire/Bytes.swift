// Byte access for checked views and emitters. Offsets are always relative to the start of the slice, so a view works
// the same on a whole array and on a slice of one. Callers check lengths first (the views' `init` does); these
// accessors are then in bounds by construction.

extension ArraySlice where Element == UInt8 {
    /// The byte at `offset` from the start of the slice.
    @inlinable
    public func wireUInt8(at offset: Int) -> UInt8 {
        self[startIndex &+ offset]
    }

    /// A big-endian 16-bit value at `offset` from the start of the slice.
    @inlinable
    public func wireUInt16(at offset: Int) -> UInt16 {
        let i = startIndex &+ offset
        return UInt16(self[i]) << 8 | UInt16(self[i &+ 1])
    }

    /// A big-endian 32-bit value at `offset` from the start of the slice.
    @inlinable
    public func wireUInt32(at offset: Int) -> UInt32 {
        let i = startIndex &+ offset
        return UInt32(self[i]) << 24 | UInt32(self[i &+ 1]) << 16 | UInt32(self[i &+ 2]) << 8 | UInt32(self[i &+ 3])
    }

    /// `count` bytes at `offset` from the start of the slice.
    @inlinable
    public func wireBytes(at offset: Int, count: Int) -> ArraySlice<UInt8> {
        let i = startIndex &+ offset
        return self[i..<(i &+ count)]
    }

    @inlinable
    public mutating func setWireUInt8(_ value: UInt8, at offset: Int) {
        self[startIndex &+ offset] = value
    }

    @inlinable
    public mutating func setWireUInt16(_ value: UInt16, at offset: Int) {
        let i = startIndex &+ offset
        self[i] = UInt8(truncatingIfNeeded: value >> 8)
        self[i &+ 1] = UInt8(truncatingIfNeeded: value)
    }

    @inlinable
    public mutating func setWireUInt32(_ value: UInt32, at offset: Int) {
        let i = startIndex &+ offset
        self[i] = UInt8(truncatingIfNeeded: value >> 24)
        self[i &+ 1] = UInt8(truncatingIfNeeded: value >> 16)
        self[i &+ 2] = UInt8(truncatingIfNeeded: value >> 8)
        self[i &+ 3] = UInt8(truncatingIfNeeded: value)
    }

    @inlinable
    public mutating func setWireBytes<C: Collection>(_ bytes: C, at offset: Int) where C.Element == UInt8 {
        var i = startIndex &+ offset
        for b in bytes {
            self[i] = b
            i &+= 1
        }
    }
}

/// A cursor over untrusted bytes. `read*` consumes, `peek*` looks; short input yields `nil` and leaves the cursor where
/// it was, so a composite read can fail atomically.
public struct ByteReader: Sendable {
    /// The bytes not yet consumed.
    public private(set) var remainingBytes: ArraySlice<UInt8>
    /// How many bytes have been consumed since the reader was made.
    public private(set) var consumed: Int = 0

    public init(_ bytes: ArraySlice<UInt8>) {
        self.remainingBytes = bytes
    }

    public init(_ bytes: [UInt8]) {
        self.remainingBytes = bytes[...]
    }

    public var remaining: Int { remainingBytes.count }
    public var isAtEnd: Bool { remainingBytes.isEmpty }

    public func peekUInt8() -> UInt8? {
        remainingBytes.first
    }

    public mutating func readUInt8() -> UInt8? {
        guard let b = remainingBytes.first else { return nil }
        remainingBytes = remainingBytes.dropFirst()
        consumed += 1
        return b
    }

    public mutating func readUInt16() -> UInt16? {
        guard remainingBytes.count >= 2 else { return nil }
        let v = remainingBytes.wireUInt16(at: 0)
        remainingBytes = remainingBytes.dropFirst(2)
        consumed += 2
        return v
    }

    public mutating func readUInt32() -> UInt32? {
        guard remainingBytes.count >= 4 else { return nil }
        let v = remainingBytes.wireUInt32(at: 0)
        remainingBytes = remainingBytes.dropFirst(4)
        consumed += 4
        return v
    }

    public mutating func readBytes(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, remainingBytes.count >= count else { return nil }
        let v = remainingBytes.prefix(count)
        remainingBytes = remainingBytes.dropFirst(count)
        consumed += count
        return v
    }
}
