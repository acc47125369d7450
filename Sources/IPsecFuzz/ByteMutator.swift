/// Byte-level havoc in the manner of AFL and libFuzzer: bit flips, random bytes, interesting values (both byte
/// orders), arithmetic, insertion, deletion, duplication, dictionary tokens and splicing. It knows nothing of the
/// input's structure; `StructureMutator`s do, and the engine mixes the two.
public struct ByteMutator: Sendable {
    public let dictionary: [[UInt8]]

    public init(dictionary: [[UInt8]] = []) {
        self.dictionary = dictionary.filter { !$0.isEmpty }
    }

    /// Values that sit on boundaries: zero, one, the sign bits, all ones, and sizes that length fields love.
    static let interesting8: [UInt8] = [0, 1, 2, 4, 7, 8, 15, 16, 20, 32, 40, 64, 100, 127, 128, 129, 254, 255]
    static let interesting16: [UInt16] = [0, 1, 8, 20, 40, 60, 128, 255, 256, 512, 1024, 1500, 4096, 32767, 32768,
                                          65279, 65534, 65535]
    static let interesting32: [UInt32] = [0, 1, 0xff, 0x100, 0xffff, 0x10000, 0x7fff_ffff, 0x8000_0000,
                                          0x8000_0001, 0xffff_fffe, 0xffff_ffff]

    /// Applies one random mutation to `buffer`, keeping it within `maximumLength` bytes.
    public func mutate(_ buffer: inout [UInt8], maximumLength: Int, random: inout FuzzRandom,
                       splice: [UInt8]? = nil) {
        let operations = 16
        for _ in 0..<4 {
            if apply(random.below(operations), &buffer, maximumLength, &random, splice) { break }
        }
        if buffer.count > maximumLength { buffer.removeLast(buffer.count - maximumLength) }
    }

    /// One operation; false if it does not apply to this buffer (empty, full), so the caller picks another.
    private func apply(_ op: Int, _ b: inout [UInt8], _ maximum: Int, _ r: inout FuzzRandom,
                       _ splice: [UInt8]?) -> Bool {
        switch op {
        case 0:  // flip one bit
            guard !b.isEmpty else { return false }
            b[r.below(b.count)] ^= 1 << UInt8(r.below(8))
        case 1:  // a random byte
            guard !b.isEmpty else { return false }
            b[r.below(b.count)] = r.byte()
        case 2:  // an interesting byte
            guard !b.isEmpty else { return false }
            b[r.below(b.count)] = r.element(of: Self.interesting8)
        case 3:  // an interesting 16-bit value, big- or little-endian
            guard b.count >= 2 else { return false }
            let v = r.element(of: Self.interesting16)
            let i = r.below(b.count - 1)
            let swap = r.chance(1, in: 4)
            b[i] = UInt8(truncatingIfNeeded: swap ? v : v >> 8)
            b[i + 1] = UInt8(truncatingIfNeeded: swap ? v >> 8 : v)
        case 4:  // an interesting 32-bit value
            guard b.count >= 4 else { return false }
            let v = r.element(of: Self.interesting32)
            let i = r.below(b.count - 3)
            for k in 0..<4 { b[i + k] = UInt8(truncatingIfNeeded: v >> (24 - 8 * k)) }
        case 5:  // add or subtract a small number to a byte
            guard !b.isEmpty else { return false }
            let i = r.below(b.count)
            let delta = UInt8(1 + r.below(16))
            b[i] = r.chance(1, in: 2) ? b[i] &+ delta : b[i] &- delta
        case 6:  // add or subtract a small number to a big-endian 16-bit value (lengths)
            guard b.count >= 2 else { return false }
            let i = r.below(b.count - 1)
            var v = UInt16(b[i]) << 8 | UInt16(b[i + 1])
            let delta = UInt16(1 + r.below(32))
            v = r.chance(1, in: 2) ? v &+ delta : v &- delta
            b[i] = UInt8(truncatingIfNeeded: v >> 8)
            b[i + 1] = UInt8(truncatingIfNeeded: v)
        case 7:  // insert random bytes
            guard b.count < maximum else { return false }
            let n = r.smallLength(upTo: maximum - b.count)
            let at = r.below(b.count + 1)
            b.insert(contentsOf: (0..<n).map { _ in r.byte() }, at: at)
        case 8:  // insert a run of one byte
            guard b.count < maximum else { return false }
            let n = r.smallLength(upTo: maximum - b.count)
            let at = r.below(b.count + 1)
            let value = r.chance(1, in: 2) ? r.byte() : r.element(of: Self.interesting8)
            b.insert(contentsOf: [UInt8](repeating: value, count: n), at: at)
        case 9:  // delete a range
            guard b.count > 1 else { return false }
            let n = r.smallLength(upTo: b.count - 1)
            let at = r.below(b.count - n + 1)
            b.removeSubrange(at..<(at + n))
        case 10:  // duplicate a range somewhere else
            guard !b.isEmpty, b.count < maximum else { return false }
            let n = min(r.smallLength(upTo: b.count), maximum - b.count)
            let from = r.below(b.count - n + 1)
            let chunk = Array(b[from..<(from + n)])
            b.insert(contentsOf: chunk, at: r.below(b.count + 1))
        case 11:  // overwrite a range with a copy of another
            guard b.count >= 2 else { return false }
            let n = r.smallLength(upTo: b.count / 2)
            let from = r.below(b.count - n + 1), to = r.below(b.count - n + 1)
            let chunk = Array(b[from..<(from + n)])
            b.replaceSubrange(to..<(to + n), with: chunk)
        case 12:  // a dictionary token, inserted or written over
            guard !dictionary.isEmpty else { return false }
            let token = r.element(of: dictionary)
            if r.chance(1, in: 2), b.count + token.count <= maximum {
                b.insert(contentsOf: token, at: r.below(b.count + 1))
            } else {
                guard b.count >= token.count else { return false }
                let at = r.below(b.count - token.count + 1)
                b.replaceSubrange(at..<(at + token.count), with: token)
            }
        case 13:  // splice: the head of this input, the tail of another
            guard let other = splice, !other.isEmpty, !b.isEmpty else { return false }
            let cut = r.below(b.count + 1), otherCut = r.below(other.count)
            b = Array(b[..<cut]) + other[otherCut...]
        case 14:  // cut the tail
            guard b.count > 1 else { return false }
            b.removeLast(1 + r.below(min(b.count - 1, 64)))
        case 15:  // shuffle a few bytes
            guard b.count >= 2 else { return false }
            let n = min(b.count, 2 + r.below(7))
            let at = r.below(b.count - n + 1)
            for k in stride(from: n - 1, to: 0, by: -1) {
                b.swapAt(at + k, at + r.below(k + 1))
            }
        default:
            return false
        }
        return true
    }
}
