// Files through the C library, as IPsecConfig reads SA files: no Foundation in the library targets.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The few file operations vectors need: read, write (creating directories), list `*.json` below a directory.
enum FileSystem {
    static func errorText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }

    static func readAll(_ path: String, limit: Int) -> Result<[UInt8], VectorError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(VectorError("cannot open: \(errorText(errno))")) }
        defer { _ = close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
            return .failure(VectorError("is a directory, not a vector file"))
        }
        var content: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(VectorError("cannot read: \(errorText(errno))"))
            }
            if n == 0 { return .success(content) }
            guard content.count + n <= limit else { return .failure(VectorError("larger than \(limit >> 20) MiB")) }
            content.append(contentsOf: chunk[0..<n])
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    /// `mkdir -p`.
    static func makeDirectories(_ path: String) throws(VectorError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part + "/"
            if isDirectory(prefix) { continue }
            if mkdir(prefix, 0o755) != 0, errno != EEXIST {
                throw VectorError("\(path): cannot create directory \(prefix): \(errorText(errno))")
            }
        }
    }

    static func writeAll(_ path: String, _ bytes: [UInt8]) throws(VectorError) {
        if let slash = path.lastIndex(of: "/") {
            let dir = String(path[..<slash])
            if !dir.isEmpty { try makeDirectories(dir) }
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw VectorError("\(path): cannot create: \(errorText(errno))") }
        defer { _ = close(fd) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw VectorError("\(path): cannot write: \(errorText(errno))")
            }
            offset += n
        }
    }

    /// Every regular file below `root` whose name ends in `suffix`, as paths relative to `root`, sorted.
    static func list(_ root: String, suffix: String) throws(VectorError) -> [String] {
        var out: [String] = []
        func walk(_ relative: String) throws(VectorError) {
            let full = relative.isEmpty ? root : root + "/" + relative
            guard let dir = opendir(full) else { throw VectorError("\(full): cannot list: \(errorText(errno))") }
            defer { closedir(dir) }
            var names: [String] = []
            while let entry = readdir(dir) {
                let name = withUnsafePointer(to: entry.pointee.d_name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                }
                if name == "." || name == ".." { continue }
                names.append(name)
            }
            for name in names {
                let rel = relative.isEmpty ? name : relative + "/" + name
                if isDirectory(root + "/" + rel) {
                    try walk(rel)
                } else if name.hasSuffix(suffix) {
                    out.append(rel)
                }
            }
        }
        try walk("")
        return out.sorted()
    }
}
