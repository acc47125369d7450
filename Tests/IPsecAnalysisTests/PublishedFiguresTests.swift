import IPsecAnalysis
import IPsecCore
import IPsecCrypto
import IPsecWire
import Testing

/// The overhead figures others have published, reproduced by the model and by the data plane, with the arithmetic
/// spelled out part by part.
@Suite struct PublishedFiguresTests {
    @Test(arguments: PublishedFigure.all)
    func modelAndDataPlaneReproduceTheFigure(_ figure: PublishedFigure) throws {
        #expect(figure.model == figure.expected, "\(figure.name): model \(figure.model)")
        #expect(try figure.measured() == figure.expected, "\(figure.name): measured")
    }

    /// Cisco's calculator: a 100-byte IPv4 packet in tunnel ESP with AES-CBC and HMAC-SHA1-96 becomes 168 bytes. The
    /// padding makes it so: 100 bytes of inner packet + 2 trailer bytes = 102, padded to 112 (a multiple of AES's
    /// 16-byte block), so 10 bytes of padding.
    @Test func ciscoTunnelESPArithmetic() throws {
        let b = OverheadModel.breakdown(mode: OverheadMode(.tunnelESP)!,
                                        algorithm: .esp(try ESPAlgorithm(keyword: "aes128-sha1")), version: .v4,
                                        payload: 100)
        #expect(b.outerHeader == 20)
        #expect(b.ipsecHeader == 8)
        #expect(b.iv == 16)
        #expect((100 + b.padding + b.trailer) % 16 == 0)
        #expect(b.padding == 10)
        #expect(b.trailer == 2)
        #expect(b.icv == 12)
        #expect(b.udp == 0 && b.hcResidual == 0 && b.hcElided == 0)
        let parts: [Int] = [20, 8, 16, 100, 10, 2, 12]  // outer, SPI+seq, IV, inner, padding, trailer, ICV
        #expect(parts.reduce(0, +) == 168)
        #expect(b.total == 168)
        #expect(b.overhead == 68)
    }

    @Test func ahWithHMACSHA1() throws {
        let sha1 = SAAlgorithm.ah(try AHAlgorithm(keyword: "sha1"))
        for version in IPVersion.allCases {
            let t = OverheadModel.breakdown(mode: OverheadMode(.transportAH)!, algorithm: sha1, version: version,
                                            payload: 100)
            #expect(t.overhead == 24, "\(version)")
            #expect(t.ipsecHeader == 12 && t.icv == 12 && t.padding == 0)
        }
        let tunnel = OverheadModel.breakdown(mode: OverheadMode(.tunnelAH)!, algorithm: sha1, version: .v4,
                                             payload: 100)
        #expect(tunnel.overhead == 44)
        #expect(tunnel.outerHeader == 20)
    }

    /// The Linux PMTU case: a 1300-byte IPv6 path, tunnel ESP with AES-GCM and a 12-byte ICV: 1300 − 40 (outer) − 8
    /// (SPI, sequence) − 8 (IV) − 2 (trailer) − 12 (ICV) = 1230, and 1230 + 2 is already a multiple of 4.
    @Test func linuxPathMTU() throws {
        let cell = MatrixCell(mode: OverheadMode(.tunnelESP)!,
                              algorithm: .esp(try ESPAlgorithm(keyword: "aes128gcm12")), version: .v6)
        let largest = OverheadModel.largestPayload(mode: cell.mode, algorithm: cell.algorithm, version: .v6, mtu: 1300)
        #expect(largest == 1230)
        #expect(cell.breakdown(payload: 1230).total == 1300)
        #expect(cell.breakdown(payload: 1230).padding == 0)
        #expect(cell.breakdown(payload: 1231).total > 1300)
        // The data plane agrees: 1230 fits, 1231 does not.
        let sa = try cell.sender()
        var out: [UInt8] = []
        #expect(try OverheadMeasurement.measure(cell, size: 1230, sa: sa, out: &out).total == 1300)
        #expect(try OverheadMeasurement.measure(cell, size: 1231, sa: sa, out: &out).total == 1304)
    }
}
