import Testing
@testable import IPsecWire

/// The six header tests and the strictness checks for the ESP header and the ESP trailer.
///
/// - `rfc3602Case5`: RFC 3602 §4 case 5 (transport mode, AES-128-CBC, no ICV): SPI 0x4321, sequence 1, IV and
///   ciphertext as published (`published-vectors.txt` [A]); `rfc3602Case5Plaintext` is its decrypted payload: the
///   64-byte ICMP echo, default padding 01…0e, pad length 0x0e, next header 1.
/// - `rfc3602Case7`: RFC 3602 §4 case 7 (tunnel mode), SPI 0x8765, sequence 2 ([B]).
/// - `scapyCBC`: scapy 2.8.0, `SecurityAssociation(ESP, spi=0x1000, crypt_algo='AES-CBC', crypt_key=bytes(range(16)),
///   auth_algo='HMAC-SHA1-96', auth_key=bytes(range(20))).encrypt(IP(src="192.0.2.1", dst="198.51.100.2", id=1)/
///   ICMP(id=0x4242, seq=1)/Raw(b"IPsecLab"), seq_num=5, iv=bytes(range(0xa0, 0xb0)))`, IPv4 header removed:
///   IV 16 ‖ ciphertext 32 ‖ ICV 12. `scapyCBCPlaintext` is its ciphertext decrypted with Python `cryptography`
///   (and the ICV checked with `hmac`).
/// - `scapyGCM6`: scapy, `SecurityAssociation(ESP, spi=0xdeadbeef, crypt_algo='AES-GCM', crypt_key=bytes(range(16)) +
///   b"\x01\x02\x03\x04", auth_algo='NULL')` over `IPv6(src="2001:db8::1", dst="2001:db8::2")/ICMPv6EchoRequest(
///   id=0x4242, seq=1, data=b"IPsecLab")`, seq 0x100, IV 0001020304050607, IPv6 header removed: IV 8 ‖ ciphertext 20
///   ‖ ICV 16.
@Suite struct ESPTests {
    static let rfc3602Case5: [UInt8] = hex("""
        0000432100000001e96e8c08ab465763fd098d45dd3ff893f663c25d325c18c6
        a9453e194e120849a4870b66cc6b9965330013b4898dc856a4699e523a55db08
        0b59ec3a8e4b7e52775b07d1db34ed9c538ab50c551b874aa269add047ad2d59
        13ac19b7cfbad4a6
        """)
    static let rfc3602Case5Plaintext: [UInt8] = hex("""
        08000ebda70a00008e9c083db95b070008090a0b0c0d0e0f1011121314151617
        18191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637
        0102030405060708090a0b0c0d0e0e01
        """)
    static let rfc3602Case7: [UInt8] = hex("""
        0000876500000002f4e765244f6407adf13dc1380f673f37773b5241a4c44922
        5e4f3ce5ed611b0c237ca96cf74a93013c1b0ea1a0cf70f8e4ecaec78ac53aad
        7a0f022b859243c647752e94a859352b8a4d4d2decd136e5c177f132ad3fbfb2
        201ac9904c74ee0a109e0ca1e4dfe9d5a100b842f1c22f0d
        """)
    static let scapyCBC: [UInt8] = hex("""
        0000100000000005a0a1a2a3a4a5a6a7a8a9aaabacadaeaf006f4bf4794c4c37
        c0ca606aca5017258a8c76006b491adee77fe981a9b9143718a4623f0c79478e
        20af1407
        """)
    static let scapyCBCPlaintext: [UInt8] = hex("""
        080034584242000149507365634c61620102030405060708090a0b0c0d0e0e01
        """)
    static let scapyGCM6: [UInt8] = hex("""
        deadbeef000001000001020304050607adc4dc1a2a1fbe45961a8e14e2d7fc2f
        2281a0546cb54c1ec8609d42c14ffc894a321e87
        """)
    static let header = try! ESPHeader(spi: 0x4321, sequenceNumber: 1)

    @Test func deconstruct() throws {
        let view = try ESPPacket(Self.rfc3602Case5[...])
        #expect(view.spi == 0x4321)
        #expect(view.sequenceNumber == 1)
        #expect(view.payload.count == 16 + 80)
        #expect(Array(view.payload.prefix(16)) == hex("e96e8c08ab465763fd098d45dd3ff893"))

        let gcm = try ESPPacket(Self.scapyGCM6[...])
        #expect(gcm.spi == 0xdead_beef)
        #expect(gcm.sequenceNumber == 0x100)
        #expect(gcm.payload.count == 8 + 20 + 16)
    }

    @Test func construct() throws {
        var buffer = [UInt8](repeating: 0xa5, count: 8)
        try Self.header.emit(into: &buffer[...])
        #expect(buffer == Array(Self.rfc3602Case5[0..<8]))
    }

    @Test func truncated() {
        #expect(throws: WireError.truncated("ESP", need: 8, have: 7)) { try ESPPacket(Self.rfc3602Case5[0..<7]) }
    }

    @Test func parse() throws {
        #expect(try ESPHeader.parse(Self.rfc3602Case5) == Self.header)
        #expect(try ESPHeader.parse(Self.scapyCBC) == ESPHeader(spi: 0x1000, sequenceNumber: 5))
    }

    @Test func emit() throws {
        #expect(try Self.header.serialized() == Array(Self.rfc3602Case5[0..<8]))
        var short = [UInt8](repeating: 0, count: 7)
        #expect(throws: WireError.bufferTooShort("ESP", need: 8, have: 7)) { try Self.header.emit(into: &short[...]) }
    }

    @Test func bufferLength() {
        #expect(Self.header.bufferLength == 8)
    }

    /// ESP has no length field and an opaque payload, so what must fail is every proper prefix of the 8-byte header.
    @Test func everyProperPrefixOfTheHeaderFails() {
        for n in 0..<8 {
            #expect(throws: WireError.self) { try ESPHeader.parse(Self.rfc3602Case5[0..<n]) }
        }
    }

    @Test func roundTrip() throws {
        for packet in [Self.rfc3602Case5, Self.rfc3602Case7, Self.scapyCBC, Self.scapyGCM6] {
            let parsed = try ESPHeader.parse(packet)
            #expect(try parsed.serialized() == Array(packet[0..<8]))
            #expect(try ESPHeader.parse(parsed.serialized()) == parsed)
        }
    }

    @Test func spiZeroRejected() {
        var bad = Self.rfc3602Case5
        bad[2] = 0
        bad[3] = 0
        #expect(throws: WireError.badValue("ESP", "")) { try ESPPacket(bad[...]) }
        #expect(throws: WireError.badValue("ESP", "")) { try ESPHeader.parse(bad) }
        #expect(throws: WireError.badValue("ESP", "")) { try ESPHeader(spi: 0, sequenceNumber: 1) }
        // SPIs 1–255 are reserved by IANA but not forbidden on the wire.
        #expect(throws: Never.self) { try ESPHeader(spi: 1, sequenceNumber: 0) }
    }

    @Test func viewsCompareByBytes() throws {
        let a = try ESPPacket(Self.scapyCBC[...])
        let b = try ESPPacket(Array(Self.scapyCBC)[...])
        #expect(a == b)
        #expect(a != (try ESPPacket(Self.scapyGCM6[...])))
    }

    @Test func randomInputNeverTraps() {
        var rng = TransportTestRNG(seed: 0xe5b)
        var parsed = 0, mismatches = 0
        for _ in 0..<10_000 {
            let (buffer, range) = rng.mutantSlice(of: [Self.rfc3602Case5, Self.scapyCBC, Self.scapyGCM6])
            if let view = try? ESPPacket(buffer[range]) {
                _ = (view.spi, view.sequenceNumber, view.payload)
            }
            if let header = try? ESPHeader.parse(buffer[range]) {
                parsed += 1
                if header.spi == 0 || (try? header.serialized()) != Array(buffer[range].prefix(8)) { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
        #expect(parsed > 100)
    }

    /// The trailer at the end of a decrypted payload (RFC 4303 §2.4–2.6).
    @Suite struct Trailer {
        static let plaintext = ESPTests.rfc3602Case5Plaintext
        static let trailerBytes = Array(plaintext[64...])
        static let trailer = try! ESPTrailer(padding: Array(1...14), padLength: 14, nextHeader: .icmp)

        @Test func deconstruct() throws {
            let (payload, trailer) = try ESPTrailer.split(Self.plaintext[...])
            #expect(Array(payload) == Array(Self.plaintext[0..<64]))
            #expect(payload.first == 0x08)  // the ICMP echo request
            #expect(trailer.padding == Array(1...14))
            #expect(trailer.padLength == 14)
            #expect(trailer.nextHeader == .icmp)
            #expect(trailer.hasDefaultPadding)

            let (cbcPayload, cbcTrailer) = try ESPTrailer.split(ESPTests.scapyCBCPlaintext[...])
            #expect(cbcPayload.count == 16)
            #expect(cbcTrailer.padLength == 14 && cbcTrailer.nextHeader == .icmp && cbcTrailer.hasDefaultPadding)
        }

        @Test func construct() throws {
            var buffer = [UInt8](repeating: 0xa5, count: 16)
            try Self.trailer.emit(into: &buffer[...])
            #expect(buffer == Self.trailerBytes)
            let fromDefault = try ESPTrailer(padding: ESPTrailer.defaultPadding(count: 14), nextHeader: .icmp)
            #expect(fromDefault == Self.trailer)
        }

        @Test func truncated() {
            #expect(throws: WireError.truncated("ESP trailer", need: 2, have: 0)) { try ESPTrailer.split([][...]) }
            #expect(throws: WireError.truncated("ESP trailer", need: 2, have: 1)) { try ESPTrailer.split([0x04][...]) }
            // Pad length 14 with only 12 bytes in front of it: the pad length is larger than the data.
            #expect(throws: WireError.truncated("ESP trailer", need: 16, have: 14)) {
                try ESPTrailer.split(Self.trailerBytes[2...])
            }
            #expect(throws: WireError.truncated("ESP trailer", need: 257, have: 4)) {
                try ESPTrailer.split([0, 0, 0xff, 4][...])
            }
        }

        @Test func parse() throws {
            #expect(try ESPTrailer.parse(Self.trailerBytes) == Self.trailer)
            #expect(try ESPTrailer.split(Self.plaintext[...]).trailer == Self.trailer)
            // `parse` takes exactly a trailer; the payload in front of it belongs to `split`.
            #expect(throws: WireError.trailingBytes("ESP trailer", count: 64)) { try ESPTrailer.parse(Self.plaintext) }
        }

        @Test func emit() throws {
            #expect(try Self.trailer.serialized() == Self.trailerBytes)
            var short = [UInt8](repeating: 0, count: 15)
            #expect(throws: WireError.bufferTooShort("ESP trailer", need: 16, have: 15)) {
                try Self.trailer.emit(into: &short[...])
            }
        }

        @Test func bufferLength() throws {
            #expect(Self.trailer.bufferLength == 16)
            #expect(try ESPTrailer(padding: [], nextHeader: .tcp).bufferLength == 2)
        }

        /// A trailer is read from the end, so the counterpart of "every proper prefix fails" is every proper suffix:
        /// keeping only the last n < 16 bytes leaves the pad length (14) pointing before the start. (Cutting bytes off
        /// the end instead is not a truncation a parser can see: the bytes before the cut are read as a different,
        /// valid trailer.) The exact trailer also fails for every proper prefix, because default padding puts the
        /// value k+1 in front of the k-th byte.
        @Test func everyProperSuffixFails() {
            for n in 0..<16 {
                #expect(throws: WireError.self) { try ESPTrailer.split(Self.plaintext.suffix(n)[...]) }
                #expect(throws: WireError.self) { try ESPTrailer.parse(Self.trailerBytes.suffix(n)) }
                #expect(throws: WireError.self) { try ESPTrailer.parse(Self.trailerBytes.prefix(n)) }
            }
            #expect(throws: Never.self) { try ESPTrailer.split(Self.plaintext.suffix(16)[...]) }
        }

        @Test func roundTrip() throws {
            for plaintext in [Self.plaintext, ESPTests.scapyCBCPlaintext] {
                let (payload, trailer) = try ESPTrailer.split(plaintext[...])
                #expect(try Array(payload) + trailer.serialized() == plaintext)
                #expect(try ESPTrailer.parse(trailer.serialized()) == trailer)
            }
        }

        @Test func inconsistentValuesRejected() {
            #expect(throws: WireError.badLength("ESP trailer", "")) {
                try ESPTrailer(padding: [1, 2, 3], padLength: 4, nextHeader: .tcp)
            }
            #expect(throws: WireError.badLength("ESP trailer", "")) {
                try ESPTrailer(padding: [UInt8](repeating: 0, count: 256), nextHeader: .tcp)
            }
            #expect(throws: Never.self) {
                try ESPTrailer(padding: ESPTrailer.defaultPadding(count: 255), nextHeader: .tcp)
            }
        }

        @Test func nonDefaultPaddingDetected() throws {
            // The same trailer with one padding byte changed: structurally fine, but not the RFC 4303 §2.4 default.
            var tampered = Self.plaintext
            tampered[70] ^= 0x40
            let (_, trailer) = try ESPTrailer.split(tampered[...])
            #expect(!trailer.hasDefaultPadding)
            #expect(!(try ESPTrailer(padding: [0, 0], nextHeader: .tcp)).hasDefaultPadding)
            #expect(!(try ESPTrailer(padding: [1, 2, 4], nextHeader: .tcp)).hasDefaultPadding)
            #expect(!(try ESPTrailer(padding: [2], nextHeader: .tcp)).hasDefaultPadding)
            #expect(try ESPTrailer(padding: [], nextHeader: .tcp).hasDefaultPadding)
            #expect(try ESPTrailer(padding: ESPTrailer.defaultPadding(count: 255), nextHeader: .tcp).hasDefaultPadding)
        }

        @Test func defaultPadding() {
            #expect(ESPTrailer.defaultPadding(count: 0) == [])
            #expect(ESPTrailer.defaultPadding(count: 3) == [1, 2, 3])
            #expect(ESPTrailer.defaultPadding(count: 255).last == 255)
        }

        /// Worked by hand: padding = the smallest p with (payload + p + 2) a multiple of max(block, alignment).
        @Test func paddingLength() {
            // AES-CBC, 16-byte blocks (RFC 3602).
            #expect(ESPTrailer.paddingLength(payloadLength: 64, blockSize: 16) == 14)  // RFC 3602 case 5: 64+14+2 = 80
            #expect(ESPTrailer.paddingLength(payloadLength: 16, blockSize: 16) == 14)  // scapyCBC: 16+14+2 = 32
            #expect(ESPTrailer.paddingLength(payloadLength: 0, blockSize: 16) == 14)
            #expect(ESPTrailer.paddingLength(payloadLength: 13, blockSize: 16) == 1)   // 13+1+2 = 16
            #expect(ESPTrailer.paddingLength(payloadLength: 14, blockSize: 16) == 0)   // 14+0+2 = 16
            #expect(ESPTrailer.paddingLength(payloadLength: 15, blockSize: 16) == 15)  // 15+15+2 = 32
            #expect(ESPTrailer.paddingLength(payloadLength: 1400, blockSize: 16) == 6)  // 1400+6+2 = 1408 = 88 * 16
            // AES-GCM / ChaCha20-Poly1305: no block to fill, 4-byte alignment (RFC 4106 §3, RFC 4303 §2.4).
            #expect(ESPTrailer.paddingLength(payloadLength: 16, blockSize: 4) == 2)    // scapyGCM6: 16+2+2 = 20
            #expect(ESPTrailer.paddingLength(payloadLength: 0, blockSize: 4, alignment: 4) == 2)
            #expect(ESPTrailer.paddingLength(payloadLength: 1, blockSize: 4, alignment: 4) == 1)
            #expect(ESPTrailer.paddingLength(payloadLength: 2, blockSize: 4, alignment: 4) == 0)
            #expect(ESPTrailer.paddingLength(payloadLength: 3, blockSize: 4, alignment: 4) == 3)
            #expect(ESPTrailer.paddingLength(payloadLength: 1400, blockSize: 4) == 2)   // 1404 = 351 * 4
            // NULL encryption / a stream cipher: block 1, alignment 4 decides.
            #expect(ESPTrailer.paddingLength(payloadLength: 5, blockSize: 1) == 1)      // 5+1+2 = 8
            // 3DES, 8-byte blocks (RFC 2451).
            #expect(ESPTrailer.paddingLength(payloadLength: 100, blockSize: 8) == 2)    // 104 = 13 * 8
            // The largest unit: padding reaches 255 and never more.
            #expect(ESPTrailer.paddingLength(payloadLength: 255, blockSize: 256) == 255)
            #expect(ESPTrailer.paddingLength(payloadLength: 0, blockSize: 256) == 254)
            // Huge lengths do not overflow.
            #expect(ESPTrailer.paddingLength(payloadLength: Int.max, blockSize: 16) == 15)
        }

        @Test func dummyPacket() throws {
            // RFC 4303 §2.6: next header 59 marks a dummy packet; it parses like any other.
            let (payload, trailer) = try ESPTrailer.split([0xde, 0xad, 0x01, 0x02, 0x02, 59][...])
            #expect(Array(payload) == [0xde, 0xad])
            #expect(trailer.nextHeader == .noNextHeader)
        }

        @Test func randomInputNeverTraps() {
            var rng = TransportTestRNG(seed: 0x7a1)
            var parsed = 0, mismatches = 0
            for _ in 0..<10_000 {
                let seeds = [Self.plaintext, ESPTests.scapyCBCPlaintext, Self.trailerBytes]
                let (buffer, range) = rng.mutantSlice(of: seeds)
                if let (payload, trailer) = try? ESPTrailer.split(buffer[range]) {
                    parsed += 1
                    _ = trailer.hasDefaultPadding
                    let bytes = (try? trailer.serialized()) ?? []
                    if bytes.isEmpty || Array(payload) + bytes != Array(buffer[range])
                        || (try? ESPTrailer.parse(bytes)) != trailer {
                        mismatches += 1
                    }
                }
                _ = try? ESPTrailer.parse(buffer[range])
            }
            #expect(mismatches == 0)
            #expect(parsed > 100)
        }
    }
}
