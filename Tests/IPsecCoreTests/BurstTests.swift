import IPsecCore
import IPsecCrypto
import IPsecWire
import Testing

// The burst data plane against the per-packet one, which the rest of the suite checks against the RFCs and the
// oracles: the same bytes out, the same verdicts in, on both crypto implementations.

private let burstAlgorithms = ["aes128gcm16", "aes256gcm8", "chacha20poly1305", "aes128ccm12", "aes192ccm16",
                               "aes128-sha1", "aes256-sha512", "aes128ctr-aesxcbc", "3des-md5", "null-sha256",
                               "aes128gmac", "aes128gcm16iiv", "aes128", "aes256-aescmac"]

private struct BurstCase: CustomTestStringConvertible, Sendable {
    var keyword: String
    var mode: SAMode
    var version: IPVersion
    var esn: Bool
    var implementation: CryptoImplementation
    var testDescription: String { "\(implementation) \(mode) IPv\(version == .v4 ? 4 : 6) \(keyword)\(esn ? " ESN" : "")" }
}

private let burstCases: [BurstCase] = burstAlgorithms.flatMap { keyword in
    CryptoImplementation.allCases.flatMap { implementation in
        [(SAMode.tunnel, IPVersion.v4, false), (.tunnel, .v6, true), (.transport, .v4, true), (.transport, .v6, false)]
            .map { BurstCase(keyword: keyword, mode: $0.0, version: $0.1, esn: $0.2, implementation: implementation) }
    }
}

/// Packets of assorted sizes, with an inner IPv6 packet among IPv4 ones in tunnel mode.
private func packets(_ c: BurstCase) -> [[UInt8]] {
    let sizes = [0, 1, 17, 64, 255, 512, 1400, 3, 1024, 90]
    return sizes.enumerated().map { index, size in
        c.mode == .tunnel && index % 4 == 3
            ? udpPacket(c.version == .v4 ? .v6 : .v4, payloadLength: size)
            : udpPacket(c.version, payloadLength: size)
    }
}

@Suite("Burst data plane")
struct BurstTests {
    @Test("A burst protects and opens exactly as packet-by-packet processing does", arguments: burstCases)
    fileprivate func sameAsPerPacket(_ c: BurstCase) throws {
        let config = espConfig(try ESPAlgorithm(keyword: c.keyword), mode: c.mode, version: c.version, esn: c.esn)
        let input = packets(c)
        // Reference: one packet at a time on OpenSSL.
        let single = try SecurityAssociation(config, ivSource: .seeded(21), identificationSource: .seeded(22),
                                             implementation: .openSSL)
        var expected: [[UInt8]] = []
        for packet in input {
            var out: [UInt8] = []
            try Outbound.protect(packet[...], with: single, into: &out)
            expected.append(out)
        }
        let sender = try SecurityAssociation(config, ivSource: .seeded(21), identificationSource: .seeded(22),
                                             implementation: c.implementation)
        if c.implementation == .ipsecMB, IPsecMB.supports(try ESPAlgorithm(keyword: c.keyword)) {
            #expect(sender.cryptoImplementation == .ipsecMB)
        } else {
            #expect(sender.cryptoImplementation == .openSSL)
        }
        let burst = PacketBurst(capacity: 16, maximumPacketLength: 2048)
        for packet in input { #expect(burst.append(packet)) }
        Outbound.protect(burst, with: sender)
        for i in input.indices {
            #expect(burst.outboundErrors[i] == nil)
            let same = Array(burst.packet(i)) == expected[i]
            #expect(same, "packet \(i): burst and per-packet protection differ")
        }
        #expect(sender.counters.protectedPackets == input.count)
        #expect(sender.outboundSequence == single.outboundSequence)

        // Inbound: the protected packets, one replayed, one with a flipped bit, one that is not IPsec.
        let receiver = try SecurityAssociation(config, implementation: c.implementation)
        let sad = SADatabase()
        try sad.add(receiver)
        // Packet 4 arrives with a flipped ICV bit, then intact later; packet 2 is replayed.
        var tampered = expected[4]
        tampered[tampered.count - 1] ^= 0x40
        var arriving = expected
        arriving[4] = tampered
        arriving += [expected[2], expected[4], input[0]]
        let inbound = PacketBurst(capacity: 16, maximumPacketLength: 2048)
        for packet in arriving { inbound.append(packet) }
        Inbound.unprotect(inbound, sad: sad)
        // Reference verdicts from the per-packet path on a fresh receiver.
        let referenceReceiver = try SecurityAssociation(config, implementation: .openSSL)
        let referenceSAD = SADatabase()
        try referenceSAD.add(referenceReceiver)
        var out: [UInt8] = [], scratch: [UInt8] = []
        for (i, packet) in arriving.enumerated() {
            let result = Inbound.unprotect(packet[...], sad: referenceSAD, into: &out, scratch: &scratch)
            #expect(inbound.inboundResults[i].verdict == result.verdict, "packet \(i)")
            #expect(inbound.inboundResults[i].sequence == result.sequence, "packet \(i)")
            if result.verdict == .accepted {
                let same = Array(inbound.packet(i)) == out
                #expect(same, "packet \(i): burst and per-packet opening differ")
                #expect(out == input[i < input.count ? i : 4], "packet \(i) round trip")
            }
        }
        if try ESPAlgorithm(keyword: c.keyword).icvLength > 0 {
            #expect(inbound.inboundResults[4].verdict == .dropped(.integrity))
        }
        #expect(inbound.inboundResults[input.count].verdict == .dropped(.replay))
        #expect(inbound.inboundResults[input.count + 1].verdict == .accepted)
        #expect(inbound.inboundResults[input.count + 2].verdict == .dropped(.notIPsec))
        #expect(receiver.counters.acceptedPackets == referenceReceiver.counters.acceptedPackets)
        #expect(receiver.counters.drops == referenceReceiver.counters.drops)
    }

    @Test("Bursts mixing SAs, with AH packets taking the per-packet path, open every packet")
    func mixed() throws {
        let gcm = espConfig(try ESPAlgorithm(keyword: "aes128gcm16"), mode: .tunnel, version: .v4, spi: 0x100)
        let cbc = espConfig(try ESPAlgorithm(keyword: "aes128-sha256"), mode: .tunnel, version: .v4, spi: 0x200)
        let ah = ahConfig(try AHAlgorithm(keyword: "sha256"), mode: .tunnel, version: .v4, spi: 0x300)
        var protected: [[UInt8]] = []
        var inner: [[UInt8]] = []
        for (n, config) in [gcm, cbc, ah, gcm, gcm, cbc].enumerated() {
            let sa = try SecurityAssociation(config, ivSource: .seeded(UInt64(n)), implementation: .ipsecMB)
            // Sequence numbers advance per SA: skip ahead so that each packet is new to the receiver.
            for _ in 0..<n { var skip: [UInt8] = []; try Outbound.protect(udpPacket(.v4, payloadLength: 1)[...], with: sa, into: &skip) }
            let packet = udpPacket(.v4, payloadLength: 100 + n)
            var out: [UInt8] = []
            try Outbound.protect(packet[...], with: sa, into: &out)
            protected.append(out)
            inner.append(packet)
        }
        let sad = SADatabase()
        for config in [gcm, cbc, ah] { try sad.add(try SecurityAssociation(config, implementation: .ipsecMB)) }
        let burst = PacketBurst(capacity: 8, maximumPacketLength: 512)
        for packet in protected { burst.append(packet) }
        Inbound.unprotect(burst, sad: sad)
        for i in protected.indices {
            #expect(burst.inboundResults[i].verdict == .accepted, "packet \(i)")
            #expect(Array(burst.packet(i)) == inner[i], "packet \(i)")
        }
    }

    @Test("Hard lifetimes hold inside a burst, both ways", arguments: CryptoImplementation.allCases)
    func lifetimes(_ implementation: CryptoImplementation) throws {
        var config = espConfig(try ESPAlgorithm(keyword: "aes128gcm16"), mode: .tunnel, version: .v4)
        config.lifetime = SALifetime(hardPackets: 5)
        let sender = try SecurityAssociation(config, ivSource: .seeded(1), implementation: implementation)
        let burst = PacketBurst(capacity: 8, maximumPacketLength: 256)
        for n in 0..<8 { burst.append(udpPacket(.v4, payloadLength: n)) }
        Outbound.protect(burst, with: sender)
        for i in 0..<8 { #expect((burst.outboundErrors[i] == nil) == (i < 5), "packet \(i)") }
        #expect(sender.counters.protectedPackets == 5)
        config.lifetime = SALifetime(hardPackets: 3)
        let sad = SADatabase()
        try sad.add(try SecurityAssociation(config, implementation: implementation))
        let inbound = PacketBurst(capacity: 8, maximumPacketLength: 256)
        for i in 0..<5 { inbound.append(burst.packet(i)) }
        Inbound.unprotect(inbound, sad: sad)
        for i in 0..<5 {
            #expect(inbound.inboundResults[i].verdict == (i < 3 ? .accepted : .dropped(.lifetime)), "packet \(i)")
        }
    }

    @Test("Packets too long for a slot are refused, and a full burst takes no more")
    func capacity() {
        let burst = PacketBurst(capacity: 2, maximumPacketLength: 100)
        #expect(!burst.append([UInt8](repeating: 0, count: 101)))
        #expect(burst.append([UInt8](repeating: 0, count: 100)))
        #expect(burst.append([UInt8](repeating: 1, count: 10)))
        #expect(!burst.append([UInt8](repeating: 2, count: 10)))
        #expect(burst.count == 2)
        burst.removeAll()
        #expect(burst.count == 0)
    }

    /// The burst remembers its last SA lookup. A new database — here one made and freed per round, so that the
    /// allocator hands out the old one's address again — must not get the old database's SA, whose replay window has
    /// already seen the packet: every fresh receiver accepts it.
    @Test("A fresh SA database is never answered from the last one's lookup")
    func lookupCacheFollowsTheDatabase() throws {
        let config = espConfig(try ESPAlgorithm(keyword: "aes128gcm16"), mode: .tunnel, version: .v4, esn: false)
        var protected: [UInt8] = []
        try Outbound.protect(udpPacket(.v4, payloadLength: 40)[...],
                             with: try SecurityAssociation(config, ivSource: .seeded(3)), into: &protected)
        let burst = PacketBurst(capacity: 1, maximumPacketLength: 2048)
        for round in 0..<64 {
            let sad = SADatabase()
            try sad.add(try SecurityAssociation(config))
            burst.removeAll()
            #expect(burst.append(protected))
            Inbound.unprotect(burst, sad: sad)
            #expect(burst.inboundResults[0].verdict == .accepted, "round \(round)")
        }
    }
}
