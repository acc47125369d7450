#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The few system calls the fuzzer makes: files of the corpus and crash directories, descriptors of the worker's
/// pipes, a monotonic clock. Errors come back as `FuzzError`, one line each.
public enum FuzzIO {
    /// Writes every byte to `fd`, retrying short writes and EINTR. Returns false if the descriptor refused.
    @discardableResult
    public static func writeAll(_ fd: Int32, _ bytes: some Collection<UInt8>) -> Bool {
        let array = Array(bytes)
        var offset = 0
        while offset < array.count {
            let n = array[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            if n == 0 { return false }
            offset += n
        }
        return true
    }

    public static func writeError(_ text: String) {
        writeAll(2, Array(text.utf8))
    }

    /// Reads exactly `count` bytes from `fd`; nil at end of file or on error.
    public static func readExactly(_ fd: Int32, _ count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let n = out[offset...].withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { return nil }
            offset += n
        }
        return out
    }

    /// The contents of a file, up to `limit` bytes (more is an error: a corpus file that large is a mistake).
    public static func readFile(_ path: String, limit: Int = 1 << 24) throws(FuzzError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FuzzError("cannot open \(path): \(errorText())") }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FuzzError("cannot read \(path): \(errorText())")
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
            guard out.count <= limit else { throw FuzzError("\(path) is larger than \(limit) bytes") }
        }
        return out
    }

    /// Writes a file whole (through a temporary name and a rename, so a reader never sees half of it).
    public static func writeFile(_ path: String, _ bytes: some Collection<UInt8>) throws(FuzzError) {
        let temporary = path + ".tmp\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FuzzError("cannot create \(temporary): \(errorText())") }
        let ok = writeAll(fd, bytes)
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw FuzzError("cannot write \(path): \(errorText())")
        }
    }

    public static func fileExists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var s = stat()
        return stat(path, &s) == 0 && (s.st_mode & S_IFMT) == S_IFDIR
    }

    /// Creates `path` and its missing parents.
    public static func makeDirectories(_ path: String) throws(FuzzError) {
        var current = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            current += (current.isEmpty || current.hasSuffix("/") ? "" : "/") + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw FuzzError("cannot create directory \(current): \(errorText())")
            }
        }
        guard isDirectory(path) else { throw FuzzError("\(path) is not a directory") }
    }

    /// The regular files directly in `path`, sorted by name (so that a corpus loads in the same order everywhere).
    /// Hidden files and editor leftovers are skipped.
    public static func listFiles(_ path: String) throws(FuzzError) -> [String] {
        guard let dir = opendir(path) else { throw FuzzError("cannot open directory \(path): \(errorText())") }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name.hasPrefix(".") || name.hasSuffix("~") || name.contains(".tmp") { continue }
            let full = path + "/" + name
            var s = stat()
            if stat(full, &s) == 0 && (s.st_mode & S_IFMT) == S_IFREG { names.append(full) }
        }
        return names.sorted()
    }

    /// Seconds on a monotonic clock.
    public static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    static func errorText() -> String {
        guard let text = strerror(errno) else { return "error \(errno)" }
        return String(cString: text)
    }
}

/// A fuzzer failure that is not a finding: an unreadable corpus, an unknown target, a worker that cannot start.
public struct FuzzError: Error, Hashable, Sendable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
