#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a capture file could not be read or written.
///
/// Errors carry a code (what kind of failure), the path of the file and a one-line human reason that includes
/// libpcap's own text where it helps. Equality compares the code and the path only, so tests can match a failure
/// without spelling out its message. `description` is the line to print: "capture.pcap: not a pcap or pcapng file
/// (unknown file format)".
public struct CaptureError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure. Open: later layers may add codes.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The file does not exist.
        public static let notFound = Code(rawValue: "not-found")
        /// The file exists but is neither pcap nor pcapng (or its header is malformed).
        public static let notACapture = Code(rawValue: "not-a-capture")
        /// A capture that ends in the middle of its file header or of a record.
        public static let truncated = Code(rawValue: "truncated")
        /// A capture format version, link type or snapshot length that libpcap or IPsecLab cannot handle.
        public static let unsupported = Code(rawValue: "unsupported")
        /// The operating system refused: permissions, a full disk, a failed rename, a closed writer.
        public static let io = Code(rawValue: "io")
        /// A record that the pcap format cannot hold (see `CaptureWriter.write`).
        public static let invalidRecord = Code(rawValue: "invalid-record")
    }

    public let code: Code
    /// The capture file concerned, as the caller named it.
    public let path: String
    public let reason: String

    public init(_ code: Code, path: String, reason: String) {
        self.code = code
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }

    public static func == (lhs: CaptureError, rhs: CaptureError) -> Bool {
        lhs.code == rhs.code && lhs.path == rhs.path
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(path)
    }
}

extension CaptureError {
    /// Classifies an error text from libpcap's offline and dump functions. libpcap reports every failure the same
    /// way (NULL or -1 plus an error buffer), so its wording is all there is to go on; the phrases matched here are
    /// the stable ones in libpcap 1.x's sf-pcap.c, sf-pcapng.c and savefile.c.
    @inline(never)
    static func fromLibpcap(_ message: String, path: String, context: String? = nil) -> CaptureError {
        let text = message.lowercased()
        let code: Code
        let reason: String
        if text.contains("unknown file format") {
            code = .notACapture
            reason = "not a pcap or pcapng file (\(message))"
        } else if text.contains("truncated") {
            code = .truncated
            reason = "truncated capture (\(message))"
        } else if text.contains("error reading") || text.contains("can't write") || text.contains("error writing") {
            code = .io
            reason = message
        } else if text.contains("unsupported") || text.contains("archaic") || text.contains("isn't supported")
            // pcapng features libpcap 1.x does not read: interfaces whose link type or snapshot length differ
            // from the first one's, sections of different byte orders.
            || text.contains("of the first interface") || text.contains("different byte order")
        {
            code = .unsupported
            reason = message
        } else {
            code = .notACapture
            reason = "malformed capture (\(message))"
        }
        return CaptureError(code, path: path, reason: context.map { "\($0): \(reason)" } ?? reason)
    }

    /// An error from a failed system call, with the text of `errno`.
    @inline(never)
    static func fromErrno(_ err: Int32, path: String, doing action: String) -> CaptureError {
        let code: Code = err == ENOENT ? .notFound : .io
        return CaptureError(code, path: path, reason: "\(action): \(systemErrorText(err))")
    }

    @inline(never)
    static func invalidRecord(_ path: String, _ reason: String) -> CaptureError {
        CaptureError(.invalidRecord, path: path, reason: reason)
    }
}
