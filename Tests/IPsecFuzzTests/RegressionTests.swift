import Foundation
import IPsecFuzz
import Testing

/// Every reproducer ever kept under corpora/regressions/<target>/ runs again. A fixed one must only not crash (it
/// runs in this process: a crash takes the test down, which is the failure). A crash is kept here only with its fix.
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
            .filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }
        let inputs = try files.sorted().map { Array(try Data(contentsOf: dir.appendingPathComponent($0))) }
        _ = execute(target, inputs)
        #expect(!inputs.isEmpty, "corpora/regressions/\(name) holds no reproducer")
    }
}
