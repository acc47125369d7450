/// The campaign's random numbers: SplitMix64, so that a seed and a case index give the same case on every machine
/// and in every run (`--seed S --case K` reproduces case K of any campaign with seed S).
public struct DiffRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// The stream of one case: independent of how many cases came before it.
    public init(seed: UInt64, caseIndex: Int, stream: UInt64 = 0) {
        var mixer = DiffRandom(seed: seed ^ 0x5bd1_e995_a5a5_0f0f)
        for _ in 0...(caseIndex % 7) { _ = mixer.next() }
        state = mixer.next() ^ (UInt64(truncatingIfNeeded: caseIndex) &* 0x9e37_79b9_7f4a_7c15) ^ (stream &* 0xd6e8_feb8_6659_fd93)
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    public mutating func below(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(next() % UInt64(bound)) }
    public mutating func chance(_ numerator: Int, in denominator: Int) -> Bool { below(denominator) < numerator }
    public mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
    public mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in byte() } }
    public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}
