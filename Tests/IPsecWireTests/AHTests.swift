import Testing
@testable import IPsecWire

/// The six header tests and the strictness checks for AH. Every vector is transport-mode AH made by scapy 2.8.0,
/// `SecurityAssociation(AH, spi=0x2000, auth_algo=ALG, auth_key=KEY).encrypt(INNER, seq_num=3)`, IP header removed,
/// with INNER `IP(src="192.0.2.1", dst="198.51.100.2", id=1)/ICMP(id=0x4242, seq=1)/Raw(b"IPsecLab")` or
/// `IPv6(src="2001:db8::1", dst="2001:db8::2")/ICMPv6EchoRequest(id=0x4242, seq=1, data=b"IPsecLab")`:
///
/// - `sha1v4`, `sha1v6`: ALG 'HMAC-SHA1-96', KEY bytes(range(20)): 12-byte ICV, a 24-byte header over both versions.
/// - `sha256v4`: ALG 'SHA2-256-128', KEY bytes(range(32)): 16-byte ICV, a 28-byte header (valid IPv4 only).
/// - `sha256v6`: the same over IPv6: 16-byte ICV and 4 zero bytes of padding, a 32-byte header.
@Suite struct AHTests {
    static let sha1v4: [UInt8] = hex("""
        0104000000002000000000039d26dc92cb194e3e312c68990800345842420001
        49507365634c6162
        """)
    static let sha1v6: [UInt8] = hex("""
        3a04000000002000000000038866da33d94bfdc945ccefa48000609842420001
        49507365634c6162
        """)
    static let sha256v4: [UInt8] = hex("""
        010500000000200000000003c3bd7de8f91f8452f08169f6ce316b5e08003458
        4242000149507365634c6162
        """)
    static let sha256v6: [UInt8] = hex("""
        3a0600000000200000000003c3925b5a5e8620f1c7e7720ee0d0874a00000000
        800060984242000149507365634c6162
        """)
    static let header = try! AHHeader(nextHeader: .icmp, spi: 0x2000, sequenceNumber: 3,
                                      icv: hex("9d26dc92cb194e3e312c6899"))

    @Test func deconstruct() throws {
        let view = try AHPacket(Self.sha1v4[...], ipVersion: .v4)
        #expect(view.nextHeader == .icmp)
        #expect(view.payloadLength == 4)
        #expect(view.reserved == 0)
        #expect(view.spi == 0x2000)
        #expect(view.sequenceNumber == 3)
        #expect(view.headerLength == 24)
        #expect(Array(view.icvAndPadding) == hex("9d26dc92cb194e3e312c6899"))
        #expect(Array(view.payload) == Array(Self.sha1v4[24...]))
        #expect(view.payload.first == 0x08)  // the ICMP echo request

        let v6 = try AHPacket(Self.sha256v6[...], ipVersion: .v6)
        #expect(v6.nextHeader == .icmpv6)
        #expect(v6.payloadLength == 6)
        #expect(v6.headerLength == 32)
        #expect(Array(v6.icvAndPadding) == hex("c3925b5a5e8620f1c7e7720ee0d0874a00000000"))
        #expect(v6.payload.count == 16)
    }

    @Test func construct() throws {
        var buffer = [UInt8](repeating: 0xa5, count: 24)
        try Self.header.emit(into: &buffer[...])
        #expect(buffer == Array(Self.sha1v4[0..<24]))

        // The way a sender builds it: zeroed ICV and padding for the computation, then the ICV filled in.
        var h = try AHHeader(nextHeader: .icmpv6, spi: 0x2000, sequenceNumber: 3, icvLength: 16, ipVersion: .v6)
        #expect(h.icv == [UInt8](repeating: 0, count: 20))
        try h.setICV(hex("c3925b5a5e8620f1c7e7720ee0d0874a"))
        var buffer6 = [UInt8](repeating: 0xa5, count: 32)
        try h.emit(into: &buffer6[...])
        #expect(buffer6 == Array(Self.sha256v6[0..<32]))
    }

    @Test func truncated() {
        #expect(throws: WireError.truncated("AH", need: 12, have: 11)) {
            try AHPacket(Self.sha1v4[0..<11], ipVersion: .v4)
        }
        // Payload Len 4 says 24 bytes.
        #expect(throws: WireError.truncated("AH", need: 24, have: 23)) {
            try AHPacket(Self.sha1v4[0..<23], ipVersion: .v4)
        }
        #expect(throws: WireError.truncated("AH", need: 32, have: 31)) {
            try AHPacket(Self.sha256v6[0..<31], ipVersion: .v6)
        }
    }

    @Test func parse() throws {
        #expect(try AHHeader.parse(Self.sha1v4, ipVersion: .v4) == Self.header)
        #expect(try AHHeader.parse(Self.sha1v4) == Self.header)
        let v6 = try AHHeader(nextHeader: .icmpv6, spi: 0x2000, sequenceNumber: 3,
                              icv: hex("c3925b5a5e8620f1c7e7720ee0d0874a00000000"))
        #expect(try AHHeader.parse(Self.sha256v6, ipVersion: .v6) == v6)
    }

    @Test func emit() throws {
        #expect(try Self.header.serialized() == Array(Self.sha1v4[0..<24]))
        var short = [UInt8](repeating: 0, count: 23)
        #expect(throws: WireError.bufferTooShort("AH", need: 24, have: 23)) { try Self.header.emit(into: &short[...]) }
    }

    @Test func bufferLength() {
        #expect(Self.header.bufferLength == 24)
        #expect(Self.header.headerLength == 24)
        #expect(Self.header.payloadLength == 4)
    }

    /// RFC 4302 §2.2 and facts.md: HMAC-SHA1-96 gives 24 bytes over both versions; a 16-byte ICV (HMAC-SHA-256-128,
    /// AES-GMAC) gives 28 over IPv4 and 32 over IPv6.
    @Test func headerLengths() {
        #expect(AHHeader.headerLength(icvLength: 12, ipVersion: .v4) == 24)
        #expect(AHHeader.headerLength(icvLength: 12, ipVersion: .v6) == 24)
        #expect(AHHeader.headerLength(icvLength: 16, ipVersion: .v4) == 28)
        #expect(AHHeader.headerLength(icvLength: 16, ipVersion: .v6) == 32)
        #expect(AHHeader.headerLength(icvLength: 24, ipVersion: .v4) == 36)  // HMAC-SHA-384-192
        #expect(AHHeader.headerLength(icvLength: 24, ipVersion: .v6) == 40)
        #expect(AHHeader.headerLength(icvLength: 32, ipVersion: .v4) == 44)  // HMAC-SHA-512-256
        #expect(AHHeader.headerLength(icvLength: 32, ipVersion: .v6) == 48)
        // RFC 4302 §2.2: the debugging-only null algorithm gives Payload Len 1 (IPv4) or 2 (IPv6).
        #expect(AHHeader.headerLength(icvLength: 0, ipVersion: .v4) == 12)
        #expect(AHHeader.headerLength(icvLength: 0, ipVersion: .v6) == 16)
        #expect(AHHeader.headerLength(icvLength: 10, ipVersion: .v4) == 24)
    }

    @Test func everyProperPrefixOfTheHeaderFails() {
        for (bytes, version, length) in [(Self.sha1v4, IPVersion.v4, 24), (Self.sha1v6, .v6, 24),
                                         (Self.sha256v4, .v4, 28), (Self.sha256v6, .v6, 32)] {
            for n in 0..<length {
                #expect(throws: WireError.self) { try AHHeader.parse(bytes[0..<n], ipVersion: version) }
                #expect(throws: WireError.self) { try AHHeader.parse(bytes[0..<n]) }
            }
            #expect(throws: Never.self) { try AHHeader.parse(bytes[0..<length], ipVersion: version) }
        }
    }

    @Test func roundTrip() throws {
        for (bytes, version) in [(Self.sha1v4, IPVersion.v4), (Self.sha1v6, .v6), (Self.sha256v4, .v4),
                                 (Self.sha256v6, .v6)] {
            let view = try AHPacket(bytes[...], ipVersion: version)
            let parsed = try AHHeader.parse(bytes, ipVersion: version)
            #expect(try parsed.serialized() == Array(bytes[0..<view.headerLength]))
            #expect(try AHHeader.parse(parsed.serialized(), ipVersion: version) == parsed)
            #expect(parsed.isAligned(for: version))
        }
    }

    /// 12 + a 16-byte ICV unpadded is 28 bytes: a whole number of 32-bit words (IPv4) but not of 64-bit words (IPv6).
    @Test func alignmentDependsOnIPVersion() throws {
        #expect(throws: Never.self) { try AHPacket(Self.sha256v4[...], ipVersion: .v4) }
        #expect(throws: WireError.badLength("AH", "")) { try AHPacket(Self.sha256v4[...], ipVersion: .v6) }
        #expect(throws: WireError.badLength("AH", "")) { try AHHeader.parse(Self.sha256v4, ipVersion: .v6) }
        // Without a version, the rule common to both (4 bytes) applies.
        let parsed = try AHHeader.parse(Self.sha256v4)
        #expect(parsed.isAligned(for: .v4))
        #expect(!parsed.isAligned(for: .v6))
    }

    @Test func badValuesRejected() {
        var reserved = Self.sha1v4
        reserved[3] = 0x01
        #expect(throws: WireError.badValue("AH", "")) { try AHPacket(reserved[...], ipVersion: .v4) }
        reserved[2] = 0x80
        reserved[3] = 0x00
        #expect(throws: WireError.badValue("AH", "")) { try AHHeader.parse(reserved) }

        var spi = Self.sha1v4
        spi[6] = 0
        #expect(throws: WireError.badValue("AH", "")) { try AHPacket(spi[...], ipVersion: .v4) }

        // Payload Len 0 says 8 bytes: less than the fixed part.
        var short = Self.sha1v4
        short[1] = 0
        #expect(throws: WireError.badLength("AH", "")) { try AHPacket(short[...], ipVersion: .v4) }
        // Payload Len 255 says 1028 bytes.
        var long = Self.sha1v4
        long[1] = 255
        #expect(throws: WireError.truncated("AH", need: 1028, have: 40)) { try AHPacket(long[...], ipVersion: .v4) }
    }

    @Test func unemittableValuesRejected() throws {
        #expect(throws: WireError.badValue("AH", "")) {
            try AHHeader(nextHeader: .tcp, spi: 0, sequenceNumber: 1, icv: [UInt8](repeating: 0, count: 12))
        }
        #expect(throws: WireError.badLength("AH", "")) {
            try AHHeader(nextHeader: .tcp, spi: 1, sequenceNumber: 1, icv: [UInt8](repeating: 0, count: 13))
        }
        #expect(throws: WireError.badLength("AH", "")) {
            try AHHeader(nextHeader: .tcp, spi: 1, sequenceNumber: 1, icv: [UInt8](repeating: 0, count: 1020))
        }
        #expect(throws: Never.self) {
            try AHHeader(nextHeader: .tcp, spi: 1, sequenceNumber: 1, icv: [UInt8](repeating: 0, count: 1016))
        }
        #expect(throws: WireError.badLength("AH", "")) {
            try AHHeader(nextHeader: .tcp, spi: 1, sequenceNumber: 1, icvLength: -1, ipVersion: .v4)
        }
        #expect(throws: WireError.badLength("AH", "")) {
            try AHHeader(nextHeader: .tcp, spi: 1, sequenceNumber: 1, icvLength: 1016, ipVersion: .v6)
        }
        var h = try AHHeader(nextHeader: .tcp, spi: 1, sequenceNumber: 1, icvLength: 12, ipVersion: .v4)
        #expect(throws: WireError.badLength("AH", "")) { try h.setICV([UInt8](repeating: 1, count: 13)) }
        try h.setICV([UInt8](repeating: 1, count: 12))
        #expect(h.icv == [UInt8](repeating: 1, count: 12))
        #expect(h.payloadLength == 4)
    }

    @Test func randomInputNeverTraps() {
        var rng = TransportTestRNG(seed: 0xa4)
        var parsed = 0, mismatches = 0
        for _ in 0..<10_000 {
            let (buffer, range) = rng.mutantSlice(of: [Self.sha1v4, Self.sha1v6, Self.sha256v4, Self.sha256v6])
            for version in IPVersion.allCases {
                if let view = try? AHPacket(buffer[range], ipVersion: version) {
                    _ = (view.nextHeader, view.payloadLength, view.reserved, view.spi, view.sequenceNumber,
                         view.headerLength, view.icvAndPadding, view.payload)
                }
                if let header = try? AHHeader.parse(buffer[range], ipVersion: version) {
                    parsed += 1
                    let bytes = (try? header.serialized()) ?? []
                    if bytes.isEmpty || bytes != Array(buffer[range].prefix(bytes.count))
                        || (try? AHHeader.parse(bytes, ipVersion: version)) != header
                        || !header.isAligned(for: version) {
                        mismatches += 1
                    }
                }
            }
            if let view = try? AHPacket(buffer[range]) { _ = (view.icvAndPadding, view.payload) }
            _ = try? AHHeader.parse(buffer[range])
        }
        #expect(mismatches == 0)
        #expect(parsed > 100)
    }
}
