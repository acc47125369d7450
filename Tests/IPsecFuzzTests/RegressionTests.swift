import Foundation
import IPsecFuzz
import Testing

/// Every reproducer ever kept under corpora/regressions/<target>/ runs again. A fixed one must only not crash (it
/// runs in this process: a crash takes the test down, which is the failure). One named `*.unfixed` — reported, not
/// yet fixed — runs in a supervised worker and is a known issue while it still crashes; once it does not, the test
/// says to drop the suffix.
@Suite struct RegressionTests {
    static var directories: [URL] {
        let root = packageRoot.appendingPathComponent("corpora/regressions")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.sorted().map { root.appendingPathComponent($0) }.filter {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: $0.path, isDirectory: &isDirectory) && isDirectory.boolValue
        }
    }

    @Test func everyRegressionFolderNamesATarget() {
        for dir in Self.directories {
            #expect(FuzzTargets.named(dir.lastPathComponent) != nil, "corpora/regressions/\(dir.lastPathComponent)")
        }
    }

    @Test(arguments: RegressionTests.directories.map(\.lastPathComponent))
    func replay(_ name: String) throws {
        let target = try #require(FuzzTargets.named(name))
        let dir = packageRoot.appendingPathComponent("corpora/regressions/\(name)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") && !$0.hasSuffix(".unfixed") }
        let inputs = try files.sorted().map { Array(try Data(contentsOf: dir.appendingPathComponent($0))) }
        _ = execute(target, inputs)
        let unfixed = unfixedReproducers(name)
        guard !unfixed.isEmpty else { return }
        let crashes = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: crashes) }
        let report = try replaySupervised(target, unfixed, crashes: crashes)
        withKnownIssue("reported, not fixed yet") {
            for c in report.crashes { Issue.record("\(name): \(c.signature)") }
        }
        #expect(report.crashes.count == unfixed.count,
                "\(unfixed.count - report.crashes.count) *.unfixed reproducer(s) of \(name) no longer crash: drop the suffix")
    }
}
