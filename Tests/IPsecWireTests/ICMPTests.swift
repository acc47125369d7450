import Testing
@testable import IPsecWire

/// The six header tests and checksum checks for ICMPv4 and ICMPv6.
///
/// - `ICMPTests.V4.echo`: the ICMP echo request inside RFC 3602 §4 case 5 (192.168.123.3 → 192.168.123.100), as
///   published in `published-vectors.txt` [A].
/// - `ICMPTests.V4.timeExceeded`: scapy 2.8.0, `IP(src="192.0.2.254", dst="10.0.0.1", id=2)/ICMP(type=11, code=0)/
///   raw(IP(src="10.0.0.1", dst="8.8.8.8", ttl=1, id=7)/UDP(sport=33434, dport=33435))`, IP header removed.
/// - `ICMPTests.V6.echo`: scapy, `IPv6(src="2001:db8::1", dst="2001:db8::2")/ICMPv6EchoRequest(id=0x1234, seq=1,
///   data=b"abcdefgh")`, IPv6 header removed.
/// - `ICMPTests.V6.neighborSolicitation`: scapy, `IPv6(src="fe80::1", dst="ff02::1:ff00:2", hlim=255)/
///   ICMPv6ND_NS(tgt="fe80::2")/ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:01")`, IPv6 header removed.
@Suite struct ICMPTests {
    @Suite struct V4 {
        static let echo: [UInt8] = hex("""
            08000ebda70a00008e9c083db95b070008090a0b0c0d0e0f1011121314151617
            18191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637
            """)
        static let timeExceeded: [UInt8] = hex("""
            0b000f2a000000004500001c0007000001119fba0a00000108080808829a829b
            0008e097
            """)
        static let header = ICMPv4Header(type: 8, code: 0, checksum: 0x0ebd, restOfHeader: 0xa70a_0000)

        @Test func deconstruct() throws {
            let view = try ICMPv4Message(Self.echo[...])
            #expect(view.type == ICMPv4Type.echoRequest)
            #expect(view.code == 0)
            #expect(view.checksum == 0x0ebd)
            #expect(view.restOfHeader == 0xa70a_0000)
            #expect(view.name == "echo request")
            #expect(Array(view.payload) == Array(Self.echo[8...]))

            let te = try ICMPv4Message(Self.timeExceeded[...])
            #expect(te.type == ICMPv4Type.timeExceeded && te.code == 0)
            #expect(te.name == "time exceeded")
            #expect(te.payload.first == 0x45)  // the offending IPv4 header
        }

        @Test func construct() throws {
            var buffer = [UInt8](repeating: 0xa5, count: 8)
            try Self.header.emit(into: &buffer[...])
            #expect(buffer == Array(Self.echo[0..<8]))
        }

        @Test func truncated() {
            #expect(throws: WireError.truncated("ICMPv4", need: 8, have: 7)) { try ICMPv4Message(Self.echo[0..<7]) }
        }

        @Test func parse() throws {
            #expect(try ICMPv4Header.parse(Self.echo) == Self.header)
            #expect(try ICMPv4Header.parse(Self.timeExceeded) == ICMPv4Header(type: 11, code: 0, checksum: 0x0f2a))
        }

        @Test func emit() throws {
            #expect(try Self.header.serialized() == Array(Self.echo[0..<8]))
            var short = [UInt8](repeating: 0, count: 7)
            #expect(throws: WireError.bufferTooShort("ICMPv4", need: 8, have: 7)) {
                try Self.header.emit(into: &short[...])
            }
        }

        @Test func bufferLength() {
            #expect(Self.header.bufferLength == 8)
        }

        /// ICMP has no length field: what must fail is every proper prefix of the 8-byte header.
        @Test func everyProperPrefixOfTheHeaderFails() {
            for n in 0..<8 {
                #expect(throws: WireError.self) { try ICMPv4Header.parse(Self.echo[0..<n]) }
            }
        }

        @Test func roundTrip() throws {
            for message in [Self.echo, Self.timeExceeded] {
                let parsed = try ICMPv4Header.parse(message)
                #expect(try parsed.serialized() == Array(message[0..<8]))
                #expect(try ICMPv4Header.parse(parsed.serialized()) == parsed)
            }
        }

        @Test func checksumVerifies() throws {
            #expect(try ICMPv4Message(Self.echo[...]).verifyChecksum())
            #expect(try ICMPv4Message(Self.timeExceeded[...]).verifyChecksum())
            #expect(Self.header.computeChecksum(payload: Self.echo[8...]) == 0x0ebd)
            var corrupted = Self.echo
            corrupted[40] ^= 0x01
            #expect(!(try ICMPv4Message(corrupted[...])).verifyChecksum())
            // A lost trailing byte changes the sum too: the checksum covers exactly the message.
            #expect(!(try ICMPv4Message(Self.echo.dropLast())).verifyChecksum())
        }

        @Test func names() {
            #expect(ICMPv4Type.name(0) == "echo reply")
            #expect(ICMPv4Type.name(3) == "destination unreachable")
            #expect(ICMPv4Type.name(200) == "type 200")
        }

        @Test func randomInputNeverTraps() {
            var rng = TransportTestRNG(seed: 0x1c4)
            var parsed = 0, mismatches = 0
            for _ in 0..<10_000 {
                let (buffer, range) = rng.mutantSlice(of: [Self.echo, Self.timeExceeded])
                if let view = try? ICMPv4Message(buffer[range]) {
                    _ = (view.type, view.code, view.checksum, view.restOfHeader, view.payload, view.name)
                    _ = view.verifyChecksum()
                }
                if let header = try? ICMPv4Header.parse(buffer[range]) {
                    parsed += 1
                    if (try? header.serialized()) != Array(buffer[range].prefix(8)) { mismatches += 1 }
                }
            }
            #expect(mismatches == 0)
            #expect(parsed > 100)
        }
    }

    @Suite struct V6 {
        static let echo: [UInt8] = hex("80008075123400016162636465666768")
        static let echoPseudoHeader = PseudoHeader.ipv6(
            source: IPv6Address("2001:db8::1")!, destination: IPv6Address("2001:db8::2")!, nextHeader: .icmpv6,
            length: 16)
        static let neighborSolicitation: [UInt8] = hex("""
            87007a9700000000fe8000000000000000000000000000020101020000000001
            """)
        static let nsPseudoHeader = PseudoHeader.ipv6(
            source: IPv6Address("fe80::1")!, destination: IPv6Address("ff02::1:ff00:2")!, nextHeader: .icmpv6,
            length: 32)
        static let header = ICMPv6Header(type: 128, code: 0, checksum: 0x8075, restOfHeader: 0x1234_0001)

        @Test func deconstruct() throws {
            let view = try ICMPv6Message(Self.echo[...])
            #expect(view.type == ICMPv6Type.echoRequest)
            #expect(view.code == 0)
            #expect(view.checksum == 0x8075)
            #expect(view.restOfHeader == 0x1234_0001)
            #expect(!view.isError)
            #expect(view.name == "echo request")
            #expect(Array(view.payload) == Array("abcdefgh".utf8))

            let ns = try ICMPv6Message(Self.neighborSolicitation[...])
            #expect(ns.type == ICMPv6Type.neighborSolicitation)
            #expect(ns.name == "neighbor solicitation")
            #expect(ns.restOfHeader == 0)
            #expect(Array(ns.payload.prefix(16)) == IPv6Address("fe80::2")!.bytes)
        }

        @Test func construct() throws {
            var buffer = [UInt8](repeating: 0xa5, count: 8)
            try Self.header.emit(into: &buffer[...])
            #expect(buffer == Array(Self.echo[0..<8]))
        }

        @Test func truncated() {
            #expect(throws: WireError.truncated("ICMPv6", need: 8, have: 7)) { try ICMPv6Message(Self.echo[0..<7]) }
        }

        @Test func parse() throws {
            #expect(try ICMPv6Header.parse(Self.echo) == Self.header)
            #expect(try ICMPv6Header.parse(Self.neighborSolicitation)
                == ICMPv6Header(type: 135, code: 0, checksum: 0x7a97))
        }

        @Test func emit() throws {
            #expect(try Self.header.serialized() == Array(Self.echo[0..<8]))
            var short = [UInt8](repeating: 0, count: 7)
            #expect(throws: WireError.bufferTooShort("ICMPv6", need: 8, have: 7)) {
                try Self.header.emit(into: &short[...])
            }
        }

        @Test func bufferLength() {
            #expect(Self.header.bufferLength == 8)
        }

        @Test func everyProperPrefixOfTheHeaderFails() {
            for n in 0..<8 {
                #expect(throws: WireError.self) { try ICMPv6Header.parse(Self.echo[0..<n]) }
            }
        }

        @Test func roundTrip() throws {
            for message in [Self.echo, Self.neighborSolicitation] {
                let parsed = try ICMPv6Header.parse(message)
                #expect(try parsed.serialized() == Array(message[0..<8]))
                #expect(try ICMPv6Header.parse(parsed.serialized()) == parsed)
            }
        }

        @Test func checksumVerifies() throws {
            let echo = try ICMPv6Message(Self.echo[...])
            #expect(echo.verifyChecksum(Self.echoPseudoHeader))
            #expect(Self.header.computeChecksum(payload: Self.echo[8...], pseudoHeader: Self.echoPseudoHeader)
                == 0x8075)
            #expect(try ICMPv6Message(Self.neighborSolicitation[...]).verifyChecksum(Self.nsPseudoHeader))
            // RFC 4443 §2.3: the pseudo-header is covered, so another destination fails.
            #expect(!echo.verifyChecksum(Self.nsPseudoHeader))
            // ICMPv6 is never checksummed under an IPv4 pseudo-header.
            let v4 = PseudoHeader.ipv4(source: IPv4Address(192, 0, 2, 1), destination: IPv4Address(192, 0, 2, 2),
                                       protocol: .icmpv6, length: 16)
            #expect(!echo.verifyChecksum(v4))
            var corrupted = Self.echo
            corrupted[12] ^= 0x80
            #expect(!(try ICMPv6Message(corrupted[...])).verifyChecksum(Self.echoPseudoHeader))
        }

        @Test func names() {
            #expect(ICMPv6Type.name(1) == "destination unreachable")
            #expect(ICMPv6Type.name(2) == "packet too big")
            #expect(ICMPv6Type.name(3) == "time exceeded")
            #expect(ICMPv6Type.name(136) == "neighbor advertisement")
            #expect(ICMPv6Type.name(255) == "type 255")
            #expect(ICMPv6Header(type: 2, code: 0, restOfHeader: 1280).name == "packet too big")
        }

        @Test func randomInputNeverTraps() {
            var rng = TransportTestRNG(seed: 0x1c6)
            var parsed = 0, mismatches = 0
            for _ in 0..<10_000 {
                let (buffer, range) = rng.mutantSlice(of: [Self.echo, Self.neighborSolicitation])
                if let view = try? ICMPv6Message(buffer[range]) {
                    _ = (view.type, view.code, view.checksum, view.restOfHeader, view.payload, view.name, view.isError)
                    _ = view.verifyChecksum(Self.echoPseudoHeader)
                }
                if let header = try? ICMPv6Header.parse(buffer[range]) {
                    parsed += 1
                    if (try? header.serialized()) != Array(buffer[range].prefix(8)) { mismatches += 1 }
                }
            }
            #expect(mismatches == 0)
            #expect(parsed > 100)
        }
    }
}
