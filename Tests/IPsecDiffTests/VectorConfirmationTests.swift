import Foundation
@testable import IPsecDiff
import IPsecVectors
import Testing

/// The issue's "every generated case that scapy or tshark can process is confirmed by them": all of vectors/, each
/// case the oracle can process (positives opened to the expected packet, integrity and unknown-SPI negatives
/// rejected), the rest counted as skipped with the reason. Both runs take seconds, so the whole set runs here.
@Suite(.serialized) struct VectorConfirmationTests {
    static let vectors: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/") + "/vectors"
    }()

    /// Every case of vectors/, counted from the files themselves.
    static func total() throws -> Int {
        let files = FileManager.default.enumerator(atPath: vectors)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".json") }
        return try files.reduce(0) { $0 + (try VectorReader.load(path: vectors + "/" + $1)).numberOfTests }
    }

    @Test func scapyConfirmsEveryVectorItCanProcess() throws {
        let report = try VectorConfirmation.run(oracle: .scapy, directory: Self.vectors)
        for f in report.failures.prefix(20) { Issue.record(Comment(rawValue: f)) }
        #expect(report.failures.isEmpty)
        #expect(report.checked == report.confirmed)
        #expect(report.checked > 2500)
        #expect(report.considered == (try Self.total()))  // every case is either checked or skipped with a reason
        #expect(report.oracleBugs["scapy#4903", default: 0] > 0)
        // Every mode scapy implements, ESP and AH, IPv4 and IPv6 groups alike, is among the checked files.
        for mode in ["transport-esp/", "tunnel-esp/", "transport-esp-null/", "tunnel-esp-null/", "transport-ah/", "tunnel-ah/"] {
            #expect(report.checkedByFile.keys.contains { $0.hasPrefix(mode) }, "\(mode)")
        }
    }

    @Test func tsharkConfirmsEveryVectorItCanProcess() throws {
        let report = try VectorConfirmation.run(oracle: .tshark, directory: Self.vectors)
        for f in report.failures.prefix(20) { Issue.record(Comment(rawValue: f)) }
        #expect(report.failures.isEmpty)
        #expect(report.checked == report.confirmed)
        #expect(report.checked > 1000)
        #expect(report.considered == (try Self.total()))
        for mode in ["transport-esp/", "tunnel-esp/", "transport-esp-null/", "tunnel-esp-null/"] {
            #expect(report.checkedByFile.keys.contains { $0.hasPrefix(mode) }, "\(mode)")
        }
        #expect(!report.checkedByFile.keys.contains { $0.contains("-ah/") })
    }

    /// The check can fail: a vector whose expected packet is wrong is not confirmed.
    @Test func aCorruptedVectorIsNotConfirmed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ipsec-lab-vc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = Self.vectors + "/tunnel-esp/aes128-sha1.json"
        var text = try String(contentsOfFile: source, encoding: .utf8)
        // Flip the last hex digit of every expected output: each positive case now expects a wrong plaintext.
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var changed = 0
        for i in lines.indices {
            guard let start = lines[i].range(of: "\"output\": \"")?.upperBound,
                  let end = lines[i][start...].firstIndex(of: "\""), end > start else { continue }
            let digit = lines[i].index(before: end)
            lines[i].replaceSubrange(digit...digit, with: lines[i][digit] == "0" ? "1" : "0")
            changed += 1
        }
        text = lines.joined(separator: "\n")
        try text.write(to: dir.appendingPathComponent("aes128-sha1.json"), atomically: true, encoding: .utf8)
        #expect(changed > 10)
        let report = try VectorConfirmation.run(oracle: .scapy, directory: dir.path)
        #expect(report.checked > 0)
        #expect(report.failures.count > 10)
    }
}
