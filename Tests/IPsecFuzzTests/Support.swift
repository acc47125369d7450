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

/// The reproducers of crashes reported but not fixed yet: `corpora/regressions/<target>/*.unfixed`.
func unfixedReproducers(_ target: String) -> [URL] {
    let dir = packageRoot.appendingPathComponent("corpora/regressions/\(target)")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
    return names.filter { $0.hasSuffix(".unfixed") }.sorted().map { dir.appendingPathComponent($0) }
}

/// Replays `files` in supervised workers (a crash cannot take the test down), saving what crashes under `crashes`.
func replaySupervised(_ target: FuzzTarget, _ files: [URL], crashes: URL) throws -> FuzzReport {
    let corpus = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: corpus) }
    for (i, file) in files.enumerated() {
        try FileManager.default.copyItem(at: file, to: corpus.appendingPathComponent("input-\(i)"))
    }
    var options = testOptions(seed: 1, runs: 0, crashes: crashes)
    options.useBuiltInSeeds = false
    options.corpusDirectory = corpus.path
    let executor = SupervisedExecutor(target: target, executable: toolBinary, options: options)
    return try FuzzCampaign(target: target, options: options, executor: executor).run()
}
