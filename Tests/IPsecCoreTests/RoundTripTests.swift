import IPsecCore
import IPsecCrypto
import IPsecWire
import Testing

/// Every cell of the matrix: mode × algorithm × IP version × payload size, protected and opened again.
@Suite struct RoundTripTests {
    static let modes: [SAMode] = [.transport, .tunnel]

    /// Sizes around the cipher block, and a typical large packet (issue 3: 0, 1, block−1, block, block+1, 1400).
    static func sizes(block: Int) -> [Int] { [0, 1, block - 1, block, block + 1, 1400] }

    @Test(arguments: ESPAlgorithm.all)
    func espEveryModeVersionAndSize(_ algorithm: ESPAlgorithm) throws {
        for mode in Self.modes {
            for version in IPVersion.allCases {
                for size in Self.sizes(block: max(algorithm.encryption.blockSize, 4)) {
                    let packet = udpPacket(version, payloadLength: size)
                    let config = espConfig(algorithm, mode: mode, version: version)
                    let r = try roundTrip(packet, config)
                    #expect(r.result.verdict == .accepted, "\(algorithm) \(mode) \(version) \(size): \(r.result.verdict)")
                    #expect(r.opened == packet, "\(algorithm) \(mode) \(version) \(size)")
                    // What went on the wire is ESP, and its plaintext is not there in clear (unless NULL).
                    let d = Dissector.dissect(ipPacket: r.protected)
                    #expect(d.esp?.spi == config.spi)
                    #expect(d.esp?.sequenceNumber == 1)
                }
            }
        }
    }

    @Test(arguments: AHAlgorithm.all)
    func ahEveryModeVersionAndSize(_ algorithm: AHAlgorithm) throws {
        for mode in Self.modes {
            for version in IPVersion.allCases {
                for size in Self.sizes(block: 4) {
                    let packet = udpPacket(version, payloadLength: size)
                    let r = try roundTrip(packet, ahConfig(algorithm, mode: mode, version: version))
                    #expect(r.result.verdict == .accepted, "\(algorithm) \(mode) \(version) \(size): \(r.result.verdict)")
                    #expect(r.opened == packet)
                    let d = Dissector.dissect(ipPacket: r.protected)
                    #expect(d.error == nil)
                    #expect(d.ah?.spi == 0x2000)
                }
            }
        }
    }

    /// Mixed families in tunnel mode: IPv4 in IPv6 and IPv6 in IPv4.
    @Test func mixedFamilyTunnels() throws {
        for (outer, inner) in [(IPVersion.v6, IPVersion.v4), (.v4, .v6)] {
            let packet = udpPacket(inner, payloadLength: 100)
            let esp = try roundTrip(packet, espConfig(try ESPAlgorithm(keyword: "aes128gcm16"), mode: .tunnel,
                                                      version: outer))
            #expect(esp.result.verdict == .accepted)
            #expect(esp.opened == packet)
            let ah = try roundTrip(packet, ahConfig(try AHAlgorithm(keyword: "sha256"), mode: .tunnel, version: outer))
            #expect(ah.result.verdict == .accepted)
            #expect(ah.opened == packet)
        }
    }

    /// The outer header of tunnel mode per RFC 4301 §5.1.2: DSCP and ECN copied, DF from the inner header,
    /// IPv6 flow label copied, protocol ESP, lengths and checksum right.
    @Test func tunnelOuterHeader() throws {
        var packet = udpPacket(.v4, payloadLength: 50)
        packet[1] = 0xb9  // DSCP 46 (EF), ECN 01 (ECT(1))
        packet[6] = 0x40  // DF
        var h = try IPv4Header.parse(packet)
        h.updateChecksum()
        packet.replaceSubrange(0..<20, with: try h.serialized())
        let r = try roundTrip(packet, espConfig(try ESPAlgorithm(keyword: "aes128gcm16"), mode: .tunnel, version: .v4))
        let outer = try IPv4Packet(r.protected[...])
        #expect(outer.dscp == 46)
        #expect(outer.ecn == 1)
        #expect(outer.dontFragment)
        #expect(outer.protocol == .esp)
        #expect(Int(outer.totalLength) == r.protected.count)
        #expect(outer.verifyHeaderChecksum())
        #expect(outer.ttl == 64)
        #expect(r.opened == packet)

        let p6 = udpPacket(.v6, payloadLength: 10)
        let r6 = try roundTrip(p6, espConfig(try ESPAlgorithm(keyword: "aes128gcm16"), mode: .tunnel, version: .v6))
        let outer6 = try IPv6Packet(r6.protected[...])
        #expect(outer6.flowLabel == 0x12345)
        #expect(Int(outer6.payloadLength) + 40 == r6.protected.count)
    }

    /// Transport mode over IPv6 puts ESP after Hop-by-Hop and Routing headers and protects a Destination Options
    /// header that follows them (RFC 4303 §3.1.1).
    @Test func ipv6TransportPlacesESPAfterTheRightHeaders() throws {
        let udp = Array(udpPacket(.v6, payloadLength: 20)[40...])
        let hbh = IPv6OptionsHeader.padded(nextHeader: .routing, options: [.routerAlert(value: 0)])
        let rh = IPv6RoutingHeader.makeHomeAddress(nextHeader: .destinationOptions, homeAddress: v6b.v6!, segmentsLeft: 0)
        let dst = IPv6OptionsHeader.padded(nextHeader: .udp, options: [])
        let ext = try hbh.serialized() + rh.serialized() + dst.serialized()
        let ip = IPv6Header(payloadLength: UInt16(ext.count + udp.count), nextHeader: .hopByHop, source: v6a.v6!,
                            destination: v6b.v6!)
        let packet = try ip.serialized() + ext + udp
        let r = try roundTrip(packet, espConfig(try ESPAlgorithm(keyword: "aes128gcm16"), mode: .transport, version: .v6))
        #expect(r.result.verdict == .accepted)
        #expect(r.opened == packet)
        let d = Dissector.dissect(ipPacket: r.protected)
        let keys = d.layers.map(\.layer.key)
        #expect(keys == ["ipv6", "ipv6_hop_by_hop", "ipv6_routing", "esp"])
        // AH: same place, and the ICV covers the destination options after it.
        let a = try roundTrip(packet, ahConfig(try AHAlgorithm(keyword: "sha1"), mode: .transport, version: .v6))
        #expect(a.result.verdict == .accepted)
        #expect(a.opened == packet)
        let ad = Dissector.dissect(ipPacket: a.protected)
        #expect(ad.layers.map(\.layer.key).prefix(5) == ["ipv6", "ipv6_hop_by_hop", "ipv6_routing", "ah",
                                                          "ipv6_destination_options"])
    }

    /// Transport mode refuses fragments: IPsec applies to whole packets (RFC 4301 §7).
    @Test func transportRefusesFragments() throws {
        var packet = udpPacket(.v4, payloadLength: 40)
        packet[6] = 0x20  // MF
        var h = try IPv4Header.parse(packet)
        h.updateChecksum()
        packet.replaceSubrange(0..<20, with: try h.serialized())
        let sa = try SecurityAssociation(espConfig(try ESPAlgorithm(keyword: "aes128gcm16"), mode: .transport,
                                                   version: .v4))
        var out: [UInt8] = []
        #expect(throws: CoreError(.unsupported, "")) { try Outbound.protect(packet[...], with: sa, into: &out) }
    }

    /// Sequence numbers count up from the configured state; without ESN the counter may not wrap (RFC 4303 §3.3.3).
    @Test func sequenceNumbersAndOverflow() throws {
        var config = espConfig(try ESPAlgorithm(keyword: "aes128gcm16"), mode: .tunnel, version: .v4)
        config.outboundSequence = UInt64(UInt32.max) - 2
        let sa = try SecurityAssociation(config)
        var out: [UInt8] = []
        let packet = udpPacket(.v4, payloadLength: 10)
        try Outbound.protect(packet[...], with: sa, into: &out)
        #expect(Dissector.dissect(ipPacket: out).esp?.sequenceNumber == UInt32.max - 1)
        try Outbound.protect(packet[...], with: sa, into: &out)
        #expect(Dissector.dissect(ipPacket: out).esp?.sequenceNumber == UInt32.max)
        #expect(throws: CoreError(.sequenceOverflow, "")) { try Outbound.protect(packet[...], with: sa, into: &out) }
        // With ESN the low 32 bits wrap and the high bits, authenticated but not sent, count on.
        config.extendedSequenceNumbers = true
        let esn = try SecurityAssociation(config)
        try Outbound.protect(packet[...], with: esn, into: &out)
        try Outbound.protect(packet[...], with: esn, into: &out)
        try Outbound.protect(packet[...], with: esn, into: &out)
        #expect(Dissector.dissect(ipPacket: out).esp?.sequenceNumber == 0)
        #expect(esn.outboundSequence == 1 << 32)
    }
}

extension IPAddress {
    var v6: IPv6Address? { if case .v6(let a) = self { a } else { nil } }
}
