import COpenSSL

/// Facts about the crypto library behind the transforms.
public enum CryptoBackend {
    /// The OpenSSL version string, e.g. "OpenSSL 3.0.19 27 Jan 2026".
    public static var openSSLVersion: String {
        guard let text = OpenSSL_version(OPENSSL_VERSION) else { return "OpenSSL (unknown version)" }
        return String(cString: text)
    }
}

/// OpenSSL's per-thread error queue.
enum OpenSSLErrorQueue {
    /// The first queued error as ": <reason>" (empty when none), clearing the queue.
    static func drain() -> String {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0 else { return "" }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        let text = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return " (\(text))"
    }

    /// Drops whatever a failed verification left queued, so that it is not reported later as a backend failure.
    static func clear() {
        ERR_clear_error()
    }
}

/// Runs `body` on the bytes of `array`, keeping `body`'s typed error (the standard library's `withUnsafeBytes` is
/// `rethrows`, which erases it).
@inline(__always)
func withBytes<R>(_ array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(CryptoError) -> R) throws(CryptoError)
    -> R
{
    let result: Result<R, CryptoError> = array.withUnsafeBytes { bytes in
        do throws(CryptoError) { return .success(try body(bytes)) } catch { return .failure(error) }
    }
    return try result.get()
}

/// Writes `value` big-endian at `offset`.
@inline(__always)
func storeBigEndian(_ value: UInt32, _ base: UnsafeMutableRawPointer, at offset: Int) {
    base.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
}

@inline(__always)
func storeBigEndian(_ value: UInt64, _ base: UnsafeMutableRawPointer, at offset: Int) {
    base.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt64.self)
}

/// A non-nil pointer for zero-length buffers, whose `baseAddress` may be nil: OpenSSL's AEAD update calls must see
/// a non-NULL input and output to process an empty message (CCM computes its tag there).
nonisolated(unsafe) let emptyBufferSentinel = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 16)

extension UnsafeRawBufferPointer {
    @inline(__always)
    var bytePointer: UnsafePointer<UInt8> {
        UnsafePointer(baseAddress?.assumingMemoryBound(to: UInt8.self)
            ?? UnsafePointer(emptyBufferSentinel.assumingMemoryBound(to: UInt8.self)))
    }
}

extension UnsafeMutableRawBufferPointer {
    @inline(__always)
    var bytePointer: UnsafeMutablePointer<UInt8> {
        (baseAddress ?? emptyBufferSentinel).assumingMemoryBound(to: UInt8.self)
    }
}
