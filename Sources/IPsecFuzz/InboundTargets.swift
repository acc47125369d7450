import IPsecCore
import IPsecCrypto
import IPsecWire

/// The whole inbound path of every mode (`Inbound.unprotect`), one target per mode name of the matrix, each with the
/// SAs of every algorithm of that mode for IPv4 and IPv6. An input is a packet as it arrives; the target's mutator
/// opens it with the SA's keys, mutates what is inside and seals it again, so that the code after the ICV check —
/// padding, next header, inner packet, decapsulation, decompression, policy — sees the mutants.
///
/// Oracles: for every input, the burst path (`Inbound.unprotect` of a `PacketBurst`, what `decap` runs; on
/// libipsec-mb where it is available) gives the per-packet path's verdict and, when it accepts, the same packet. For
/// every accepted packet: the same packet a second time is refused as a replay (or, with anti-replay off, accepted
/// identically), and the packet that came out, protected again with the same SA and opened by a fresh receiver,
/// comes out unchanged.
enum InboundTargets {
    static let espAlgorithms = ESPAlgorithm.all.filter { $0.encryption.providesConfidentiality }.map(SAAlgorithm.esp)
    static let espNullAlgorithms = ESPAlgorithm.all.filter { !$0.encryption.providesConfidentiality }.map(SAAlgorithm.esp)
    static let ahAlgorithms = AHAlgorithm.all.map(SAAlgorithm.ah)
    /// A representative of each kind of transform for the compressed tunnel, which then multiplies them by the
    /// three presets of X.
    static let hcAlgorithms: [SAAlgorithm] = ["aes128gcm16", "aes256ccm8", "chacha20poly1305", "aes128gmac",
                                              "aes128gcm16iiv", "aes128-sha1", "aes256ctr-sha256", "null-sha256",
                                              "3des-md5", "aes128"].compactMap { try? .esp(ESPAlgorithm(keyword: $0)) }

    static let fixtures: [InboundFixture] = [
        InboundFixture(name: "inbound-transport-esp", mode: .transport, proto: .esp, spiBase: 0x1000,
                       algorithms: espAlgorithms),
        InboundFixture(name: "inbound-transport-esp-null", mode: .transport, proto: .esp, spiBase: 0x2000,
                       algorithms: espNullAlgorithms),
        InboundFixture(name: "inbound-transport-ah", mode: .transport, proto: .ah, spiBase: 0x3000,
                       algorithms: ahAlgorithms),
        InboundFixture(name: "inbound-tunnel-esp", mode: .tunnel, proto: .esp, spiBase: 0x4000,
                       algorithms: espAlgorithms),
        InboundFixture(name: "inbound-tunnel-esp-null", mode: .tunnel, proto: .esp, spiBase: 0x5000,
                       algorithms: espNullAlgorithms),
        InboundFixture(name: "inbound-tunnel-ah", mode: .tunnel, proto: .ah, spiBase: 0x6000,
                       algorithms: ahAlgorithms),
        InboundFixture(name: "inbound-tunnel-esp-hc", mode: .tunnelHC, proto: .esp, spiBase: 0x7000,
                       algorithms: hcAlgorithms, compression: HeaderCompressionFields.presets.map(\.fields)),
    ]

    static var all: [FuzzTarget] { fixtures.map(target) + [EncapDecapTarget.target] }

    static func target(_ fixture: InboundFixture) -> FuzzTarget {
        let spis = fixture.spis.flatMap { [HeaderGenerator.word($0), HeaderGenerator.word($0 | HeaderCompression.indicator)] }
        return FuzzTarget(
            name: fixture.name,
            summary: "Inbound.unprotect, \(fixture.name.dropFirst("inbound-".count)), \(fixture.entries.count) SAs "
                + "(every algorithm, IPv4 and IPv6), mutants re-sealed",
            maximumInputLength: 2048, dictionary: ParserTargets.packetDictionary + spis.prefix(16),
            harness: { InboundHarness(fixture: fixture) }, mutator: { InboundMutator(fixture: fixture) },
            seeds: { fixture.seeds() })
    }
}

final class InboundHarness: FuzzHarness {
    let fixture: InboundFixture
    private var out: [UInt8] = []
    private var scratch: [UInt8] = []
    private var again: [UInt8] = []
    private let burst = PacketBurst(capacity: 1, maximumPacketLength: 4096)
    static let burstImplementation: CryptoImplementation = IPsecMB.isAvailable ? .ipsecMB : .openSSL

    init(fixture: InboundFixture) {
        self.fixture = fixture
    }

    /// The burst path, from a fresh receiver of the same SA, must say and give what the per-packet path did.
    private func checkBurst(_ input: ArraySlice<UInt8>, index: Int?, expected: InboundResult) {
        burst.removeAll()
        guard burst.append(input) else { return }
        Inbound.unprotect(burst, sad: fixture.database(index, implementation: Self.burstImplementation))
        let got = burst.inboundResults[0]
        let label = index.map { fixture.entries[$0].label } ?? "no SA"
        FuzzOracle.check(got.verdict == expected.verdict, fixture.name,
                         "the burst path's verdict differs from the per-packet path's",
                         details: "\(got.verdict) against \(expected.verdict) for \(label)")
        guard expected.verdict == .accepted else { return }
        FuzzOracle.check(burst.withPacket(0, { Array($0) }) == out, fixture.name,
                         "the burst path opens a packet to other bytes than the per-packet path",
                         details: "\(label)")
    }

    func execute(_ input: ArraySlice<UInt8>, feedback: inout FuzzFeedback) {
        let packet = Array(input)
        let location = InboundFixture.locate(packet)
        let index = location.flatMap { fixture.entry(forSPI: $0.spi) }
        let sad = fixture.database(index)
        let result = Inbound.unprotect(input, sad: sad, into: &out, scratch: &scratch)
        checkBurst(input, index: index, expected: result)
        let name = fixture.name
        switch result.verdict {
        case .dropped(let reason):
            feedback.add("drop " + reason.rawValue, index.map { $0 % 8 } ?? -1)
            return
        case .accepted:
            break
        }
        feedback.add("accepted", index ?? -1)
        let inner = Dissector.dissect(ipPacket: out)
        for (i, l) in inner.layers.prefix(4).enumerated() { feedback.add("accepted layer " + l.layer.key, i) }
        guard let index, let sa = sad.all.first else {
            FuzzOracle.fail(name, "a packet was accepted without an SA for its SPI")
        }
        // Anti-replay: the same packet again is a replay, unless the window is off.
        let first = out
        let second = Inbound.unprotect(input, sad: sad, into: &again, scratch: &scratch)
        if sa.configuration.replayWindow > 0 {
            FuzzOracle.check(second.verdict == .dropped(.replay), name, "an accepted packet is accepted again",
                             details: "\(second.verdict) for \(fixture.entries[index].label)")
        } else {
            FuzzOracle.check(second.verdict == .accepted && again == first, name,
                             "with anti-replay off, the same packet is not accepted identically",
                             details: "\(second.verdict) for \(fixture.entries[index].label)")
        }
        // Our own encapsulation of what came out opens to the same packet.
        guard let sender = fixture.sender(index, sequence: fixture.entries[index].configuration.replaySequence &+ 1,
                                          seed: 1) else { return }
        var protected: [UInt8] = []
        do {
            try Outbound.protect(first[...], with: sender, into: &protected)
        } catch {
            feedback.add("re-protect refused " + error.code.rawValue)
            return
        }
        let reopened = Inbound.unprotect(protected[...], sad: fixture.database(index), into: &again, scratch: &scratch)
        if reopened.verdict == .dropped(.dummy), fixture.mode == .transport,
           EncapDecapHarness.upperProtocol(first[...]) == 59 {
            // Next header 59 is a dummy packet (RFC 4303 §2.6); see EncapDecapHarness.
            feedback.add("transport no-next-header taken for a dummy")
            return
        }
        FuzzOracle.check(reopened.verdict == .accepted, name,
                         "our own encapsulation of an accepted packet is refused: \(reopened.verdict)",
                         details: "\(fixture.entries[index].label); inner \(hexString(first))")
        // The compressed tunnel rebuilds the inner IPv4 header, checksum included (docs/header-compression.md: derived
        // fields are never sent), so an inner packet whose checksum was wrong comes back with it right.
        var rechecked = first
        if fixture.mode == .tunnelHC { PacketLengths.fixIPv4Checksum(&rechecked) }
        FuzzOracle.check(again == first || again == rechecked, name,
                         "encapsulating and decapsulating an accepted packet changes it",
                         details: "\(fixture.entries[index].label): \(hexString(first)) became \(hexString(again))")
        feedback.add("round trip", index % 16)
    }
}

final class InboundMutator: StructureMutator {
    let fixture: InboundFixture
    let resealer: Resealer

    init(fixture: InboundFixture) {
        self.fixture = fixture
        resealer = Resealer(fixture: fixture)
    }

    func mutate(_ input: inout [UInt8], random r: inout FuzzRandom, bytes: ByteMutation) -> Bool {
        let choice = r.below(16)
        if choice < 8, resealer.mutatePlaintext(&input, random: &r, bytes: bytes) { return true }
        if choice < 12, resealer.mutateInner(&input, random: &r, bytes: bytes) { return true }
        if choice == 12 || InboundFixture.locate(input) == nil && r.chance(1, in: 2) {
            input = fixture.generate(&r)
            return true
        }
        return PacketMutator.mutate(&input, knownSPIs: fixture.spis, random: &r, bytes: bytes, maximumLength: 2048)
    }
}

/// The encapsulation round trip on random inner packets, for every mode and algorithm: whatever `Outbound.protect`
/// accepts, `Inbound.unprotect` (a fresh receiver with the same SA) must accept and give back — the inner packet
/// unchanged in tunnel mode; in transport mode the same packet with its IPv4 header checksum recomputed; in the
/// compressed tunnel either of the two (a rebuilt header has a computed checksum).
///
/// The burst path (`Outbound.protect` of a `PacketBurst`, what `encap` runs; on libipsec-mb where it is available),
/// from a sender with the same seeds, must refuse what the per-packet path refuses (with the same error code) and
/// write the same bytes for the rest.
///
/// Input: one byte choosing the mode (an inbound fixture), one choosing the SA, one choosing the sequence number,
/// then the inner packet.
enum EncapDecapTarget {
    static let target = FuzzTarget(
        name: "encap-decap", summary: "Outbound.protect then Inbound.unprotect gives the packet back, every mode and algorithm",
        maximumInputLength: 2048, dictionary: ParserTargets.packetDictionary,
        harness: { EncapDecapHarness() }, mutator: { PacketMutator(start: 3) }, seeds: { seeds() })

    static func seeds() -> [[UInt8]] {
        var r = FuzzRandom(seed: 0xe7c)
        var out: [[UInt8]] = []
        for (m, fixture) in InboundTargets.fixtures.enumerated() {
            for k in 0..<6 {
                let index = (k * 7 + m) % fixture.entries.count
                out.append([UInt8(m), UInt8(index), UInt8(k)] + fixture.innerPacket(index, &r))
            }
        }
        return out
    }
}

final class EncapDecapHarness: FuzzHarness {
    private var protected: [UInt8] = []
    private var out: [UInt8] = []
    private var scratch: [UInt8] = []
    private let burst = PacketBurst(capacity: 1, maximumPacketLength: 4096)

    /// The same packet through the burst path, from a sender made like `sender` (same sequence and seeds).
    private func checkBurst(_ inner: ArraySlice<UInt8>, _ sender: SecurityAssociation?, expected: CoreError?,
                            label: @autoclosure () -> String) {
        guard let sender else { return }
        burst.removeAll()
        guard burst.append(inner) else { return }
        Outbound.protect(burst, with: sender)
        let error = burst.outboundErrors[0]
        FuzzOracle.check(error?.code == expected?.code, "encap-decap",
                         "the burst path and the per-packet path disagree on protecting a packet",
                         details: "\(label()): burst \(error.map { "\($0)" } ?? "protected"), per packet "
                             + (expected.map { "\($0)" } ?? "protected"))
        guard error == nil, expected == nil else { return }
        FuzzOracle.check(burst.withPacket(0, { Array($0) }) == protected, "encap-decap",
                         "the burst path protects a packet to other bytes than the per-packet path",
                         details: "\(label()); inner \(hexString(inner))")
    }

    func execute(_ input: ArraySlice<UInt8>, feedback: inout FuzzFeedback) {
        guard input.count >= 3 else { return }
        let base = input.startIndex
        let fixtures = InboundTargets.fixtures
        let m = Int(input[base]) % fixtures.count
        let fixture = fixtures[m]
        let index = Int(input[base + 1]) % fixture.entries.count
        let c = fixture.entries[index].configuration
        let sequences: [UInt64] = [1, 2, 0xffff_ffff, 0x1_0000_0000, 0x7fff_ffff, c.replaySequence &+ 1, 64, 65]
        let sequence = sequences[Int(input[base + 2]) % sequences.count]
        let inner = input.dropFirst(3)
        let seed = UInt64(input[base + 2])
        guard let sender = fixture.sender(index, sequence: sequence, seed: seed) else { return }
        let burstSender = fixture.sender(index, sequence: sequence, seed: seed,
                                         implementation: InboundHarness.burstImplementation)
        do {
            try Outbound.protect(inner, with: sender, into: &protected)
        } catch {
            checkBurst(inner, burstSender, expected: error, label: "\(fixture.name) \(fixture.entries[index].label)")
            feedback.add("protect refused " + error.code.rawValue, m)
            return
        }
        checkBurst(inner, burstSender, expected: nil, label: "\(fixture.name) \(fixture.entries[index].label)")
        // A receiver whose window sits just below the sequence sent, so every sequence number is fresh to it.
        // Without a selector: an inner packet outside the SA's selector is rightly refused, and that is not the
        // property checked here.
        var receiverConfig = c
        receiverConfig.replaySequence = sequence &- 1
        receiverConfig.selector = nil
        let sad = SADatabase()
        guard let receiver = try? SecurityAssociation(receiverConfig), (try? sad.add(receiver)) != nil else { return }
        let result = Inbound.unprotect(protected[...], sad: sad, into: &out, scratch: &scratch)
        let label = "\(fixture.name) \(fixture.entries[index].label) seq \(sequence)"
        guard result.verdict == .accepted else {
            // RFC 4303 §2.6 makes next header 59 mean a dummy packet, so a transport-mode packet whose own protocol
            // is 59 (No Next Header) cannot be told from one: the receiver discards it (reported, docs/fuzzing.md).
            if result.verdict == .dropped(.dummy), c.mode == .transport, Self.upperProtocol(inner) == 59 {
                feedback.add("transport no-next-header taken for a dummy")
                return
            }
            FuzzOracle.fail("encap-decap", "our own \(c.modeName) encapsulation is refused: \(result.verdict)",
                            details: "\(label); inner \(hexString(inner))")
        }
        feedback.add("round trip " + fixture.name, result.udpEncapsulated ? 1 : 0)
        feedback.add("round trip SA", m << 8 | index)
        if let loc = InboundFixture.locate(protected), loc.spi & HeaderCompression.indicator != 0 {
            feedback.add("round trip compressed", Int(Self.upperProtocol(inner) ?? 0))
        }
        feedback.add("round trip inner", (Int(inner.first ?? 0) >> 4) << 8 | Int(Self.upperProtocol(inner) ?? 0))
        // What the receiver should give back.
        let length = PacketLengths.packetLength(inner) ?? inner.count
        let exact = Array(inner.prefix(length))
        var rechecked = exact
        PacketLengths.fixIPv4Checksum(&rechecked)
        var expected: [[UInt8]]
        var got = out
        switch c.mode {
        case .tunnel: expected = [exact]
        case .transport: expected = [rechecked]
        case .tunnelHC: expected = [exact, rechecked]
        }
        if c.mode == .transport, result.udpEncapsulated {
            // RFC 3948 §3.1.2: after NAT traversal in transport mode the receiver recomputes the TCP or UDP
            // checksum, so that one field may differ.
            expected = expected.map(PacketLengths.withoutUpperChecksum)
            got = PacketLengths.withoutUpperChecksum(out)
        }
        FuzzOracle.check(expected.contains(got), "encap-decap",
                         "decapsulating our own \(c.modeName) encapsulation changes the packet",
                         details: "\(label): \(hexString(exact)) became \(hexString(out))")
    }
}

extension EncapDecapHarness {
    /// The protocol after the IP header chain (IPv4 protocol, or the IPv6 chain's upper layer), leniently.
    static func upperProtocol(_ p: ArraySlice<UInt8>) -> UInt8? {
        let packet = Array(p)
        guard let split = Resealer.transportSplit(packet) else { return nil }
        return packet[split.link]
    }
}

/// Small helpers on raw IP packets.
enum PacketLengths {
    /// The packet's own length from its header (IPv4 total length, IPv6 40 + payload length).
    static func packetLength(_ p: ArraySlice<UInt8>) -> Int? {
        guard let first = p.first else { return nil }
        let b = p.startIndex
        if first >> 4 == 4, p.count >= 20 { return Int(p[b + 2]) << 8 | Int(p[b + 3]) }
        if first >> 4 == 6, p.count >= 40 { return 40 + (Int(p[b + 4]) << 8 | Int(p[b + 5])) }
        return nil
    }

    /// The packet with its TCP or UDP checksum field zeroed (found leniently, after the IP header chain).
    static func withoutUpperChecksum(_ p: [UInt8]) -> [UInt8] {
        guard let split = Resealer.transportSplit(p) else { return p }
        var out = p
        let field: Int? = switch p[split.link] {
        case 6: split.headerEnd + 16
        case 17: split.headerEnd + 6
        default: nil
        }
        if let field, field + 2 <= out.count {
            out[field] = 0
            out[field + 1] = 0
        }
        return out
    }

    static func fixIPv4Checksum(_ p: inout [UInt8]) {
        guard let first = p.first, first >> 4 == 4 else { return }
        let ihl = Int(first & 0x0f) * 4
        guard ihl >= 20, ihl <= p.count else { return }
        p[10] = 0
        p[11] = 0
        let sum = InternetChecksum.compute(p[0..<ihl])
        p[10] = UInt8(sum >> 8)
        p[11] = UInt8(sum & 0xff)
    }
}
