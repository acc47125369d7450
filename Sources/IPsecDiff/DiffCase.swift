import IPsecCore
import IPsecCrypto
import IPsecWire

/// How a protected packet is damaged (or legitimately changed) in a `mutated` case. Both sides must agree on
/// accept or reject, and on the packet delivered when both accept.
public enum DiffMutation: Hashable, Sendable, CustomStringConvertible {
    /// Flips one bit of the IPsec part (ESP or AH header onwards), at `offset` modulo its length.
    case flipBit(offset: Int, bit: Int)
    /// Cuts bytes off the end (IP and UDP lengths fixed, so only the IPsec part is short).
    case truncate(Int)
    /// Appends bytes (lengths fixed).
    case append(Int)
    /// What routers may do: TTL or hop limit, DSCP/ECN, DF (IPv4), flow label (IPv6) changed. AH does not cover them.
    case transit
    /// The source address changed (covered by AH, not by ESP).
    case source

    public var description: String {
        switch self {
        case .flipBit(let o, let b): "bit \(b) of IPsec byte \(o) flipped"
        case .truncate(let n): "\(n) bytes cut off the end"
        case .append(let n): "\(n) bytes appended"
        case .transit: "mutable IP fields changed in transit"
        case .source: "source address changed"
        }
    }
}

/// One packet-level case: an SA, a plaintext packet, a direction and, for `mutated`, a mutation. Everything follows
/// from the seed and the index; the minimiser changes `shape` and `mutation` only.
struct DiffCase: Sendable {
    var index: Int
    var direction: DiffDirection
    var algorithm: OracleAlgorithm
    var config: SAConfiguration
    var shape: PacketShape
    var sequence: UInt64
    var iv: [UInt8]
    var identification: UInt16
    var mutation: DiffMutation?
    /// Seeds the packet's bytes, so that a smaller shape keeps the same addresses and ports.
    var contentSeed: UInt64
    var innerSource: [UInt8]
    var innerDestination: [UInt8]
    var avoidPorts: Set<UInt16> = []
    /// The crypto implementation IPsecLab's SA runs on (`diff --backend`).
    var implementation: CryptoImplementation = .openSSL

    var modeName: String { config.modeName }

    var plaintext: [UInt8] {
        var r = DiffRandom(seed: contentSeed)
        return DiffPacket.build(shape, source: innerSource, destination: innerDestination, random: &r,
                                avoidPorts: avoidPorts)
    }

    var summary: String {
        var s = "\(config.mode) \(algorithm.keyword) outer IPv\(config.source.version == .v4 ? 4 : 6), \(shape)"
            + ", seq 0x\(String(sequence, radix: 16))"
        if config.extendedSequenceNumbers { s += " (ESN)" }
        if config.encapsulation != nil { s += ", NAT-T" }
        if let mutation { s += ", \(mutation)" }
        return s
    }

    /// Applies the mutation to a protected packet.
    func mutate(_ packet: [UInt8]) -> [UInt8] {
        guard let mutation else { return packet }
        var p = packet
        var (start, proto) = DiffPacket.ipsecOffset(p)
        if proto == 17 { start += 8 }  // ESP in UDP
        switch mutation {
        case .flipBit(let offset, let bit):
            guard start < p.count else { return p }
            let i = start + offset % (p.count - start)
            p[i] ^= UInt8(1 << (bit & 7))
        case .truncate(let n):
            p.removeLast(min(n, max(0, p.count - start)))
            DiffPacket.fixLengths(&p, udpEncapsulation: config.encapsulation != nil)
        case .append(let n):
            var r = DiffRandom(seed: contentSeed ^ 0xa99e)
            p += r.bytes(n)
            DiffPacket.fixLengths(&p, udpEncapsulation: config.encapsulation != nil)
        case .transit:
            if p[0] >> 4 == 4 {
                p[1] ^= 0xb9
                p[6] ^= 0x40
                p[8] = max(1, p[8] &- 3)
                DiffPacket.setIPv4Checksum(&p)
            } else {
                p[0] = (p[0] & 0xf0) | ((p[0] ^ 0x0b) & 0x0f)
                p[1] ^= 0x8c
                p[3] ^= 0x45
                p[7] = max(1, p[7] &- 3)
            }
        case .source:
            if p[0] >> 4 == 4 {
                p[15] ^= 0x01
                DiffPacket.setIPv4Checksum(&p)
            } else {
                p[23] ^= 0x01
            }
        }
        return p
    }

    /// The SA that protects or opens the case's packet: the case's IV and outer identification, its sequence state.
    func association() throws -> SecurityAssociation {
        try SecurityAssociation(config, ivSource: .fixed(iv),
                                identificationSource: .fixed([UInt8(identification >> 8), UInt8(identification & 0xff)]),
                                implementation: implementation)
    }

    /// IPsecLab protects the plaintext.
    func protectOurs() -> Result<[UInt8], DiffError> {
        do {
            let sa = try association()
            var out: [UInt8] = []
            try Outbound.protect(plaintext[...], with: sa, into: &out)
            return .success(out)
        } catch {
            return .failure(DiffError("IPsecLab refused to protect: \(error)"))
        }
    }

    /// IPsecLab opens a packet as a fresh receiver whose replay window sits just below the case's sequence number.
    func openOurs(_ packet: [UInt8]) -> OpenResult {
        do {
            let sad = SADatabase()
            try sad.add(try association())
            var out: [UInt8] = [], scratch: [UInt8] = []
            let r = Inbound.unprotect(packet[...], sad: sad, into: &out, scratch: &scratch)
            switch r.verdict {
            case .accepted: return OpenResult(accepted: true, packet: out, said: "accepted")
            case .dropped(let reason): return OpenResult(accepted: false, packet: [], said: "dropped (\(reason.rawValue))")
            }
        } catch {
            return OpenResult(accepted: false, packet: [], said: "SA refused: \(error)")
        }
    }
}

/// What one side made of a protected packet.
struct OpenResult: Sendable {
    var accepted: Bool
    var packet: [UInt8]
    /// A few words: `accepted`, `dropped (integrity)`, `rejected: IPSecIntegrityError`.
    var said: String
    /// A known oracle bug that the oracle's helper had to work around to answer (its reference).
    var bug: String? = nil
}

/// What a profile of cases draws from.
struct CaseProfile: Sendable {
    var algorithms: [OracleAlgorithm]
    var directions: [DiffDirection]
    var esn: Bool
    var natT: Bool
    var sourceMutation: Bool
    var transports: [PacketShape.Transport]
    var avoidPorts: Set<UInt16> = []

    static let scapy = CaseProfile(algorithms: OracleAlgorithm.scapy,
                                   directions: [.weProtect, .oracleProtects, .mutated], esn: true, natT: true,
                                   sourceMutation: true, transports: [.udp, .tcp, .icmp])
    /// tshark cannot protect; it matches SAs by source, destination and SPI, and has no ESN.
    static let tshark = CaseProfile(algorithms: OracleAlgorithm.tshark, directions: [.weProtect, .weProtect, .mutated],
                                    esn: false, natT: false, sourceMutation: false, transports: [.udp, .icmp])

    func makeCase(seed: UInt64, index: Int) -> DiffCase {
        var r = DiffRandom(seed: seed, caseIndex: index)
        // A quarter AH when the oracle has it, so that AH's few algorithms are not drowned by ESP's many.
        let ah = algorithms.filter(\.isAH), esp = algorithms.filter { !$0.isAH }
        let algorithm = !ah.isEmpty && (esp.isEmpty || r.chance(1, in: 4)) ? r.pick(ah) : r.pick(esp)
        var direction = r.pick(directions)
        if direction == .mutated && !algorithm.hasIntegrity { direction = .weProtect }
        let mode: SAMode = r.chance(1, in: 2) ? .transport : .tunnel
        let outer: IPVersion = r.chance(1, in: 2) ? .v4 : .v6
        func address(_ v: IPVersion, _ tag: UInt8) -> [UInt8] {
            v == .v4 ? [10, tag, r.byte(), UInt8(1 + r.below(254))]
                : [0x20, 0x01, 0x0d, 0xb8, tag, r.byte(), r.byte(), r.byte()] + r.bytes(7) + [UInt8(1 + r.below(254))]
        }
        let src = address(outer, 1), dst = address(outer, 2)
        let innerVersion: IPVersion = mode == .transport ? outer : (r.chance(1, in: 2) ? .v4 : .v6)
        let innerSrc = mode == .transport ? src : address(innerVersion, 3)
        let innerDst = mode == .transport ? dst : address(innerVersion, 4)
        let esn = esn && r.chance(1, in: 3)
        var sequence: UInt64
        if esn {
            let high = UInt64(r.below(0xffff))
            let low: UInt64 = r.chance(1, in: 4) ? 0xffff_fff0 + UInt64(r.below(16)) : UInt64(1 + r.below(0x7fff_ffff))
            sequence = high << 32 | low
            if sequence == 0 { sequence = 1 }
        } else {
            sequence = r.chance(1, in: 8) ? 0xffff_fff0 + UInt64(r.below(16)) : UInt64(1 + r.below(1 << 20))
        }
        let natT = natT && !algorithm.isAH && r.chance(1, in: 4)
        // Payloads: mostly small, sometimes large, with the block and 4-byte boundaries well covered.
        let payload = r.chance(1, in: 5) ? r.below(1400) : r.below(80)
        let shape = PacketShape(version: innerVersion, transport: r.pick(transports), payloadLength: payload,
                                optionsOrExtensions: r.chance(1, in: 3))
        let encKey = keyMaterial(algorithm.encryptionKeyLength, random: &r)
        let intKey = keyMaterial(algorithm.integrityKeyLength, random: &r)
        let spi = UInt32(0x100 + r.below(0x7fff_0000))
        var config = SAConfiguration(
            protocol: algorithm.isAH ? .ah : .esp, spi: spi, mode: mode,
            source: ipAddress(src), destination: ipAddress(dst), algorithm: algorithm.algorithm,
            encryptionKey: encKey, integrityKey: intKey, extendedSequenceNumbers: esn, replayWindow: 64,
            replaySequence: sequence - 1, outboundSequence: sequence - 1,
            encapsulation: natT ? UDPEncapsulationConfig() : nil)
        config.reqid = 1
        var mutation: DiffMutation?
        if direction == .mutated {
            var kinds: [DiffMutation] = [.flipBit(offset: r.below(2000), bit: r.below(8)),
                                         .flipBit(offset: r.below(2000), bit: r.below(8)),
                                         .truncate(1 + r.below(20)), .append(1 + r.below(20)), .transit]
            if sourceMutation && !natT { kinds.append(.source) }
            mutation = r.pick(kinds)
        }
        return DiffCase(index: index, direction: direction, algorithm: algorithm, config: config, shape: shape,
                        sequence: sequence, iv: r.bytes(algorithm.ivLength), identification: UInt16(r.below(65536)),
                        mutation: mutation, contentSeed: r.next(), innerSource: innerSrc, innerDestination: innerDst,
                        avoidPorts: avoidPorts)
    }

    /// Random key material (a degenerate 3DES key, K1 = K2 or K2 = K3, has probability 2⁻⁶⁴).
    func keyMaterial(_ n: Int, random r: inout DiffRandom) -> [UInt8] { r.bytes(n) }

    func ipAddress(_ b: [UInt8]) -> IPAddress {
        b.count == 4 ? .v4(IPv4Address(b[0], b[1], b[2], b[3])) : .v6(IPv6Address(bytes: b)!)
    }
}
