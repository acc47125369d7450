// Reading one SA file through the C library: no Foundation, and pipes work too (`--sa <(ip xfrm state)`).
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

struct FileReadFailure: Error {
    let reason: String
}

/// The whole content of `path`, or why it cannot be had: the C library's text for the error, a directory, or more
/// than `limit` bytes.
func readFile(_ path: String, limit: Int) -> Result<[UInt8], FileReadFailure> {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return .failure(FileReadFailure(reason: "cannot open: \(errorText(errno))")) }
    defer { _ = close(fd) }
    var info = stat()
    if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
        return .failure(FileReadFailure(reason: "is a directory, not an SA file"))
    }
    var content: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            return .failure(FileReadFailure(reason: "cannot read: \(errorText(errno))"))
        }
        if n == 0 { return .success(content) }
        guard content.count + n <= limit else {
            return .failure(FileReadFailure(reason: "larger than \(limit >> 20) MiB; an SA file is a few kilobytes"))
        }
        content.append(contentsOf: chunk[0..<n])
    }
}

private func errorText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "error \(code)" }
    return String(cString: text)
}
