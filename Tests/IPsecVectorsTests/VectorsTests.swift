import Foundation
@testable import IPsecVectors
import IPsecCore
import Testing

/// The package root, from this file's path (Tests/IPsecVectorsTests/VectorsTests.swift).
let packageRoot: String = {
    var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()
let committed = packageRoot + "/vectors"

@Suite struct VectorsTests {
    @Test func committedVectorsVerifyWithoutFailure() throws {
        let report = try VerificationReport.verify(paths: [committed])
        for f in report.failures.prefix(20) { Issue.record("\(f.file) tcId \(f.tcId) (\(f.comment)): \(f.reason)") }
        #expect(report.failed == 0)
        #expect(report.total > 1000)
        for mode in ["transport-ah", "transport-esp", "transport-esp-null", "tunnel-ah", "tunnel-esp",
                     "tunnel-esp-null", "tunnel-esp-hc", "transform"] {
            #expect((report.byMode[mode]?.total ?? 0) > 0, "\(mode)")
        }
    }

    @Test func generationAgreesWithIPsecLabAndRegeneratesTheCommittedFiles() throws {
        let output = try VectorGenerator().generate()
        for d in output.disagreements.prefix(20) { Issue.record(Comment(rawValue: d)) }
        #expect(output.disagreements.isEmpty)
        let onDisk = try FileSystem.list(committed, suffix: ".json")
        #expect(onDisk == output.files.map(\.path), "the committed file list differs from the generated one")
        for (path, text) in output.files {
            let bytes = try FileSystem.readAll(committed + "/" + path, limit: 1 << 26).get()
            #expect(bytes == Array(text.utf8), "\(path) differs from what `vectors generate` writes")
        }
    }

    @Test func generationIsDeterministicAndSeeded() throws {
        let a = try VectorGenerator(seed: 7).generate().files
        let b = try VectorGenerator(seed: 7).generate().files
        #expect(a.map(\.text) == b.map(\.text))
        let c = try VectorGenerator(seed: 8).generate().files
        #expect(a.map(\.text) != c.map(\.text))
    }

    /// Verification can fail: one flipped expected byte, outbound or inbound, is reported as a failure.
    @Test func aCorruptedVectorFails() throws {
        let path = "tunnel-esp/aes128gcm16.json"
        let bytes = try FileSystem.readAll(committed + "/" + path, limit: 1 << 26).get()
        guard case .packets(var file) = try VectorReader.parse(bytes, origin: path) else {
            Issue.record("not a packet file")
            return
        }
        let g = 0
        let outboundIndex = file.groups[g].tests.firstIndex { $0.direction == .outbound }!
        let inboundIndex = file.groups[g].tests.firstIndex { $0.direction == .inbound && $0.result == .valid }!
        file.groups[g].tests[outboundIndex].output![30] ^= 0x01
        file.groups[g].tests[inboundIndex].output![25] ^= 0x01
        guard case .packets(let reread) = try VectorReader.parse(Array(file.text.utf8), origin: "corrupted") else {
            return
        }
        var report = VerificationReport()
        report.add(.packets(reread), origin: "corrupted")
        #expect(report.failed == 2)
        #expect(Set(report.failures.map(\.tcId)) == [file.groups[g].tests[outboundIndex].tcId,
                                                     file.groups[g].tests[inboundIndex].tcId])
        // An expected drop reason that is wrong fails too.
        var wrongReason = file
        let dropIndex = wrongReason.groups[g].tests.firstIndex { $0.dropReason == .integrity }!
        wrongReason.groups[g].tests[dropIndex].dropReason = .padding
        var report2 = VerificationReport()
        report2.add(.packets(wrongReason), origin: "wrong")
        #expect(report2.failed == 3)
    }

    static let minimal = """
        {"schema": "ipseclab-vectors-1", "mode": "tunnel-esp", "algorithm": "aes128gcm16", "numberOfTests": 1,
         "notes": {"Normal": "An ordinary packet."},
         "testGroups": [{"comment": "g", "sa": {"protocol": "esp", "spi": "0x00001000", "mode": "tunnel",
           "source": "192.0.2.1", "destination": "198.51.100.2", "algorithm": "aes128gcm16",
           "encryption_key": "0x000102030405060708090a0b0c0d0e0f10111213", "replay_window": 32, "replay_sequence": 0,
           "ip": 4, "replay": {"window": 32, "highest": 0}},
           "tests": [{"tcId": 1, "comment": "c", "flags": ["Normal"], "direction": "inbound", "sequence": null,
                      "input": "4500", "output": null, "dropReason": "malformed", "result": "invalid"}]}]}
        """

    @Test func theMinimalFileReads() throws {
        let file = try VectorReader.parse(Array(Self.minimal.utf8), origin: "minimal.json")
        #expect(file.numberOfTests == 1)
        var report = VerificationReport()
        report.add(file, origin: "minimal.json")
        #expect(report.failed == 0)
    }

    @Test(arguments: [
        ("{", "not JSON"),
        ("[]", "must be an object"),
        (minimal.replacingOccurrences("ipseclab-vectors-1", "ipseclab-vectors-9"), "schema"),
        (minimal.replacingOccurrences("\"numberOfTests\": 1", "\"numberOfTests\": 2"), "numberOfTests"),
        (minimal.replacingOccurrences("\"4500\"", "\"45g0\""), "hex"),
        (minimal.replacingOccurrences("\"malformed\"", "\"broken\""), "not a drop reason"),
        (minimal.replacingOccurrences("\"flags\": [\"Normal\"]", "\"flags\": [\"Odd\"]"), "notes"),
        (minimal.replacingOccurrences("\"comment\": \"c\", ", ""), "missing key \"comment\""),
        (minimal.replacingOccurrences("0x000102030405060708090a0b0c0d0e0f10111213", "0x0001"), "key"),
        (minimal.replacingOccurrences("\"ip\": 4", "\"ip\": 6"), "ip"),
        (minimal.replacingOccurrences("\"highest\": 0", "\"highest\": 5"), "replay"),
        (minimal.replacingOccurrences("\"result\": \"invalid\"", "\"result\": \"valid\""), "valid inbound"),
        (minimal.replacingOccurrences("\"tcId\": 1", "\"tcId\": 1, \"extra\": 0"), "unknown key"),
    ])
    func malformedFilesAreRefusedWithOneLine(_ text: String, _ expected: String) {
        do {
            _ = try VectorReader.parse(Array(text.utf8), origin: "bad.json")
            Issue.record("accepted: \(expected)")
        } catch {
            #expect(error.message.hasPrefix("bad.json"), "\(error.message)")
            #expect(error.message.contains(expected), "\(error.message)")
            #expect(!error.message.contains("\n"), "\(error.message)")
        }
    }

    @Test func unreadableFileIsOneError() {
        #expect(throws: VectorError.self) { try VerificationReport.verify(paths: ["/nonexistent/x.json"]) }
    }

    @Test func wiresharkNamesAreWireshark40s() throws {
        let sa = SAConfiguration(protocol: .esp, spi: 0x1234, mode: .tunnel, source: IPAddressText.a,
                                 destination: IPAddressText.b, algorithm: .esp(try .init(keyword: "aes128-sha1")),
                                 encryptionKey: [UInt8](repeating: 1, count: 16),
                                 integrityKey: [UInt8](repeating: 2, count: 20))
        #expect(VectorExporter.wiresharkLine(sa) == "\"IPv4\",\"192.0.2.1\",\"198.51.100.2\",\"0x00001234\","
                + "\"AES-CBC [RFC3602]\",\"0x01010101010101010101010101010101\",\"HMAC-SHA-1-96 [RFC2404]\","
                + "\"0x0202020202020202020202020202020202020202\"")
    }
}

import IPsecWire

enum IPAddressText {
    static let a = IPAddress("192.0.2.1")!
    static let b = IPAddress("198.51.100.2")!
}

extension String {
    func replacingOccurrences(_ a: String, _ b: String) -> String {
        var out = ""
        var rest = Substring(self)
        while let r = rest.range(of: a) {
            out += rest[..<r.lowerBound]
            out += b
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
