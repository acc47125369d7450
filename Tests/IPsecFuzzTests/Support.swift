import Foundation
@testable import IPsecFuzz

/// The package root, from this file's path (Tests/IPsecFuzzTests/Support.swift).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The `ipsec-lab` binary beside the test bundle (IPSECLAB_BIN overrides).
var toolBinary: String {
    if let explicit = ProcessInfo.processInfo.environment["IPSECLAB_BIN"] { return explicit }
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return exe.deletingLastPathComponent().appendingPathComponent("ipsec-lab").path
}

struct ToolResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

func runTool(_ arguments: [String]) throws -> ToolResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: toolBinary)
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
    return ToolResult(status: p.terminationStatus, stdout: String(decoding: box.data, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
}

func temporaryDirectory() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ipsec-lab-fuzz-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// Runs `inputs` through a fresh harness of `target`, in this process.
func execute(_ target: FuzzTarget, _ inputs: [[UInt8]]) -> [[UInt64]] {
    let executor = InProcessExecutor(target: target)
    return executor.run(inputs.map { .input($0) }).map { if case .ran(_, let f) = $0 { f } else { [] } }
}

/// Options for campaigns in tests: short minimisation, so a crash costs seconds.
func testOptions(seed: UInt64, runs: Int, crashes: URL) -> FuzzOptions {
    var options = FuzzOptions()
    options.seed = seed
    options.runs = runs
    options.crashDirectory = crashes.path
    options.minimizeRuns = 60
    options.minimizeSeconds = 10
    options.timeoutSeconds = 20
    return options
}
