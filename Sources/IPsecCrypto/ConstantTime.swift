import COpenSSL

/// Compares two byte strings in time that depends only on their lengths (OpenSSL's `CRYPTO_memcmp`).
///
/// Lengths are compared first and are not secret: an ICV's length is fixed by the SA. Use this for every ICV and
/// tag comparison; `==` on arrays returns at the first differing byte.
public func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    guard a.count > 0, let pa = a.baseAddress, let pb = b.baseAddress else { return true }
    return CRYPTO_memcmp(pa, pb, a.count) == 0
}

/// Array convenience for tests and tools; the data plane uses the buffer form.
public func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in constantTimeEqual(pa, pb) } }
}
