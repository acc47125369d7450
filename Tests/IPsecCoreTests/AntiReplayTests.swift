import IPsecCore
import Testing

/// The anti-replay window against a plain reference model: a set of everything accepted and the highest number.
@Suite struct AntiReplayTests {
    struct Model {
        let size: Int
        var highest: UInt64 = 0
        var seen: Set<UInt64> = []

        func check(_ s: UInt64) -> Bool {
            if s == 0 { return false }
            if s > highest { return true }
            return highest - s < UInt64(size) && !seen.contains(s)
        }

        mutating func accept(_ s: UInt64) {
            seen.insert(s)
            highest = max(highest, s)
        }
    }

    struct RNG {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        mutating func below(_ n: UInt64) -> UInt64 { next() % n }
    }

    @Test(arguments: [1, 32, 64, 65, 128, 1000, 4096])
    func agreesWithTheModelOnLongRandomSequences(size: Int) {
        var rng = RNG(state: UInt64(size))
        var window = AntiReplayWindow(size: size)
        var model = Model(size: size)
        var next: UInt64 = 1
        var checked = 0
        for _ in 0..<50_000 {
            let s: UInt64
            switch rng.below(10) {
            case 0, 1: s = next > 1 ? next - 1 - rng.below(min(next - 1, UInt64(size) * 2)) : 1  // reorder, both sides of the left edge
            case 2: s = model.highest  // duplicate of the newest
            case 3: s = next + rng.below(UInt64(size) * 3)  // jump, possibly past a whole window
            case 4: s = rng.below(3)  // 0, 1 or 2: old and zero
            default: s = next
            }
            next = max(next, s + 1)
            #expect(window.check(s) == model.check(s), "size \(size), seq \(s), highest \(model.highest)")
            checked += 1
            if model.check(s) {
                model.accept(s)
                window.accept(s)
            }
            #expect(window.highest == model.highest)
        }
        #expect(checked == 50_000)
    }

    @Test func edges() {
        var w = AntiReplayWindow(size: 64)
        #expect(!w.check(0))
        #expect(w.check(1))
        w.accept(100)
        #expect(w.check(37))   // 100 - 37 = 63: the left edge is inside
        #expect(!w.check(36))  // 64 back: just outside
        #expect(!w.check(100))
        #expect(w.check(101))
        w.accept(37)
        #expect(!w.check(37))
        w.accept(100 + 64)     // the whole window moves on: 100 is now the left edge
        #expect(!w.check(100))
        #expect(w.check(101))
        #expect(!w.check(37))
        w.accept(100 + 64 + 10_000)  // a far jump clears everything
        #expect(w.check(10_164 + 64 - 1))
        #expect(!w.check(10_164))
    }

    @Test func disabledWindowAcceptsAnything() {
        var w = AntiReplayWindow(size: 0)
        w.accept(5)
        #expect(w.check(5))
        #expect(w.check(1))
        #expect(w.check(0))
    }

    /// RFC 4303 Appendix A2.2: the high-order bits inferred from the low ones, on both sides of a 2^32 boundary.
    @Test func esnInference() {
        let w = AntiReplayWindow(size: 64, highest: (3 << 32) | 10)  // window spans the boundary (Case B)
        #expect(w.infer(low: 5, extendedSequenceNumbers: true) == (3 << 32) | 5)
        #expect(w.infer(low: 0xffff_fff0, extendedSequenceNumbers: true) == (2 << 32) | 0xffff_fff0)
        #expect(w.infer(low: 20, extendedSequenceNumbers: true) == (3 << 32) | 20)
        let a = AntiReplayWindow(size: 64, highest: (3 << 32) | 1000)  // within one block (Case A)
        #expect(a.infer(low: 999, extendedSequenceNumbers: true) == (3 << 32) | 999)
        #expect(a.infer(low: 100, extendedSequenceNumbers: true) == (4 << 32) | 100)  // below the window: next block
        #expect(a.infer(low: 100, extendedSequenceNumbers: false) == 100)
    }
}
