import IPsecCore
import IPsecCrypto
import IPsecWire

/// The SAs of one inbound target: every algorithm of the target's mode, for IPv4 and IPv6 endpoints, with fixed
/// keys, so that an input (a packet as it arrives) needs nothing else to replay. Each SA has its own SPI; a few use
/// ESN (one with its window just below 2^32, to exercise the high-bit inference), a zero replay window, a traffic
/// selector or UDP encapsulation, so that those paths are reached too.
final class InboundFixture: Sendable {
    struct Entry: Sendable {
        let configuration: SAConfiguration
        /// Short text for features and reports: algorithm, family and options.
        let label: String
    }

    let name: String
    let mode: SAMode
    let proto: IPsecProtocol
    let entries: [Entry]
    private let indexBySPI: [UInt32: Int]

    static let v4Endpoints = (IPAddress("192.0.2.1")!, IPAddress("198.51.100.2")!)
    static let v6Endpoints = (IPAddress("2001:db8::1")!, IPAddress("2001:db8::2")!)

    init(name: String, mode: SAMode, proto: IPsecProtocol, spiBase: UInt32, algorithms: [SAAlgorithm],
         compression: [HeaderCompressionFields?] = [nil]) {
        self.name = name
        self.mode = mode
        self.proto = proto
        var entries: [Entry] = []
        for (i, algorithm) in algorithms.enumerated() {
            for (k, fields) in compression.enumerated() {
                for version in IPVersion.allCases where fields?.isValid(for: version) ?? true {
                    // Everything about an SA derives from its SPI, which derives from the algorithm's position, the
                    // field set and the family only: a reproducer keeps meaning the same SA when others come or go.
                    let spi = spiBase + UInt32(i) * 16 + UInt32(k) * 2 + (version == .v6 ? 1 : 0)
                    let n = Int(spi - spiBase)
                    let (source, destination) = version == .v4 ? Self.v4Endpoints : Self.v6Endpoints
                    let esn = n % 5 == 2
                    var encryptionKey: [UInt8] = [], integrityKey: [UInt8] = []
                    switch algorithm {
                    case .esp(let a):
                        encryptionKey = Self.key(a.encryptionKeyLength, seed: n)
                        integrityKey = Self.key(a.integrityKeyLength, seed: n + 101)
                    case .ah(let a):
                        integrityKey = Self.key(a.keyLength, seed: n + 55)
                    }
                    var c = SAConfiguration(
                        protocol: proto, spi: spi, mode: mode, source: source, destination: destination,
                        algorithm: algorithm, encryptionKey: encryptionKey, integrityKey: integrityKey,
                        extendedSequenceNumbers: esn, replayWindow: n % 7 == 3 ? 0 : 64,
                        replaySequence: esn && n % 3 == 0 ? 0xffff_fff0 : 0, headerCompression: fields)
                    var label = "\(algorithm) \(version)"
                    if let fields { label += " hc=\(fields)" }
                    if esn { label += " esn" }
                    if n % 11 == 6 {
                        c.selector = TrafficSelector(protocol: .udp)
                        label += " sel=udp"
                    }
                    if proto == .esp, mode != .tunnelHC || k == 0, n % 9 == 4 {
                        c.encapsulation = UDPEncapsulationConfig()
                        label += " nat-t"
                    }
                    entries.append(Entry(configuration: c, label: label))
                }
            }
        }
        self.entries = entries
        var index: [UInt32: Int] = [:]
        for (i, e) in entries.enumerated() { index[e.configuration.spi] = i }
        indexBySPI = index
    }

    static func key(_ count: Int, seed: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: seed &* 29 &+ $0 &* 13 &+ 1) }
    }

    var spis: [UInt32] { entries.map(\.configuration.spi) }

    /// The entry for an SPI as received; a compressed tunnel's SPI carries the indicator bit.
    func entry(forSPI spi: UInt32) -> Int? {
        if let i = indexBySPI[spi] { return i }
        if mode == .tunnelHC, let i = indexBySPI[spi & 0x7fff_ffff] { return i }
        return nil
    }

    /// A fresh SA database holding the SA of `index` (fresh state: a new replay window for every input).
    func database(_ index: Int?, implementation: CryptoImplementation = .preferred) -> SADatabase {
        let sad = SADatabase()
        if let index, let sa = try? SecurityAssociation(entries[index].configuration, implementation: implementation) {
            try? sad.add(sa)
        }
        return sad
    }

    /// A sender for entry `index` whose next packet carries `sequence`, with IVs and identifications from `seed`.
    func sender(_ index: Int, sequence: UInt64, seed: UInt64, mode: SAMode? = nil,
                implementation: CryptoImplementation = .preferred) -> SecurityAssociation? {
        var c = entries[index].configuration
        c.outboundSequence = sequence &- 1
        if let mode { c.mode = mode; c.headerCompression = mode == .tunnelHC ? c.headerCompression : nil }
        return try? SecurityAssociation(c, ivSource: .seeded(seed), identificationSource: .seeded(seed ^ 0x55),
                                        implementation: implementation)
    }

    /// The full sequence number a fresh receiver of entry `index` infers from `low`.
    func inferredSequence(_ index: Int, low: UInt32) -> UInt64 {
        let c = entries[index].configuration
        return AntiReplayWindow(size: c.replayWindow, highest: c.replaySequence)
            .infer(low: low, extendedSequenceNumbers: c.extendedSequenceNumbers)
    }

    /// A sequence number worth sending: small, around the window, or (ESN) around the 2^32 boundary.
    func sequence(_ index: Int, _ r: inout FuzzRandom) -> UInt64 {
        let c = entries[index].configuration
        let base = c.replaySequence
        switch r.below(6) {
        case 0: return base &+ 1
        case 1: return base &+ UInt64(1 + r.below(200))
        case 2:
            // Across the 2^32 boundary only where a fresh receiver's window sits below it (the ESN inference would
            // otherwise, rightly, take the low bits for the current block).
            if c.extendedSequenceNumbers { return base >= 0xffff_ff00 ? 0x1_0000_0000 &+ UInt64(r.below(80)) : base &+ 1 }
            return 0xffff_ffff
        case 3:
            // Inside the window, below its top. (Without a window, ESN inference puts anything below the top in the
            // next 2^32 block, as RFC 4303 Appendix A2 does with a window of one.)
            return base > 64 && c.replayWindow > 0 ? base &- UInt64(r.below(48)) : base &+ 1
        default: return base &+ UInt64(1 + r.below(4))
        }
    }

    /// An inner packet that suits entry `index`: transport mode needs the SA's own endpoints; tunnel mode carries
    /// anything, and the compressed tunnel compresses what has the endpoints' addresses.
    func innerPacket(_ index: Int, _ r: inout FuzzRandom) -> [UInt8] {
        let c = entries[index].configuration
        let family = c.destination.version
        var shape: PacketFactory.Shape
        switch mode {
        case .transport:
            shape = PacketFactory.randomShape(&r, version: family, source: c.source.bytes,
                                              destination: c.destination.bytes)
            if r.chance(1, in: 8) { shape.destination = c.source.bytes }
            shape.fragment = false
        case .tunnel, .tunnelHC:
            let version = r.chance(3, in: 4) ? family : (family == .v4 ? .v6 : .v4)
            shape = PacketFactory.randomShape(&r, version: version)
            if mode == .tunnelHC, version == family, r.chance(3, in: 4) {
                shape.source = c.source.bytes
                shape.destination = c.destination.bytes
                shape.extras = shape.extras && r.chance(1, in: 3)
            }
        }
        return PacketFactory.packet(shape, &r)
    }

    /// A packet as a peer would send it: an inner packet protected by a fresh sender of some entry.
    func generate(_ r: inout FuzzRandom, entry: Int? = nil) -> [UInt8] {
        for _ in 0..<8 {
            let index = entry ?? r.below(entries.count)
            let inner = innerPacket(index, &r)
            guard let sender = sender(index, sequence: sequence(index, &r), seed: r.next()) else { continue }
            var out: [UInt8] = []
            if (try? Outbound.protect(inner[...], with: sender, into: &out)) != nil { return out }
        }
        return [0x45]
    }

    /// Seeds: for every entry, packets of a few shapes, and hand-sealed ones whose padding, pad length or next header
    /// are wrong behind a valid ICV (the post-ICV refusals every mode must reach).
    func seeds() -> [[UInt8]] {
        var r = FuzzRandom(seed: name.utf8.reduce(7) { $0 &* 31 &+ UInt64($1) })
        var out: [[UInt8]] = []
        let resealer = Resealer(fixture: self)
        for index in entries.indices {
            let packet = generate(&r, entry: index)
            out.append(packet)
            if index % 2 == 0 { out.append(generate(&r, entry: index)) }
            for variant in 0..<3 {
                var mutated = packet
                if resealer.plaintextVariant(&mutated, variant: variant, random: &r) { out.append(mutated) }
            }
        }
        return out
    }

    // MARK: Finding the IPsec header

    struct Location {
        /// Where the ESP or AH header starts.
        var start: Int
        /// The offset of the byte that announces it (IPv4 protocol, IPv6 next header, or the UDP header's start).
        var link: Int
        /// Where the IP packet ends (its length field, within the bytes).
        var end: Int
        var proto: IPsecProtocol
        var udpEncapsulated: Bool
        var spi: UInt32
    }

    /// Finds the ESP or AH header of a packet, leniently (as far as the bytes allow).
    static func locate(_ p: [UInt8]) -> Location? {
        guard let first = p.first else { return nil }
        var offset: Int, next: UInt8, link: Int, end: Int
        switch first >> 4 {
        case 4:
            offset = Int(first & 0x0f) * 4
            guard offset >= 20, p.count >= offset else { return nil }
            next = p[9]
            link = 9
            end = min(p.count, Int(p[2]) << 8 | Int(p[3]))
        case 6:
            guard p.count >= 40 else { return nil }
            next = p[6]
            link = 6
            offset = 40
            end = min(p.count, 40 + (Int(p[4]) << 8 | Int(p[5])))
            var walked = 0
            while [0, 43, 44, 60].contains(next), walked < 16, offset + 8 <= p.count {
                let length = next == 44 ? 8 : (Int(p[offset + 1]) + 1) * 8
                link = offset
                next = p[offset]
                offset += length
                walked += 1
            }
        default:
            return nil
        }
        var udp = false
        if next == 17, offset + 16 <= p.count {
            udp = true
            link = offset
            offset += 8
            next = 50
        }
        guard next == 50 || next == 51, offset + 12 <= p.count, end > offset else { return nil }
        let at = next == 50 ? offset : offset + 4
        let spi = UInt32(p[at]) << 24 | UInt32(p[at + 1]) << 16 | UInt32(p[at + 2]) << 8 | UInt32(p[at + 3])
        return Location(start: offset, link: link, end: end, proto: next == 50 ? .esp : .ah, udpEncapsulated: udp,
                        spi: spi)
    }

    /// The compressed tunnel's elided-values block E (docs/header-compression.md §6), from the received outer
    /// header: inner version, the field set X, then the values of the fields in X as the outer header carries them.
    static func elidedValues(outer p: [UInt8], fields: HeaderCompressionFields) -> [UInt8]? {
        guard let first = p.first else { return nil }
        var e: [UInt8]
        if first >> 4 == 4, p.count >= 20 {
            e = [4, fields.rawValue]
            if fields.contains(.source) { e += p[12..<16] }
            if fields.contains(.destination) { e += p[16..<20] }
            if fields.contains(.dscp) { e.append(p[1] >> 2) }
            if fields.contains(.identification) { e += p[4..<6] }
            if fields.contains(.dontFragment) { e.append(p[6] & 0x40 != 0 ? 1 : 0) }
        } else if first >> 4 == 6, p.count >= 40 {
            e = [6, fields.rawValue]
            if fields.contains(.source) { e += p[8..<24] }
            if fields.contains(.destination) { e += p[24..<40] }
            if fields.contains(.dscp) { e.append((p[0] & 0x0f) << 2 | p[1] >> 6) }
        } else {
            return nil
        }
        return e
    }
}
