import Foundation
@testable import IPsecFuzz
import IPsecCore
import IPsecWire
import Testing

/// The re-sealing mutator agrees with the data plane: what it opens and seals again unchanged is accepted, and its
/// hand-sealed variants are refused by the stages after the ICV check — in every mode.
@Suite struct ResealingTests {
    static func verdict(_ packet: [UInt8], _ fixture: InboundFixture) -> InboundVerdict {
        let loc = InboundFixture.locate(packet)
        let sad = fixture.database(loc.flatMap { fixture.entry(forSPI: $0.spi) })
        var out: [UInt8] = [], scratch: [UInt8] = []
        return Inbound.unprotect(packet[...], sad: sad, into: &out, scratch: &scratch).verdict
    }

    @Test(arguments: InboundTargets.fixtures.map(\.name))
    func resealingUnchangedIsAccepted(_ name: String) throws {
        let fixture = try #require(InboundTargets.fixtures.first { $0.name == name })
        let resealer = Resealer(fixture: fixture)
        var r = FuzzRandom(seed: 3)
        for index in fixture.entries.indices {
            for _ in 0..<3 {
                let packet = fixture.generate(&r, entry: index)
                // Accepted, or refused after the ICV for a reason of its own (a selector, next header 59).
                let verdict = Self.verdict(packet, fixture)
                #expect(verdict != .dropped(.integrity) && verdict != .dropped(.malformed),
                        "\(fixture.entries[index].label): \(verdict)")
                var resealed: [UInt8]?
                if let o = resealer.openESP(packet) {
                    resealed = resealer.sealESP(o, random: &r)
                } else if let o = resealer.openAH(packet) {
                    resealed = resealer.sealAH(o, random: &r)
                }
                let again = try #require(resealed, "\(fixture.entries[index].label) does not open")
                #expect(Self.verdict(again, fixture) == verdict, "\(fixture.entries[index].label) resealed")
            }
        }
    }

    /// The seeds alone reach the padding check (ESP), the next-header check and the inner packet of every mode.
    @Test(arguments: InboundTargets.fixtures.map(\.name))
    func seedsReachThePostICVStages(_ name: String) throws {
        let fixture = try #require(InboundTargets.fixtures.first { $0.name == name })
        var reasons = Set<String>()
        for seed in fixture.seeds() {
            switch Self.verdict(seed, fixture) {
            case .accepted: reasons.insert("accepted")
            case .dropped(let reason): reasons.insert(reason.rawValue)
            }
        }
        #expect(reasons.contains("accepted"), "\(reasons)")
        if fixture.proto == .esp { #expect(reasons.contains("padding"), "\(reasons)") }
        if fixture.mode != .transport { #expect(reasons.contains("next-header") || reasons.contains("malformed"), "\(reasons)") }
        #expect(!reasons.contains("integrity"), "hand-sealed seeds must verify: \(reasons)")
    }

    @Test func plaintextSplitsAndAligns() {
        var p = ESPPlaintext([0x45, 0, 1, 2, 2, 4])
        #expect(p.payload == [0x45, 0])
        #expect(p.padding == [1, 2])
        #expect(p.nextHeader == 4)
        p.align(to: 16)
        #expect(p.bytes.count % 16 == 0)
        #expect(Int(p.padLength) == p.padding.count)
        #expect(ESPPlaintext([9, 255, 4]).padding == [9])
    }
}
