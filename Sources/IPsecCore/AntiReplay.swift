/// The receiver's anti-replay window (RFC 4303 §3.4.3 and Appendix A; RFC 4302 §3.4.3): a bitmap of the last `size`
/// sequence numbers below the highest one accepted.
///
/// The check runs before the ICV (cheap, and a replayed packet is dropped without crypto); the window advances only
/// after the ICV has verified, so forged packets cannot move it. With ESN the full 64-bit number is inferred from the
/// low 32 bits first (Appendix A2), and the ICV over the inferred high bits tells whether the inference was right.
public struct AntiReplayWindow: Hashable, Sendable {
    /// Largest window IPsecLab accepts, as Linux does (XFRMA_REPLAY_ESN_VAL's bitmap limit).
    public static let maximumSize = 4096

    public let size: Int
    /// The highest sequence number accepted (T in the RFC); 0 before the first packet.
    public private(set) var highest: UInt64
    /// Bit i set: sequence number `highest - i` was received. Bit 0 is `highest` itself.
    private var bitmap: [UInt64]

    /// A window of `size` packets (0 disables checking, RFC 4303 §3.4.3), starting after `highest`.
    public init(size: Int, highest: UInt64 = 0) {
        self.size = min(max(size, 0), Self.maximumSize)
        self.highest = highest
        bitmap = [UInt64](repeating: 0, count: max(1, (self.size + 63) / 64))
        if highest > 0 { bitmap[0] = 1 }
    }

    public var isEnabled: Bool { size > 0 }

    /// The full sequence number of a packet whose low 32 bits are `low` (Appendix A2.2 with ESN; the low bits alone
    /// without).
    public func infer(low: UInt32, extendedSequenceNumbers: Bool) -> UInt64 {
        guard extendedSequenceNumbers else { return UInt64(low) }
        return ReplayWindow.inferSequence(low: low, highest: highest, window: UInt64(max(size, 1)))
    }

    /// Whether `sequence` may be accepted: not zero (never sent, RFC 4303 §3.3.3), not left of the window, not already
    /// received.
    public func check(_ sequence: UInt64) -> Bool {
        guard isEnabled else { return true }
        if sequence == 0 { return false }
        if sequence > highest { return true }
        let offset = highest - sequence
        guard offset < UInt64(size) else { return false }
        return !bit(Int(offset))
    }

    /// Records `sequence` as received; call only after its ICV verified and `check` passed.
    public mutating func accept(_ sequence: UInt64) {
        if sequence > highest {
            shift(by: sequence - highest)
            highest = sequence
            setBit(0)
        } else if isEnabled {
            let offset = highest - sequence
            if offset < UInt64(size) { setBit(Int(offset)) }
        }
    }

    private func bit(_ i: Int) -> Bool {
        bitmap[i / 64] >> UInt64(i % 64) & 1 == 1
    }

    private mutating func setBit(_ i: Int) {
        bitmap[i / 64] |= 1 << UInt64(i % 64)
    }

    /// Moves every bit `n` places towards older sequence numbers.
    private mutating func shift(by n: UInt64) {
        let total = bitmap.count * 64
        guard n < UInt64(total) else {
            for i in bitmap.indices { bitmap[i] = 0 }
            return
        }
        let words = Int(n) / 64, bits = UInt64(Int(n) % 64)
        for i in stride(from: bitmap.count - 1, through: 0, by: -1) {
            let src = i - words
            var v: UInt64 = src >= 0 ? bitmap[src] << bits : 0
            if bits > 0, src - 1 >= 0 { v |= bitmap[src - 1] >> (64 - bits) }
            bitmap[i] = v
        }
    }
}
