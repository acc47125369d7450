import CPcap

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a pcap or pcapng file one record at a time, through libpcap.
///
/// Memory stays constant whatever the file's size: libpcap keeps one record's buffer, and `next()` copies that
/// record out. Timestamps are read with nanosecond precision (libpcap scales microsecond files up). The handle is
/// closed when the reader goes away.
///
/// ```swift
/// let reader = try CaptureReader(path: "in.pcap")
/// while let record = try reader.next() {
///     let frame = try LinkLayer.decapsulate(record.data[...], linkType: reader.linkType)
/// }
/// ```
///
/// Any link type can be read; only `LinkLayer.decapsulate` is limited to the link types it knows.
public final class CaptureReader {
    /// The path the reader was opened with, as given; used in error messages.
    public let path: String
    /// The link-layer header type of every record. pcapng files whose interfaces differ in link type are refused
    /// by libpcap when it meets the second one (`.unsupported` from `next()`).
    public let linkType: LinkType
    /// The largest number of bytes the capture kept per packet, as the file declares it (libpcap substitutes its
    /// maximum, 262144, for a declared 0).
    public let snapshotLength: Int
    /// Which container format the file uses.
    public let format: CaptureFormat
    /// How many records `next()` has returned so far.
    public private(set) var recordsRead = 0

    private let handle: OpaquePointer
    /// nil while records remain; then `.success` at the end of the file, or the error that stopped the reading,
    /// answered again on every later call.
    private var finished: Result<Void, CaptureError>? = nil

    /// Opens a capture for reading.
    ///
    /// - Throws: `.notFound` if nothing is at `path`; `.notACapture` for a file that is empty or neither pcap nor
    ///   pcapng; `.truncated` for a file that ends inside its file header; `.unsupported` for format versions
    ///   libpcap cannot read; `.io` for anything the system refuses.
    public init(path: String) throws(CaptureError) {
        self.path = path
        // Open the file ourselves rather than through pcap_open_offline, so that errno tells a missing file from
        // one that cannot be read, and so that an empty file is told apart from a truncated capture.
        guard let file = fopen(path, "rb") else {
            throw CaptureError.fromErrno(systemErrno, path: path, doing: "cannot open")
        }
        var status = stat()
        if fstat(fileno(file), &status) == 0 {
            if (status.st_mode & S_IFMT) == S_IFDIR {
                fclose(file)
                throw CaptureError(.io, path: path, reason: "is a directory")
            }
            // Too short to hold a magic number, a file cannot be recognised as a capture, truncated or not.
            if (status.st_mode & S_IFMT) == S_IFREG && status.st_size < 4 {
                fclose(file)
                let what = status.st_size == 0 ? "empty file" : "only \(status.st_size) bytes"
                throw CaptureError(.notACapture, path: path, reason: "not a pcap or pcapng file (\(what))")
            }
        }

        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        let opened = errorBuffer.withUnsafeMutableBufferPointer { buffer in
            pcap_fopen_offline_with_tstamp_precision(file, UInt32(PCAP_TSTAMP_PRECISION_NANO), buffer.baseAddress)
        }
        guard let handle = opened else {
            // On failure libpcap leaves the FILE to its caller (pcap_open_offline closes it the same way).
            fclose(file)
            let message = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw CaptureError.fromLibpcap(message, path: path)
        }
        // From here on pcap_close owns the FILE.
        self.handle = handle
        self.linkType = LinkType(dlt: pcap_datalink(handle))
        self.snapshotLength = Int(pcap_snapshot(handle))
        // libpcap reports the file's own major version: 2 for pcap (it refuses anything older as "archaic"),
        // 1 for pcapng, whose only version is 1.0.
        self.format = pcap_major_version(handle) == 1 ? .pcapng : .pcap
    }

    deinit {
        pcap_close(handle)
    }

    /// The next record, or nil at the end of the file.
    ///
    /// - Throws: `.truncated` when the file ends inside a record (the records before it have been returned);
    ///   `.io` for a read error; `.unsupported` for a pcapng interface with a different link type; the same error
    ///   again on every later call.
    public func next() throws(CaptureError) -> CaptureRecord? {
        if let finished {
            switch finished {
            case .success: return nil
            case .failure(let error): throw error
            }
        }
        var header: UnsafeMutablePointer<pcap_pkthdr>? = nil
        var bytes: UnsafePointer<UInt8>? = nil
        let status = pcap_next_ex(handle, &header, &bytes)
        switch status {
        case 1:
            guard let header else { throw finish(CaptureError(.io, path: path, reason: "libpcap returned no header")) }
            let record = makeRecord(header.pointee, bytes)
            recordsRead += 1
            return record
        case PCAP_ERROR_BREAK:
            finished = .success(())
            return nil
        default:
            let message = pcap_geterr(handle).map { String(cString: $0) } ?? "unknown libpcap error \(status)"
            throw finish(CaptureError.fromLibpcap(message, path: path, context: "record \(recordsRead + 1)"))
        }
    }

    /// Makes `error` the answer to every later call, and returns it to be thrown.
    private func finish(_ error: CaptureError) -> CaptureError {
        finished = .failure(error)
        return error
    }

    private func makeRecord(_ header: pcap_pkthdr, _ bytes: UnsafePointer<UInt8>?) -> CaptureRecord {
        let count = Int(header.caplen)
        let data: [UInt8] =
            if let bytes, count > 0 { Array(UnsafeBufferPointer(start: bytes, count: count)) } else { [] }
        // The pcap record header stores seconds as an unsigned 32-bit value, but libpcap reads it into a signed
        // 32-bit field and sign-extends; taking the low 32 bits back as unsigned restores times after 2038.
        // pcapng timestamps are 64-bit and arrive whole.
        let seconds: Int64 =
            format == .pcap
            ? Int64(UInt32(truncatingIfNeeded: header.ts.tv_sec))
            : Int64(header.ts.tv_sec)
        return CaptureRecord(
            timestampSeconds: seconds,
            timestampNanoseconds: UInt32(truncatingIfNeeded: header.ts.tv_usec),
            originalLength: Int(header.len),
            data: data
        )
    }
}
