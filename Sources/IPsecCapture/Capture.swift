import CPcap

/// Facts about the capture library itself.
public enum Capture {
    /// libpcap's version string, e.g. "libpcap version 1.10.3 (with TPACKET_V3)".
    public static var libpcapVersion: String {
        guard let text = pcap_lib_version() else { return "libpcap (unknown version)" }
        return String(cString: text)
    }

    /// The same as `libpcapVersion`.
    public static var libraryVersion: String { libpcapVersion }
}

/// The container format of a capture file.
public enum CaptureFormat: String, Hashable, Sendable, CustomStringConvertible {
    /// The classic libpcap format (one link type, microsecond or nanosecond timestamps).
    case pcap
    /// pcapng (draft-ietf-opsawg-pcapng): blocks, interfaces, options.
    case pcapng

    public var description: String { rawValue }
}
