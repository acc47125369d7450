import COpenSSL

/// Bare primitives for known-answer tests and tools, on the same OpenSSL contexts as the transforms. They allocate
/// freely; the data plane uses `ESPTransform` and `AHTransform`.
public enum Primitives {
    public enum Digest: Sendable {
        case md5, sha1, sha256, sha384, sha512

        var integrity: IntegrityAlgorithm {
            switch self {
            case .md5: .hmacMD5_96
            case .sha1: .hmacSHA1_96
            case .sha256: .hmacSHA256_128
            case .sha384: .hmacSHA384_192
            case .sha512: .hmacSHA512_256
            }
        }
    }

    /// The full (untruncated) HMAC, with a key of any length (RFC 2104).
    public static func hmac(_ digest: Digest, key: [UInt8], data: [UInt8]) throws(CryptoError) -> [UInt8] {
        try mac(digest.integrity, key: key, data: data)
    }

    /// The full 128-bit AES-XCBC-MAC (RFC 3566); the IPsec transform keeps the first 96 bits.
    public static func aesXCBCMAC(key: [UInt8], data: [UInt8]) throws(CryptoError) -> [UInt8] {
        try mac(.aesXCBC96, key: key, data: data)
    }

    /// The full 128-bit AES-CMAC (RFC 4493); the IPsec transform keeps the first 96 bits (RFC 4494).
    public static func aesCMAC(key: [UInt8], data: [UInt8]) throws(CryptoError) -> [UInt8] {
        try mac(.aesCMAC96, key: key, data: data)
    }

    /// AES-CBC without padding; `plaintext` must be a multiple of 16 bytes.
    public static func aesCBCEncrypt(key: [UInt8], iv: [UInt8], plaintext: [UInt8]) throws(CryptoError) -> [UInt8] {
        try cipher("AES-\(key.count * 8)-CBC", encrypting: true, key: key, iv: iv, data: plaintext, block: 16)
    }

    public static func aesCBCDecrypt(key: [UInt8], iv: [UInt8], ciphertext: [UInt8]) throws(CryptoError) -> [UInt8] {
        try cipher("AES-\(key.count * 8)-CBC", encrypting: false, key: key, iv: iv, data: ciphertext, block: 16)
    }

    /// AES-CTR from a full 16-byte initial counter block (RFC 3686: nonce ‖ IV ‖ 0x00000001).
    public static func aesCTR(key: [UInt8], counterBlock: [UInt8], data: [UInt8]) throws(CryptoError) -> [UInt8] {
        try cipher("AES-\(key.count * 8)-CTR", encrypting: true, key: key, iv: counterBlock, data: data, block: 1)
    }

    private static func mac(_ integrity: IntegrityAlgorithm, key: [UInt8], data: [UInt8]) throws(CryptoError)
        -> [UInt8]
    {
        let context = try withBytes(key) { key throws(CryptoError) in
            try MACContext(integrity, key: key, label: integrity.keyword)
        }
        var output = [UInt8](repeating: 0, count: 64)
        try context.begin()
        try withBytes(data) { bytes throws(CryptoError) in try context.update(bytes) }
        let result: Result<Void, CryptoError> = output.withUnsafeMutableBytes { out in
            do throws(CryptoError) { try context.finish(into: out.baseAddress!); return .success(()) } catch {
                return .failure(error)
            }
        }
        try result.get()
        return Array(output.prefix(context.outputLength))
    }

    private static func cipher(_ name: String, encrypting: Bool, key: [UInt8], iv: [UInt8], data: [UInt8], block: Int)
        throws(CryptoError) -> [UInt8]
    {
        guard key.count == 16 || key.count == 24 || key.count == 32 else {
            throw .badKeyLength(name, have: key.count, need: 16)
        }
        guard iv.count == 16 else { throw .badIVLength(name, have: iv.count, need: 16) }
        guard data.count % block == 0 else { throw .bufferSize(name, "\(data.count) bytes, not whole blocks") }
        let context = try withBytes(key) { key throws(CryptoError) in
            try CipherContext(name: name, key: key, encrypting: encrypting, label: name)
        }
        var output = data
        try withBytes(iv) { iv throws(CryptoError) in try context.start(iv: iv.baseAddress!) }
        let ok = output.withUnsafeMutableBytes { buffer in
            context.update(buffer.bytePointer, UnsafePointer(buffer.bytePointer), count: buffer.count)
        }
        guard ok else { throw .backend(encrypting ? "EVP_EncryptUpdate" : "EVP_DecryptUpdate") }
        return output
    }
}
