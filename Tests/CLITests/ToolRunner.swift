import Foundation
import Testing

/// Runs the built `ipsec-lab` (it sits beside the test bundle in the build folder) and the oracles' scripts.
enum Tool {
    /// The package's root, from this file's path (Tests/CLITests/ToolRunner.swift).
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static var binary: URL {
        if let explicit = ProcessInfo.processInfo.environment["IPSECLAB_BIN"] { return URL(fileURLWithPath: explicit) }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return exe.deletingLastPathComponent().appendingPathComponent("ipsec-lab")
    }

    /// The oracles' Python (scapy pinned), installed by scripts/setup.sh.
    static var python: URL { root.appendingPathComponent(".venv/bin/python") }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String], executable: URL? = nil, currentDirectory: URL? = nil) throws -> Result {
        let p = Process()
        p.executableURL = executable ?? binary
        p.arguments = arguments
        if let currentDirectory { p.currentDirectoryURL = currentDirectory }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Read both pipes while the process runs, so a large output cannot block it.
        final class Box: @unchecked Sendable { var data = Data() }
        let outBox = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            outBox.data = out.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: outBox.data, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ipsec-lab-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// Asserts the contract for unusable input: exit status 1, nothing on stdout beyond what came before the failure,
/// exactly one line on stderr that says what went wrong, and no crash or trace.
func expectOneLineError(_ r: Tool.Result, mentioning needle: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.status == 1, "exit status \(r.status), stderr: \(r.stderr)", sourceLocation: sourceLocation)
    let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: true)
    #expect(lines.count == 1, "stderr should be one line: \(r.stderr)", sourceLocation: sourceLocation)
    #expect(r.stderr.hasPrefix("ipsec-lab: error: "), "\(r.stderr)", sourceLocation: sourceLocation)
    #expect(r.stderr.contains(needle), "stderr should mention '\(needle)': \(r.stderr)", sourceLocation: sourceLocation)
    for trace in ["Fatal error", "Stack dump", "Backtrace", "SIG"] {
        #expect(!r.stderr.contains(trace), sourceLocation: sourceLocation)
    }
}
