import IPsecCrypto
import Testing

// HMAC-SHA-256 truncated to 96 bits: not an RFC transform, but what Linux applies to `ip xfrm state … auth
// hmac(sha256) KEY` (its default truncation for sha256 is 96 bits; RFC 4868 wants 128). strongSwan calls it
// "sha256_96". Checked against RFC 4231's published HMAC-SHA-256 outputs, truncated to 12 bytes.

@Suite("HMAC-SHA-256-96 (Linux's auth hmac(sha256))")
struct LinuxSHA256Tests {
    @Test("Keywords and lengths")
    func keywords() throws {
        #expect(IntegrityAlgorithm.hmacSHA256_96.keyLength == 32)
        #expect(IntegrityAlgorithm.hmacSHA256_96.icvLength == 12)
        #expect(IntegrityAlgorithm.hmacSHA256_96.keyword == "sha256_96")
        let espAlgorithm = try ESPAlgorithm(keyword: "aes128-sha256_96")
        #expect(espAlgorithm.integrity == .hmacSHA256_96)
        #expect(espAlgorithm.icvLength == 12)
        #expect(try ESPAlgorithm(keyword: espAlgorithm.keyword) == espAlgorithm)
        #expect(try ESPAlgorithm(keyword: "null-sha2_256_96").integrity == .hmacSHA256_96)
        let ahAlgorithm = try AHAlgorithm(keyword: "sha256_96")
        #expect(ahAlgorithm.icvLength == 12)
        #expect(try AHAlgorithm(keyword: ahAlgorithm.keyword) == ahAlgorithm)
        // RFC 4868's keyword keeps its 128 bits.
        #expect(try AHAlgorithm(keyword: "sha256").icvLength == 16)
    }

    /// RFC 4231 test case 1: key 0x0b × 20, data "Hi There". HMAC pads a short key with zeros to the block size
    /// (RFC 2104 §2), so the 32-byte key 0x0b × 20 ‖ 0x00 × 12 gives the same MAC, and IPsec's fixed key length can
    /// be met.
    static let rfc4231Case1Key = bytes(0x0b, 20) + bytes(0, 12)
    static let rfc4231Case1MAC = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"

    @Test("RFC 4231 case 1 through NULL-encryption ESP: the first 96 bits")
    func rfc4231ThroughESP() throws {
        #expect(hexString(try Primitives.hmac(.sha256, key: bytes(0x0b, 20), data: ascii("Hi There")))
            == Self.rfc4231Case1MAC)
        let icv = try nullESPICV("null-sha256_96", key: Self.rfc4231Case1Key, message: ascii("Hi There"))
        #expect(hexString(icv) == "b0344c61d8db38535ca8afce")
        // The RFC 4868 transform over the same bytes keeps 128 bits of the same MAC.
        let full = try nullESPICV("null-sha256", key: Self.rfc4231Case1Key, message: ascii("Hi There"))
        #expect(hexString(full) == "b0344c61d8db38535ca8afceaf0bf12b")
    }

    @Test("RFC 4868 AUTH256-1 key through NULL-encryption ESP: the first 96 bits")
    func rfc4868KeyThroughESP() throws {
        let icv = try nullESPICV("null-sha256_96", key: bytes(0x0b, 32), message: ascii("Hi There"))
        #expect(hexString(icv) == "198a607eb44bfbc69903a0f1")
    }

    @Test("AH: the ICV is the 128-bit transform's, cut to 96 bits, and verifies")
    func throughAH() throws {
        let key = pattern(32, seed: 9)
        let short = try AHTransform(try AHAlgorithm(keyword: "sha256_96"), key: key)
        let long = try AHTransform(try AHAlgorithm(keyword: "sha256"), key: key)
        let prefix = pattern(20, seed: 1)
        let suffix = pattern(64, seed: 2)
        // The ICV field is zeroed for the computation, so the two differ in its length too: compare against the
        // full MAC over the 12-byte zeroed field instead.
        let icv = try computeAH(short, prefix: prefix, suffix: suffix)
        let expected = try Primitives.hmac(.sha256, key: key, data: prefix + bytes(0, 12) + suffix)
        #expect(icv == Array(expected.prefix(12)))
        #expect(try verifyAH(short, prefix: prefix, suffix: suffix, icv: icv))
        #expect(try computeAH(long, prefix: prefix, suffix: suffix).count == 16)
    }
}
