import IPsecAnalysis
import IPsecCore
import IPsecCrypto
import IPsecWire
import Testing

@Suite struct OverheadModelTests {
    /// The residual block per preset (docs/header-compression.md §3): IPv4 14 / 6 / 2, IPv6 37 / 5 / 4.
    @Test func residualLengthsOfThePresets() {
        #expect(OverheadModel.hcResidualLength(fields: .minimal, version: .v4) == 14)
        #expect(OverheadModel.hcResidualLength(fields: .addresses, version: .v4) == 6)
        #expect(OverheadModel.hcResidualLength(fields: .hostToHost, version: .v4) == 2)
        #expect(OverheadModel.hcResidualLength(fields: .minimal, version: .v6) == 37)
        #expect(OverheadModel.hcResidualLength(fields: .addresses, version: .v6) == 5)
        #expect(OverheadModel.hcResidualLength(fields: [.source, .destination, .dscp], version: .v6) == 4)
        // IPv6 has no identification or DF: the host-to-host preset means source, destination and DSCP there.
        let h2h = OverheadMode(.tunnelESPHC, headerCompression: .hostToHost)!
        #expect(h2h.effectiveHeaderCompression(for: .v6) == [.source, .destination, .dscp])
        #expect(h2h.effectiveHeaderCompression(for: .v4) == .hostToHost)
    }

    /// Host-to-host traffic always compresses; gateway-to-gateway traffic only without the addresses in X.
    @Test func qualification() {
        for fields in [HeaderCompressionFields.minimal, .addresses, .hostToHost, [.source], [.dscp]] {
            #expect(OverheadModel.qualifiesForCompression(fields: fields, traffic: .hostToHost))
            #expect(OverheadModel.qualifiesForCompression(fields: fields, traffic: .gatewayToGateway)
                    == fields.isDisjoint(with: .addresses))
        }
        let esp = SAAlgorithm.esp(try! ESPAlgorithm(keyword: "aes128gcm16"))
        let plain = OverheadModel.breakdown(mode: OverheadMode(.tunnelESP)!, algorithm: esp, version: .v4, payload: 100)
        let fallback = OverheadModel.breakdown(mode: OverheadMode(.tunnelESPHC, headerCompression: .addresses)!,
                                               algorithm: esp, version: .v4, payload: 100, traffic: .gatewayToGateway)
        #expect(!fallback.compressed)
        #expect(fallback.total == plain.total)
        let compressed = OverheadModel.breakdown(mode: OverheadMode(.tunnelESPHC, headerCompression: .hostToHost)!,
                                                 algorithm: esp, version: .v4, payload: 100)
        #expect(compressed.compressed)
        // 20 outer + 8 + 8 IV + (2 residual + 80 inner payload + 2 trailer = 84, no padding) + 16 ICV.
        #expect(compressed.total == 20 + 8 + 8 + 84 + 16)
    }

    /// The parts always add up, ESP padding always fills the block and the 4-byte boundary with less than one unit,
    /// and AH headers are 4- / 8-byte aligned.
    @Test(arguments: OverheadMode.all)
    func partsAddUpAndAlign(_ mode: OverheadMode) {
        for cell in MatrixCell.matrix(modes: [mode]) {
            let h = OverheadModel.ipHeaderLength(cell.version)
            for size in [h, h + 1, h + 2, h + 3, h + 13, 100, 577, 1400, 1500] {
                let b = cell.breakdown(payload: size)
                #expect(b.total == size + b.outerHeader + b.udp + b.ipsecHeader + b.iv + b.hcResidual - b.hcElided
                        + b.padding + b.trailer + b.icv)
                switch cell.algorithm {
                case .esp(let a):
                    let unit = max(a.blockSize, 4)
                    let encrypted = (mode.matrix.isTunnel ? size : size - h) + b.hcResidual - b.hcElided
                    #expect((encrypted + b.padding + b.trailer) % unit == 0)
                    #expect(b.padding < unit)
                    #expect(b.trailer == 2 && b.ipsecHeader == 8)
                case .ah:
                    #expect((b.ipsecHeader + b.iv + b.icv + b.padding) % (cell.version == .v4 ? 4 : 8) == 0)
                    #expect(b.padding < (cell.version == .v4 ? 4 : 8))
                }
            }
        }
    }

    /// The largest payload for any MTU is the largest size whose total fits, found by brute force.
    @Test func largestPayloadForSeveralMTUs() throws {
        for cell in MatrixCell.matrix(modes: [OverheadMode(.tunnelESP)!, OverheadMode(.transportAH)!,
                                              OverheadMode(.tunnelESPHC, headerCompression: .minimal)!]) {
            for mtu in [68, 576, 1280, 1300, 1500, 9000] {
                let h = OverheadModel.ipHeaderLength(cell.version)
                let brute = (h...mtu).last { cell.breakdown(payload: $0).total <= mtu }
                #expect(OverheadModel.largestPayload(mode: cell.mode, algorithm: cell.algorithm,
                                                     version: cell.version, mtu: mtu, traffic: cell.traffic) == brute,
                        "\(cell) mtu \(mtu)")
            }
        }
    }

    /// The simple IMIX: 7 × 40, 4 × 576, 1 × 1500 bytes by count, 340.33 bytes on average.
    @Test func simpleIMIX() throws {
        let mix = TrafficMix.simpleIMIX
        #expect(mix.packets == 12)
        #expect(mix.bytes == 7 * 40 + 4 * 576 + 1500)
        #expect(FixedPoint.format(mix.averageSize, places: 2) == "340.33")
        let cell = MatrixCell(mode: OverheadMode(.tunnelESP)!,
                              algorithm: .esp(try ESPAlgorithm(keyword: "aes128-sha1")), version: .v4)
        let a = mix.average(mode: cell.mode, algorithm: cell.algorithm, version: .v4)
        let expected = 7 * cell.breakdown(payload: 40).overhead + 4 * cell.breakdown(payload: 576).overhead
            + cell.breakdown(payload: 1500).overhead
        #expect(a.totalOverhead == expected)
        #expect(a.overheadPerPacket == Double(expected) / 12)
    }

    /// NAT traversal adds exactly the 8-byte UDP header; tunnel mode exactly the outer header (same padding, since
    /// transport mode encrypts the packet without its header).
    @Test func variantsAddWhatTheyShould() throws {
        for algorithm in OverheadMode.Matrix.transportESP.algorithms {
            for version in IPVersion.allCases {
                for size in [40, 41, 42, 43, 100, 1400] {
                    let plain = OverheadModel.breakdown(mode: OverheadMode(.transportESP)!, algorithm: algorithm,
                                                        version: version, payload: size)
                    let natt = OverheadModel.breakdown(mode: OverheadMode(.transportESP, natTraversal: true)!,
                                                       algorithm: algorithm, version: version, payload: size)
                    #expect(natt.total == plain.total + 8)
                }
            }
        }
    }

    @Test func modeLabels() {
        for mode in OverheadMode.all { #expect(OverheadMode(label: mode.label) == mode) }
        #expect(OverheadMode(label: "tunnel-esp-hc[source,dscp]")?.headerCompression == [.source, .dscp])
        #expect(OverheadMode(label: "tunnel-ah[nat-t]") == nil)
        #expect(OverheadMode(label: "tunnel-esp-hc") == nil)
        #expect(OverheadMode(label: "tunnel-esp[minimal]") == nil)
        #expect(OverheadMode(label: "bogus") == nil)
        if case .success(let modes) = OverheadMode.parseList(["tunnel-esp-hc", "transport-ah"]) {
            #expect(modes.count == 4)
        } else {
            Issue.record("tunnel-esp-hc should expand to its presets")
        }
    }
}
