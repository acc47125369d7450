import IPsecCore
import IPsecCrypto
import IPsecWire
import Testing

/// Every single-byte change of a protected byte is refused, with the reason of the stage that catches it.
@Suite struct TamperTests {
    static func open(_ packet: [UInt8], _ config: SAConfiguration) throws -> InboundResult {
        let sad = SADatabase()
        try sad.add(try SecurityAssociation(config))
        var out: [UInt8] = [], scratch: [UInt8] = []
        return Inbound.unprotect(packet[...], sad: sad, into: &out, scratch: &scratch)
    }

    @Test(arguments: ESPAlgorithm.all)
    func espEveryByteFromTheSPIOn(_ algorithm: ESPAlgorithm) throws {
        for (mode, version) in [(SAMode.tunnel, IPVersion.v4), (.transport, .v6)] {
            let config = espConfig(algorithm, mode: mode, version: version)
            let r = try roundTrip(udpPacket(version, payloadLength: 33), config)
            let espStart = version == .v4 ? 20 : 40
            for i in espStart..<r.protected.count {
                var bad = r.protected
                bad[i] ^= 0x01
                let verdict = try Self.open(bad, config).verdict
                let expected: DropReason
                if i < espStart + 4 {
                    expected = .noSA
                } else if i == espStart + 7 {
                    // Sequence number 1 becomes 0, which is never sent: the replay check refuses it before the ICV.
                    expected = .replay
                } else if algorithm.isConfidentialityOnly {
                    // No ICV: a changed sequence number goes unnoticed, and a changed ciphertext is caught only if
                    // it garbles the padding or the inner packet. That is why such ESP is flagged insecure.
                    continue
                } else {
                    expected = .integrity
                }
                #expect(verdict == .dropped(expected), "\(algorithm) \(mode) \(version) byte \(i): \(verdict)")
            }
        }
    }

    @Test(arguments: AHAlgorithm.all)
    func ahEveryByte(_ algorithm: AHAlgorithm) throws {
        for version in IPVersion.allCases {
            let config = ahConfig(algorithm, mode: .transport, version: version)
            let r = try roundTrip(udpPacket(version, payloadLength: 21), config)
            let ah = version == .v4 ? 20 : 40
            let ahLength = AHHeader.headerLength(icvLength: algorithm.icvLength, ipVersion: version)
            for i in 0..<r.protected.count {
                var bad = r.protected
                bad[i] ^= 0x01
                if version == .v4, i == 10 || i == 11 {
                    // The header checksum: the packet no longer passes IP's own check.
                    #expect(try Self.open(bad, config).verdict == .dropped(.malformed))
                    continue
                }
                if version == .v4, [1, 8].contains(i) {
                    // DSCP/ECN and TTL change in transit; AH does not cover them (RFC 4302 §3.3.3.1.1.1). Keep the
                    // header checksum right so that only AH judges.
                    PacketLayoutFix.ipv4Checksum(&bad)
                    #expect(try Self.open(bad, config).verdict == .accepted, "AH byte \(i)")
                    continue
                }
                if version == .v6, [0, 1, 2, 3, 7].contains(i), !(i == 0 && bad[0] >> 4 != 6) {
                    // Traffic class, flow label, hop limit: mutable in IPv6 too.
                    #expect(try Self.open(bad, config).verdict == .accepted, "AH v6 byte \(i)")
                    continue
                }
                if version == .v4 { PacketLayoutFix.ipv4Checksum(&bad) }
                let verdict = try Self.open(bad, config).verdict
                #expect(verdict != .accepted, "\(algorithm) \(version) byte \(i) accepted")
                let expected: Set<DropReason>
                switch i {
                case ah + 4..<ah + 8: expected = [.noSA]
                case ah + 11: expected = [.replay]  // sequence number 1 becomes 0, refused before the ICV
                case ah + 1, ah + 2, ah + 3: expected = [.malformed]  // payload length, reserved
                case 0: expected = [.malformed]  // version / IHL
                // A length that grows runs past the bytes (malformed); one that shrinks cuts the ICV's input.
                // (A `where` clause binds to the last pattern of a case only, hence one pattern per case.)
                case 2 where version == .v4, 3 where version == .v4: expected = [.malformed, .integrity]
                case 4 where version == .v6, 5 where version == .v6: expected = [.malformed, .integrity]
                case 6 where version == .v4, 7 where version == .v4: expected = [.fragment, .integrity]
                // The protocol or next header: 51 becomes 50 (ESP with a different SPI) or something else.
                case 9 where version == .v4: expected = [.notIPsec, .malformed, .noSA]
                case 6 where version == .v6: expected = [.notIPsec, .malformed, .noSA]
                default: expected = [.integrity]
                }
                if case .dropped(let reason) = verdict {
                    #expect(expected.contains(reason), "\(algorithm) \(version) byte \(i): \(reason), AH at \(ah), \(ahLength)")
                }
            }
        }
    }

    /// Padding that is not 1, 2, 3, … is refused even when authentic (RFC 4303 §2.4), and a pad length that runs
    /// past the payload too. The packets are sealed by hand with the right ICV, so only the padding check can refuse.
    @Test func paddingIsCheckedStrictly() throws {
        let algorithm = try ESPAlgorithm(keyword: "aes128gcm16")
        let config = espConfig(algorithm, mode: .tunnel, version: .v4)
        let inner = udpPacket(.v4, payloadLength: 32)  // 60 bytes: with 2 of padding and the trailer, 64
        for (padding, expected) in [([UInt8]([1, 2]), InboundVerdict.accepted), ([0, 0], .dropped(.padding)),
                                    ([2, 1], .dropped(.padding)), ([1, 2, 3, 4, 5, 7], .dropped(.padding))] {
            let packet = try sealByHand(inner, padding: padding, padLength: UInt8(padding.count), nextHeader: 4,
                                        config: config)
            #expect(try Self.open(packet, config).verdict == expected, "\(padding)")
        }
        // Pad length larger than what was decrypted.
        let overrun = try sealByHand(inner, padding: [1, 2], padLength: 200, nextHeader: 4, config: config)
        #expect(try Self.open(overrun, config).verdict == .dropped(.padding))
        // Next header 59: a dummy packet, dropped quietly after the ICV check.
        let dummy = try sealByHand([], padding: [1, 2], padLength: 2, nextHeader: 59, config: config)
        #expect(try Self.open(dummy, config).verdict == .dropped(.dummy))
        // A tunnel SA that decrypts to something other than an IP packet.
        let notIP = try sealByHand(Array(inner[20...]), padding: [1, 2], padLength: 2, nextHeader: 17, config: config)
        #expect(try Self.open(notIP, config).verdict == .dropped(.nextHeader))
    }

    /// A ciphertext that is not a whole number of blocks, or too short to hold a trailer, is malformed before any
    /// crypto runs.
    @Test func truncatedESPIsMalformed() throws {
        let config = espConfig(try ESPAlgorithm(keyword: "aes128-sha1"), mode: .tunnel, version: .v4)
        let r = try roundTrip(udpPacket(.v4, payloadLength: 30), config)
        for cut in 1...40 {
            var bad = Array(r.protected.dropLast(cut))
            PacketLayoutFix.lengths(&bad)
            let verdict = try Self.open(bad, config).verdict
            #expect(verdict == .dropped(.malformed) || verdict == .dropped(.integrity), "cut \(cut): \(verdict)")
        }
    }

    /// ESP built by hand around `payload`, with any padding, sealed with the SA's keys so the ICV is right.
    func sealByHand(_ payload: [UInt8], padding: [UInt8], padLength: UInt8, nextHeader: UInt8,
                    config: SAConfiguration) throws -> [UInt8] {
        guard case .esp(let algorithm) = config.algorithm else { fatalError() }
        let t = try ESPTransform(algorithm, encryptionKey: config.encryptionKey, integrityKey: config.integrityKey)
        var plaintext = payload + padding + [padLength, nextHeader]
        let iv = [UInt8](repeating: 0x42, count: t.ivLength)
        var icv = [UInt8](repeating: 0, count: t.icvLength)
        let aad = ESPAssociatedData(spi: config.spi, sequenceNumber: 1)
        try iv.withUnsafeBytes { ivp in
            try plaintext.withUnsafeMutableBytes { p in
                try icv.withUnsafeMutableBytes { i in try t.seal(aad, iv: ivp, payload: p, icv: i) }
            }
        }
        let esp = try ESPHeader(spi: config.spi, sequenceNumber: 1).serialized() + iv + plaintext + icv
        guard case .v4(let s) = config.source, case .v4(let d) = config.destination else { fatalError() }
        var ip = IPv4Header(totalLength: UInt16(20 + esp.count), protocol: .esp, source: s, destination: d)
        ip.updateChecksum()
        return try ip.serialized() + esp
    }
}

enum PacketLayoutFix {
    static func ipv4Checksum(_ p: inout [UInt8]) {
        p[10] = 0
        p[11] = 0
        let c = InternetChecksum.compute(p[0..<(Int(p[0] & 0x0f) * 4)])
        p[10] = UInt8(c >> 8)
        p[11] = UInt8(c & 0xff)
    }

    static func lengths(_ p: inout [UInt8]) {
        if p[0] >> 4 == 4 {
            p[2] = UInt8(p.count >> 8)
            p[3] = UInt8(p.count & 0xff)
            ipv4Checksum(&p)
        } else {
            p[4] = UInt8((p.count - 40) >> 8)
            p[5] = UInt8((p.count - 40) & 0xff)
        }
    }
}

/// Reproducers the fuzzer found, kept as named tests.
@Suite struct FuzzFoundTests {
    /// An AH header of 8 to 11 bytes: the SPI is there, the sequence number is not. It used to be read anyway.
    @Test func ahHeaderShorterThanItsFixedPart() throws {
        let config = ahConfig(try AHAlgorithm(keyword: "sha1"), mode: .transport, version: .v4)
        let sad = SADatabase()
        try sad.add(try SecurityAssociation(config))
        for length in 8..<12 {
            var ip = IPv4Header(totalLength: UInt16(20 + length), protocol: .ah, source: v4a.v4!, destination: v4b.v4!)
            ip.updateChecksum()
            let packet = try ip.serialized() + [17, 1, 0, 0, 0, 0, 0x20, 0] + [UInt8](repeating: 0, count: length - 8)
            var out: [UInt8] = [], scratch: [UInt8] = []
            #expect(Inbound.unprotect(packet[...], sad: sad, into: &out, scratch: &scratch).verdict == .dropped(.malformed))
        }
    }

    /// A compressed packet whose inner protocol is 59 (an IPv6 packet with no next header) is an inner packet, not a
    /// dummy: the compressed form's next-header field carries the inner protocol.
    @Test(arguments: IPVersion.allCases)
    func compressedInnerProtocol59IsNotADummy(version: IPVersion) throws {
        var config = espConfig(try ESPAlgorithm(keyword: "aes128gcm16"), mode: .tunnelHC, version: version)
        config.headerCompression = version == .v4 ? .hostToHost : .addresses
        var packet = udpPacket(version, payloadLength: 12)
        packet[version == .v4 ? 9 : 6] = 59
        if version == .v4 {
            var h = try IPv4Header.parse(packet)
            h.updateChecksum()
            packet.replaceSubrange(0..<20, with: try h.serialized())
        }
        let r = try roundTrip(packet, config)
        #expect(r.result.verdict == .accepted)
        #expect(r.opened == packet)
    }
}
