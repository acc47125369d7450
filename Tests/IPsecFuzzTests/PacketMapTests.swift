@testable import IPsecFuzz
import IPsecWire
import Testing

/// The structure-aware mutator's foundations: generated packets are well formed, the lenient map finds their fields,
/// and the repair of lengths and checksums is what the strict parsers agree with.
@Suite struct PacketMapTests {
    @Test func generatedPacketsDissectCleanlyWithValidChecksums() {
        for packet in PacketFactory.sampler(count: 300, seed: 11) {
            let d = Dissector.dissect(ipPacket: packet)
            #expect(d.error == nil, "\(hexString(packet)): \(String(describing: d.error))")
            for l in d.layers {
                switch l.layer {
                case .ipv4(_, let valid): #expect(valid, "\(hexString(packet))")
                case .udp(_, let valid), .tcp(_, let valid), .icmpv4(_, let valid), .icmpv6(_, let valid):
                    #expect(valid != false, "\(hexString(packet))")
                default: break
                }
            }
        }
    }

    @Test func fixUpRepairsWhatAMutationBroke() {
        var r = FuzzRandom(seed: 5)
        for packet in PacketFactory.sampler(count: 200, seed: 12) {
            var mutated = packet + [UInt8](repeating: 0, count: 8)  // lengths and checksums now wrong
            PacketMap.fixUp(&mutated)
            #expect(Dissector.dissect(ipPacket: mutated).error == nil, "\(hexString(mutated))")
            var again = mutated
            PacketMap.fixUp(&again)
            #expect(again == mutated, "fixUp is idempotent")
            // Structure-aware mutants never trap and stay within bounds.
            var m = packet
            for _ in 0..<20 {
                _ = PacketMutator.mutate(&m, random: &r, bytes: { b, limit, rr in
                    ByteMutator().mutate(&b, maximumLength: limit, random: &rr)
                }, maximumLength: 2048)
            }
            #expect(m.count <= 2048)
        }
    }

    @Test func theMapFindsTheFieldsOfAnIPv6ChainAndESP() {
        var r = FuzzRandom(seed: 1)
        var shape = PacketFactory.randomShape(&r, version: .v6)
        shape.extras = true
        shape.upper = 17
        shape.fragment = false
        let packet = PacketFactory.packet(shape, &r)
        let map = PacketMap(packet)
        #expect(map.fields.contains { $0.kind == .nextHeader && $0.offset == 6 })
        #expect(map.regions.contains { if case .extensionHeader = $0.kind { true } else { false } })
        #expect(map.layers.contains { if case .udp = $0 { true } else { false } })
    }
}
