import Testing
@testable import IPsecWire

/// Classification of port-4500 payloads (RFC 3948), on IPv4/UDP packets made by scapy 2.8.0:
///
/// - `espPacket`: `SecurityAssociation(ESP, spi=0x3000, crypt_algo='AES-CBC', crypt_key=bytes(range(16)),
///   auth_algo='HMAC-SHA1-96', auth_key=bytes(range(20)), nat_t_header=UDP(sport=4500, dport=4500))
///   .encrypt(IP(src="192.0.2.1", dst="198.51.100.2", id=1)/ICMP(id=0x4242, seq=1)/Raw(b"IPsecLab"), seq_num=1,
///   iv=bytes(16))`: ESP in UDP with the checksum zero, as RFC 3948 §2.1 recommends.
/// - `keepalivePacket`: `IP(src="192.0.2.1", dst="198.51.100.2", id=3)/UDP(sport=4500, dport=4500)/NAT_KEEPALIVE()`.
/// - `ikePacket`: `IP(src="192.0.2.1", dst="198.51.100.2", id=4)/UDP(sport=4500, dport=4500)/NON_ESP()/
///   ISAKMP(init_cookie=bytes(range(8)), resp_cookie=bytes(8), next_payload=0, exch_type=34, flags=8,
///   version=0x20)`: a bare 28-byte IKEv2 IKE_SA_INIT header behind the Non-ESP Marker.
@Suite struct UDPEncapsulationTests {
    static let espPacket: [UInt8] = hex("""
        450000600001000040118e55c0000201c633640211941194004c000000003000
        0000000100000000000000000000000000000000b9aa89afbd9341506c36b7d1
        a942fed55d8e8bca7703337dc6470190e790c50881f0cd21f11b32819f8cba86
        """)
    static let keepalivePacket: [UInt8] = hex("4500001d0003000040118e96c0000201c6336402119411940009f17bff")
    static let ikePacket: [UInt8] = hex("""
        4500003c0004000040118e76c0000201c6336402119411940028c1ea00000000
        0001020304050607000000000000000000202208000000000000001c
        """)
    static let ikeMessage = Array(ikePacket[32...])

    static func udpPayload(_ packet: [UInt8]) throws -> ArraySlice<UInt8> {
        let udp = try UDPDatagram(packet[20...])
        #expect(udp.sourcePort == UDPEncapsulation.port && udp.destinationPort == UDPEncapsulation.port)
        return udp.payload
    }

    @Test func deconstruct() throws {
        guard case let .esp(esp) = try UDPEncapsulation.classify(try Self.udpPayload(Self.espPacket)) else {
            Issue.record("not classified as ESP")
            return
        }
        #expect(esp.spi == 0x3000)
        #expect(esp.sequenceNumber == 1)
        #expect(esp.payload.count == 16 + 32 + 12)

        #expect(try UDPEncapsulation.classify(try Self.udpPayload(Self.keepalivePacket)) == .natKeepalive)

        guard case let .nonESP(ike) = try UDPEncapsulation.classify(try Self.udpPayload(Self.ikePacket)) else {
            Issue.record("not classified as non-ESP")
            return
        }
        #expect(Array(ike) == Self.ikeMessage)
        #expect(ike.count == 28)
        #expect(ike[ike.startIndex + 17] == 0x20)  // IKE version 2.0
    }

    @Test func construct() throws {
        #expect(UDPEncapsulation.natKeepalivePayload() == Array(Self.keepalivePacket[28...]))
        #expect(UDPEncapsulation.nonESPPayload(Self.ikeMessage) == Array(Self.ikePacket[28...]))
        #expect(UDPEncapsulation.nonESPMarker == [0, 0, 0, 0])
        #expect(UDPEncapsulation.port == 4500)
        // The ESP header inside the UDP payload is what ESPHeader emits.
        var buffer = [UInt8](repeating: 0xa5, count: 8)
        try ESPHeader(spi: 0x3000, sequenceNumber: 1).emit(into: &buffer[...])
        #expect(buffer == Array(Self.espPacket[28..<36]))
    }

    @Test func truncated() {
        #expect(throws: WireError.truncated("ESP-in-UDP", need: 1, have: 0)) { try UDPEncapsulation.classify([]) }
        // A marker with no IKE message after it.
        #expect(throws: WireError.truncated("ESP-in-UDP", need: 5, have: 4)) {
            try UDPEncapsulation.classify([0, 0, 0, 0])
        }
        // Anything else short is an ESP candidate without its 8-byte header.
        for short: [UInt8] in [[0x00], [0xfe], [0xff, 0xff], [0, 0, 0], [0, 0, 0x30, 0, 0, 0, 0]] {
            #expect(throws: WireError.truncated("ESP", need: 8, have: short.count)) {
                try UDPEncapsulation.classify(short)
            }
        }
    }

    @Test func parse() throws {
        let esp = try ESPPacket(Self.espPacket[28...])
        #expect(try UDPEncapsulation.classify(Self.espPacket[28...]) == .esp(esp))
        #expect(try UDPEncapsulation.classify(Self.keepalivePacket[28...]) == .natKeepalive)
        #expect(try UDPEncapsulation.classify(Self.ikePacket[28...]) == .nonESP(Self.ikeMessage[...]))
    }

    @Test func emit() throws {
        // Building each payload and classifying it gives back what was put in.
        #expect(try UDPEncapsulation.classify(UDPEncapsulation.natKeepalivePayload()) == .natKeepalive)
        #expect(try UDPEncapsulation.classify(UDPEncapsulation.nonESPPayload(Self.ikeMessage))
            == .nonESP(Self.ikeMessage[...]))
        let espBytes = try ESPHeader(spi: 0x3000, sequenceNumber: 1).serialized() + [0xab, 0xcd, 0xef, 0x01]
        #expect(try UDPEncapsulation.classify(espBytes) == .esp(try ESPPacket(espBytes[...])))
    }

    @Test func bufferLength() {
        #expect(UDPEncapsulation.natKeepalivePayload().count == 1)
        #expect(UDPEncapsulation.nonESPPayload(Self.ikeMessage).count == 4 + 28)
    }

    /// Prefixes of the ESP payload shorter than its 8-byte header, and of the IKE payload up to the bare marker, fail;
    /// the keepalive's only proper prefix is empty. (Longer prefixes are shorter ESP or IKE payloads, which only the
    /// outer UDP length can tell apart.)
    @Test func everyProperPrefixFails() {
        for n in 0..<8 {
            #expect(throws: WireError.self) { try UDPEncapsulation.classify(Self.espPacket[28..<(28 + n)]) }
        }
        for n in 0..<5 {
            #expect(throws: WireError.self) { try UDPEncapsulation.classify(Self.ikePacket[28..<(28 + n)]) }
        }
        #expect(throws: WireError.self) { try UDPEncapsulation.classify(Self.keepalivePacket[28..<28]) }
    }

    /// RFC 3948 §2.3: only a single 0xFF byte is a keepalive; a 0xFF followed by more is an ESP candidate (SPI
    /// 0xFF……), and a single other byte is neither.
    @Test func keepaliveIsExactlyOneByte() throws {
        #expect(try UDPEncapsulation.classify([0xff]) == .natKeepalive)
        #expect(throws: WireError.truncated("ESP", need: 8, have: 1)) { try UDPEncapsulation.classify([0x00]) }
        let looksLikeKeepalive: [UInt8] = [0xff, 0, 0, 0, 0, 0, 0, 1]
        guard case let .esp(esp) = try UDPEncapsulation.classify(looksLikeKeepalive) else {
            Issue.record("not classified as ESP")
            return
        }
        #expect(esp.spi == 0xff00_0000)
    }

    @Test func randomInputNeverTraps() {
        var rng = TransportTestRNG(seed: 0x4500)
        let seeds = [Array(Self.espPacket[28...]), Array(Self.keepalivePacket[28...]), Array(Self.ikePacket[28...])]
        var classified = 0, wrong = 0
        for _ in 0..<10_000 {
            let (buffer, range) = rng.mutantSlice(of: seeds)
            let payload = buffer[range]
            guard let kind = try? UDPEncapsulation.classify(payload) else { continue }
            classified += 1
            switch kind {
            case .natKeepalive:
                if Array(payload) != [0xff] { wrong += 1 }
            case let .nonESP(ike):
                if ike.isEmpty || UDPEncapsulation.nonESPPayload(ike) != Array(payload) { wrong += 1 }
            case let .esp(esp):
                if esp.spi == 0 || esp.bytes != payload { wrong += 1 }
            }
        }
        #expect(wrong == 0)
        #expect(classified > 100)
    }
}
