import IPsecCore
import IPsecCrypto
import IPsecWire

/// Bytes from hex text; whitespace is ignored. Traps on bad hex: test data only.
func hex(_ text: String) -> [UInt8] {
    let digits = text.filter { !$0.isWhitespace }
    precondition(digits.count % 2 == 0, "odd number of hex digits")
    var out: [UInt8] = []
    var it = digits.makeIterator()
    while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16)!) }
    return out
}

/// Deterministic key bytes for tests: `count` bytes starting at `seed`.
func keyBytes(_ count: Int, seed: UInt8) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: Int(seed) &+ $0 &* 7) }
}

let v4a = IPAddress("192.0.2.1")!, v4b = IPAddress("198.51.100.2")!
let v6a = IPAddress("2001:db8::1")!, v6b = IPAddress("2001:db8::2")!

func espConfig(_ algorithm: ESPAlgorithm, mode: SAMode, version: IPVersion, spi: UInt32 = 0x1000,
               esn: Bool = false) -> SAConfiguration {
    SAConfiguration(protocol: .esp, spi: spi, mode: mode, source: version == .v4 ? v4a : v6a,
                    destination: version == .v4 ? v4b : v6b, algorithm: .esp(algorithm),
                    encryptionKey: keyBytes(algorithm.encryptionKeyLength, seed: 1),
                    integrityKey: keyBytes(algorithm.integrityKeyLength, seed: 101), extendedSequenceNumbers: esn)
}

func ahConfig(_ algorithm: AHAlgorithm, mode: SAMode, version: IPVersion, spi: UInt32 = 0x2000,
              esn: Bool = false) -> SAConfiguration {
    SAConfiguration(protocol: .ah, spi: spi, mode: mode, source: version == .v4 ? v4a : v6a,
                    destination: version == .v4 ? v4b : v6b, algorithm: .ah(algorithm),
                    integrityKey: keyBytes(algorithm.integrity.keyMaterialLength, seed: 55), extendedSequenceNumbers: esn)
}

/// A UDP packet between the SA's endpoints (transport mode needs them; tunnel mode carries anything).
func udpPacket(_ version: IPVersion, payloadLength: Int, source: IPAddress? = nil, destination: IPAddress? = nil)
    -> [UInt8] {
    let payload = (0..<payloadLength).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    let src = source ?? (version == .v4 ? v4a : v6a)
    let dst = destination ?? (version == .v4 ? v4b : v6b)
    var udp = UDPHeader(sourcePort: 4000, destinationPort: 5000, length: UInt16(8 + payloadLength))
    switch (src, dst) {
    case let (.v4(s), .v4(d)):
        udp.checksum = udp.computeChecksum(payload: payload, pseudoHeader: .ipv4(source: s, destination: d,
                                                                                    protocol: .udp, length: udp.length))
        var ip = IPv4Header(totalLength: UInt16(20 + 8 + payloadLength), identification: 0x1234, protocol: .udp,
                            source: s, destination: d)
        ip.updateChecksum()
        return try! ip.serialized() + udp.serialized() + payload
    case let (.v6(s), .v6(d)):
        udp.checksum = udp.computeChecksum(payload: payload, pseudoHeader: .ipv6(source: s, destination: d,
                                                                                    nextHeader: .udp,
                                                                                    length: UInt32(udp.length)))
        let ip = IPv6Header(flowLabel: 0x12345, payloadLength: UInt16(8 + payloadLength), nextHeader: .udp,
                            source: s, destination: d)
        return try! ip.serialized() + udp.serialized() + payload
    default:
        fatalError("mixed families")
    }
}

/// Protects `packet` with a fresh SA for `config`, opens it with another fresh SA, and returns both results.
struct RoundTrip {
    var protected: [UInt8]
    var opened: [UInt8]
    var result: InboundResult
}

func roundTrip(_ packet: [UInt8], _ config: SAConfiguration) throws -> RoundTrip {
    let sender = try SecurityAssociation(config, ivSource: .seeded(7), identificationSource: .seeded(8))
    var protected: [UInt8] = []
    try Outbound.protect(packet[...], with: sender, into: &protected)
    let sad = SADatabase()
    try sad.add(try SecurityAssociation(config))
    var out: [UInt8] = [], scratch: [UInt8] = []
    let result = Inbound.unprotect(protected[...], sad: sad, into: &out, scratch: &scratch)
    return RoundTrip(protected: protected, opened: out, result: result)
}
