/// The fuzzer's only source of randomness: SplitMix64 (Steele, Lea and Flood, OOPSLA 2014), so that a campaign is a
/// pure function of its seed. Each iteration gets its own generator, derived from the seed and the iteration's index,
/// which is what lets `--shard I/N` split the iteration space without the shards sharing a stream.
public struct FuzzRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    /// The generator of iteration `index` of a campaign seeded with `seed`.
    public init(seed: UInt64, iteration index: UInt64) {
        var s = seed ^ 0x5DEE_CE66_D1CE_4E5B
        _ = FuzzRandom.step(&s)
        state = s ^ FuzzRandom.mix(index &+ 0x9E37_79B9)
    }

    public mutating func next() -> UInt64 {
        FuzzRandom.step(&state)
    }

    /// A value in `0..<bound` (`bound` > 0); cheaper than `Int.random(in:using:)` and exactly reproducible.
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        return Int(truncatingIfNeeded: next() % UInt64(bound))
    }

    /// True with probability `numerator`/`denominator`.
    public mutating func chance(_ numerator: Int, in denominator: Int) -> Bool {
        below(denominator) < numerator
    }

    public mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }

    public mutating func element<C: Collection>(of collection: C) -> C.Element where C.Index == Int {
        collection[collection.startIndex + below(collection.count)]
    }

    /// A length biased towards small values: most mutations should touch a few bytes.
    public mutating func smallLength(upTo limit: Int) -> Int {
        guard limit > 1 else { return max(limit, 0) }
        let cap = [4, 16, limit][below(3)]
        return 1 + below(min(cap, limit))
    }

    static func step(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return mix(state)
    }

    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A stable 128-bit content hash (two FNV-1a lanes with different offsets, finalised with SplitMix), for corpus and
/// crash file names: the same bytes always get the same name, on every machine and in every run.
public enum ContentHash {
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var a: UInt64 = 0xCBF2_9CE4_8422_2325
        var b: UInt64 = 0x6C62_272E_07BB_0142
        var n: UInt64 = 0
        for byte in bytes {
            a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            b = (b ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            b = b &+ (b << 7)
            n &+= 1
        }
        let h1 = FuzzRandom.mix(a ^ n), h2 = FuzzRandom.mix(b ^ (n << 32))
        return hex64(h1) + hex64(h2)
    }

    static func hex64(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
