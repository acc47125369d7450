import Foundation
import IPsecAnalysis
import IPsecCore
import IPsecCrypto
import IPsecWire
import Testing

// `ipsec-lab bench` as a library: the shape of its rows and the allocation counter behind them. Nothing here asserts
// a time: rates are only required to be measured (positive); allocation counts are counts.

/// A very short run: one window of 2 ms per measurement.
private func quickQuery(modes: [OverheadMode] = BenchQuery.defaultModes, algorithms: [String],
                        sizes: [Int] = [64, 1400]) throws -> BenchQuery {
    var q = BenchQuery()
    q.modes = modes
    q.algorithms = try OverheadQuery.parseAlgorithms(algorithms)
    q.sizes = sizes
    q.seconds = 0.002
    q.rounds = 1
    return q
}

@Suite("Bench")
struct BenchTests {
    @Test("The allocation counter counts real allocations and nothing else")
    func counterCounts() {
        #expect(Bench.countsAllocations, "this build cannot count allocations (a sanitizer owns malloc)")
        final class Node { var next: Node?; init(_ next: Node?) { self.next = next } }
        var before = Bench.threadAllocations
        var list: Node?
        for _ in 0..<100 { list = Node(list) }
        let counted = Bench.threadAllocations - before
        #expect(counted >= 100, "100 class instances counted as \(counted) allocations")
        withExtendedLifetime(list) {}
        var sum = 0
        before = Bench.threadAllocations
        for i in 0..<10_000 { sum &+= i &* i }
        #expect(Bench.threadAllocations - before == 0)
        #expect(sum != 0)
    }

    @Test("The raw crypto limit allocates nothing per packet and opens what it sealed",
          arguments: ["aes128gcm16", "chacha20poly1305", "aes128-sha256", "aes128ccm16", "aes128gmac", "null-aesxcbc",
                      "aes256-sha512", "3des-md5", "aes128ctr-aescmac"])
    func limitIsAllocationFree(_ keyword: String) throws {
        let a = try ESPAlgorithm(keyword: keyword)
        let limit = try TransformLimit(a, encryptionKey: (0..<a.encryptionKeyLength).map { UInt8($0 &* 7 &+ 1) },
                                       integrityKey: (0..<a.integrityKeyLength).map { UInt8($0 &* 3 &+ 2) })
        let length = 1408  // a whole number of blocks for every cipher
        var plain = (0..<length).map { UInt8(truncatingIfNeeded: $0) }
        let original = plain
        var icv = [UInt8](repeating: 0, count: limit.icvLength)
        var opened = [UInt8](repeating: 0, count: length)
        var before: UInt64 = 0, after: UInt64 = 0
        var verified = false
        try plain.withUnsafeMutableBytes { p in
            try icv.withUnsafeMutableBytes { i in
                try opened.withUnsafeMutableBytes { o in
                    try limit.seal(p, icv: i)  // warm
                    before = Bench.threadAllocations
                    for _ in 0..<10 { try limit.seal(p, icv: i) }
                    after = Bench.threadAllocations
                }
            }
        }
        // Sealing in place ten more times changed the buffer; open the last state and check the ICV.
        try plain.withUnsafeBytes { p in
            try icv.withUnsafeBytes { i in
                try opened.withUnsafeMutableBytes { o in verified = try limit.open(p, icv: i, into: o) }
            }
        }
        #expect(after - before == 0, "\(keyword): \(after - before) allocations in 10 seals")
        #expect(verified, "\(keyword): the limit did not verify its own ICV")
        if a.encryption.providesConfidentiality { #expect(plain != original, "\(keyword) did not encrypt") }
        icv[0] ^= 1
        let forged = try plain.withUnsafeBytes { p in
            try icv.withUnsafeBytes { i in try opened.withUnsafeMutableBytes { o in try limit.open(p, icv: i, into: o) } }
        }
        #expect(!forged, "\(keyword): a flipped ICV bit verified")
    }

    @Test("JSON rows carry exactly the issue's fields, for every mode and direction")
    func jsonShape() throws {
        let rows = try Bench.run(try quickQuery(algorithms: ["aes128gcm16", "null-sha256", "sha256"]))
        let lines = Bench.jsonTable(rows).jsonLines.split(separator: "\n")
        #expect(lines.count == rows.count)
        let fields: Set<String> = ["mode", "algorithm", "size", "direction", "packets_per_second", "bytes_per_second",
                                   "limit_bytes_per_second", "ratio_to_limit", "allocations_per_packet"]
        var seen = Set<String>()
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(Set(object.keys) == fields, "\(line)")
            let mode = try #require(object["mode"] as? String)
            let direction = try #require(object["direction"] as? String)
            seen.insert("\(mode) \(direction)")
            for key in ["packets_per_second", "bytes_per_second", "limit_bytes_per_second", "ratio_to_limit"] {
                let value = try #require((object[key] as? NSNumber)?.doubleValue, "\(key) in \(line)")
                #expect(value > 0, "\(key) in \(line)")
            }
            let allocations = try #require((object["allocations_per_packet"] as? NSNumber)?.doubleValue)
            #expect(allocations >= 0)
            let size = try #require(object["size"] as? Int)
            let pps = try #require((object["packets_per_second"] as? NSNumber)?.doubleValue)
            let bps = try #require((object["bytes_per_second"] as? NSNumber)?.doubleValue)
            #expect(abs(bps - pps * Double(size)) <= Double(size), "bytes/s is packets/s × size: \(line)")
        }
        for mode in BenchQuery.defaultModes {
            for direction in BenchDirection.allCases {
                #expect(seen.contains("\(mode.label) \(direction)"), "no row for \(mode.label) \(direction)")
            }
        }
        #expect(BenchQuery.defaultModes.count == OverheadMode.Matrix.allCases.count)
    }

    @Test("Allocations per packet are counted in steady state: the same at every packet size")
    func allocationsDoNotGrowWithSize() throws {
        // In a release build every mode counts 0 (the package-benchmark suite holds that threshold,
        // Benchmarks/README.md). This debug test checks the measurement itself: the count is per packet, stable, and
        // does not depend on how many bytes the packet carries.
        let rows = try Bench.run(try quickQuery(modes: [OverheadMode(.tunnelESP)!, OverheadMode(.transportAH)!],
                                                algorithms: ["aes128gcm16", "sha256"], sizes: [64, 1400, 9000]))
        #expect(rows.count == 2 * 3 * 2)
        for direction in BenchDirection.allCases {
            for mode in ["tunnel-esp", "transport-ah"] {
                let counts = Set(rows.filter { $0.mode.label == mode && $0.direction == direction }
                    .map { $0.allocationsPerPacket ?? -1 })
                #expect(counts.count == 1, "\(mode) \(direction): \(counts)")
                #expect(counts.allSatisfy { $0 >= 0 && $0 == $0.rounded() }, "\(mode) \(direction): \(counts)")
            }
        }
    }

    @Test("A second backend's limit gets its own columns after the issue's fields")
    func extraLimitColumns() {
        let row = BenchRow(mode: OverheadMode(.tunnelESP)!, algorithm: .esp(try! ESPAlgorithm(keyword: "aes128gcm16")),
                           size: 1400, direction: .encap, packetsPerSecond: 100, bytesPerSecond: 140_000,
                           limits: [BenchLimit(backend: "openssl", packetsPerSecond: 200, bytesPerSecond: 280_000),
                                    BenchLimit(backend: "ipsec-mb", packetsPerSecond: 400, bytesPerSecond: 560_000)],
                           allocationsPerPacket: 0)
        #expect(row.ratioToLimit == 0.5)
        #expect(row.ratio(to: 1) == 0.25)
        let table = Bench.jsonTable([row])
        #expect(table.columns.map(\.key).suffix(2) == ["ipsec-mb_limit_bytes_per_second", "ipsec-mb_ratio_to_limit"])
        #expect(table.jsonLines.contains("\"ratio_to_limit\":0.5"))
    }

    @Test("Bad queries are refused with a reason")
    func badQueries() throws {
        var q = try quickQuery(algorithms: ["aes128gcm16"])
        q.sizes = [10]
        #expect(throws: AnalysisError.self) { try Bench.run(q) }
        q.sizes = [64]
        q.seconds = 0
        #expect(throws: AnalysisError.self) { try Bench.run(q) }
        q.seconds = 0.001
        q.modes = [OverheadMode(.transportAH)!]
        #expect(throws: AnalysisError.self) { try Bench.run(q) }  // AH takes no aes128gcm16
    }
}

/// `ipsec-lab bench` end to end, through the built tool.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: toolBinary.path)))
struct BenchCommandTests {
    @Test func jsonLinesFromTheTool() throws {
        let r = try CommandLineTests.run(["bench", "--modes", "tunnel-esp,transport-ah", "--algorithms",
                                          "aes128gcm16,sha256", "--sizes", "64", "--seconds", "0.001", "--rounds", "1",
                                          "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 4)  // two cells, one size, two directions
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object.count == 9, "\(line)")
            #expect((object["ratio_to_limit"] as? NSNumber).map { $0.doubleValue > 0 } == true, "\(line)")
        }
        let table = try CommandLineTests.run(["bench", "--modes", "tunnel-esp", "--algorithms", "aes128gcm16",
                                              "--sizes", "1400", "--seconds", "0.001", "--rounds", "1"])
        #expect(table.status == 0)
        #expect(table.stdout.hasPrefix("| mode | algorithm | size (B) | direction | packets/s |"))
        #expect(table.stdout.split(separator: "\n").count == 4)  // heading, rule, encap, decap
    }

    @Test(arguments: [["--sizes", "10"], ["--direction", "sideways"], ["--modes", "tunnel-esp-xl"],
                      ["--algorithms", "rot13"], ["--seconds", "0"], ["--rounds", "0"]])
    func badArgumentsGiveOneLine(_ arguments: [String]) throws {
        let r = try CommandLineTests.run(["bench", "--seconds", "0.001"] + arguments)
        #expect(r.status != 0)
        #expect(r.stdout.isEmpty, "\(r.stdout)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(!r.stderr.contains("Fatal error"))
    }
}
