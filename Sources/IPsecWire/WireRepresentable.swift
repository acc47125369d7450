/// A validated value of a header: parsed strictly from untrusted bytes, serialised symmetrically.
///
/// The contract, the same for every header:
/// - `parse` never traps, whatever the bytes; it throws a `WireError` for anything the specification forbids.
/// - `bufferLength` is exactly the number of bytes `emit` writes.
/// - `emit` writes every one of those bytes (a buffer pre-filled with junk comes out identical to a fresh one) at the
///   start of the buffer, and throws `bufferTooShort` rather than writing past its end.
/// - `try T.parse(x.serialized()) == x` for every value `x` that `parse` produced.
public protocol WireRepresentable: Hashable, Sendable {
    static func parse(_ bytes: ArraySlice<UInt8>) throws -> Self
    var bufferLength: Int { get }
    func emit(into buffer: inout ArraySlice<UInt8>) throws
}

extension WireRepresentable {
    public static func parse(_ bytes: [UInt8]) throws -> Self {
        try parse(bytes[...])
    }

    /// The value's bytes, in a fresh array of exactly `bufferLength` bytes. Throws what `emit` throws for a value
    /// built by hand that the wire format cannot carry (a value that `parse` produced always serialises).
    public func serialized() throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: bufferLength)
        try emit(into: &out[...])
        return out
    }

    /// Throws `bufferTooShort` unless `buffer` can take `bufferLength` bytes; for use at the top of `emit`.
    @inlinable
    public func checkEmitBuffer(_ buffer: ArraySlice<UInt8>, layer: String) throws {
        guard buffer.count >= bufferLength else {
            throw WireError.bufferTooShort(layer, need: bufferLength, have: buffer.count)
        }
    }
}
