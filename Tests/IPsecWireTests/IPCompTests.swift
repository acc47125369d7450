import Testing
@testable import IPsecWire

/// The six header tests and the strictness checks for IPComp. scapy 2.8.0 has no IPComp layer, so the vector was
/// built by hand in Python: the TCP segment `raw(TCP(sport=80, dport=50000, seq=1, ack=1, flags="PA")/Raw(b"a" * 66))`
/// compressed with `zlib.compressobj(9, zlib.DEFLATED, -15)` (raw DEFLATE, RFC 2394 §2) to 20 bytes, behind the header
/// next header 6, flags 0, CPI 2 (DEFLATE), inside `IP(src="192.0.2.1", dst="198.51.100.2", id=5, proto=108)`.
@Suite struct IPCompTests {
    static let packet: [UInt8] = hex("""
        4500002c00050000406c8e2ac0000201c6336402060000026308381cc0c0c0c0
        08c201120a0c209048310000
        """)
    static let datagram = Array(packet[20...])
    static let compressed: [UInt8] = hex("6308381cc0c0c0c008c201120a0c209048310000")
    static let header = IPCompHeader(nextHeader: .tcp, cpi: IPCompCPI.deflate)

    @Test func deconstruct() throws {
        let view = try IPCompPacket(Self.packet[20...])
        #expect(view.nextHeader == .tcp)
        #expect(view.flags == 0)
        #expect(view.cpi == 2)
        #expect(view.name == "DEFLATE")
        #expect(Array(view.payload) == Self.compressed)
    }

    @Test func construct() throws {
        var buffer = [UInt8](repeating: 0xa5, count: 4)
        try Self.header.emit(into: &buffer[...])
        #expect(buffer == Array(Self.datagram[0..<4]))
    }

    @Test func truncated() {
        #expect(throws: WireError.truncated("IPComp", need: 4, have: 3)) { try IPCompPacket(Self.datagram[0..<3]) }
    }

    @Test func parse() throws {
        #expect(try IPCompHeader.parse(Self.datagram) == Self.header)
    }

    @Test func emit() throws {
        #expect(try Self.header.serialized() == Array(Self.datagram[0..<4]))
        var short = [UInt8](repeating: 0, count: 3)
        #expect(throws: WireError.bufferTooShort("IPComp", need: 4, have: 3)) {
            try Self.header.emit(into: &short[...])
        }
    }

    @Test func bufferLength() {
        #expect(Self.header.bufferLength == 4)
    }

    /// IPComp has no length field: what must fail is every proper prefix of the 4-byte header.
    @Test func everyProperPrefixOfTheHeaderFails() {
        for n in 0..<4 {
            #expect(throws: WireError.self) { try IPCompHeader.parse(Self.datagram[0..<n]) }
        }
    }

    @Test func roundTrip() throws {
        let parsed = try IPCompHeader.parse(Self.datagram)
        #expect(try parsed.serialized() == Array(Self.datagram[0..<4]))
        #expect(try IPCompHeader.parse(parsed.serialized()) == parsed)
        // Tunnel mode and a private-use CPI.
        let tunnel = IPCompHeader(nextHeader: .ipv6, cpi: 0xf123)
        #expect(try IPCompHeader.parse(tunnel.serialized()) == tunnel)
    }

    @Test func nonZeroFlagsRejected() {
        for flags: UInt8 in [0x01, 0x80, 0xff] {
            var bad = Self.datagram
            bad[1] = flags
            #expect(throws: WireError.badValue("IPComp", "")) { try IPCompPacket(bad[...]) }
            #expect(throws: WireError.badValue("IPComp", "")) { try IPCompHeader.parse(bad) }
        }
    }

    @Test func names() {
        #expect(IPCompCPI.name(IPCompCPI.oui) == "OUI")
        #expect(IPCompCPI.name(IPCompCPI.deflate) == "DEFLATE")
        #expect(IPCompCPI.name(IPCompCPI.lzs) == "LZS")
        #expect(IPCompCPI.name(IPCompCPI.lzjh) == "LZJH")
        #expect(IPCompCPI.name(0) == "reserved")
        #expect(IPCompCPI.name(48) == "well-known 48")
        #expect(IPCompCPI.name(100) == "reserved 100")
        #expect(IPCompCPI.name(0x1000) == "negotiated 4096")
        #expect(IPCompCPI.name(61440) == "private 61440")
        #expect(IPCompHeader(nextHeader: .udp, cpi: 3).name == "LZS")
    }

    @Test func randomInputNeverTraps() {
        var rng = TransportTestRNG(seed: 0x108)
        var parsed = 0, mismatches = 0
        for _ in 0..<10_000 {
            let (buffer, range) = rng.mutantSlice(of: [Self.datagram])
            if let view = try? IPCompPacket(buffer[range]) {
                _ = (view.nextHeader, view.flags, view.cpi, view.name, view.payload)
            }
            if let header = try? IPCompHeader.parse(buffer[range]) {
                parsed += 1
                if (try? header.serialized()) != Array(buffer[range].prefix(4)) { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
        #expect(parsed > 100)
    }
}
