import Testing
@testable import IPsecWire

/// The six tests every header gets (deconstruct, construct, truncated, parse, emit, buffer length), on bytes taken
/// from a capture: a DNS query from 192.168.1.2:2712 to 192.168.1.1:53 (the packet in draft-mcgrew-gcm-test-01 case 2).
@Suite struct UDPTests {
    static let packet: [UInt8] = hex("""
        4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d00100
        0001000000000000037369700963796265726369747902646b0000010001
        """)
    static let datagram = Array(packet[20...])
    static let header = UDPHeader(sourcePort: 0x0a98, destinationPort: 53, length: 42, checksum: 0x2343)

    @Test func deconstruct() throws {
        let view = try UDPDatagram(Self.datagram[...])
        #expect(view.sourcePort == 2712)
        #expect(view.destinationPort == 53)
        #expect(view.length == 42)
        #expect(view.checksum == 0x2343)
        #expect(Array(view.payload) == Array(Self.datagram[8...]))
    }

    @Test func construct() throws {
        var buffer = [UInt8](repeating: 0xa5, count: 8)
        try Self.header.emit(into: &buffer[...])
        #expect(buffer == Array(Self.datagram[0..<8]))
    }

    @Test func truncated() {
        #expect(throws: WireError.truncated("UDP", need: 8, have: 7)) { try UDPDatagram(Self.datagram[0..<7]) }
        // The length field says 42; 41 bytes are not the whole datagram.
        #expect(throws: WireError.truncated("UDP", need: 42, have: 41)) { try UDPDatagram(Self.datagram[0..<41]) }
    }

    @Test func parse() throws {
        #expect(try UDPHeader.parse(Self.datagram) == Self.header)
    }

    @Test func emit() throws {
        #expect(try Self.header.serialized() == Array(Self.datagram[0..<8]))
        var short = [UInt8](repeating: 0, count: 7)
        #expect(throws: WireError.bufferTooShort("UDP", need: 8, have: 7)) { try Self.header.emit(into: &short[...]) }
    }

    @Test func bufferLength() {
        #expect(Self.header.bufferLength == 8)
    }

    @Test func everyProperPrefixFails() {
        for n in 0..<Self.datagram.count {
            #expect(throws: WireError.self) { try UDPHeader.parse(Self.datagram[0..<n]) }
        }
    }

    @Test func lengthShorterThanHeaderRejected() {
        var bad = Self.datagram
        bad[5] = 7
        #expect(throws: WireError.badLength("UDP", "")) { try UDPDatagram(bad[...]) }
    }

    @Test func checksumVerifies() throws {
        let view = try UDPDatagram(Self.datagram[...])
        let ph = PseudoHeader.ipv4(source: IPv4Address(192, 168, 1, 2), destination: IPv4Address(192, 168, 1, 1),
                                   protocol: .udp, length: 42)
        #expect(view.verifyChecksum(ph))
        #expect(Self.header.computeChecksum(payload: Self.datagram[8...], pseudoHeader: ph) == 0x2343)
        var corrupted = Self.datagram
        corrupted[10] ^= 1
        #expect(!(try UDPDatagram(corrupted[...])).verifyChecksum(ph))
    }
}
