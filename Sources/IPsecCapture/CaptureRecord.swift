/// One packet of a capture: when it was seen, how long it was on the wire, and the bytes that were kept.
///
/// The link type is a property of the capture, not of the record; pass `data[...]` with the reader's `linkType` to
/// `LinkLayer.decapsulate`.
public struct CaptureRecord: Sendable, Hashable {
    /// Seconds since the Unix epoch.
    public var timestampSeconds: Int64
    /// Nanoseconds within the second, 0..<1_000_000_000. Files with microsecond timestamps read as multiples of 1000.
    public var timestampNanoseconds: UInt32
    /// The packet's length on the wire, which is larger than `data.count` when the capture kept only a prefix
    /// (the snapshot length).
    public var originalLength: Int
    /// The captured bytes, starting with the link-layer header.
    public var data: [UInt8]

    /// A record; `originalLength` defaults to the number of bytes captured.
    public init(
        timestampSeconds: Int64 = 0, timestampNanoseconds: UInt32 = 0, originalLength: Int? = nil, data: [UInt8]
    ) {
        self.timestampSeconds = timestampSeconds
        self.timestampNanoseconds = timestampNanoseconds
        self.originalLength = originalLength ?? data.count
        self.data = data
    }

    /// Whether the capture kept fewer bytes than the packet had.
    public var isTruncated: Bool { data.count < originalLength }
}
