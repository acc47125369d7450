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

    /// The per-packet bench: both limits and both data planes by default, typed JSON, null (never a number) where
    /// libipsec-mb does not run the transform, and `--backend` choosing the data planes.
    @Test func perPacketBenchShowsBothLimitsAndBothBackends() throws {
        let r = try Tool.run(["bench", "--modes", "tunnel-esp", "--algorithms", "aes128gcm16,aes192ccm16", "--sizes", "64",
                              "--seconds", "0.002", "--rounds", "1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let objects = try r.stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
        }
        #expect(objects.count == 4, "\(r.stdout)")  // 2 algorithms × encap, decap
        let numbers = ["packets_per_second", "bytes_per_second", "limit_bytes_per_second", "ratio_to_limit",
                       "allocations_per_packet", "ratio_to_faster_limit"]
        let libraryNumbers = ["ipsec_mb_limit_bytes_per_second", "ipsec_mb_packets_per_second",
                              "ipsec_mb_bytes_per_second", "ipsec_mb_ratio_to_faster_limit",
                              "ipsec_mb_allocations_per_packet"]
        for o in objects {
            #expect(o.count == 16, "\(o)")
            #expect(o["mode"] as? String == "tunnel-esp" && o["size"] as? Int == 64)
            for key in numbers { #expect(o[key] is NSNumber, "\(key): \(o)") }
            let gcm = o["algorithm"] as? String == "aes128gcm16"
            for key in libraryNumbers {
                // AES-192-CCM is not in libipsec-mb: its cells say so.
                #expect(gcm ? o[key] is NSNumber : o[key] is NSNull, "\(key): \(o)")
            }
            #expect(gcm ? o["faster_limit"] as? String != nil : o["faster_limit"] as? String == "openssl", "\(o)")
            for key in numbers + libraryNumbers {
                if let n = o[key] as? NSNumber { #expect(n.doubleValue >= 0, "\(key): \(o)") }
            }
        }
        // One data plane: the other's fields are null, both limits still measured.
        let one = try Tool.run(["bench", "--modes", "tunnel-esp", "--algorithms", "aes128gcm16", "--sizes", "64",
                                "--seconds", "0.002", "--rounds", "1", "--direction", "encap", "--json",
                                "--backend", "ipsec-mb"])
        #expect(one.status == 0, "\(one.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as? [String: Any])
        #expect(o["packets_per_second"] is NSNull && o["allocations_per_packet"] is NSNull, "\(o)")
        #expect(o["limit_bytes_per_second"] is NSNumber && o["ipsec_mb_limit_bytes_per_second"] is NSNumber, "\(o)")
        #expect(o["ipsec_mb_packets_per_second"] is NSNumber, "\(o)")
        // The table shows only the data plane asked for.
        let table = try Tool.run(["bench", "--modes", "tunnel-esp", "--algorithms", "aes128gcm16", "--sizes", "64",
                                  "--seconds", "0.002", "--rounds", "1", "--backend", "openssl"])
        #expect(table.status == 0, "\(table.stderr)")
        let heading = table.stdout.split(separator: "\n").first ?? ""
        #expect(heading.contains("libipsec-mb limit MB/s") && heading.contains("OpenSSL packets/s"), "\(heading)")
        #expect(!heading.contains("libipsec-mb packets/s"), "\(heading)")
    }

    @Test(arguments: [["--backend", "boringssl"], ["--backend", "OpenSSL"], ["--backend", ""]])
    func benchBackendBadValueIsOneLine(_ arguments: [String]) throws {
        let r = try Tool.run(["bench", "--seconds", "0.001"] + arguments)
        expectOneLineError(r, mentioning: "--backend")
        #expect(r.stdout.isEmpty, "\(r.stdout)")
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
