import Foundation
import IPsecFuzz
import Testing

/// The supervisor survives what it is there for: a trap, a hang and a memory blow-up in the worker. Each is saved,
/// minimised to the five bytes that cause it, and the campaign completes. Runs the built `ipsec-lab`.
@Suite(.serialized) struct SupervisorTests {
    struct Summary: Decodable {
        var target: String
        var executions: Int
        var executions_per_second: Double
        var crashes: Int
        var corpus_size: Int
        var seed: UInt64
        var reproducers: [Reproducer]
    }

    struct Reproducer: Decodable {
        var identifier: String
        var kind: String
        var signature: String
        var reproducer: String
        var size: Int
    }

    func summary(_ r: ToolResult) throws -> Summary {
        #expect(r.status == 0, "stderr: \(r.stderr)")
        return try JSONDecoder().decode(Summary.self, from: Data(r.stdout.utf8))
    }

    @Test func aTrapIsSavedMinimisedAndSurvived() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let crashes = dir.appendingPathComponent("crashes").path
        let r = try runTool(["fuzz", "--target", "selftest-crash", "--runs", "1500", "--seed", "1", "--crashes", crashes,
                             "--json"])
        let s = try summary(r)
        #expect(s.target == "selftest-crash")
        #expect(s.seed == 1)
        #expect(s.executions >= 1500, "the campaign went on after the crash")
        #expect(s.crashes == 1, "one crash, however often it was hit: \(s.reproducers)")
        let c = try #require(s.reproducers.first)
        #expect(c.kind == "SIGILL" || c.kind == "SIGTRAP", "\(c.kind)")
        #expect(c.signature.contains("planted crash"), "\(c.signature)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: c.reproducer)) == Data("FUZZ!".utf8))
        let log = try String(contentsOfFile: c.reproducer + ".log", encoding: .utf8)
        #expect(log.contains("planted crash"))
        #expect(FileManager.default.fileExists(atPath: c.reproducer + ".original"))
        // A second campaign finds the same crash and knows it.
        let again = try summary(try runTool(["fuzz", "--target", "selftest-crash", "--runs", "300", "--seed", "1",
                                             "--crashes", crashes, "--json"]))
        #expect(again.reproducers.map(\.identifier) == [c.identifier])
        let files = try FileManager.default.contentsOfDirectory(atPath: crashes + "/selftest-crash")
        #expect(files.filter { !$0.contains(".") }.count == 1, "\(files)")
    }

    /// A hang and a memory blow-up, each in its own campaign: the memory hog gets a generous timeout, so that on a
    /// loaded machine (slow page faults) it is still caught by the address-space limit rather than as a hang.
    @Test func aHangAndAMemoryBlowUpAreCaught() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func campaign(_ name: String, _ input: String, timeout: Int) throws -> Summary {
            let corpus = dir.appendingPathComponent("corpus-" + name)
            try FileManager.default.createDirectory(at: corpus, withIntermediateDirectories: true)
            try Data(input.utf8).write(to: corpus.appendingPathComponent(name))
            try Data("harmless".utf8).write(to: corpus.appendingPathComponent("fine"))
            let r = try runTool(["fuzz", "--target", "selftest-crash", "--runs", "0", "--no-seeds", "--corpus",
                                 corpus.path, "--crashes", dir.appendingPathComponent("crashes-" + name).path,
                                 "--timeout", String(timeout), "--memory-limit-mb", "512", "--seed", "2", "--json"])
            return try summary(r)
        }
        let slow = try campaign("hang", "..SLOW!..", timeout: 1)
        #expect(slow.executions == 2)
        #expect(slow.crashes == 1, "\(slow.reproducers)")
        let hang = try #require(slow.reproducers.first)
        #expect(hang.kind == "timeout")
        #expect(try Data(contentsOf: URL(fileURLWithPath: hang.reproducer)) == Data("SLOW!".utf8))

        let huge = try campaign("memory", "HUGE!", timeout: 60)
        #expect(huge.executions == 2)
        #expect(huge.crashes == 1, "\(huge.reproducers)")
        let memory = try #require(huge.reproducers.first)
        #expect(memory.kind != "timeout")
        #expect(try Data(contentsOf: URL(fileURLWithPath: memory.reproducer)) == Data("HUGE!".utf8))
    }

    @Test func listShowsEveryTargetButTheSelfTest() throws {
        let r = try runTool(["fuzz", "--list"])
        #expect(r.status == 0)
        for t in FuzzTargets.listed { #expect(r.stdout.contains(t.name)) }
        #expect(!r.stdout.contains("selftest"))
    }

    @Test func aShardRunsItsShareAndReportsJSON() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try runTool(["fuzz", "--target", "udp", "--runs", "400", "--seed", "5", "--shard", "1/3", "--crashes",
                             dir.path, "--json"])
        let s = try summary(r)
        #expect(s.executions >= 400)
        #expect(s.crashes == 0)
        #expect(s.corpus_size > 0)
        #expect(r.stdout.contains("\"shard\":\"1/3\""))
        let bad = try runTool(["fuzz", "--target", "udp", "--shard", "3/3"])
        #expect(bad.status != 0)
        #expect(bad.stderr.split(separator: "\n").count == 1, "\(bad.stderr)")
    }
}
