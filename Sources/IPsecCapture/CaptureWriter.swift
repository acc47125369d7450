import CPcap

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a pcap file (nanosecond timestamps) through libpcap, all or nothing.
///
/// Records go to a temporary file next to the destination (`PATH.partial-PID-RANDOM`); `close()` flushes it to disk
/// and renames it into place, so a reader of `path` sees either the previous file or the complete new one, never a
/// half-written capture. A writer that is discarded, fails, or is deinitialised without `close()` removes its
/// temporary file and leaves `path` untouched.
///
/// ```swift
/// let writer = try CaptureWriter(path: "out.pcap", linkType: .raw)
/// for record in records { try writer.write(record) }
/// try writer.close()
/// ```
public final class CaptureWriter {
    /// libpcap's largest snapshot length for ordinary link types (MAXIMUM_SNAPLEN); it refuses longer records when
    /// reading.
    public static let maximumSnapshotLength = 262_144

    /// The destination, as given.
    public let path: String
    public let linkType: LinkType
    public let snapshotLength: Int
    /// How many records `write` has accepted.
    public private(set) var recordsWritten = 0

    private let temporaryPath: String
    private var state: State

    private enum State {
        case open(pcap: OpaquePointer, dumper: OpaquePointer)
        case closed
        case discarded
        /// A write failed; the temporary file is gone and the error is reported again by `write` and `close`.
        case failed(CaptureError)
    }

    /// Starts a capture at `path`.
    ///
    /// - Throws: `.unsupported` for a snapshot length outside 1...262144 or a link type libpcap cannot write;
    ///   `.notFound` if the directory does not exist; `.io` if the temporary file cannot be created.
    public init(path: String, linkType: LinkType, snapshotLength: Int = 262_144) throws(CaptureError) {
        self.path = path
        self.linkType = linkType
        self.snapshotLength = snapshotLength
        guard (1...Self.maximumSnapshotLength).contains(snapshotLength) else {
            throw CaptureError(
                .unsupported, path: path,
                reason: "snapshot length \(snapshotLength) is outside 1...\(Self.maximumSnapshotLength)")
        }
        guard let dlt = linkType.dlt else {
            throw CaptureError(.unsupported, path: path, reason: "link type \(linkType.rawValue) cannot be written")
        }
        let suffix = String(UInt32.random(in: .min ... .max), radix: 16)
        let temporaryPath = "\(path).partial-\(processID)-\(suffix)"
        self.temporaryPath = temporaryPath

        if let err = createFileExclusively(temporaryPath) {
            throw CaptureError.fromErrno(err, path: path, doing: "cannot create the temporary file next to it")
        }
        guard
            let pcap = pcap_open_dead_with_tstamp_precision(
                dlt, Int32(snapshotLength), UInt32(PCAP_TSTAMP_PRECISION_NANO))
        else {
            removeFileQuietly(temporaryPath)
            throw CaptureError(.io, path: path, reason: "libpcap could not allocate a handle")
        }
        guard let dumper = pcap_dump_open(pcap, temporaryPath) else {
            var message = pcap_geterr(pcap).map { String(cString: $0) } ?? "pcap_dump_open failed"
            // libpcap names the file it was given, which is the temporary one; the caller knows only `path`.
            if message.hasPrefix("\(temporaryPath): ") { message.removeFirst(temporaryPath.count + 2) }
            pcap_close(pcap)
            removeFileQuietly(temporaryPath)
            let code: CaptureError.Code = message.contains("isn't supported") ? .unsupported : .io
            throw CaptureError(code, path: path, reason: message)
        }
        state = .open(pcap: pcap, dumper: dumper)
    }

    deinit {
        discard()
    }

    /// Appends a record.
    ///
    /// - Throws: `.invalidRecord` (and writes nothing) for a record the pcap format cannot hold: seconds outside
    ///   0...2³²−1, nanoseconds of a second or more, more bytes than the snapshot length, or an original length
    ///   shorter than the data or longer than 2³²−1. `.io` if the system refuses the bytes, after which the writer
    ///   has removed its temporary file and every call fails. `.io` after `close()` or `discard()`.
    public func write(_ record: CaptureRecord) throws(CaptureError) {
        let dumper: OpaquePointer
        switch state {
        case .open(_, let d): dumper = d
        case .failed(let error): throw error
        case .closed, .discarded:
            throw CaptureError(.io, path: path, reason: "cannot write: the writer is closed")
        }
        try validate(record)

        var header = pcap_pkthdr()
        // With nanosecond precision the "microseconds" field carries nanoseconds; pcap_dump keeps 32 bits of each.
        header.ts.tv_sec = time_t(truncatingIfNeeded: record.timestampSeconds)
        header.ts.tv_usec = suseconds_t(truncatingIfNeeded: record.timestampNanoseconds)
        header.caplen = UInt32(record.data.count)
        header.len = UInt32(record.originalLength)
        var empty: UInt8 = 0
        record.data.withUnsafeBufferPointer { bytes in
            if let base = bytes.baseAddress {
                ipseclab_pcap_dump(dumper, &header, base)
            } else {
                ipseclab_pcap_dump(dumper, &header, &empty)
            }
        }
        // pcap_dump reports nothing; stdio's error flag is where a short write shows.
        if let file = pcap_dump_file(dumper), let err = writeError(file) {
            let error = CaptureError(.io, path: path, reason: "write failed: \(systemErrorText(err))")
            release()
            state = .failed(error)
            throw error
        }
        recordsWritten += 1
    }

    private func validate(_ record: CaptureRecord) throws(CaptureError) {
        let n = recordsWritten
        guard (0...Int64(UInt32.max)).contains(record.timestampSeconds) else {
            throw .invalidRecord(path, "record \(n): timestamp \(record.timestampSeconds) s is outside the pcap range")
        }
        guard record.timestampNanoseconds < 1_000_000_000 else {
            throw .invalidRecord(path, "record \(n): \(record.timestampNanoseconds) ns is not within a second")
        }
        guard record.data.count <= snapshotLength else {
            throw .invalidRecord(
                path, "record \(n): \(record.data.count) bytes exceed the snapshot length \(snapshotLength)")
        }
        guard record.originalLength >= record.data.count, record.originalLength <= Int(UInt32.max) else {
            throw .invalidRecord(
                path, "record \(n): original length \(record.originalLength) with \(record.data.count) bytes captured")
        }
    }

    /// Flushes the capture to disk and renames it into place. Calling it again does nothing.
    ///
    /// - Throws: `.io` if flushing or renaming fails (the temporary file is then removed and `path` untouched),
    ///   the write error if a write failed, or `.io` after `discard()`.
    public func close() throws(CaptureError) {
        let pcap: OpaquePointer
        let dumper: OpaquePointer
        switch state {
        case .closed: return
        case .failed(let error): throw error
        case .discarded: throw CaptureError(.io, path: path, reason: "cannot close: the writer was discarded")
        case .open(let p, let d): (pcap, dumper) = (p, d)
        }
        var failure: Int32? = nil
        if let file = pcap_dump_file(dumper) { failure = flushAndSync(file) }
        pcap_dump_close(dumper)
        pcap_close(pcap)
        if let failure {
            removeFileQuietly(temporaryPath)
            let error = CaptureError(.io, path: path, reason: "write failed: \(systemErrorText(failure))")
            state = .failed(error)
            throw error
        }
        if let err = renameFile(temporaryPath, to: path) {
            removeFileQuietly(temporaryPath)
            let error = CaptureError(.io, path: path, reason: "cannot rename into place: \(systemErrorText(err))")
            state = .failed(error)
            throw error
        }
        state = .closed
    }

    /// Abandons the capture: the temporary file is removed and `path` is left as it was. Does nothing after
    /// `close()` (the capture is already in place) or a previous `discard()`.
    public func discard() {
        guard case .open = state else { return }
        release()
        state = .discarded
    }

    /// Closes the libpcap handles and removes the temporary file.
    private func release() {
        guard case .open(let pcap, let dumper) = state else { return }
        pcap_dump_close(dumper)
        pcap_close(pcap)
        removeFileQuietly(temporaryPath)
    }
}
