import IPsecWire

/// Splitting captured frames into link-layer header and IP packet, and putting them back together.
///
/// The link types understood are Ethernet (with up to two VLAN tags), raw IP (`raw`, `ipv4`, `ipv6`), Linux cooked
/// captures v1 and v2, and BSD and OpenBSD loopback; the layouts are documented at
/// https://www.tcpdump.org/linktypes.html. Decapsulation never traps: a frame too short for its header throws a
/// `WireError`, as does a link type not in that list.
public enum LinkLayer {
    // Header lengths and field limits (tcpdump.org/linktypes: LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL(2), LINKTYPE_NULL).
    static let ethernetHeaderLength = 14
    static let vlanTagLength = 4
    /// IEEE 802.1ad stacks an S-tag on a C-tag; deeper stacks are not something IPsec captures need, and the bound
    /// keeps a frame of repeated tags from being walked tag by tag.
    static let maximumVLANTags = 2
    static let tpidCustomerTag: UInt16 = 0x8100
    static let tpidServiceTag: UInt16 = 0x88A8
    static let sllHeaderLength = 16
    static let sll2HeaderLength = 20
    static let sllAddressCapacity = 8
    static let loopbackHeaderLength = 4

    static let etherTypeIPv4: UInt16 = 0x0800
    static let etherTypeIPv6: UInt16 = 0x86DD
    /// AF_INET, the same on every BSD.
    static let addressFamilyIPv4: UInt32 = 2
    /// AF_INET6 differs between the BSDs: 24 on NetBSD and OpenBSD (the value BSD loopback captures most often
    /// carry, and the one written here), 28 on FreeBSD and DragonFly, 30 on Darwin.
    static let addressFamiliesIPv6: Set<UInt32> = [24, 28, 30]
    static let addressFamilyIPv6: UInt32 = 24
    /// ARPHRD_NONE: a device without link-layer addresses, which is what Linux reports for tunnel and XFRM
    /// interfaces.
    static let arphrdNone: UInt16 = 0xFFFE
    /// PACKET_OUTGOING: sent by this host.
    static let packetOutgoing: UInt8 = 4

    // MARK: Decapsulation

    /// Splits a captured frame of `linkType` into its link-layer header and payload.
    ///
    /// - Throws: `WireError.truncated` for a frame shorter than its header; `badLength` for an SLL address length
    ///   over 8; `limitExceeded` for more than two VLAN tags; `badValue` for a link type not listed above.
    public static func decapsulate(_ frame: ArraySlice<UInt8>, linkType: LinkType) throws(WireError) -> LinkFrame {
        switch linkType {
        case .ethernet:
            return try decapsulateEthernet(frame)
        case .linuxSLL:
            return try decapsulateSLL(frame)
        case .linuxSLL2:
            return try decapsulateSLL2(frame)
        case .null:
            return try decapsulateNull(frame)
        case .loop:
            return try decapsulateLoop(frame)
        case .raw:
            return LinkFrame(header: .raw, payload: frame, ipVersion: versionNibble(frame))
        case .ipv4, .ipv6:
            // The link type fixes the version; a packet whose nibble disagrees is not IP of that version.
            let declared: IPVersion = linkType == .ipv4 ? .v4 : .v6
            return LinkFrame(header: .raw, payload: frame, ipVersion: versionNibble(frame) == declared ? declared : nil)
        default:
            throw WireError.badValue("Link layer", "link type \(linkType.name) (\(linkType.rawValue)) is not supported")
        }
    }

    private static func decapsulateEthernet(_ frame: ArraySlice<UInt8>) throws(WireError) -> LinkFrame {
        let layer = "Ethernet"
        guard frame.count >= ethernetHeaderLength else {
            throw WireError.truncated(layer, need: ethernetHeaderLength, have: frame.count)
        }
        var typeOffset = 12
        var type = frame.wireUInt16(at: typeOffset)
        var tags: [UInt16] = []
        while type == tpidCustomerTag || type == tpidServiceTag {
            guard tags.count < maximumVLANTags else {
                throw WireError.limitExceeded(layer, "more than \(maximumVLANTags) VLAN tags")
            }
            let need = typeOffset + vlanTagLength + 2
            guard frame.count >= need else { throw WireError.truncated(layer, need: need, have: frame.count) }
            tags.append(frame.wireUInt16(at: typeOffset + 2))
            typeOffset += vlanTagLength
            type = frame.wireUInt16(at: typeOffset)
        }
        let header = LinkHeader.ethernet(
            destination: Array(frame.wireBytes(at: 0, count: 6)),
            source: Array(frame.wireBytes(at: 6, count: 6)),
            vlanTags: tags,
            etherType: type)
        return LinkFrame(
            header: header, payload: frame.dropFirst(typeOffset + 2), ipVersion: ipVersion(etherType: type))
    }

    private static func decapsulateSLL(_ frame: ArraySlice<UInt8>) throws(WireError) -> LinkFrame {
        let layer = "Linux SLL"
        guard frame.count >= sllHeaderLength else {
            throw WireError.truncated(layer, need: sllHeaderLength, have: frame.count)
        }
        let addressLength = Int(frame.wireUInt16(at: 4))
        guard addressLength <= sllAddressCapacity else {
            throw WireError.badLength(
                layer, "address length \(addressLength) exceeds the \(sllAddressCapacity)-byte field")
        }
        let protocolType = frame.wireUInt16(at: 14)
        let header = LinkHeader.linuxSLL(
            packetType: frame.wireUInt16(at: 0),
            addressType: frame.wireUInt16(at: 2),
            address: Array(frame.wireBytes(at: 6, count: addressLength)),
            protocolType: protocolType)
        return LinkFrame(
            header: header, payload: frame.dropFirst(sllHeaderLength), ipVersion: ipVersion(etherType: protocolType))
    }

    private static func decapsulateSLL2(_ frame: ArraySlice<UInt8>) throws(WireError) -> LinkFrame {
        let layer = "Linux SLL2"
        guard frame.count >= sll2HeaderLength else {
            throw WireError.truncated(layer, need: sll2HeaderLength, have: frame.count)
        }
        let addressLength = Int(frame.wireUInt8(at: 11))
        guard addressLength <= sllAddressCapacity else {
            throw WireError.badLength(
                layer, "address length \(addressLength) exceeds the \(sllAddressCapacity)-byte field")
        }
        let protocolType = frame.wireUInt16(at: 0)
        let header = LinkHeader.linuxSLL2(
            protocolType: protocolType,
            interfaceIndex: frame.wireUInt32(at: 4),
            addressType: frame.wireUInt16(at: 8),
            packetType: frame.wireUInt8(at: 10),
            address: Array(frame.wireBytes(at: 12, count: addressLength)))
        return LinkFrame(
            header: header, payload: frame.dropFirst(sll2HeaderLength), ipVersion: ipVersion(etherType: protocolType))
    }

    private static func decapsulateNull(_ frame: ArraySlice<UInt8>) throws(WireError) -> LinkFrame {
        guard frame.count >= loopbackHeaderLength else {
            throw WireError.truncated("BSD loopback", need: loopbackHeaderLength, have: frame.count)
        }
        // The family is in the writer's byte order, which the file does not record. Address families are small
        // numbers, so a value with any of its upper 16 bits set must have been written the other way round (the
        // rule tcpdump and Wireshark use too). Either way the bytes come back unchanged from `encapsulate`.
        let bigEndian = frame.wireUInt32(at: 0)
        let header: LinkHeader =
            bigEndian & 0xFFFF_0000 != 0
            ? .null(family: bigEndian.byteSwapped, byteOrder: .littleEndian)
            : .null(family: bigEndian, byteOrder: .bigEndian)
        return LinkFrame(
            header: header, payload: frame.dropFirst(loopbackHeaderLength), ipVersion: header.ipVersion)
    }

    private static func decapsulateLoop(_ frame: ArraySlice<UInt8>) throws(WireError) -> LinkFrame {
        guard frame.count >= loopbackHeaderLength else {
            throw WireError.truncated("OpenBSD loopback", need: loopbackHeaderLength, have: frame.count)
        }
        let family = frame.wireUInt32(at: 0)
        return LinkFrame(
            header: .loop(family: family), payload: frame.dropFirst(loopbackHeaderLength),
            ipVersion: ipVersion(addressFamily: family))
    }

    // MARK: Encapsulation

    /// Appends `header` followed by `ipPacket` to `out`.
    ///
    /// The header is written as given; when the packet's IP version differs from the one the header announces,
    /// pass `header.withIPVersion(_:)`.
    ///
    /// - Precondition: the header is well formed (see `LinkHeader`), as those from `decapsulate` and
    ///   `header(for:ipVersion:)` are.
    public static func encapsulate(_ ipPacket: some Collection<UInt8>, header: LinkHeader, into out: inout [UInt8]) {
        out.reserveCapacity(out.count + header.length + ipPacket.count)
        header.append(to: &out)
        out.append(contentsOf: ipPacket)
    }

    /// `header` followed by `payload`, as a new frame.
    public static func frame(_ header: LinkHeader, payload: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        encapsulate(payload, header: header, into: &out)
        return out
    }

    /// A header for writing a freshly made packet of `ipVersion` into a capture of `linkType`, or nil if that link
    /// type cannot carry it (IPv6 on `ipv4`, or a link type `LinkLayer` does not know).
    ///
    /// Ethernet gets zero MAC addresses and no VLAN tag; Linux cooked captures say "sent by us" on interface 0, a
    /// device without link-layer address (ARPHRD_NONE, as tunnel and XFRM interfaces are); BSD loopback is written
    /// little-endian, with AF_INET6 as 24.
    public static func header(for linkType: LinkType, ipVersion: IPVersion) -> LinkHeader? {
        let etherType = etherType(for: ipVersion)
        switch linkType {
        case .ethernet:
            let zero = [UInt8](repeating: 0, count: 6)
            return .ethernet(destination: zero, source: zero, vlanTags: [], etherType: etherType)
        case .linuxSLL:
            return .linuxSLL(
                packetType: UInt16(packetOutgoing), addressType: arphrdNone, address: [], protocolType: etherType)
        case .linuxSLL2:
            return .linuxSLL2(
                protocolType: etherType, interfaceIndex: 0, addressType: arphrdNone, packetType: packetOutgoing,
                address: [])
        case .null:
            return .null(family: addressFamily(for: ipVersion), byteOrder: .littleEndian)
        case .loop:
            return .loop(family: addressFamily(for: ipVersion))
        case .raw:
            return .raw
        case .ipv4:
            return ipVersion == .v4 ? .raw : nil
        case .ipv6:
            return ipVersion == .v6 ? .raw : nil
        default:
            return nil
        }
    }

    // MARK: Version mapping

    static func ipVersion(etherType: UInt16) -> IPVersion? {
        switch etherType {
        case etherTypeIPv4: .v4
        case etherTypeIPv6: .v6
        default: nil
        }
    }

    static func etherType(for version: IPVersion) -> UInt16 {
        version == .v4 ? etherTypeIPv4 : etherTypeIPv6
    }

    static func ipVersion(addressFamily: UInt32) -> IPVersion? {
        if addressFamily == addressFamilyIPv4 { return .v4 }
        if addressFamiliesIPv6.contains(addressFamily) { return .v6 }
        return nil
    }

    static func addressFamily(for version: IPVersion) -> UInt32 {
        version == .v4 ? addressFamilyIPv4 : addressFamilyIPv6
    }

    /// The version in the first nibble of an IP header, if it is 4 or 6.
    static func versionNibble(_ packet: ArraySlice<UInt8>) -> IPVersion? {
        guard let first = packet.first else { return nil }
        return IPVersion(rawValue: first >> 4)
    }
}
