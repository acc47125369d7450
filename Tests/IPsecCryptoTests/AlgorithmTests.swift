import IPsecCrypto
import Testing

@Suite("Algorithms and keywords")
struct AlgorithmTests {
    @Test("Every ESP algorithm's keyword parses back to it", arguments: ESPAlgorithm.all)
    func espKeywordRoundTrip(_ algorithm: ESPAlgorithm) throws {
        #expect(try ESPAlgorithm(keyword: algorithm.keyword) == algorithm)
        #expect(try ESPAlgorithm(keyword: algorithm.keyword.uppercased()) == algorithm)
    }

    @Test("Every AH algorithm's keyword parses back to it", arguments: AHAlgorithm.all)
    func ahKeywordRoundTrip(_ algorithm: AHAlgorithm) throws {
        #expect(try AHAlgorithm(keyword: algorithm.keyword) == algorithm)
    }

    @Test("The representative list covers every algorithm and ICV length")
    func allCoversEverything() {
        let all = ESPAlgorithm.all
        #expect(Set(all).count == all.count, "no duplicates")
        let encryptions = Set(all.map { $0.encryption.keyword.filter { !$0.isNumber } })
        for kind in ["null", "aes", "aesctr", "des", "aesgcm", "aesccm", "chachapoly", "aesgmac", "aesgcmiiv",
                     "aesccmiiv", "chachapolyiiv"] {
            #expect(encryptions.contains(kind), "\(kind)")
        }
        let integrities = Set(all.map(\.integrity))
        for integrity: IntegrityAlgorithm in [.none, .hmacMD5_96, .hmacSHA1_96, .hmacSHA256_128, .hmacSHA384_192,
                                              .hmacSHA512_256, .aesXCBC96, .aesCMAC96] {
            #expect(integrities.contains(integrity), "\(integrity)")
        }
        for icv in [8, 12, 16] {
            #expect(all.contains { $0.encryption == .aesGCM(keyBits: 128, icvLength: icv) })
            #expect(all.contains { $0.encryption == .aesCCM(keyBits: 128, icvLength: icv) })
        }
        for bits in [128, 192, 256] {
            #expect(all.contains { $0.encryption == .aesGCM(keyBits: bits, icvLength: 16) })
            #expect(all.contains { $0.encryption == .nullAuthAESGMAC(keyBits: bits) })
            #expect(all.contains { $0.encryption == .aesCBC(keyBits: bits) })
            #expect(all.contains { $0.encryption == .aesCTR(keyBits: bits) })
        }
        #expect(AHAlgorithm.all.count == 10)
    }

    @Test("strongSwan spellings", arguments: [
        ("aes128gcm16", "aes128gcm16"), ("aes192gcm12", "aes192gcm12"), ("aes256gcm8", "aes256gcm8"),
        ("aes128gcm", "aes128gcm16"), ("aes128gcm128", "aes128gcm16"), ("aes128gcm96", "aes128gcm12"),
        ("aes128gcm64", "aes128gcm8"), ("aes128ccm16", "aes128ccm16"), ("aes128ccm12", "aes128ccm12"),
        ("aes128ccm8", "aes128ccm8"), ("chacha20poly1305", "chacha20poly1305"), ("aes128gmac", "aes128gmac"),
        ("aes192gmac", "aes192gmac"), ("aes256gmac", "aes256gmac"), ("aes128-sha1", "aes128-sha1"),
        ("aes256-sha256", "aes256-sha256"), ("aes128-sha384", "aes128-sha384"), ("aes128-sha512", "aes128-sha512"),
        ("aes128-md5", "aes128-md5"), ("aes128ctr-sha256", "aes128ctr-sha256"), ("3des-md5", "3des-md5"),
        ("3des-sha1", "3des-sha1"), ("null-sha256", "null-sha256"), ("aes128-aesxcbc", "aes128-aesxcbc"),
        ("aes128-aescmac", "aes128-aescmac"), ("aes128", "aes128"), ("aes256", "aes256"), ("aes", "aes128"),
        ("aes128gcm16iiv", "aes128gcm16iiv"), ("aes128ccm16iiv", "aes128ccm16iiv"),
        ("chacha20poly1305iiv", "chacha20poly1305iiv"), ("aes128-sha", "aes128-sha1"),
        ("aes256-sha2_256", "aes256-sha256"), ("AES128-SHA1", "aes128-sha1"),
    ])
    func spellings(_ keyword: String, _ canonical: String) throws {
        #expect(try ESPAlgorithm(keyword: keyword).keyword == canonical)
    }

    @Test("Unknown keywords are rejected", arguments: [
        "", "aes512", "aes128gcm10", "aes128gcm16-", "-sha1", "aes128-sha1-sha1", "blowfish", "aes128-sha3",
        "aes128-sha256_128", "aes128gmaciiv", "aes128iiv", "aes128ctriiv", "des-sha1", "aes128gcm16xx", "chacha20",
    ])
    func unknownKeyword(_ keyword: String) {
        #expect(throws: CryptoError.self) { try ESPAlgorithm(keyword: keyword) }
        do {
            _ = try ESPAlgorithm(keyword: keyword)
        } catch {
            #expect(error.code == .unknownAlgorithm)
            #expect(error.algorithm == keyword)
        }
    }

    @Test("Combinations the RFCs forbid", arguments: [
        "aes128gcm16-sha256", "chacha20poly1305-sha1", "aes128gmac-sha1", "aes128ccm8-aesxcbc",
        "aes128gcm16iiv-md5", "null",
    ])
    func forbidden(_ keyword: String) {
        do {
            _ = try ESPAlgorithm(keyword: keyword)
            Issue.record("\(keyword) was accepted")
        } catch {
            #expect(error.code == .forbiddenCombination, "\(error)")
        }
    }

    @Test("AH-only GMAC is not ESP integrity, and invalid parameters are refused")
    func invalidValues() {
        #expect(throws: CryptoError.self) {
            try ESPAlgorithm(encryption: .aesCBC(keyBits: 128), integrity: .aesGMAC(keyBits: 128))
        }
        #expect(throws: CryptoError.self) { try ESPAlgorithm(encryption: .aesCBC(keyBits: 64), integrity: .hmacSHA1_96) }
        #expect(throws: CryptoError.self) { try ESPAlgorithm(encryption: .aesGCM(keyBits: 128, icvLength: 4)) }
        #expect(throws: CryptoError.self) { try AHAlgorithm(.none) }
        #expect(throws: CryptoError.self) { try AHAlgorithm(.aesGMAC(keyBits: 100)) }
        #expect(throws: CryptoError.self) { try AHAlgorithm(keyword: "aes128gcm16") }
        #expect(throws: CryptoError.self) { try AHAlgorithm(keyword: "none") }
    }

    @Test("AH keywords")
    func ahKeywords() throws {
        let expected: [(String, IntegrityAlgorithm, Int, Int)] = [
            ("md5", .hmacMD5_96, 16, 12), ("sha1", .hmacSHA1_96, 20, 12), ("sha256", .hmacSHA256_128, 32, 16),
            ("sha384", .hmacSHA384_192, 48, 24), ("sha512", .hmacSHA512_256, 64, 32), ("aesxcbc", .aesXCBC96, 16, 12),
            ("aescmac", .aesCMAC96, 16, 12), ("aes128gmac", .aesGMAC(keyBits: 128), 20, 24),
            ("aes192gmac", .aesGMAC(keyBits: 192), 28, 24), ("aes256gmac", .aesGMAC(keyBits: 256), 36, 24),
        ]
        for (keyword, integrity, keyLength, icvLength) in expected {
            let algorithm = try AHAlgorithm(keyword: keyword)
            #expect(algorithm.integrity == integrity)
            #expect(algorithm.keyLength == keyLength, "\(keyword)")
            #expect(algorithm.icvLength == icvLength, "\(keyword)")
        }
    }

    @Test("Per-algorithm sizes (facts.md table)")
    func sizes() throws {
        // keyword: key material (key + salt), IV, block, ICV, confidentiality
        let table: [(String, Int, Int, Int, Int, Bool)] = [
            ("aes128gcm16", 20, 8, 4, 16, true), ("aes256gcm8", 36, 8, 4, 8, true), ("aes192ccm12", 27, 8, 4, 12, true),
            ("chacha20poly1305", 36, 8, 4, 16, true), ("aes128gmac", 20, 8, 4, 16, false),
            ("aes128gcm16iiv", 20, 0, 4, 16, true), ("aes128ccm8iiv", 19, 0, 4, 8, true),
            ("chacha20poly1305iiv", 36, 0, 4, 16, true), ("aes128", 16, 16, 16, 0, true),
            ("aes256ctr", 36, 8, 4, 0, true), ("3des", 24, 8, 8, 0, true), ("null-sha256", 0, 0, 4, 16, false),
            ("aes128-sha1", 16, 16, 16, 12, true), ("aes128-sha512", 16, 16, 16, 32, true),
            ("aes128-aesxcbc", 16, 16, 16, 12, true),
        ]
        for (keyword, keyMaterial, iv, block, icv, confidential) in table {
            let algorithm = try ESPAlgorithm(keyword: keyword)
            #expect(algorithm.encryptionKeyLength == keyMaterial, "\(keyword)")
            #expect(algorithm.ivLength == iv, "\(keyword)")
            #expect(algorithm.blockSize == block, "\(keyword)")
            #expect(algorithm.icvLength == icv, "\(keyword)")
            #expect(algorithm.encryption.providesConfidentiality == confidential, "\(keyword)")
        }
        #expect(try ESPAlgorithm(keyword: "aes128").isConfidentialityOnly)
        #expect(try ESPAlgorithm(keyword: "3des").isConfidentialityOnly)
        #expect(try !ESPAlgorithm(keyword: "aes128-sha1").isConfidentialityOnly)
        #expect(try !ESPAlgorithm(keyword: "aes128gcm16").isConfidentialityOnly)
        #expect(try ESPAlgorithm(keyword: "aes128gcm16").encryption.isCombinedMode)
        #expect(try !ESPAlgorithm(keyword: "aes128-sha1").encryption.isCombinedMode)
        #expect(EncryptionAlgorithm.aesCCM(keyBits: 128, icvLength: 16).saltLength == 3)
        #expect(IntegrityAlgorithm.aesGMAC(keyBits: 256).saltLength == 4)
    }

    @Test("Error messages are one clear line")
    func messages() throws {
        do {
            _ = try ESPTransform(try ESPAlgorithm(keyword: "aes128gcm16"), encryptionKey: bytes(1, 16), integrityKey: [])
            Issue.record("accepted a key without salt")
        } catch {
            #expect(error.description == "aes128gcm16: key is 16 bytes, needs 20 (16 key + 4 salt)")
            #expect(error == CryptoError(.badKeyLength, algorithm: "aes128gcm16", reason: "anything"))
        }
        do {
            _ = try ESPAlgorithm(keyword: "aes128gcm16-sha256")
        } catch {
            #expect(!error.description.contains("\n"))
            #expect(error.description.hasPrefix("aes128gcm16-sha256: "))
        }
    }

    @Test("OpenSSL version is reported")
    func version() {
        #expect(CryptoBackend.openSSLVersion.hasPrefix("OpenSSL 3"))
    }
}
