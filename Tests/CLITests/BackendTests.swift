import Foundation
import Testing

/// `--backend openssl|ipsec-mb` as a user runs it: the same bytes from both, every conformance vector passing on
/// libipsec-mb, the library named by `--version`, one clear line for a wrong value.
@Suite struct BackendTests {
    static let sample = Tool.root.appendingPathComponent("corpora/captures/sample.pcap").path

    static func saFile(_ keyword: String, mode: String, encryptionKey: String, integrityKey: String?,
                       in dir: URL) throws -> String {
        let integrity = integrityKey.map { ", \"integrity_key\": \"\($0)\"" } ?? ""
        let text = """
            {"associations": [{"protocol": "esp", "spi": "0x7001", "mode": "\(mode)", "source": "192.0.2.1",
             "destination": "198.51.100.1", "algorithm": "\(keyword)", "encryption_key": "\(encryptionKey)"\(integrity)}]}
            """
        let url = dir.appendingPathComponent("\(keyword)-\(mode).json")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func versionNamesTheLibrary() throws {
        let r = try Tool.run(["--version"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("libipsec-mb 1."), "\(r.stdout)")
    }

    @Test func everyVectorPassesOnLibIPsecMB() throws {
        let r = try Tool.run(["vectors", "verify", Tool.root.appendingPathComponent("vectors").path,
                              "--backend", "ipsec-mb"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains(", 0 failed"), "\(r.stdout)")
    }

    @Test(arguments: [("aes128gcm16", "tunnel", "000102030405060708090a0b0c0d0e0f01020304", nil),
                      ("aes256-sha256", "tunnel",
                       "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f",
                       "0f0e0d0c0b0a09080706050403020100000102030405060708090a0b0c0d0e0f"),
                      ("chacha20poly1305", "tunnel",
                       "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0fa0a1a2a3", nil)] as [(String, String, String, String?)])
    func bothBackendsWriteTheSameBytes(_ keyword: String, _ mode: String, _ key: String, _ integrity: String?) throws {
        let dir = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sa = try Self.saFile(keyword, mode: mode, encryptionKey: key, integrityKey: integrity, in: dir)
        var protected: [Data] = []
        for backend in ["openssl", "ipsec-mb"] {
            let out = dir.appendingPathComponent("enc-\(backend).pcap").path
            let r = try Tool.run(["encap", "--sa", sa, "--in", Self.sample, "--out", out, "--seed", "5",
                                  "--backend", backend])
            #expect(r.status == 0, "\(r.stderr)")
            protected.append(try Data(contentsOf: URL(fileURLWithPath: out)))
        }
        #expect(protected[0] == protected[1], "encap output differs between the backends")
        var opened: [Data] = []
        var summaries: [String] = []
        for backend in ["openssl", "ipsec-mb"] {
            let out = dir.appendingPathComponent("dec-\(backend).pcap").path
            let r = try Tool.run(["decap", "--sa", sa, "--in", dir.appendingPathComponent("enc-openssl.pcap").path,
                                  "--out", out, "--backend", backend])
            #expect(r.status == 0, "\(r.stderr)")
            // The sample's own IPsec packets come out of the tunnel and meet no SA of theirs: no-sa, not integrity.
            #expect(!r.stdout.contains("integrity"), "\(r.stdout)")
            summaries.append(r.stdout)
            opened.append(try Data(contentsOf: URL(fileURLWithPath: out)))
        }
        #expect(summaries[0] == summaries[1])
        #expect(opened[0] == opened[1], "decap output differs between the backends")
        #expect(opened[0].count > 24, "nothing decapsulated")
    }

    @Test func burstBenchShowsBothLimitsAndBothBackends() throws {
        let r = try Tool.run(["bench", "--burst", "4", "--algorithms", "aes128gcm16,aes128-sha1", "--sizes", "64",
                              "--seconds", "0.01", "--rounds", "1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 4, "\(r.stdout)")  // 2 algorithms × encap, decap
        for line in lines {
            for field in ["\"openssl_limit_pps\":", "\"ipsec_mb_limit_pps\":", "\"burst_openssl_pps\":",
                          "\"burst_ipsec_mb_pps\":"] {
                #expect(line.contains(field), "\(line)")
            }
            #expect(!line.contains("null,\"burst"), "a measurement is missing: \(line)")
        }
        let bad = try Tool.run(["bench", "--burst", "0"])
        expectOneLineError(bad, mentioning: "--burst")
    }

    @Test func unknownBackendIsOneLine() throws {
        let dir = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sa = try Self.saFile("aes128gcm16", mode: "tunnel", encryptionKey: "000102030405060708090a0b0c0d0e0f01020304",
                                 integrityKey: nil, in: dir)
        let r = try Tool.run(["encap", "--sa", sa, "--in", Self.sample, "--out", dir.appendingPathComponent("x.pcap").path,
                              "--backend", "boringssl"])
        expectOneLineError(r, mentioning: "--backend")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("x.pcap").path))
    }
}
