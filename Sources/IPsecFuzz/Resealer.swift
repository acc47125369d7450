import IPsecCore
import IPsecCrypto
import IPsecWire

/// A decrypted ESP payload taken apart from the end, as a receiver reads it (RFC 4303 §2.4–2.6): payload data,
/// padding, pad length, next header. The pad length is kept as the byte it is, so it can disagree with the padding.
struct ESPPlaintext: Equatable {
    var payload: [UInt8]
    var padding: [UInt8]
    var padLength: UInt8
    var nextHeader: UInt8

    init(payload: [UInt8], padding: [UInt8], padLength: UInt8, nextHeader: UInt8) {
        self.payload = payload
        self.padding = padding
        self.padLength = padLength
        self.nextHeader = nextHeader
    }

    /// Splits leniently: a pad length larger than what precedes it takes everything as padding.
    init(_ bytes: [UInt8]) {
        guard bytes.count >= 2 else {
            self.init(payload: [], padding: [], padLength: 0, nextHeader: bytes.first ?? 59)
            return
        }
        let n = bytes.count
        let padLength = bytes[n - 2]
        let padding = min(Int(padLength), n - 2)
        self.init(payload: Array(bytes[..<(n - 2 - padding)]), padding: Array(bytes[(n - 2 - padding)..<(n - 2)]),
                  padLength: padLength, nextHeader: bytes[n - 1])
    }

    var bytes: [UInt8] { payload + padding + [padLength, nextHeader] }

    /// Grows the padding (continuing the 1, 2, 3, … pattern) until the whole is a multiple of `unit`; the pad length
    /// follows the padding if it agreed with it before.
    mutating func align(to unit: Int) {
        let consistent = Int(padLength) == padding.count
        let remainder = (payload.count + padding.count + 2) % max(unit, 1)
        if remainder != 0 {
            for _ in 0..<(unit - remainder) { padding.append(UInt8(truncatingIfNeeded: padding.count + 1)) }
        }
        if consistent { padLength = UInt8(truncatingIfNeeded: padding.count) }
    }
}

/// Mutations of an ESP plaintext's trailer (what the padding check and the next-header dispatch judge).
enum PlaintextMutation {
    static func mutateTrailer(_ p: inout ESPPlaintext, random r: inout FuzzRandom) {
        switch r.below(5) {
        case 0:  // the pad length: off by one, zero, all ones, past the payload
            let n = p.padding.count
            p.padLength = UInt8(truncatingIfNeeded: r.element(of: [0, 1, 255, n + 1, n - 1, n + p.payload.count,
                                                                   n + p.payload.count + 1, Int(r.byte())]))
        case 1:  // the next header
            p.nextHeader = r.element(of: HeaderGenerator.protocols)
        case 2:  // one padding byte wrong, or all zero (a sender that pads with zeros)
            if p.padding.isEmpty || r.chance(1, in: 3) {
                p.padding = [UInt8](repeating: 0, count: max(p.padding.count, 1 + r.below(8)))
                p.padLength = UInt8(truncatingIfNeeded: p.padding.count)
            } else {
                p.padding[r.below(p.padding.count)] ^= UInt8(1 << r.below(8))
            }
        case 3:  // more or less padding, the pad length following
            if r.chance(1, in: 2) || p.padding.isEmpty {
                for _ in 0..<(1 + r.below(24)) { p.padding.append(UInt8(truncatingIfNeeded: p.padding.count + 1)) }
            } else {
                p.padding.removeLast(1 + r.below(p.padding.count))
            }
            p.padLength = UInt8(truncatingIfNeeded: p.padding.count)
        default:  // padding moved into the payload or the payload's tail counted as padding
            if r.chance(1, in: 2), !p.payload.isEmpty {
                let k = 1 + r.below(min(p.payload.count, 8))
                p.padLength = UInt8(truncatingIfNeeded: p.padding.count + k)
            } else {
                p.padLength = UInt8(truncatingIfNeeded: max(0, p.padding.count - 1))
            }
        }
    }

    /// The same on raw plaintext bytes (the `esp-trailer` target's inputs).
    static func mutateTrailer(_ bytes: inout [UInt8], random r: inout FuzzRandom) {
        var p = ESPPlaintext(bytes)
        mutateTrailer(&p, random: &r)
        bytes = p.bytes
    }
}

/// Opens protected packets with the fixture's keys and seals them again after a mutation, so that the mutant carries
/// a valid ICV and is judged by the code behind the ICV check: padding, next header, inner packet, decapsulation,
/// decompression, policy. Three ways in:
/// - the plaintext (ESP: payload, padding, pad length, next header; AH: the protected packet) mutated and sealed by
///   hand with the SA's transform, exactly as `TamperTests.sealByHand` does;
/// - the inner packet, taken out with `Inbound.unprotect` and protected again with `Outbound.protect` (works for
///   every mode, the compressed tunnel included, without knowing its wire format);
/// - the wire, mutated as a packet (SPI, sequence, lengths, outer headers), which exercises the checks before the ICV.
final class Resealer {
    let fixture: InboundFixture
    private var transforms: [Int: ESPTransform] = [:]

    init(fixture: InboundFixture) {
        self.fixture = fixture
    }

    func transform(_ index: Int) -> ESPTransform? {
        if let t = transforms[index] { return t }
        let c = fixture.entries[index].configuration
        guard case .esp(let a) = c.algorithm,
              let t = try? ESPTransform(a, encryptionKey: c.encryptionKey, integrityKey: c.integrityKey) else { return nil }
        transforms[index] = t
        return t
    }

    // MARK: ESP

    struct OpenedESP {
        var entry: Int
        /// Everything before the ESP header: the IP header chain, and the UDP header with NAT-T.
        var outer: [UInt8]
        var udpEncapsulated: Bool
        var spi: UInt32
        var sequence: UInt32
        var plaintext: ESPPlaintext
        /// The compressed form of a `tunnel-hc` SA (indicator bit in the SPI, elided values authenticated).
        var compressed: Bool
    }

    func openESP(_ p: [UInt8]) -> OpenedESP? {
        guard fixture.proto == .esp, let loc = InboundFixture.locate(p), loc.proto == .esp,
              let index = fixture.entry(forSPI: loc.spi), let t = transform(index) else { return nil }
        let c = fixture.entries[index].configuration
        let ivStart = loc.start + 8, ctStart = ivStart + t.ivLength, icvStart = loc.end - t.icvLength
        guard icvStart - ctStart >= 2, (icvStart - ctStart) % t.blockSize == 0 else { return nil }
        let compressed = fixture.mode == .tunnelHC && loc.spi != c.spi
        var extra: [UInt8] = []
        if compressed {
            guard let fields = c.headerCompression, let e = InboundFixture.elidedValues(outer: p, fields: fields)
            else { return nil }
            extra = e
        }
        let low = word(p, loc.start + 4)
        guard let extraData = try? ESPAssociatedData.Extra(extra) else { return nil }
        let aad = ESPAssociatedData(spi: loc.spi, sequenceNumber: fixture.inferredSequence(index, low: low),
                                    extendedSequenceNumbers: c.extendedSequenceNumbers, extra: extraData)
        var body = Array(p[ctStart..<icvStart])
        let iv = Array(p[ivStart..<ctStart]), icv = Array(p[icvStart..<loc.end])
        let verified = iv.withUnsafeBytes { ivp in
            icv.withUnsafeBytes { icvp in
                body.withUnsafeMutableBytes { bp in (try? t.open(aad, iv: ivp, payload: bp, icv: icvp)) ?? false }
            }
        }
        guard verified else { return nil }
        return OpenedESP(entry: index, outer: Array(p[..<loc.start]), udpEncapsulated: loc.udpEncapsulated,
                         spi: loc.spi, sequence: low, plaintext: ESPPlaintext(body), compressed: compressed)
    }

    /// Seals `o` with its entry's keys: fresh IV, the plaintext aligned to the cipher's block, the ICV computed over
    /// SPI, sequence (ESN high bits as the receiver will infer them) and, compressed, the elided values.
    func sealESP(_ o: OpenedESP, random r: inout FuzzRandom, fixLengths: Bool = true) -> [UInt8]? {
        guard let t = transform(o.entry) else { return nil }
        let c = fixture.entries[o.entry].configuration
        let outer = o.outer
        var plaintext = o.plaintext
        plaintext.align(to: t.blockSize)
        var body = plaintext.bytes
        guard body.count + outer.count + 64 <= 65535 else { return nil }
        var extra: [UInt8] = []
        if o.compressed {
            guard let fields = c.headerCompression, let e = InboundFixture.elidedValues(outer: outer, fields: fields)
            else { return nil }
            extra = e
        }
        guard let extraData = try? ESPAssociatedData.Extra(extra) else { return nil }
        let aad = ESPAssociatedData(spi: o.spi, sequenceNumber: fixture.inferredSequence(o.entry, low: o.sequence),
                                    extendedSequenceNumbers: c.extendedSequenceNumbers, extra: extraData)
        let iv = (0..<t.ivLength).map { _ in r.byte() }
        var icv = [UInt8](repeating: 0, count: t.icvLength)
        do {
            try iv.withUnsafeBytes { ivp in
                try body.withUnsafeMutableBytes { bp in
                    try icv.withUnsafeMutableBytes { ip in try t.seal(aad, iv: ivp, payload: bp, icv: ip) }
                }
            }
        } catch {
            return nil
        }
        var packet = outer + HeaderGenerator.word(o.spi) + HeaderGenerator.word(o.sequence) + iv + body + icv
        if fixLengths { Self.fixOuter(&packet, total: packet.count) }
        return packet
    }

    /// Sets the outer IP length (and IPv4 checksum) and, with NAT-T, the UDP length, for a packet of `total` bytes.
    static func fixOuter(_ p: inout [UInt8], total: Int) {
        guard let first = p.first else { return }
        if first >> 4 == 4, p.count >= 20 {
            p[2] = UInt8(truncatingIfNeeded: total >> 8)
            p[3] = UInt8(truncatingIfNeeded: total)
            let ihl = Int(first & 0x0f) * 4
            if ihl >= 20, ihl <= p.count {
                p[10] = 0
                p[11] = 0
                let sum = InternetChecksum.compute(p[0..<ihl])
                p[10] = UInt8(sum >> 8)
                p[11] = UInt8(sum & 0xff)
            }
        } else if first >> 4 == 6, p.count >= 40 {
            p[4] = UInt8(truncatingIfNeeded: (total - 40) >> 8)
            p[5] = UInt8(truncatingIfNeeded: total - 40)
        }
        if let loc = InboundFixture.locate(p + [UInt8](repeating: 0, count: 16)), loc.udpEncapsulated,
           loc.start <= p.count {
            let udp = loc.start - 8
            p[udp + 4] = UInt8(truncatingIfNeeded: (total - udp) >> 8)
            p[udp + 5] = UInt8(truncatingIfNeeded: total - udp)
            p[udp + 6] = 0
            p[udp + 7] = 0
        }
    }

    // MARK: AH

    struct OpenedAH {
        var entry: Int
        /// The packet as it was before AH was inserted: the header chain announcing AH's next header, then the
        /// payload. Sealing inserts AH again through `Outbound.protect` in transport mode, which computes the ICV
        /// over exactly the fields RFC 4302 §3.3.3.1 names (in tunnel mode the outer header is the IP header).
        var packet: [UInt8]
        var headerLength: Int
        var sequence: UInt32
    }

    func openAH(_ p: [UInt8]) -> OpenedAH? {
        guard fixture.proto == .ah, let loc = InboundFixture.locate(p), loc.proto == .ah,
              let index = fixture.entry(forSPI: loc.spi) else { return nil }
        let length = (Int(p[loc.start + 1]) + 2) * 4
        guard loc.start + length <= loc.end else { return nil }
        var packet = Array(p[..<loc.start]) + p[(loc.start + length)..<loc.end]
        packet[loc.link] = p[loc.start]
        Self.fixOuter(&packet, total: packet.count)
        return OpenedAH(entry: index, packet: packet, headerLength: loc.start, sequence: word(p, loc.start + 8))
    }

    func sealAH(_ o: OpenedAH, random r: inout FuzzRandom) -> [UInt8]? {
        let full = fixture.inferredSequence(o.entry, low: o.sequence)
        guard full > 0, let sender = fixture.sender(o.entry, sequence: full, seed: r.next(), mode: .transport)
        else { return nil }
        var out: [UInt8] = []
        guard (try? Outbound.protect(o.packet[...], with: sender, into: &out)) != nil else { return nil }
        return out
    }

    // MARK: Mutations

    /// Mutates the plaintext of a packet this fixture's keys open, and seals it again. False if it does not open.
    func mutatePlaintext(_ input: inout [UInt8], random r: inout FuzzRandom, bytes: ByteMutation) -> Bool {
        if var o = openESP(input) {
            var fixLengths = true
            switch r.below(14) {
            case 0..<5:
                mutatePayload(&o, random: &r, bytes: bytes)
            case 5..<9:
                PlaintextMutation.mutateTrailer(&o.plaintext, random: &r)
            case 9:
                o.sequence = UInt32(truncatingIfNeeded: fixture.sequence(o.entry, &r))
            case 10:
                // The outer header (and UDP header): not covered by ESP's ICV, except the compressed tunnel's elided
                // values, which sealing authenticates again from the mutated header.
                var outer = o.outer + HeaderGenerator.word(o.spi) + HeaderGenerator.word(o.sequence)
                guard PacketMutator.mutate(&outer, random: &r, bytes: bytes, maximumLength: 1024),
                      let loc = InboundFixture.locate(outer + [UInt8](repeating: 0, count: 16)),
                      loc.proto == .esp, loc.start == outer.count - 8 else { return false }
                o.outer = Array(outer[..<loc.start])
                fixLengths = r.chance(1, in: 2)
            case 11 where fixture.mode == .tunnelHC:
                // The other form under the same SA: a plain packet sent as compressed, or the reverse.
                o.compressed.toggle()
                o.spi = o.compressed ? o.spi | HeaderCompression.indicator : o.spi & ~HeaderCompression.indicator
            default:
                // Another SA of the same family: the same plaintext under other keys and another transform.
                let family = fixture.entries[o.entry].configuration.destination.version
                let candidates = fixture.entries.indices.filter {
                    fixture.entries[$0].configuration.destination.version == family
                        && (fixture.entries[$0].configuration.encapsulation != nil) == o.udpEncapsulated
                }
                guard !candidates.isEmpty else { return false }
                o.entry = r.element(of: candidates)
                let spi = fixture.entries[o.entry].configuration.spi
                o.spi = o.compressed ? spi | HeaderCompression.indicator : spi
            }
            guard let sealed = sealESP(o, random: &r, fixLengths: fixLengths) else { return false }
            input = sealed
            return true
        }
        if var o = openAH(input) {
            switch r.below(10) {
            case 0..<6:
                guard PacketMutator.mutate(&o.packet, random: &r, bytes: bytes, maximumLength: 2048) else { return false }
            case 6, 7:
                guard o.headerLength <= o.packet.count else { return false }
                var payload = Array(o.packet[o.headerLength...])
                bytes(&payload, 1500, &r)
                o.packet.replaceSubrange(o.headerLength..., with: payload)
            case 8:
                o.sequence = UInt32(truncatingIfNeeded: fixture.sequence(o.entry, &r))
            default:
                let family = fixture.entries[o.entry].configuration.destination.version
                let candidates = fixture.entries.indices.filter {
                    fixture.entries[$0].configuration.destination.version == family
                }
                o.entry = r.element(of: candidates)
            }
            guard let sealed = sealAH(o, random: &r) else { return false }
            input = sealed
            return true
        }
        return false
    }

    /// The payload of an opened ESP packet: in transport mode the packet it came from (header and payload, mutated
    /// as one packet, then split again); in tunnel mode the inner packet; compressed, the residual block and payload.
    private func mutatePayload(_ o: inout OpenedESP, random r: inout FuzzRandom, bytes: ByteMutation) {
        if r.chance(1, in: 4) || o.compressed || o.udpEncapsulated {
            bytes(&o.plaintext.payload, 1500, &r)
            return
        }
        switch fixture.mode {
        case .transport:
            guard let link = InboundFixture.locate(o.outer + HeaderGenerator.word(o.spi) + [UInt8](repeating: 0, count: 12))?.link
            else { return }
            var packet = o.outer + o.plaintext.payload
            packet[link] = o.plaintext.nextHeader
            guard PacketMutator.mutate(&packet, random: &r, bytes: bytes, maximumLength: 1500) else { return }
            // Split where a sender would insert ESP: after the IPv4 header, or after the IPv6 extension headers.
            let split = Self.transportSplit(packet)
            guard let (headerEnd, linkOffset) = split, headerEnd <= packet.count else { return }
            o.plaintext.nextHeader = packet[linkOffset]
            var outer = Array(packet[..<headerEnd])
            outer[linkOffset] = 50
            o.outer = outer
            o.plaintext.payload = Array(packet[headerEnd...])
        case .tunnel, .tunnelHC:
            var inner = o.plaintext.payload
            if PacketMutator.mutate(&inner, random: &r, bytes: bytes, maximumLength: 1500) {
                o.plaintext.payload = inner
                if r.chance(3, in: 4), let first = inner.first {
                    o.plaintext.nextHeader = first >> 4 == 6 ? 41 : 4
                }
            }
        }
    }

    /// Where ESP goes in an outbound transport-mode packet (leniently): the end of the IPv4 header, or the end of the
    /// IPv6 extension headers; and the offset of the byte that announces what follows.
    static func transportSplit(_ p: [UInt8]) -> (headerEnd: Int, link: Int)? {
        guard let first = p.first else { return nil }
        if first >> 4 == 4 {
            let ihl = Int(first & 0x0f) * 4
            return ihl >= 20 && ihl <= p.count ? (ihl, 9) : nil
        }
        guard first >> 4 == 6, p.count >= 40 else { return nil }
        var next = p[6], offset = 40, link = 6, walked = 0
        while [0, 43, 44, 60].contains(next), walked < 16, offset + 8 <= p.count {
            let length = next == 44 ? 8 : (Int(p[offset + 1]) + 1) * 8
            guard offset + length <= p.count else { break }
            link = offset
            next = p[offset]
            offset += length
            walked += 1
        }
        return (offset, link)
    }

    /// Takes the inner packet out with the data plane itself, mutates it as a packet, and protects it again with
    /// `Outbound.protect` (perhaps under another SA of the fixture). False if the input does not open.
    func mutateInner(_ input: inout [UInt8], random r: inout FuzzRandom, bytes: ByteMutation) -> Bool {
        guard let loc = InboundFixture.locate(input), let index = fixture.entry(forSPI: loc.spi) else { return false }
        var out: [UInt8] = [], scratch: [UInt8] = []
        MutationTrace.input(input)
        let result = Inbound.unprotect(input[...], sad: fixture.database(index), into: &out, scratch: &scratch)
        guard result.verdict == .accepted else { return false }
        if r.chance(1, in: 4) {
            bytes(&out, 1500, &r)
        } else {
            guard PacketMutator.mutate(&out, random: &r, bytes: bytes, maximumLength: 1500) else { return false }
        }
        let target = r.chance(1, in: 8) ? r.below(fixture.entries.count) : index
        guard let sender = fixture.sender(target, sequence: fixture.sequence(target, &r), seed: r.next()) else {
            return false
        }
        var protected: [UInt8] = []
        guard (try? Outbound.protect(out[...], with: sender, into: &protected)) != nil else { return false }
        input = protected
        return true
    }

    /// The hand-sealed seed variants: a wrong padding byte, a next header the mode refuses (or a dummy packet), a pad
    /// length that runs past the payload; for AH, a next header the mode refuses and a cut inner packet.
    func plaintextVariant(_ input: inout [UInt8], variant: Int, random r: inout FuzzRandom) -> Bool {
        if var o = openESP(input) {
            switch variant {
            case 0:
                if o.plaintext.padding.isEmpty {
                    o.plaintext.padding = [1, 2, 3, 4]
                    o.plaintext.padLength = 4
                }
                o.plaintext.padding[o.plaintext.padding.count - 1] ^= 0x80
            case 1:
                o.plaintext.nextHeader = fixture.mode == .transport ? 59 : 17
            default:
                o.plaintext.padLength = 255
            }
            guard let sealed = sealESP(o, random: &r) else { return false }
            input = sealed
            return true
        }
        if var o = openAH(input) {
            guard o.headerLength < o.packet.count else { return false }
            switch variant {
            case 0:
                let link = Self.transportSplit(o.packet)?.link ?? 9
                o.packet[link] = fixture.mode == .transport ? 59 : 17
            case 1:
                o.packet.removeLast(min(3, o.packet.count - o.headerLength))
            default:
                o.packet += [0xde, 0xad, 0xbe]
            }
            Self.fixOuter(&o.packet, total: o.packet.count)
            guard let sealed = sealAH(o, random: &r) else { return false }
            input = sealed
            return true
        }
        return false
    }

    private func word(_ p: [UInt8], _ i: Int) -> UInt32 {
        UInt32(p[i]) << 24 | UInt32(p[i + 1]) << 16 | UInt32(p[i + 2]) << 8 | UInt32(p[i + 3])
    }
}
