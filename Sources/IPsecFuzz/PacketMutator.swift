/// Structure-aware mutation of an IP packet: a field given a value that matters for its kind (a length off by one,
/// another next header, an SPI with the compression bit), an option area or extension header replaced, inserted,
/// removed or duplicated, a payload mutated on its own; then, most of the time, lengths and checksums repaired so
/// that the mutant is judged on the mutated part rather than refused at the first checksum.
final class PacketMutator: StructureMutator {
    /// SPIs worth writing into an SPI field (the targets' SAs), besides the boundary values.
    let knownSPIs: [UInt32]
    /// Where the packet starts in the input (a prefix of control bytes may come first).
    let start: Int

    init(knownSPIs: [UInt32] = [], start: Int = 0) {
        self.knownSPIs = knownSPIs
        self.start = start
    }

    func mutate(_ input: inout [UInt8], random r: inout FuzzRandom, bytes: ByteMutation) -> Bool {
        Self.mutate(&input, start: start, knownSPIs: knownSPIs, random: &r, bytes: bytes)
    }

    static func mutate(_ input: inout [UInt8], start: Int = 0, knownSPIs: [UInt32] = [], random r: inout FuzzRandom,
                       bytes: ByteMutation, maximumLength: Int = 65535) -> Bool {
        guard input.count > start else { return false }
        let map = PacketMap(input, start: start)
        var preserve: Range<Int>? = nil
        let choice = r.below(10)
        if choice < 5, !map.fields.isEmpty {
            let field = r.element(of: map.fields)
            FieldMutation.apply(field, to: &input, map: map, knownSPIs: knownSPIs, random: &r)
            preserve = field.offset..<(field.offset + field.width)
        } else if choice < 9, !map.regions.isEmpty || !map.layers.isEmpty {
            guard regionMutation(&input, map: map, random: &r, bytes: bytes, maximumLength: maximumLength) else {
                return false
            }
        } else {
            // A new IPv6 extension header right after a fixed header, whether or not a chain is there.
            guard let ip6 = map.layers.compactMap({ if case .ipv6(let o) = $0 { o } else { nil } }).first else {
                return false
            }
            insertExtensionHeader(&input, link: ip6 + 6, at: ip6 + 40, random: &r)
        }
        // Repair lengths and checksums most of the time, never the field just mutated.
        if r.chance(3, in: 4) { PacketMap.fixUp(&input, start: start, preserving: preserve) }
        if input.count > maximumLength { input.removeLast(input.count - maximumLength) }
        return true
    }

    static func regionMutation(_ b: inout [UInt8], map: PacketMap, random r: inout FuzzRandom, bytes: ByteMutation,
                               maximumLength: Int) -> Bool {
        guard !map.regions.isEmpty else { return false }
        let region = r.element(of: map.regions)
        let valid = r.chance(3, in: 4)
        switch region.kind {
        case .ipv4Options:
            let area = r.chance(1, in: 6) ? [] : HeaderGenerator.ipv4Options(&r, valid: valid)
            b.replaceSubrange(region.range, with: area)
            // The header length follows the new area (unless the area is not a multiple of 4).
            let ihl = (20 + area.count) / 4
            if ihl <= 15 { b[region.header] = b[region.header] & 0xf0 | UInt8(ihl) }
        case .tcpOptions:
            let area = r.chance(1, in: 6) ? [] : HeaderGenerator.tcpOptions(&r, valid: valid)
            b.replaceSubrange(region.range, with: area)
            let offset = (20 + area.count) / 4
            if offset <= 15 { b[region.header + 12] = UInt8(offset) << 4 | b[region.header + 12] & 0x0f }
        case .ipv6Options:
            let area = HeaderGenerator.ipv6Options(&r, valid: valid)
            b.replaceSubrange(region.range, with: area)
            b[region.header + 1] = UInt8(truncatingIfNeeded: (area.count + 2) / 8 - 1)
        case .extensionHeader(let link):
            guard region.range.upperBound <= b.count, link < b.count else { return false }
            switch r.below(3) {
            case 0:  // remove it: whoever announced it now announces what came after it
                b[link] = b[region.range.lowerBound]
                b.removeSubrange(region.range)
            case 1:  // duplicate it (a repeated header, a Hop-by-Hop that is no longer first)
                let copy = Array(b[region.range])
                b.insert(contentsOf: copy, at: region.range.upperBound)
                b[region.range.lowerBound] = b[link]
            default:
                insertExtensionHeader(&b, link: link, at: region.range.lowerBound, random: &r)
            }
        case .payload, .icv:
            var part = Array(b[region.range])
            for _ in 0..<(1 + r.below(3)) {
                bytes(&part, max(part.count, 1) + max(0, maximumLength - b.count), &r)
            }
            b.replaceSubrange(region.range, with: part)
        }
        return true
    }

    /// Inserts a generated extension header at `at`, announced by the byte at `link`, announcing what `link` did.
    static func insertExtensionHeader(_ b: inout [UInt8], link: Int, at: Int, random r: inout FuzzRandom) {
        guard link < b.count, at <= b.count else { return }
        let proto = r.element(of: [0, 43, 44, 60, 60, 43] as [UInt8])
        let header = HeaderGenerator.extensionHeader(proto, next: b[link], &r, valid: r.chance(4, in: 5))
        b.insert(contentsOf: header, at: at)
        b[link] = proto
    }
}

/// The values worth giving a field of each kind.
enum FieldMutation {
    static func apply(_ field: PacketMap.Field, to b: inout [UInt8], map: PacketMap, knownSPIs: [UInt32],
                      random r: inout FuzzRandom) {
        let o = field.offset
        let width = min(field.width, 8)
        func get() -> UInt64 {
            var v: UInt64 = 0
            for k in 0..<width { v = v << 8 | UInt64(b[o + (field.littleEndian ? width - 1 - k : k)]) }
            return v
        }
        func set(_ v: UInt64) {
            for k in 0..<width {
                b[o + (field.littleEndian ? width - 1 - k : k)] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(width - 1 - k)))
            }
        }
        let current = get()
        let bits = UInt64(min(field.width, 8) * 8)
        let mask: UInt64 = bits >= 64 ? .max : (1 << bits) - 1
        func near(_ value: Int) -> UInt64 {
            let deltas = [0, 1, -1, 2, -2, 4, -4, 8, -8, 40, -40]
            return UInt64(truncatingIfNeeded: value + r.element(of: deltas)) & mask
        }
        switch field.kind {
        case .ipVersion:
            if r.chance(1, in: 2) {
                set(UInt64(r.element(of: [0, 1, 4, 5, 6, 7, 15] as [UInt8])) << 4 | current & 0x0f)
            } else {
                set(current & 0xf0 | UInt64(r.element(of: [0, 1, 4, 5, 6, 7, 8, 15] as [UInt8])))
            }
        case .length(let covering):
            set(r.chance(2, in: 3) ? near(covering) : r.element(of: [0, 1, 7, 8, 20, 40, 0x7fff, 0xffff]))
        case .length8(let covering, let unit, let bias):
            let consistent = (covering + bias) / unit
            set(r.chance(2, in: 3) ? near(consistent) & 0xff : UInt64(r.element(of: [0, 1, 2, 3, 4, 255] as [UInt8])))
        case .dataOffset(let covering):
            let value = r.chance(1, in: 2) ? UInt64(covering / 4) : UInt64(r.element(of: [0, 1, 4, 5, 6, 15] as [UInt8]))
            set(value << 4 | current & 0x0f)
        case .nextHeader:
            set(UInt64(r.element(of: HeaderGenerator.protocols)))
        case .checksum:
            set(r.element(of: [0, 0xffff, current ^ 1, current ^ 0x8000]))
        case .spi:
            var choices: [UInt64] = [0, 1, 255, 256, 0xffff_ffff, current ^ 0x8000_0000, current | 0x8000_0000,
                                     current & 0x7fff_ffff, current &+ 1]
            choices += knownSPIs.map { UInt64($0) }
            choices += knownSPIs.map { UInt64($0 | 0x8000_0000) }
            set(r.element(of: choices) & mask)
        case .sequence:
            set(r.element(of: [0, 1, 2, 63, 64, 65, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, current &+ 1, current &- 1,
                               current &+ 64, current &- 64, current &+ 0x8000_0000]) & mask)
        case .port:
            set(r.element(of: [0, 53, 80, 443, 500, 4500, 4501, 65535, current ^ 1]))
        case .flags:
            set(r.chance(1, in: 2) ? current ^ (1 << UInt64(r.below(Int(bits)))) : r.next() & mask)
        case .hopLimit:
            set(r.element(of: [0, 1, 64, 255]))
        case .address:
            // Another address of the packet (tunnel endpoints equal to inner addresses is what compression needs).
            let others = map.fields.filter { $0.kind == .address && $0.width == field.width && $0.offset != o }
            if let other = others.isEmpty ? nil : r.element(of: others), r.chance(3, in: 4) {
                let copy = Array(b[other.offset..<(other.offset + other.width)])
                b.replaceSubrange(o..<(o + field.width), with: copy)
            } else {
                b[o + field.width - 1] = r.byte()
            }
        case .other:
            set(r.chance(1, in: 2) ? r.next() & mask : UInt64(r.element(of: ByteMutator.interesting8)) & mask)
        }
    }
}
