import IPsecAnalysis
import IPsecCore
import IPsecCrypto
import IPsecWire
import Testing

/// The model against the data plane for the whole matrix: every mode (the compressed tunnel per preset and for both
/// kinds of traffic, NAT traversal for transport and tunnel ESP) × every algorithm the mode takes × IPv4 and IPv6 ×
/// sizes from a bare IP header (nothing to protect in transport mode) through the padding edges to 1400 and 1500.
@Suite struct MeasuredOverheadTests {
    static func sizes(_ version: IPVersion) -> [Int] {
        let h = OverheadModel.ipHeaderLength(version)
        return [h, h + 1, h + 2, h + 3, h + 4, h + 7, h + 8, h + 9, h + 14, h + 15, h + 16, h + 17, 100, 576, 1400,
                1500]
    }

    @Test(arguments: OverheadMode.all)
    func modelEqualsMeasurementForEveryCell(_ mode: OverheadMode) throws {
        var out: [UInt8] = []
        for cell in MatrixCell.matrix(modes: [mode]) {
            let sa = try cell.sender()
            for size in Self.sizes(cell.version) {
                let expected = cell.breakdown(payload: size)
                let measured = try OverheadMeasurement.measure(cell, size: size, sa: sa, out: &out)
                #expect(measured.total == expected.total, "\(cell) size \(size)")
                if mode.matrix == .tunnelESPHC {
                    #expect(measured.compressed == expected.compressed,
                            "\(cell) size \(size): sent \(measured.compressed == true ? "" : "un")compressed")
                }
            }
        }
    }

    /// Every field set X the compressed tunnel allows, not only the presets: IPv4 all 32, IPv6 the 8 without
    /// identification and DF; both kinds of traffic; an AEAD and a CBC suite (block 4 and 16).
    @Test func modelEqualsMeasurementForEveryFieldSet() throws {
        var out: [UInt8] = []
        let algorithms: [SAAlgorithm] = [.esp(try ESPAlgorithm(keyword: "aes128gcm16")),
                                         .esp(try ESPAlgorithm(keyword: "aes128-sha256"))]
        for version in IPVersion.allCases {
            for raw in UInt8(0)..<32 {
                let fields = HeaderCompressionFields(rawValue: raw)
                guard fields.isValid(for: version) else { continue }
                let mode = OverheadMode(.tunnelESPHC, headerCompression: fields)!
                for traffic in TrafficKind.allCases {
                    for algorithm in algorithms {
                        let cell = MatrixCell(mode: mode, algorithm: algorithm, version: version, traffic: traffic)
                        let sa = try cell.sender()
                        for size in Self.sizes(version) {
                            let expected = cell.breakdown(payload: size)
                            let measured = try OverheadMeasurement.measure(cell, size: size, sa: sa, out: &out)
                            #expect(measured.total == expected.total, "\(cell) [\(fields)] size \(size)")
                            #expect(measured.compressed == expected.compressed, "\(cell) [\(fields)] size \(size)")
                        }
                    }
                }
            }
        }
    }

    /// What NAT traversal puts on the wire is ESP in UDP per RFC 3948: port 4500 both ways, then the ESP packet.
    @Test func natTraversalIsESPInUDP() throws {
        var out: [UInt8] = []
        for version in IPVersion.allCases {
            for mode in OverheadMode.all where mode.natTraversal {
                let cell = MatrixCell(mode: mode, algorithm: .esp(try ESPAlgorithm(keyword: "aes128gcm16")),
                                      version: version)
                _ = try OverheadMeasurement.measure(cell, size: 200, sa: try cell.sender(), out: &out)
                let h = OverheadModel.ipHeaderLength(version)
                let udp = try UDPDatagram(out[h...])
                #expect(udp.sourcePort == 4500 && udp.destinationPort == 4500)
                #expect(Int(udp.length) == out.count - h)
                guard case .esp(let esp) = try UDPEncapsulation.classify(udp.payload) else {
                    Issue.record("not ESP in UDP")
                    continue
                }
                #expect(esp.spi == 0x1000)
                let d = Dissector.dissect(ipPacket: out)
                #expect(d.error == nil, "\(d.error.map { "\($0)" } ?? "")")
            }
        }
    }

    /// The whole self-check, quick: every round trip, every length, the known answers.
    @Test func quickSelfCheckPasses() throws {
        let check = SelfCheck.run(depth: .quick)
        #expect(check.knownAnswers.count == 4)
        #expect(check.knownAnswersPassed == 4)
        #expect(check.roundTripsPassed == check.roundTripPackets)
        // Every cell round-trips, NAT traversal included (the data plane encapsulates and decapsulates ESP in UDP).
        #expect(check.roundTripPackets == check.packets)
        #expect(check.lengthsAgreed == check.packets)
        #expect(check.failures.isEmpty, "\(check.failures.prefix(5))")
        #expect(check.passed)
        // Every matrix mode takes part, in both versions.
        #expect(Set(check.cells.map(\.cell.mode.matrix)) == Set(OverheadMode.Matrix.allCases))
        #expect(Set(check.cells.map(\.cell.version)) == Set(IPVersion.allCases))
    }

    /// The known answers also fail when they should: a wrong byte in the expected packet is caught both ways.
    @Test func knownAnswersDetectAWrongByte() {
        var k = KnownAnswers.rfc3602Case5
        k.protected[k.protected.count - 1] ^= 1
        let checks = k.run()
        #expect(checks.count == 2)
        #expect(checks.allSatisfy { !$0.passed })
        let published: [KnownAnswer.Check] = KnownAnswers.all.flatMap { $0.run() }
        #expect(published.allSatisfy { $0.passed })
    }
}
