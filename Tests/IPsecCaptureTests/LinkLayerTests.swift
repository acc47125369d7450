import IPsecWire
import Testing

@testable import IPsecCapture

/// Link-layer headers: known bytes decode to the right fields, decoding then encoding gives the frame back, every
/// proper prefix of a header is refused, and the limits hold.
@Suite struct LinkLayerTests {
    struct Vector: CustomTestStringConvertible, Sendable {
        let name: String
        let linkType: LinkType
        let headerBytes: [UInt8]
        let header: LinkHeader
        let version: IPVersion
        var testDescription: String { name }
    }

    /// Headers written out by hand from the layouts at tcpdump.org/linktypes.
    static let vectors: [Vector] = [
        Vector(
            name: "ethernet", linkType: .ethernet,
            headerBytes: hex("0200000000aa 0200000000bb 0800"),
            header: .ethernet(
                destination: [2, 0, 0, 0, 0, 0xaa], source: [2, 0, 0, 0, 0, 0xbb], vlanTags: [], etherType: 0x0800),
            version: .v4),
        Vector(
            name: "ethernet 802.1Q", linkType: .ethernet,
            headerBytes: hex("0200000000aa 0200000000bb 8100 a064 86dd"),
            header: .ethernet(
                destination: [2, 0, 0, 0, 0, 0xaa], source: [2, 0, 0, 0, 0, 0xbb], vlanTags: [0xa064],
                etherType: 0x86DD),
            version: .v6),
        Vector(
            name: "ethernet 802.1ad", linkType: .ethernet,
            headerBytes: hex("0200000000aa 0200000000bb 88a8 0010 8100 0020 0800"),
            header: .ethernet(
                destination: [2, 0, 0, 0, 0, 0xaa], source: [2, 0, 0, 0, 0, 0xbb], vlanTags: [0x0010, 0x0020],
                etherType: 0x0800),
            version: .v4),
        Vector(
            name: "linux SLL", linkType: .linuxSLL,
            headerBytes: hex("0004 0001 0006 0200000000aa 0000 0800"),
            header: .linuxSLL(packetType: 4, addressType: 1, address: [2, 0, 0, 0, 0, 0xaa], protocolType: 0x0800),
            version: .v4),
        Vector(
            name: "linux SLL, no address", linkType: .linuxSLL,
            headerBytes: hex("0000 fffe 0000 0000000000000000 86dd"),
            header: .linuxSLL(packetType: 0, addressType: 0xFFFE, address: [], protocolType: 0x86DD),
            version: .v6),
        Vector(
            name: "linux SLL2", linkType: .linuxSLL2,
            headerBytes: hex("86dd 0000 00000003 0001 00 06 0200000000aa 0000"),
            header: .linuxSLL2(
                protocolType: 0x86DD, interfaceIndex: 3, addressType: 1, packetType: 0,
                address: [2, 0, 0, 0, 0, 0xaa]),
            version: .v6),
        Vector(
            name: "null little-endian IPv4", linkType: .null, headerBytes: hex("02000000"),
            header: .null(family: 2, byteOrder: .littleEndian), version: .v4),
        Vector(
            name: "null big-endian IPv4", linkType: .null, headerBytes: hex("00000002"),
            header: .null(family: 2, byteOrder: .bigEndian), version: .v4),
        Vector(
            name: "null little-endian IPv6 (NetBSD/OpenBSD)", linkType: .null, headerBytes: hex("18000000"),
            header: .null(family: 24, byteOrder: .littleEndian), version: .v6),
        Vector(
            name: "null big-endian IPv6 (FreeBSD)", linkType: .null, headerBytes: hex("0000001c"),
            header: .null(family: 28, byteOrder: .bigEndian), version: .v6),
        Vector(
            name: "null little-endian IPv6 (Darwin)", linkType: .null, headerBytes: hex("1e000000"),
            header: .null(family: 30, byteOrder: .littleEndian), version: .v6),
        Vector(
            name: "loop IPv4", linkType: .loop, headerBytes: hex("00000002"), header: .loop(family: 2),
            version: .v4),
        Vector(
            name: "loop IPv6", linkType: .loop, headerBytes: hex("00000018"), header: .loop(family: 24),
            version: .v6),
        Vector(name: "raw IPv4", linkType: .raw, headerBytes: [], header: .raw, version: .v4),
        Vector(name: "raw IPv6", linkType: .raw, headerBytes: [], header: .raw, version: .v6),
        Vector(name: "ipv4", linkType: .ipv4, headerBytes: [], header: .raw, version: .v4),
        Vector(name: "ipv6", linkType: .ipv6, headerBytes: [], header: .raw, version: .v6),
    ]

    @Test(arguments: vectors)
    func deconstruct(_ vector: Vector) throws {
        let packet = samplePacket(vector.version)
        let frame = vector.headerBytes + packet
        let split = try LinkLayer.decapsulate(frame[...], linkType: vector.linkType)
        #expect(split.header == vector.header)
        #expect(split.ipVersion == vector.version)
        #expect(Array(split.payload) == packet)
        #expect(split.header.length == vector.headerBytes.count)
    }

    @Test(arguments: vectors)
    func construct(_ vector: Vector) {
        let packet = samplePacket(vector.version)
        var out: [UInt8] = [0xEE]
        LinkLayer.encapsulate(packet, header: vector.header, into: &out)
        #expect(out == [0xEE] + vector.headerBytes + packet)
        #expect(LinkLayer.frame(vector.header, payload: packet[...]) == vector.headerBytes + packet)
    }

    /// decapsulate → encapsulate gives back the frame, also from a slice that does not start at index 0.
    @Test(arguments: vectors)
    func roundTrip(_ vector: Vector) throws {
        let frame = vector.headerBytes + samplePacket(vector.version, payloadLength: 3)
        let padded = [0xAB, 0xCD] + frame + [0xEF]
        let slice = padded[2..<(padded.count - 1)]
        let split = try LinkLayer.decapsulate(slice, linkType: vector.linkType)
        #expect(LinkLayer.frame(split.header, payload: split.payload) == frame)
    }

    @Test(arguments: vectors.filter { !$0.headerBytes.isEmpty })
    func everyProperPrefixIsTruncated(_ vector: Vector) throws {
        for n in 0..<vector.headerBytes.count {
            do {
                let split = try LinkLayer.decapsulate(vector.headerBytes[0..<n], linkType: vector.linkType)
                Issue.record("prefix \(n) decoded as \(split)")
            } catch {
                // decapsulate throws WireError only (typed throws).
                #expect(error.code == .truncated, "prefix \(n): \(error)")
            }
        }
        // The header alone, with no payload, is a frame with an empty payload.
        #expect(try LinkLayer.decapsulate(vector.headerBytes[...], linkType: vector.linkType).payload.isEmpty)
    }

    @Test func moreThanTwoVLANTags() {
        let frame = hex("0200000000aa 0200000000bb 88a8 0001 8100 0002 8100 0003 0800") + samplePacket(.v4)
        #expect(throws: WireError.limitExceeded("Ethernet", "")) {
            try LinkLayer.decapsulate(frame[...], linkType: .ethernet)
        }
    }

    /// Two 0x8100 tags (pre-802.1ad Q-in-Q) decode; encoding writes the 802.1ad form.
    @Test func doubleCustomerTagsAreNormalised() throws {
        let frame = hex("0200000000aa 0200000000bb 8100 0001 8100 0002 86dd") + samplePacket(.v6)
        let split = try LinkLayer.decapsulate(frame[...], linkType: .ethernet)
        #expect(
            split.header
                == .ethernet(
                    destination: [2, 0, 0, 0, 0, 0xaa], source: [2, 0, 0, 0, 0, 0xbb], vlanTags: [1, 2],
                    etherType: 0x86DD))
        #expect(split.ipVersion == .v6)
        let again = LinkLayer.frame(split.header, payload: split.payload)
        #expect(Array(again[12..<14]) == [0x88, 0xa8])
        #expect(Array(again[16...]) == Array(frame[16...]))
    }

    @Test func nonIPFrames() throws {
        let arp = hex("ffffffffffff 0200000000bb 0806") + [UInt8](repeating: 0, count: 28)
        let split = try LinkLayer.decapsulate(arp[...], linkType: .ethernet)
        #expect(split.ipVersion == nil)
        #expect(split.payload.count == 28)
        #expect(try LinkLayer.decapsulate(hex("00000007 45")[...], linkType: .loop).ipVersion == nil)
        #expect(try LinkLayer.decapsulate(hex("07000000 45")[...], linkType: .null).ipVersion == nil)
        // Headerless link types go by the version nibble, and IPV4/IPV6 only accept their own version.
        #expect(try LinkLayer.decapsulate([][...], linkType: .raw).ipVersion == nil)
        #expect(try LinkLayer.decapsulate([0x50][...], linkType: .raw).ipVersion == nil)
        #expect(try LinkLayer.decapsulate(samplePacket(.v6)[...], linkType: .ipv4).ipVersion == nil)
        #expect(try LinkLayer.decapsulate(samplePacket(.v4)[...], linkType: .ipv6).ipVersion == nil)
    }

    @Test func sllAddressLongerThanItsField() throws {
        var sll = hex("0000 0020 0009 0102030405060708 0800")
        #expect(throws: WireError.badLength("Linux SLL", "")) {
            try LinkLayer.decapsulate(sll[...], linkType: .linuxSLL)
        }
        sll[5] = 8
        #expect(
            try LinkLayer.decapsulate(sll[...], linkType: .linuxSLL).header
                == .linuxSLL(packetType: 0, addressType: 0x20, address: [1, 2, 3, 4, 5, 6, 7, 8], protocolType: 0x0800))
        let sll2 = hex("0800 0000 00000001 0020 00 09 0102030405060708")
        #expect(throws: WireError.badLength("Linux SLL2", "")) {
            try LinkLayer.decapsulate(sll2[...], linkType: .linuxSLL2)
        }
    }

    @Test func unsupportedLinkType() {
        #expect(throws: WireError.badValue("Link layer", "")) {
            try LinkLayer.decapsulate(samplePacket(.v4)[...], linkType: LinkType(105))
        }
    }

    @Test func withIPVersion() {
        let mac: [UInt8] = [2, 0, 0, 0, 0, 1]
        #expect(
            LinkHeader.ethernet(destination: mac, source: mac, vlanTags: [5], etherType: 0x0800).withIPVersion(.v6)
                == .ethernet(destination: mac, source: mac, vlanTags: [5], etherType: 0x86DD))
        #expect(
            LinkHeader.linuxSLL(packetType: 0, addressType: 1, address: mac, protocolType: 0x86DD).withIPVersion(.v4)
                == .linuxSLL(packetType: 0, addressType: 1, address: mac, protocolType: 0x0800))
        #expect(
            LinkHeader.linuxSLL2(protocolType: 0x0800, interfaceIndex: 2, addressType: 1, packetType: 4, address: mac)
                .withIPVersion(.v6)
                == .linuxSLL2(protocolType: 0x86DD, interfaceIndex: 2, addressType: 1, packetType: 4, address: mac))
        let darwin = LinkHeader.null(family: 30, byteOrder: .littleEndian)
        let bigEndianIPv4 = LinkHeader.null(family: 2, byteOrder: .bigEndian)
        #expect(bigEndianIPv4.withIPVersion(.v6) == .null(family: 24, byteOrder: .bigEndian))
        // A family that already names IPv6 is kept (Darwin's 30 stays 30).
        #expect(darwin.withIPVersion(.v6) == darwin)
        #expect(darwin.withIPVersion(.v4) == .null(family: 2, byteOrder: .littleEndian))
        #expect(LinkHeader.loop(family: 24).withIPVersion(.v4) == .loop(family: 2))
        #expect(LinkHeader.raw.withIPVersion(.v6) == .raw)
        for version in IPVersion.allCases {
            for header in [LinkHeader.loop(family: 2), .null(family: 28, byteOrder: .bigEndian), .raw] {
                #expect(header.withIPVersion(version).withIPVersion(version) == header.withIPVersion(version))
            }
        }
    }

    @Test func defaultHeaders() throws {
        for linkType in [LinkType.ethernet, .raw, .linuxSLL, .linuxSLL2, .null, .loop] {
            for version in IPVersion.allCases {
                let header = try #require(LinkLayer.header(for: linkType, ipVersion: version))
                let frame = LinkLayer.frame(header, payload: samplePacket(version))
                let split = try LinkLayer.decapsulate(frame[...], linkType: linkType)
                #expect(split.header == header)
                #expect(split.ipVersion == version, "\(linkType) \(version)")
            }
        }
        #expect(LinkLayer.header(for: .ipv4, ipVersion: .v4) == .raw)
        #expect(LinkLayer.header(for: .ipv4, ipVersion: .v6) == nil)
        #expect(LinkLayer.header(for: .ipv6, ipVersion: .v6) == .raw)
        #expect(LinkLayer.header(for: .ipv6, ipVersion: .v4) == nil)
        #expect(LinkLayer.header(for: LinkType(105), ipVersion: .v4) == nil)
        #expect(
            LinkLayer.header(for: .ethernet, ipVersion: .v6)
                == .ethernet(
                    destination: [0, 0, 0, 0, 0, 0], source: [0, 0, 0, 0, 0, 0], vlanTags: [], etherType: 0x86DD))
        #expect(LinkLayer.header(for: .null, ipVersion: .v6) == .null(family: 24, byteOrder: .littleEndian))
    }

    /// Padding beyond an SLL address's length and SLL2's reserved field are not kept; they are written as zero.
    @Test func ignoredFieldsAreWrittenAsZero() throws {
        let sll = hex("0000 0001 0002 aabbccddeeff0102 0800")
        let split = try LinkLayer.decapsulate(sll[...], linkType: .linuxSLL)
        #expect(split.header == .linuxSLL(packetType: 0, addressType: 1, address: [0xaa, 0xbb], protocolType: 0x0800))
        #expect(LinkLayer.frame(split.header, payload: []) == hex("0000 0001 0002 aabb000000000000 0800"))
        let sll2 = hex("0800 ffff 00000001 0001 00 00 0000000000000000")
        let split2 = try LinkLayer.decapsulate(sll2[...], linkType: .linuxSLL2)
        #expect(LinkLayer.frame(split2.header, payload: []) == hex("0800 0000 00000001 0001 00 00 0000000000000000"))
    }
}
