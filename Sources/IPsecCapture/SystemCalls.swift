// The few C library calls IPsecCapture makes beside libpcap's: opening, renaming and removing files, and errno text.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The C library's text for an `errno` value, e.g. "No such file or directory".
func systemErrorText(_ err: Int32) -> String {
    guard let text = strerror(err) else { return "error \(err)" }
    return String(cString: text)
}

/// The current thread's `errno`.
var systemErrno: Int32 { errno }

/// Creates `path` if and only if nothing is there yet, so that a writer never clobbers a file it did not make.
/// Returns nil on success, or errno.
func createFileExclusively(_ path: String) -> Int32? {
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else { return errno }
    _ = close(fd)
    return nil
}

/// Removes `path`, ignoring failure: used on error paths, where the first error is the one to report.
func removeFileQuietly(_ path: String) {
    _ = unlink(path)
}

/// Renames `source` over `destination` (atomically, on one file system). Returns nil on success, or errno.
func renameFile(_ source: String, to destination: String) -> Int32? {
    rename(source, destination) == 0 ? nil : errno
}

/// Flushes stdio's buffer of `file` and asks the kernel to put the file on disk. Returns nil on success, or errno.
func flushAndSync(_ file: UnsafeMutablePointer<FILE>) -> Int32? {
    if ferror(file) != 0 { return EIO }
    if fflush(file) != 0 { return errno }
    if fsync(fileno(file)) != 0 { return errno }
    return nil
}

/// The process id, to name temporary files.
var processID: Int32 { getpid() }

/// Whether stdio has seen a write error on `file`; if so, the errno of that failure (EIO if it was lost).
func writeError(_ file: UnsafeMutablePointer<FILE>) -> Int32? {
    guard ferror(file) != 0 else { return nil }
    return errno == 0 ? EIO : errno
}
