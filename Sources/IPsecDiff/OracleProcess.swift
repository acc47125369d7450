import Foundation

/// Where the oracles' scripts and scapy's virtual environment are: the package root, found from `IPSECLAB_ROOT`, the
/// current directory or the executable's folder (both searched upwards).
enum OracleEnvironment {
    static let scapyScript = "Tests/oracles/scapy_diff_oracle.py"

    static func root() throws -> URL {
        var starts: [URL] = []
        if let explicit = ProcessInfo.processInfo.environment["IPSECLAB_ROOT"] {
            starts.append(URL(fileURLWithPath: explicit))
        }
        starts.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        starts.append(URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent())
        for start in starts {
            var dir = start.standardizedFileURL
            while true {
                if FileManager.default.fileExists(atPath: dir.appendingPathComponent(scapyScript).path) { return dir }
                let parent = dir.deletingLastPathComponent()
                if parent.path == dir.path { break }
                dir = parent
            }
        }
        throw DiffError("cannot find \(scapyScript): run from the IPsecLab checkout or set IPSECLAB_ROOT")
    }

    static func python(root: URL) throws -> URL {
        let python = root.appendingPathComponent(".venv/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw DiffError("scapy's virtual environment is missing (\(python.path)): run scripts/setup.sh")
        }
        return python
    }
}

/// A long-lived helper process that answers one JSON line per request line, in order. Requests go in batches: a
/// writer thread feeds the whole batch while the answers are read, so neither pipe can fill up and block the other.
final class LineProcess {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let errors = Pipe()
    private var buffer: [UInt8] = []
    private let name: String
    private let stderrTail = Tail()

    /// The last bytes the helper wrote to stderr, for error messages.
    final class Tail: @unchecked Sendable {
        private let lock = NSLock()
        private var bytes: [UInt8] = []
        func append(_ data: Data) {
            lock.lock()
            bytes.append(contentsOf: data)
            if bytes.count > 400 { bytes.removeFirst(bytes.count - 400) }
            lock.unlock()
        }
        var text: String {
            lock.lock()
            defer { lock.unlock() }
            return String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline).suffix(2).joined(separator: " | ")
        }
    }

    init(name: String, executable: URL, arguments: [String]) throws {
        self.name = name
        process.executableURL = executable
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        // stderr is drained as it comes (so that warnings cannot fill the pipe); its tail goes into errors.
        let tail = stderrTail
        errors.fileHandleForReading.readabilityHandler = { handle in tail.append(handle.availableData) }
        do { try process.run() } catch { throw DiffError("cannot start the \(name) oracle: \(error)") }
    }

    deinit {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        errors.fileHandleForReading.readabilityHandler = nil
    }

    /// The next line of output, without its newline; throws when the helper ended.
    func readLine() throws -> String {
        while true {
            if let nl = buffer.firstIndex(of: 0x0a) {
                let line = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeSubrange(...nl)
                return line
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty {
                process.waitUntilExit()
                throw DiffError("the \(name) oracle ended unexpectedly (status \(process.terminationStatus)): \(stderrTail.text)")
            }
            buffer.append(contentsOf: chunk)
        }
    }

    /// Sends every line and returns as many answers, in order.
    func exchange(_ lines: [String]) throws -> [String] {
        let handle = input.fileHandleForWriting
        var payload = Data()
        for line in lines {
            payload.append(contentsOf: line.utf8)
            payload.append(0x0a)
        }
        let done = DispatchSemaphore(value: 0)
        final class Failure: @unchecked Sendable { var error: Error? }
        let failure = Failure()
        let data = payload
        Thread.detachNewThread {
            do { try handle.write(contentsOf: data) } catch { failure.error = error }
            done.signal()
        }
        var answers: [String] = []
        answers.reserveCapacity(lines.count)
        do {
            while answers.count < lines.count { answers.append(try readLine()) }
        } catch {
            done.wait()
            throw error
        }
        done.wait()
        if let error = failure.error { throw DiffError("cannot write to the \(name) oracle: \(error)") }
        return answers
    }
}
