import CPcap

/// The link-layer header type of a capture: the LINKTYPE_ value stored in a pcap file header or pcapng Interface
/// Description Block, as registered at https://www.tcpdump.org/linktypes.html.
///
/// Open: every value is representable, and unknown ones round-trip unchanged. These are the file values, not the
/// platform's DLT_ values (which differ between systems for a few types, raw IP being the one that matters here);
/// `CaptureReader` and `CaptureWriter` translate.
public struct LinkType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    /// BSD loopback: a 4-byte address family in the byte order of the host that wrote the capture.
    public static let null = LinkType(0)
    /// IEEE 802.3 Ethernet (and its 802.1Q/802.1ad VLAN tags).
    public static let ethernet = LinkType(1)
    /// Raw IP: the packet starts with an IPv4 or IPv6 header, told apart by the version nibble. The DLT_RAW values
    /// that some systems wrote into files (12, or 14 on OpenBSD) read as this.
    public static let raw = LinkType(101)
    /// OpenBSD loopback: like `null`, but the address family is in network byte order.
    public static let loop = LinkType(108)
    /// Linux "cooked" capture, version 1 (16-byte header; `tcpdump -i any` before libpcap 1.10).
    public static let linuxSLL = LinkType(113)
    /// Raw IPv4 only.
    public static let ipv4 = LinkType(228)
    /// Raw IPv6 only.
    public static let ipv6 = LinkType(229)
    /// Linux "cooked" capture, version 2 (20-byte header with the interface index).
    public static let linuxSLL2 = LinkType(276)

    /// The tcpdump.org name without its LINKTYPE_ prefix for the types IPsecLab knows, libpcap's DLT_ name for
    /// others it knows, and the number otherwise.
    public var name: String {
        switch self {
        case .null: return "NULL"
        case .ethernet: return "ETHERNET"
        case .raw: return "RAW"
        case .loop: return "LOOP"
        case .linuxSLL: return "LINUX_SLL"
        case .ipv4: return "IPV4"
        case .ipv6: return "IPV6"
        case .linuxSLL2: return "LINUX_SLL2"
        default:
            if let dlt, let text = pcap_datalink_val_to_name(dlt) { return String(cString: text) }
            return "\(rawValue)"
        }
    }

    public var description: String { name }

    /// Whether `LinkLayer.decapsulate` understands frames of this type.
    public var isSupportedByLinkLayer: Bool {
        switch self {
        case .null, .ethernet, .raw, .loop, .linuxSLL, .ipv4, .ipv6, .linuxSLL2: true
        default: false
        }
    }
}

// LINKTYPE_ ↔ DLT_. libpcap does this internally (linktype_to_dlt and dlt_to_linktype in pcap-common.c) but exports
// only the DLT_ side: pcap_datalink() answers, and pcap_open_dead() expects, the platform's DLT_ value. For values in
// the "matching" range 104...DLT_MATCHING_MAX the two coincide except for the few types handled below; below 100,
// DLT_NULL through DLT_FDDI coincide too.
extension LinkType {
    /// The LINKTYPE_ value of a DLT_ value as pcap_datalink() reports it.
    init(dlt: Int32) {
        switch dlt {
        case DLT_LOOP: self = .loop
        // DLT_RAW is 12 on most systems and 14 on OpenBSD; files from either may carry the DLT value.
        case DLT_RAW, 12, 14: self = .raw
        case DLT_ATM_RFC1483: self = LinkType(100)
        case DLT_SLIP_BSDOS: self = LinkType(102)
        case DLT_PPP_BSDOS: self = LinkType(103)
        case DLT_ATM_CLIP: self = LinkType(106)
        case DLT_PFSYNC: self = LinkType(246)
        case DLT_PKTAP: self = LinkType(258)
        default: self = LinkType(UInt32(bitPattern: dlt))
        }
    }

    /// The DLT_ value to hand to pcap_open_dead(), or nil if the value does not fit libpcap's `int`.
    var dlt: Int32? {
        switch self {
        case .loop: return DLT_LOOP
        case .raw: return DLT_RAW
        case LinkType(100): return DLT_ATM_RFC1483
        case LinkType(102): return DLT_SLIP_BSDOS
        case LinkType(103): return DLT_PPP_BSDOS
        case LinkType(106): return DLT_ATM_CLIP
        case LinkType(246): return DLT_PFSYNC
        case LinkType(258): return DLT_PKTAP
        default: return Int32(exactly: rawValue)
        }
    }
}
