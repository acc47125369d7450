import IPsecAnalysis
import IPsecCore
import IPsecCrypto
import IPsecWire
import Testing

// Allocations are deterministic, unlike seconds. The crypto of a burst must make none at all once warm, on either
// implementation; the burst data plane must make no more per packet than the per-packet path it reuses the parsers of
// (which `ipsec-lab bench` measures at zero in a release build: docs/ipsec-mb.md). Counted by the interposed
// allocator that `ipsec-lab bench` uses, on this thread.

private func udp4(_ payloadLength: Int) -> [UInt8] {
    let payload = (0..<payloadLength).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }
    let udp = UDPHeader(sourcePort: 4000, destinationPort: 5000, length: UInt16(8 + payloadLength))
    var ip = IPv4Header(totalLength: UInt16(28 + payloadLength), identification: 7, protocol: .udp,
                        source: IPv4Address(rawValue: 0x0a00_0001), destination: IPv4Address(rawValue: 0x0a00_0002))
    ip.updateChecksum()
    return try! ip.serialized() + udp.serialized() + payload
}

/// Key bytes that differ from each other (3DES refuses repeated key parts).
private func key(_ count: Int, _ seed: UInt8) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed)) } }

private let cases: [(String, CryptoImplementation, SAMode)] = [
    ("aes128gcm16", .ipsecMB, .tunnel), ("aes128gcm16", .openSSL, .tunnel), ("aes128-sha256", .ipsecMB, .transport),
    ("chacha20poly1305", .ipsecMB, .tunnel), ("aes128ccm16", .ipsecMB, .transport), ("aes128gmac", .ipsecMB, .tunnel),
    ("3des-sha1", .ipsecMB, .tunnel),
]

@Suite("Burst allocations")
struct BurstAllocationTests {
    @Test("Sealing and opening a burst allocates nothing", arguments: cases.map { ($0.0, $0.1) })
    func transformBurst(_ keyword: String, _ implementation: CryptoImplementation) throws {
        #expect(Bench.countsAllocations, "this build cannot count allocations")
        let algorithm = try ESPAlgorithm(keyword: keyword)
        let transform = try ESPBurstTransform(algorithm, encryptionKey: key(algorithm.encryptionKeyLength, 3),
                                              integrityKey: key(algorithm.integrityKeyLength, 4),
                                              implementation: implementation)
        #expect(transform.implementation == implementation)
        let sizes = [64, 1408, 512, 16]
        let offsets = sizes.reduce(into: [0]) { $0.append($0.last! + 8 + algorithm.ivLength + $1 + algorithm.icvLength) }
        var arena = [UInt8](repeating: 0x5a, count: offsets.last! * 8)
        var items = [ESPBurstPacket]()
        items.reserveCapacity(32)
        var allocations: UInt64 = 0
        var verified = 0
        arena.withUnsafeMutableBytes { bytes in
            for copy in 0..<8 {
                for (k, size) in sizes.enumerated() {
                    let start = copy * offsets.last! + offsets[k]
                    items.append(ESPBurstPacket(
                        packet: UnsafeMutableRawBufferPointer(
                            rebasing: bytes[start..<(start + 8 + algorithm.ivLength + size + algorithm.icvLength)]),
                        associatedData: ESPAssociatedData(spi: 0x1234, sequenceNumber: UInt64(k + 1))))
                }
            }
            items.withUnsafeMutableBufferPointer { burst in
                for round in 0..<20 {
                    let before = Bench.threadAllocations
                    try? transform.seal(burst)
                    try? transform.open(burst)
                    if round >= 3 { allocations += Bench.threadAllocations - before }
                    verified += burst.filter(\.verified).count
                }
            }
        }
        #expect(verified == 20 * 32)
        #expect(allocations == 0, "\(allocations) allocations in 17 bursts of 32 packets sealed and opened")
    }

    @Test("The burst data plane allocates no more per packet than the per-packet path",
          arguments: cases.map { ($0.0, $0.1, $0.2) })
    func dataPlane(_ keyword: String, _ implementation: CryptoImplementation, _ mode: SAMode) throws {
        let algorithm = try ESPAlgorithm(keyword: keyword)
        let config = SAConfiguration(protocol: .esp, spi: 0x4242, mode: mode, source: IPAddress("10.0.0.1")!,
                                     destination: IPAddress("10.0.0.2")!, algorithm: .esp(algorithm),
                                     encryptionKey: key(algorithm.encryptionKeyLength, 7),
                                     integrityKey: key(algorithm.integrityKeyLength, 9))
        let packets = [udp4(36), udp4(1372), udp4(500), udp4(0)]

        // Per packet, into reused arrays.
        let single = try SecurityAssociation(config, ivSource: .seeded(1), implementation: implementation)
        let singleSAD = SADatabase()
        try singleSAD.add(try SecurityAssociation(config, implementation: implementation))
        var out: [UInt8] = [], opened: [UInt8] = [], scratch: [UInt8] = []
        var perPacket: UInt64 = 0
        for round in 0..<10 {
            let before = Bench.threadAllocations
            for i in 0..<32 {
                try Outbound.protect(packets[i % 4][...], with: single, into: &out)
                _ = Inbound.unprotect(out[...], sad: singleSAD, into: &opened, scratch: &scratch)
            }
            if round >= 3 { perPacket += Bench.threadAllocations - before }
        }

        let sender = try SecurityAssociation(config, ivSource: .seeded(1), implementation: implementation)
        let sad = SADatabase()
        try sad.add(try SecurityAssociation(config, implementation: implementation))
        let outbound = PacketBurst(capacity: 32, maximumPacketLength: 2048)
        let inbound = PacketBurst(capacity: 32, maximumPacketLength: 2048)
        var accepted = 0
        var burst: UInt64 = 0
        for round in 0..<10 {
            let before = Bench.threadAllocations
            outbound.removeAll()
            for i in 0..<32 { outbound.append(packets[i % 4]) }
            Outbound.protect(outbound, with: sender)
            inbound.removeAll()
            for i in 0..<32 { outbound.withPacket(i) { inbound.append($0) } }
            Inbound.unprotect(inbound, sad: sad)
            for i in 0..<32 where inbound.inboundResults[i].verdict == .accepted { accepted += 1 }
            if round >= 3 { burst += Bench.threadAllocations - before }
        }
        #expect(accepted == 10 * 32)
        #expect(burst <= perPacket, "burst: \(burst), per packet: \(perPacket) allocations over 224 round trips")
    }
}
