import Foundation
import Testing

/// The built tool: beside the test bundle in the build folder, or where IPSECLAB_BIN says.
let toolBinary: URL = {
    if let explicit = ProcessInfo.processInfo.environment["IPSECLAB_BIN"] { return URL(fileURLWithPath: explicit) }
    return URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        .appendingPathComponent("ipsec-lab")
}()

/// `ipsec-lab overhead` and `ipsec-lab report` end to end, through the built tool.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: toolBinary.path)))
struct CommandLineTests {
    static var binary: URL { toolBinary }

    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = binary
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        final class Box: @unchecked Sendable { var data = Data() }
        let box = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            box.data = out.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: box.data, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    @Test func overheadJSONLines() throws {
        let r = try Self.run(["overhead", "--ip", "4", "--sizes", "100", "--modes", "tunnel-esp",
                              "--algorithms", "aes128-sha1", "--format", "json"])
        #expect(r.status == 0)
        #expect(r.stderr.isEmpty)
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 1)
        let object = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        #expect(object?["total"] as? Int == 168)
        #expect(object?["padding"] as? Int == 10)
        #expect(object?["mode"] as? String == "tunnel-esp")
    }

    @Test func overheadSummaryForAnMTU() throws {
        let r = try Self.run(["overhead", "--ip", "6", "--mtu", "1300", "--modes", "tunnel-esp",
                              "--algorithms", "aes128gcm12", "--format", "csv"])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[1].hasSuffix(",1300,1230"))
    }

    @Test func overheadCompressedTunnelWithAFieldList() throws {
        let r = try Self.run(["overhead", "--ip", "4", "--sizes", "100", "--modes", "tunnel-esp-hc[source,destination]",
                              "--algorithms", "aes128gcm16", "--traffic", "host-to-host", "--format", "csv"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("tunnel-esp-hc,addresses,host-to-host,false,4,aes128gcm16,100,"))
    }

    @Test(arguments: [
        (["overhead", "--ip", "5"], "--ip"),
        (["overhead", "--modes", "tunnel-esq"], "tunnel-esq"),
        (["overhead", "--algorithms", "rot13"], "rot13"),
        (["overhead", "--sizes", "10"], "size 10"),
        (["overhead", "--format", "xml"], "xml"),
        (["report", "--quick", "--full"], "exclude"),
    ])
    func unusableInputIsOneLine(_ arguments: [String], _ needle: String) throws {
        let r = try Self.run(arguments)
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.contains(needle), "\(r.stderr)")
    }

    @Test func reportQuick() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ipsec-lab-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Self.run(["report", "--quick", "--out", dir.path])
        #expect(r.status == 0)
        #expect(r.stderr.isEmpty, "progress must stay off stderr when it is not a terminal")
        #expect(r.stdout.contains("index.html"))
        for file in ["index.html", "report.md", "data/overhead.csv", "data/self-check.csv", "charts/modes-imix.svg"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(file).path), "\(file)")
        }
    }
}
