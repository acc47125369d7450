import IPsecWire

/// The link-layer header in front of an IP packet in a capture, decoded by `LinkLayer.decapsulate` and written back
/// by `LinkLayer.encapsulate`. Layouts are those documented at https://www.tcpdump.org/linktypes.html.
///
/// Fields that carry no information are not kept and are written as zero: the padding of an SLL address field
/// beyond its length, and SLL2's reserved field. VLAN tags keep their TCI only; see `ethernet`.
public enum LinkHeader: Hashable, Sendable {
    /// The byte order of a BSD loopback (`LinkType.null`) header, which is that of the host that wrote it.
    public enum ByteOrder: Hashable, Sendable {
        case littleEndian
        case bigEndian
    }

    /// Ethernet II (LINKTYPE_ETHERNET): destination MAC (6), source MAC (6), up to two VLAN tags, EtherType.
    ///
    /// `vlanTags` holds each tag's TCI (PCP, DEI, VID), outermost first. The tag protocol identifiers are not kept:
    /// encapsulation writes the IEEE 802.1ad form, an S-tag (0x88A8) outside a C-tag (0x8100), or a single
    /// 802.1Q C-tag (0x8100). Decapsulation accepts either TPID in either position.
    case ethernet(destination: [UInt8], source: [UInt8], vlanTags: [UInt16], etherType: UInt16)
    /// Linux cooked capture v1 (LINKTYPE_LINUX_SLL), 16 bytes: packet type, ARPHRD_ type, the link-layer address
    /// (at most 8 bytes) and the protocol (an EtherType for IP).
    case linuxSLL(packetType: UInt16, addressType: UInt16, address: [UInt8], protocolType: UInt16)
    /// Linux cooked capture v2 (LINKTYPE_LINUX_SLL2), 20 bytes: protocol, interface index, ARPHRD_ type, packet type
    /// and the link-layer address (at most 8 bytes).
    case linuxSLL2(
        protocolType: UInt16, interfaceIndex: UInt32, addressType: UInt16, packetType: UInt8, address: [UInt8])
    /// BSD loopback (LINKTYPE_NULL): a 4-byte address family in the writer's byte order.
    case null(family: UInt32, byteOrder: ByteOrder)
    /// OpenBSD loopback (LINKTYPE_LOOP): a 4-byte address family in network byte order.
    case loop(family: UInt32)
    /// No header (LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6): the packet starts with its IP header.
    case raw

    /// The number of bytes the header occupies on the wire.
    public var length: Int {
        switch self {
        case .ethernet(_, _, let tags, _): LinkLayer.ethernetHeaderLength + LinkLayer.vlanTagLength * tags.count
        case .linuxSLL: LinkLayer.sllHeaderLength
        case .linuxSLL2: LinkLayer.sll2HeaderLength
        case .null, .loop: LinkLayer.loopbackHeaderLength
        case .raw: 0
        }
    }

    /// The IP version the header announces (by EtherType, SLL protocol or address family), or nil when it announces
    /// something else or, for `raw`, nothing at all.
    public var ipVersion: IPVersion? {
        switch self {
        case .ethernet(_, _, _, let type), .linuxSLL(_, _, _, let type), .linuxSLL2(let type, _, _, _, _):
            LinkLayer.ipVersion(etherType: type)
        case .null(let family, _), .loop(let family):
            LinkLayer.ipVersion(addressFamily: family)
        case .raw:
            nil
        }
    }

    /// The same header, announcing `version` instead: the EtherType or SLL protocol becomes 0x0800 or 0x86DD, a
    /// loopback family becomes AF_INET (2) or, unless it already names IPv6, the BSD AF_INET6 (24). Used to re-frame
    /// a packet whose IP version changed, such as the inner packet of a mixed-family tunnel.
    public func withIPVersion(_ version: IPVersion) -> LinkHeader {
        switch self {
        case .ethernet(let destination, let source, let tags, _):
            return .ethernet(
                destination: destination, source: source, vlanTags: tags, etherType: LinkLayer.etherType(for: version))
        case .linuxSLL(let packetType, let addressType, let address, _):
            return .linuxSLL(
                packetType: packetType, addressType: addressType, address: address,
                protocolType: LinkLayer.etherType(for: version))
        case .linuxSLL2(_, let interfaceIndex, let addressType, let packetType, let address):
            return .linuxSLL2(
                protocolType: LinkLayer.etherType(for: version), interfaceIndex: interfaceIndex,
                addressType: addressType, packetType: packetType, address: address)
        case .null(let family, let byteOrder):
            return .null(family: Self.family(replacing: family, with: version), byteOrder: byteOrder)
        case .loop(let family):
            return .loop(family: Self.family(replacing: family, with: version))
        case .raw:
            return .raw
        }
    }

    private static func family(replacing family: UInt32, with version: IPVersion) -> UInt32 {
        if LinkLayer.ipVersion(addressFamily: family) == version { return family }
        return LinkLayer.addressFamily(for: version)
    }

    /// Appends the header's bytes to `out`.
    ///
    /// - Precondition: the header is well formed, as every header from `decapsulate` or `header(for:ipVersion:)`
    ///   is: 6-byte MAC addresses, at most two VLAN tags, SLL addresses of at most 8 bytes.
    func append(to out: inout [UInt8]) {
        switch self {
        case .ethernet(let destination, let source, let tags, let etherType):
            precondition(destination.count == 6 && source.count == 6, "Ethernet addresses are 6 bytes")
            precondition(tags.count <= LinkLayer.maximumVLANTags, "at most \(LinkLayer.maximumVLANTags) VLAN tags")
            out.append(contentsOf: destination)
            out.append(contentsOf: source)
            for (i, tci) in tags.enumerated() {
                let outer = tags.count == 2 && i == 0
                Self.put(outer ? LinkLayer.tpidServiceTag : LinkLayer.tpidCustomerTag, &out)
                Self.put(tci, &out)
            }
            Self.put(etherType, &out)
        case .linuxSLL(let packetType, let addressType, let address, let protocolType):
            precondition(address.count <= LinkLayer.sllAddressCapacity, "SLL addresses are at most 8 bytes")
            Self.put(packetType, &out)
            Self.put(addressType, &out)
            Self.put(UInt16(address.count), &out)
            Self.putAddress(address, &out)
            Self.put(protocolType, &out)
        case .linuxSLL2(let protocolType, let interfaceIndex, let addressType, let packetType, let address):
            precondition(address.count <= LinkLayer.sllAddressCapacity, "SLL2 addresses are at most 8 bytes")
            Self.put(protocolType, &out)
            Self.put(UInt16(0), &out)  // reserved, MBZ
            Self.put(interfaceIndex, &out)
            Self.put(addressType, &out)
            out.append(packetType)
            out.append(UInt8(address.count))
            Self.putAddress(address, &out)
        case .null(let family, let byteOrder):
            Self.put(byteOrder == .bigEndian ? family : family.byteSwapped, &out)
        case .loop(let family):
            Self.put(family, &out)
        case .raw:
            break
        }
    }

    private static func put(_ value: UInt16, _ out: inout [UInt8]) {
        out.append(UInt8(truncatingIfNeeded: value >> 8))
        out.append(UInt8(truncatingIfNeeded: value))
    }

    private static func put(_ value: UInt32, _ out: inout [UInt8]) {
        put(UInt16(truncatingIfNeeded: value >> 16), &out)
        put(UInt16(truncatingIfNeeded: value), &out)
    }

    /// An SLL address field: the address, zero-padded to its fixed 8 bytes.
    private static func putAddress(_ address: [UInt8], _ out: inout [UInt8]) {
        out.append(contentsOf: address)
        out.append(contentsOf: repeatElement(0, count: LinkLayer.sllAddressCapacity - address.count))
    }
}

/// A captured frame split at the end of its link-layer header.
public struct LinkFrame: Hashable, Sendable {
    public var header: LinkHeader
    /// The bytes after the header: usually an IP packet, possibly followed by link-layer padding (Ethernet pads
    /// short frames to 60 bytes), so the IP header's own length is what bounds the packet.
    public var payload: ArraySlice<UInt8>
    /// The IP version of the payload, from the header's EtherType, SLL protocol or address family, or for
    /// headerless link types from the version nibble; nil for frames that do not carry IP (ARP, LLC, …).
    public var ipVersion: IPVersion?

    public init(header: LinkHeader, payload: ArraySlice<UInt8>, ipVersion: IPVersion?) {
        self.header = header
        self.payload = payload
        self.ipVersion = ipVersion
    }
}
