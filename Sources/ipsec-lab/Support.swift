import ArgumentParser
import COpenSSL
import CZlib
import IPsecCapture
import IPsecCrypto
#if canImport(Glibc)
import Glibc
#endif

/// Runs `body`; any error becomes one line on stderr and exit status 1 — never a trace.
func runReportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        printError("\(error)")
        throw ExitCode.failure
    }
}

/// One line on stderr, prefixed like ArgumentParser's own errors. Newlines in the message are flattened, so that
/// every error stays one line.
func printError(_ message: String) {
    let flat = message.split(whereSeparator: \.isNewline).joined(separator: " ")
    writeAll(2, Array(("ipsec-lab: error: " + flat + "\n").utf8))
}

/// Writes every byte to a file descriptor, retrying short writes.
func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n <= 0 {
            if n < 0 && errno == EINTR { continue }
            return
        }
        offset += n
    }
}

/// Buffered writes to stdout, a line at a time; flushed when the buffer fills and when the value goes away.
final class StandardOutput {
    private var buffer: [UInt8] = []
    private let capacity = 1 << 16

    init() { buffer.reserveCapacity(capacity) }

    func write(_ line: String) {
        buffer.append(contentsOf: line.utf8)
        buffer.append(0x0a)
        if buffer.count >= capacity { flush() }
    }

    func flush() {
        writeAll(1, buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    deinit { flush() }
}

enum VersionInfo {
    static let version = "0.1.0"

    /// The tool's version and the versions of the libraries it links, as `--version` prints them.
    static var text: String {
        let openssl = String(cString: OpenSSL_version(OPENSSL_VERSION))
        let zlib = String(cString: zlibVersion())
        // libipsec-mb is optional: its line says whether this build has it and which code path it runs.
        return "\(version) (\(openssl); \(Capture.libpcapVersion); zlib \(zlib); \(IPsecMB.status))"
    }
}
