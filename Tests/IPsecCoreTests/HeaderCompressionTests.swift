import IPsecCore
import IPsecCrypto
import IPsecWire
import Testing

/// The header-compressed tunnel (docs/header-compression.md): round trips for every ESP transform, version and
/// preset, host-to-host and gateway-to-gateway; and the security properties of the elided fields.
@Suite struct HeaderCompressionTests {
    static let presets: [HeaderCompressionFields] = [.minimal, .addresses, .hostToHost,
                                                      [.destination], [.source, .dscp]]

    static func config(_ algorithm: ESPAlgorithm, _ version: IPVersion, _ fields: HeaderCompressionFields,
                       spi: UInt32 = 0x3000) -> SAConfiguration {
        var c = espConfig(algorithm, mode: .tunnelHC, version: version, spi: spi)
        c.headerCompression = version == .v6 ? fields.subtracting([.identification, .dontFragment]) : fields
        return c
    }

    /// Whether the protected packet went out in the compressed form (SPI indicator bit set).
    static func isCompressed(_ protected: [UInt8]) -> Bool {
        (Dissector.dissect(ipPacket: protected).esp?.spi ?? 0) & HeaderCompression.indicator != 0
    }

    @Test(arguments: ESPAlgorithm.all)
    func roundTripEveryPresetHostToHostAndGatewayToGateway(_ algorithm: ESPAlgorithm) throws {
        for version in IPVersion.allCases {
            for fields in Self.presets {
                let config = Self.config(algorithm, version, fields)
                for size in [0, 1, 15, 16, 17, 1400] {
                    // Host-to-host: the inner addresses are the tunnel endpoints; every preset compresses.
                    let h2h = udpPacket(version, payloadLength: size)
                    let a = try roundTrip(h2h, config)
                    #expect(a.result.verdict == .accepted, "\(algorithm) \(version) \(fields) \(size)")
                    #expect(a.opened == h2h)
                    #expect(Self.isCompressed(a.protected))
                    let expectedSize = h2h.count - (version == .v4 ? 20 : 40)
                        + HeaderCompression.residualLength(fields: config.headerCompression!, version: version)
                    let plain = try roundTrip(h2h, espConfig(algorithm, mode: .tunnel, version: version))
                    // The compressed packet is shorter than plain tunnel ESP by the header minus the residual, give or
                    // take the padding to the cipher block.
                    let saved = plain.protected.count - a.protected.count
                    let expectedSaving = (version == .v4 ? 20 : 40) - (expectedSize - (h2h.count - (version == .v4 ? 20 : 40)))
                    #expect(abs(saved - expectedSaving) < max(algorithm.encryption.blockSize, 4),
                            "\(algorithm) \(version) \(fields): saved \(saved), expected about \(expectedSaving)")

                    // Gateway-to-gateway: the inner addresses differ; only sets without addresses compress.
                    let g2g = udpPacket(version, payloadLength: size,
                                        source: version == .v4 ? IPAddress("10.1.0.1")! : IPAddress("fd00:1::1")!,
                                        destination: version == .v4 ? IPAddress("10.2.0.1")! : IPAddress("fd00:2::1")!)
                    let b = try roundTrip(g2g, config)
                    #expect(b.result.verdict == .accepted)
                    #expect(b.opened == g2g)
                    let elidesAddresses = !config.headerCompression!.isDisjoint(with: [.source, .destination])
                    #expect(Self.isCompressed(b.protected) == !elidesAddresses)
                }
            }
        }
    }

    /// Inner packets that do not qualify go uncompressed and still round-trip: IPv4 options, a different IP version.
    /// IPv6 extension headers qualify (they travel in the payload).
    @Test func nonQualifyingPacketsGoUncompressed() throws {
        let algorithm = try ESPAlgorithm(keyword: "aes128gcm16")
        let config4 = Self.config(algorithm, .v4, .hostToHost)
        // IPv4 with a router-alert option.
        let plain = udpPacket(.v4, payloadLength: 30)
        var h = try IPv4Header.parse(plain)
        h.options = [.routerAlert(value: 0)]
        h.totalLength = UInt16(24 + plain.count - 20)
        h.updateChecksum()
        let withOptions = try h.serialized() + plain[20...]
        let a = try roundTrip(withOptions, config4)
        #expect(a.result.verdict == .accepted)
        #expect(a.opened == withOptions)
        #expect(!Self.isCompressed(a.protected))
        // IPv6 inside an IPv4 tunnel.
        let v6 = udpPacket(.v6, payloadLength: 10)
        let b = try roundTrip(v6, config4)
        #expect(b.result.verdict == .accepted)
        #expect(b.opened == v6)
        #expect(!Self.isCompressed(b.protected))
        // IPv6 with a Destination Options header: compressed, header carried in the payload.
        let udp = Array(udpPacket(.v6, payloadLength: 12)[40...])
        let dst = IPv6OptionsHeader.padded(nextHeader: .udp, options: [])
        let ext = try dst.serialized()
        let ip = IPv6Header(payloadLength: UInt16(ext.count + udp.count), nextHeader: .destinationOptions,
                            source: v6a.v6!, destination: v6b.v6!)
        let withExt = try ip.serialized() + ext + udp
        let c = try roundTrip(withExt, Self.config(algorithm, .v6, .hostToHost))
        #expect(c.result.verdict == .accepted)
        #expect(c.opened == withExt)
        #expect(Self.isCompressed(c.protected))
        // A fragment cannot have its DF/MF/offset elided.
        var frag = udpPacket(.v4, payloadLength: 30)
        frag[6] = 0x20
        var fh = try IPv4Header.parse(frag)
        fh.updateChecksum()
        frag.replaceSubrange(0..<20, with: try fh.serialized())
        let d = try roundTrip(frag, config4)
        #expect(d.opened == frag)
        #expect(!Self.isCompressed(d.protected))
    }

    static func open(_ packet: [UInt8], _ config: SAConfiguration) throws -> InboundVerdict {
        let sad = SADatabase()
        try sad.add(try SecurityAssociation(config))
        var out: [UInt8] = [], scratch: [UInt8] = []
        return Inbound.unprotect(packet[...], sad: sad, into: &out, scratch: &scratch).verdict
    }

    /// Changing an outer field that was elided (so that the receiver would rebuild a different inner packet) fails
    /// the ICV; so does flipping the indicator.
    @Test(arguments: ["aes128gcm16", "aes128-sha256", "null-sha256", "chacha20poly1305", "aes128ccm8", "aes128gmac"])
    func tamperingWithElidedFieldsFailsIntegrity(_ keyword: String) throws {
        let algorithm = try ESPAlgorithm(keyword: keyword)
        for version in IPVersion.allCases {
            let config = Self.config(algorithm, version, .hostToHost)
            var packet = udpPacket(version, payloadLength: 40)
            if version == .v4 {
                packet[1] = 0x28  // DSCP 10, so that a change to it shows
                var h = try IPv4Header.parse(packet)
                h.updateChecksum()
                packet.replaceSubrange(0..<20, with: try h.serialized())
            }
            let r = try roundTrip(packet, config)
            #expect(r.result.verdict == .accepted)
            // Outer byte positions of the elided fields: addresses, DSCP, and for IPv4 identification and DF.
            let positions: [Int] = version == .v4 ? [12, 15, 16, 19, 1, 4, 5, 6] : [8, 23, 24, 39, 0, 1]
            for i in positions {
                var bad = r.protected
                if version == .v4 && i == 1 { bad[i] ^= 0x04 } else if version == .v4 && i == 6 { bad[i] ^= 0x40 }
                else if version == .v6 && i <= 1 { bad[i] ^= (i == 0 ? 0x01 : 0x40) } else { bad[i] ^= 0x01 }
                if version == .v4 { PacketLayoutFix.ipv4Checksum(&bad) }
                #expect(try Self.open(bad, config) == .dropped(.integrity), "\(keyword) \(version) outer byte \(i)")
            }
            // ECN and TTL are not elided: changing them in the outer header changes nothing inside.
            var ecn = r.protected
            if version == .v4 { ecn[1] ^= 0x03; ecn[8] = 3; PacketLayoutFix.ipv4Checksum(&ecn) } else { ecn[1] ^= 0x30; ecn[7] = 1 }
            #expect(try Self.open(ecn, config) == .accepted)
            // The indicator.
            var flipped = r.protected
            let spiOffset = version == .v4 ? 20 : 40
            flipped[spiOffset] ^= 0x80
            let verdict = try Self.open(flipped, config)
            #expect(verdict == .dropped(.integrity), "\(keyword) \(version) indicator: \(verdict)")
        }
    }

    /// A packet compressed under one field set is not accepted by an SA with another (the set is authenticated).
    @Test func presetsDoNotCrossOver() throws {
        let algorithm = try ESPAlgorithm(keyword: "aes128gcm16")
        for version in IPVersion.allCases {
            let packet = udpPacket(version, payloadLength: 20)
            for sender in [HeaderCompressionFields.minimal, .addresses, .hostToHost] {
                let r = try roundTrip(packet, Self.config(algorithm, version, sender))
                for receiver in [HeaderCompressionFields.minimal, .addresses, .hostToHost] {
                    let verdict = try Self.open(r.protected, Self.config(algorithm, version, receiver))
                    let same = Self.config(algorithm, version, sender).headerCompression
                        == Self.config(algorithm, version, receiver).headerCompression
                    #expect((verdict == .accepted) == same, "\(version) \(sender) → \(receiver): \(verdict)")
                    if !same { #expect(verdict == .dropped(.integrity)) }
                }
            }
        }
    }

    /// Replays of compressed packets are refused like any other.
    @Test func replaysAreRejected() throws {
        let config = Self.config(try ESPAlgorithm(keyword: "aes128gcm16"), .v4, .hostToHost)
        let sender = try SecurityAssociation(config)
        let sad = SADatabase()
        try sad.add(try SecurityAssociation(config))
        var out: [UInt8] = [], opened: [UInt8] = [], scratch: [UInt8] = []
        try Outbound.protect(udpPacket(.v4, payloadLength: 10)[...], with: sender, into: &out)
        #expect(Inbound.unprotect(out[...], sad: sad, into: &opened, scratch: &scratch).verdict == .accepted)
        #expect(Inbound.unprotect(out[...], sad: sad, into: &opened, scratch: &scratch).verdict == .dropped(.replay))
    }

    /// The inbound selector check runs on the rebuilt packet.
    @Test func selectorCheckedOnTheRebuiltPacket() throws {
        var config = Self.config(try ESPAlgorithm(keyword: "aes128gcm16"), .v4, .hostToHost)
        let r = try roundTrip(udpPacket(.v4, payloadLength: 10), config)
        config.selector = TrafficSelector(protocol: .tcp)
        #expect(try Self.open(r.protected, config) == .dropped(.policy))
        config.selector = TrafficSelector(source: IPPrefix(host: v4a), protocol: .udp, destinationPort: 5000)
        #expect(try Self.open(r.protected, config) == .accepted)
    }
}
